"""Emu's image decoder as one module, and the drawing loop of Emu1/models/pipeline.py.

`ImageDecoderModel` holds `unet`, `vae` and `safety_checker`, so weight names read
`unet.<diffusers key>`, `vae.<key>`, `safety_checker.<key>`. `denoise` is the reference loop: initial
latents (randn in the reference; given here, since only the caller can reproduce them), for each
timestep the UNet on [latents, latents] with the [cond, uncond] embeddings when guidance_scale > 1,
`uncond + scale * (cond - uncond)`, the scheduler step. Then `1 / scaling_factor`, the VAE decoder,
`(x / 2 + 0.5).clamp(0, 1)`, `(x * 255).round()` to uint8, and the safety checker on the CLIP
feature extractor's view of that uint8 image.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from PIL import Image
from torch import nn

from .diffusion_config import ImageDecoderConfig
from .preprocess import CLIP_MEAN, CLIP_STD
from .safety_checker import StableDiffusionSafetyChecker, verdict
from .schedulers import make_scheduler
from .unet import UNet2DConditionModel
from .vae import AutoencoderKL

COMPONENTS = ("unet", "vae", "safety_checker")
CONCEPT_THRESHOLD, SPECIAL_CARE_THRESHOLD = 0.58, 0.16


class ImageDecoderModel(nn.Module):
    """Build with device=torch.device("meta") for names and shapes without memory."""

    def __init__(self, config: ImageDecoderConfig, device: Optional[torch.device] = None) -> None:
        super().__init__()
        self.config = config
        self.unet = UNet2DConditionModel(config.unet, device)
        self.vae = AutoencoderKL(config.vae, device)
        self.safety_checker = StableDiffusionSafetyChecker(config.safety_checker, device)


def init_random_decoder_weights(model: ImageDecoderModel, seed: int) -> None:
    """Seeded, well-scaled weights for tiny decoders (name order, one generator, as for EmuModel).

    Norm scales are 1 + noise. A random CLIP tower gives every image about the same cosine
    similarities, so the safety checker's thresholds are centred just below them (constants chosen
    by looking at the fixture images): the tiny fixtures then show both verdicts and the
    special-care adjustment deciding one.
    """
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in sorted(model.named_parameters()):
            noise = torch.randn(parameter.shape, generator=generator)
            leaf = name.rsplit(".", 2)
            if "norm" in leaf[-2] and name.endswith(".weight"):
                parameter.copy_(1.0 + 0.1 * noise)
            elif name.endswith("concept_embeds_weights"):
                parameter.copy_(CONCEPT_THRESHOLD + 0.1 * noise)
            elif name.endswith("special_care_embeds_weights"):
                parameter.copy_(SPECIAL_CARE_THRESHOLD + 0.1 * noise)
            elif parameter.dim() == 4:
                parameter.copy_(noise / parameter[0].numel() ** 0.5)
            elif parameter.dim() >= 2:
                parameter.copy_(noise / parameter.shape[-1] ** 0.5)
            else:
                parameter.copy_(0.02 * noise)


@dataclass
class DenoiseResult:
    timesteps: List[int]
    latents: List[torch.Tensor] = field(default_factory=list)  # after each step


def denoise(unet: UNet2DConditionModel, scheduler_name: str, config: ImageDecoderConfig, noise: torch.Tensor,
            embeds: torch.Tensor, guidance_scale: float, num_inference_steps: int) -> DenoiseResult:
    """noise [1, 4, h, w]; embeds [2, 32, D] (cond, uncond) when guidance_scale > 1, else [1, 32, D]."""
    scheduler = make_scheduler(scheduler_name, config.scheduler, num_inference_steps)
    guided = guidance_scale > 1.0
    if embeds.shape[0] != (2 if guided else 1):
        raise ValueError(f"embeds has batch {embeds.shape[0]}; guidance {guidance_scale} needs {2 if guided else 1}")
    result = DenoiseResult(timesteps=list(scheduler.timesteps))
    latents = noise
    with torch.no_grad():
        for timestep in scheduler.timesteps:
            model_input = torch.cat([latents, latents]) if guided else latents
            times = torch.full((model_input.shape[0],), timestep, dtype=torch.long)
            noise_pred = unet(model_input, times, embeds)
            if guided:
                cond, uncond = noise_pred.chunk(2)
                noise_pred = uncond + guidance_scale * (cond - uncond)
            latents = scheduler.step(noise_pred, timestep, latents)
            result.latents.append(latents)
    return result


def decode_latents(vae: AutoencoderKL, latents: torch.Tensor) -> torch.Tensor:
    """Scheduler latents -> VAE image in about [-1, 1] (what vae_decoder.onnx returns)."""
    with torch.no_grad():
        return vae.decode(1 / vae.config.scaling_factor * latents)


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """[B, 3, H, W] in [-1, 1] -> uint8 [B, H, W, 3]: (x / 2 + 0.5).clamp(0, 1), * 255, round half to even."""
    pixels = (image / 2 + 0.5).clamp(0, 1).permute(0, 2, 3, 1).float().numpy()
    return (pixels * 255).round().astype("uint8")


def safety_pixels(images: np.ndarray, size: int = 224) -> torch.Tensor:
    """CLIPImageProcessor as SD configures it: shortest side to `size` (Pillow bicubic), centre crop,
    /255, CLIP mean/std -> float32 [B, 3, size, size]."""
    rows = []
    for array in images:
        picture = Image.fromarray(array)
        width, height = picture.size
        short, long = (width, height) if width <= height else (height, width)
        scaled = (size, int(size * long / short))
        new_size = scaled if width <= height else scaled[::-1]
        picture = picture.resize(new_size, Image.BICUBIC)
        left, top = (picture.size[0] - size) // 2, (picture.size[1] - size) // 2
        picture = picture.crop((left, top, left + size, top + size))
        normalised = (np.asarray(picture) / 255.0 - np.array(CLIP_MEAN)) / np.array(CLIP_STD)
        rows.append(torch.tensor(normalised).to(torch.float32).permute(2, 0, 1))
    return torch.stack(rows)


def safety_check(checker: StableDiffusionSafetyChecker, images: np.ndarray) -> Dict[str, Sequence]:
    """uint8 images -> raw margins and the reference's verdict per image."""
    with torch.no_grad():
        concept, special = checker.scores(safety_pixels(images, checker.config.image_size))
    flags = [verdict(c.tolist(), s.tolist()) for c, s in zip(concept, special)]
    return {"concept_scores": concept, "special_care_scores": special, "has_nsfw_concepts": flags}
