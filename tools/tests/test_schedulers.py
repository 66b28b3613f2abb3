"""Schedulers against diffusers' published values (its tests/schedulers/test_scheduler_{pndm,ddim}.py
expectations: timesteps, and full no-noise loops of its deterministic dummy model) and SD v1.5's
well-known PNDM timesteps (51 UNet calls for 50 steps, 961 twice)."""

from typing import Any

import pytest
import torch

from emu_reference.diffusion_config import SchedulerConfig
from emu_reference.schedulers import DDIMScheduler, PNDMScheduler, alphas_cumprod, make_scheduler

SD15 = SchedulerConfig()


def diffusers_test_config(**overrides: Any) -> SchedulerConfig:
    """The configuration diffusers' scheduler tests use (linear 1e-4..0.02, 1000 steps)."""
    base = {"num_train_timesteps": 1000, "beta_start": 0.0001, "beta_end": 0.02, "beta_schedule": "linear"}
    return SchedulerConfig.from_dict({**base, **overrides})


def dummy_sample() -> torch.Tensor:
    """diffusers' `dummy_sample_deter`."""
    count = 4 * 3 * 8 * 8
    return (torch.arange(count).reshape(3, 8, 8, 4) / count).permute(3, 0, 1, 2)


def full_loop(scheduler: Any) -> torch.Tensor:
    sample = dummy_sample()
    for timestep in scheduler.timesteps:
        residual = sample * timestep / (timestep + 1)
        sample = scheduler.step(residual, timestep, sample)
    return sample


def test_sd15_pndm_timesteps_for_50_and_25_steps() -> None:
    fifty = PNDMScheduler(SD15, 50).timesteps
    assert fifty == [981, 961, 961] + list(range(941, 0, -20))
    assert len(fifty) == 51
    twenty_five = PNDMScheduler(SD15, 25).timesteps
    assert twenty_five == [961, 921, 921] + list(range(881, 0, -40)) and len(twenty_five) == 26


def test_sd15_ddim_timesteps_for_50_and_25_steps() -> None:
    assert DDIMScheduler(SD15, 50).timesteps == list(range(981, 0, -20))
    assert DDIMScheduler(SD15, 25).timesteps == list(range(961, 0, -40))


def test_pndm_timesteps_with_runge_kutta_warmup_match_diffusers() -> None:
    scheduler = PNDMScheduler(diffusers_test_config(steps_offset=1), 10)
    assert scheduler.timesteps == [901, 851, 851, 801, 801, 751, 751, 701, 701, 651, 651, 601, 601, 501, 401, 301,
                                   201, 101, 1]


def test_ddim_steps_offset_matches_diffusers() -> None:
    scheduler = DDIMScheduler(diffusers_test_config(steps_offset=1, set_alpha_to_one=True), 5)
    assert scheduler.timesteps == [801, 601, 401, 201, 1]


@pytest.mark.parametrize("overrides, total, mean", [
    ({}, 198.1318, 0.2580),
    ({"set_alpha_to_one": True, "beta_start": 0.01}, 230.0399, 0.2995),
    ({"set_alpha_to_one": False, "beta_start": 0.01}, 186.9482, 0.2434),
])
def test_pndm_full_loop_matches_diffusers(overrides: dict, total: float, mean: float) -> None:
    sample = full_loop(PNDMScheduler(diffusers_test_config(**overrides), 10))
    assert abs(sample.abs().sum().item() - total) < 1e-2
    assert abs(sample.abs().mean().item() - mean) < 1e-3


@pytest.mark.parametrize("overrides, total, mean", [
    ({}, 172.0067, 0.223967),
    ({"beta_start": 0.01}, 149.8295, 0.1951),
    ({"set_alpha_to_one": False, "beta_start": 0.01}, 149.0784, 0.1941),
])
def test_ddim_full_loop_matches_diffusers(overrides: dict, total: float, mean: float) -> None:
    # DDIMScheduler's own defaults: clip_sample and set_alpha_to_one are true.
    config = diffusers_test_config(**{"clip_sample": True, "set_alpha_to_one": True, **overrides})
    sample = full_loop(DDIMScheduler(config, 10))
    assert abs(sample.abs().sum().item() - total) < 1e-2
    assert abs(sample.abs().mean().item() - mean) < 1e-3


def test_sd15_alphas_are_float32_scaled_linear() -> None:
    alphas = alphas_cumprod(SD15)
    assert alphas.dtype == torch.float32 and alphas.shape == (1000,)
    assert abs(alphas[0].item() - (1 - 0.00085)) < 1e-7
    betas = [(0.00085 ** 0.5 + (0.012 ** 0.5 - 0.00085 ** 0.5) * i / 999) ** 2 for i in range(1000)]
    exact = 1.0
    for beta in betas:
        exact *= 1 - beta
    assert abs(alphas[-1].item() / exact - 1) < 1e-4  # float32 cumprod drifts slightly; diffusers' too


def test_unknown_scheduler_and_bad_steps_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown scheduler"):
        make_scheduler("euler", SD15, 50)
    with pytest.raises(ValueError, match="num_inference_steps"):
        make_scheduler("pndm", SD15, 0)
