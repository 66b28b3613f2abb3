"""Diffusion schedulers as diffusers runs them: PNDM (Emu's) and DDIM (a faster deterministic one).

Written from the papers (PNDM: Liu et al. 2022, arXiv 2202.09778, eq. 9 and the linear multistep
update; DDIM: Song et al. 2020, arXiv 2010.02502, eq. 12 with eta = 0) and diffusers' documented
behaviour (scheduling_pndm.py, scheduling_ddim.py). Numerics follow diffusers: betas from a float32
`torch.linspace` (squared for `scaled_linear`), float32 cumulative products, timesteps from numpy
int64; the sample update in the latents' dtype. Timesteps are fixed when a scheduler is made.
"""

from __future__ import annotations

from typing import List, Optional

import numpy as np
import torch

from .diffusion_config import SchedulerConfig


def alphas_cumprod(config: SchedulerConfig) -> torch.Tensor:
    """float32 [num_train_timesteps]: prod(1 - beta) up to each step."""
    steps = config.num_train_timesteps
    if config.beta_schedule == "linear":
        betas = torch.linspace(config.beta_start, config.beta_end, steps, dtype=torch.float32)
    elif config.beta_schedule == "scaled_linear":
        betas = torch.linspace(config.beta_start ** 0.5, config.beta_end ** 0.5, steps, dtype=torch.float32) ** 2
    else:
        raise ValueError(f"beta_schedule {config.beta_schedule!r} is not supported")
    return torch.cumprod(1.0 - betas, dim=0)


def base_timesteps(config: SchedulerConfig, num_inference_steps: int) -> np.ndarray:
    """The ascending grid of `timestep_spacing` (diffusers' set_timesteps), int64."""
    train = config.num_train_timesteps
    if not 1 <= num_inference_steps <= train:
        raise ValueError(f"num_inference_steps must be between 1 and {train}, got {num_inference_steps}")
    if config.timestep_spacing == "leading":
        ratio = train // num_inference_steps
        return (np.arange(0, num_inference_steps) * ratio).round().astype(np.int64) + config.steps_offset
    if config.timestep_spacing == "linspace":
        return np.linspace(0, train - 1, num_inference_steps).round().astype(np.int64)
    if config.timestep_spacing == "trailing":
        ratio = train / num_inference_steps
        return (np.round(np.arange(train, 0, -ratio)).astype(np.int64) - 1)[::-1].copy()
    raise ValueError(f"timestep_spacing {config.timestep_spacing!r} is not supported")


class PNDMScheduler:
    """Pseudo numerical methods: optional Runge-Kutta warm-up (PRK), then 4th-order linear multistep (PLMS).

    With `skip_prk_steps` (Stable Diffusion's setting) the warm-up is replaced by diffusers' trick:
    the first step is repeated at the same timestep (so 50 steps call the UNet 51 times), the
    second call averages the two noise predictions and restarts from the first sample.
    """

    def __init__(self, config: SchedulerConfig, num_inference_steps: int) -> None:
        self.config = config
        self.num_inference_steps = num_inference_steps
        self.alphas_cumprod = alphas_cumprod(config)
        self.final_alpha_cumprod = torch.tensor(1.0) if config.set_alpha_to_one else self.alphas_cumprod[0]
        grid = base_timesteps(config, num_inference_steps)
        self.stride = config.num_train_timesteps // num_inference_steps
        if config.skip_prk_steps:
            self.prk_timesteps = np.array([], dtype=np.int64)
            self.plms_timesteps = np.concatenate([grid[:-1], grid[-2:-1], grid[-1:]])[::-1].copy()
        else:
            offsets = np.tile(np.array([0, self.stride // 2]), 4)
            prk = np.array(grid[-4:]).repeat(2) + offsets
            self.prk_timesteps = prk[:-1].repeat(2)[1:-1][::-1].copy()
            self.plms_timesteps = grid[:-3][::-1].copy()
        self.timesteps: List[int] = [int(t) for t in np.concatenate([self.prk_timesteps, self.plms_timesteps])]
        self.counter = 0
        self.ets: List[torch.Tensor] = []
        self.cur_sample: Optional[torch.Tensor] = None
        self.cur_model_output: torch.Tensor | float = 0.0

    def _previous(self, sample: torch.Tensor, timestep: int, prev_timestep: int, eps: torch.Tensor) -> torch.Tensor:
        """PNDM eq. 9: x_{t-d} from x_t and the (combined) noise estimate."""
        alpha = self.alphas_cumprod[timestep]
        alpha_prev = self.alphas_cumprod[prev_timestep] if prev_timestep >= 0 else self.final_alpha_cumprod
        beta, beta_prev = 1 - alpha, 1 - alpha_prev
        sample_coeff = (alpha_prev / alpha) ** 0.5
        denominator = alpha * beta_prev ** 0.5 + (alpha * beta * alpha_prev) ** 0.5
        return sample_coeff * sample - (alpha_prev - alpha) * eps / denominator

    def step(self, model_output: torch.Tensor, timestep: int, sample: torch.Tensor) -> torch.Tensor:
        if self.counter < len(self.prk_timesteps) and not self.config.skip_prk_steps:
            return self._step_prk(model_output, timestep, sample)
        return self._step_plms(model_output, timestep, sample)

    def _step_prk(self, model_output: torch.Tensor, timestep: int, sample: torch.Tensor) -> torch.Tensor:
        half = 0 if self.counter % 2 else self.stride // 2
        prev_timestep = timestep - half
        timestep = int(self.prk_timesteps[self.counter // 4 * 4])
        phase = self.counter % 4
        if phase == 0:
            self.cur_model_output = self.cur_model_output + model_output / 6
            self.ets.append(model_output)
            self.cur_sample = sample
        elif phase in (1, 2):
            self.cur_model_output = self.cur_model_output + model_output / 3
        else:
            model_output = self.cur_model_output + model_output / 6
            self.cur_model_output = 0.0
        base = self.cur_sample if self.cur_sample is not None else sample
        self.counter += 1
        return self._previous(base, timestep, prev_timestep, model_output)

    def _step_plms(self, model_output: torch.Tensor, timestep: int, sample: torch.Tensor) -> torch.Tensor:
        if not self.config.skip_prk_steps and len(self.ets) < 3:
            raise ValueError("PLMS steps need the 12 Runge-Kutta warm-up steps first")
        prev_timestep = timestep - self.stride
        if self.counter != 1:
            self.ets = self.ets[-3:] + [model_output]
        else:
            prev_timestep, timestep = timestep, timestep + self.stride
        ets = self.ets
        if len(ets) == 1 and self.counter == 0:
            self.cur_sample = sample
        elif len(ets) == 1 and self.counter == 1:
            model_output = (model_output + ets[-1]) / 2
            sample, self.cur_sample = self.cur_sample, None  # type: ignore[assignment]
        elif len(ets) == 2:
            model_output = (3 * ets[-1] - ets[-2]) / 2
        elif len(ets) == 3:
            model_output = (23 * ets[-1] - 16 * ets[-2] + 5 * ets[-3]) / 12
        else:
            model_output = (1 / 24) * (55 * ets[-1] - 59 * ets[-2] + 37 * ets[-3] - 9 * ets[-4])
        self.counter += 1
        return self._previous(sample, timestep, prev_timestep, model_output)


class DDIMScheduler:
    """Deterministic DDIM (eta = 0): x0 from the noise estimate, then a step to the previous timestep.

    Built from the same scheduler_config.json (diffusers' DDIMScheduler.from_config): PNDM-only
    fields are ignored; `clip_sample` clamps the predicted x0 to [-1, 1].
    """

    def __init__(self, config: SchedulerConfig, num_inference_steps: int) -> None:
        self.config = config
        self.alphas_cumprod = alphas_cumprod(config)
        self.final_alpha_cumprod = torch.tensor(1.0) if config.set_alpha_to_one else self.alphas_cumprod[0]
        self.stride = config.num_train_timesteps // num_inference_steps
        self.timesteps: List[int] = [int(t) for t in base_timesteps(config, num_inference_steps)[::-1]]

    def step(self, model_output: torch.Tensor, timestep: int, sample: torch.Tensor) -> torch.Tensor:
        prev_timestep = timestep - self.stride
        alpha = self.alphas_cumprod[timestep]
        alpha_prev = self.alphas_cumprod[prev_timestep] if prev_timestep >= 0 else self.final_alpha_cumprod
        beta = 1 - alpha
        original = (sample - beta ** 0.5 * model_output) / alpha ** 0.5
        if self.config.clip_sample:
            original = original.clamp(-1.0, 1.0)
        return alpha_prev ** 0.5 * original + (1 - alpha_prev) ** 0.5 * model_output


SCHEDULERS = {"pndm": PNDMScheduler, "ddim": DDIMScheduler}


def make_scheduler(name: str, config: SchedulerConfig, num_inference_steps: int):  # type: ignore[no-untyped-def]
    """`pndm` (Emu's) or `ddim`, with its timesteps fixed for `num_inference_steps`."""
    if name not in SCHEDULERS:
        raise ValueError(f"unknown scheduler {name!r}: expected one of {sorted(SCHEDULERS)}")
    return SCHEDULERS[name](config, num_inference_steps)
