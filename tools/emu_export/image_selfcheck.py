"""Self-check cases for the image decoder graphs (written to selfcheck/image_decoder.json).

Each component is materialised alone from the weight source, run once, and put back on the meta
device, so checking Emu's 1B-parameter UNet needs one copy of its weights and nothing else.
Cases: the UNet on a guided batch of 2 (8x8 latents, different timesteps per row, 32 tokens),
the VAE decoder on 4x4 latents, the VAE encoder on a 32x32 image, and the safety checker on the
vision self-check's pixels (the same file when the sizes agree).
"""

from __future__ import annotations

from typing import List

import torch

from emu_reference.checkpoint import WeightSource, materialize
from emu_reference.image_decoder import ImageDecoderModel

from .image_graphs import SafetyCheckerGraph, UNetGraph, VaeDecoderGraph, VaeEncoderGraph
from .selfcheck import SEED, Case, IoCast, vision_pixels

UNET_TIMESTEPS = (981, 1)


def image_decoder_cases(model: ImageDecoderModel, source: WeightSource, io: IoCast, tokens: int,
                        vision_size: int) -> List[Case]:
    """`model` is a meta-device ImageDecoderModel; weights come from `source` one component at a time."""
    config = model.config
    generator = torch.Generator().manual_seed(SEED + 7)
    latent = config.vae.latent_channels
    sample = io(torch.randn(2, config.unet.in_channels, 8, 8, generator=generator))
    context = io(torch.randn(2, tokens, config.unet.cross_attention_dim, generator=generator))
    latents = io(torch.randn(1, latent, 4, 4, generator=generator))
    image = io(torch.rand(1, config.vae.in_channels, 32, 32, generator=generator) * 2 - 1)
    size = config.safety_checker.image_size
    pixels = vision_pixels(size, io) if size == vision_size else io(
        torch.randn(1, 3, size, size, generator=generator).clamp(-2.5, 2.5))
    timestep = torch.tensor(UNET_TIMESTEPS)
    cases = []
    with torch.no_grad():
        materialize(model.unet, "unet.", source)
        cases.append(Case("unet", "unet.onnx", {"sample": sample, "timestep": timestep,
                                                 "encoder_hidden_states": context},
                          {"noise_pred": UNetGraph(model)(sample, timestep, context)}))
        model.unet.to(torch.device("meta"))
        materialize(model.vae, "vae.", source)
        cases.append(Case("vae_decoder", "vae_decoder.onnx", {"latents": latents},
                          {"image": VaeDecoderGraph(model)(latents)}))
        mean, std = VaeEncoderGraph(model)(image)
        cases.append(Case("vae_encoder", "vae_encoder.onnx", {"image": image},
                          {"latent_mean": mean, "latent_std": std}))
        model.vae.to(torch.device("meta"))
        materialize(model.safety_checker, "safety_checker.", source)
        concept, special = SafetyCheckerGraph(model)(pixels)
        cases.append(Case("safety_checker", "safety_checker.onnx", {"clip_input": pixels},
                          {"concept_scores": concept, "special_care_scores": special}))
        model.safety_checker.to(torch.device("meta"))
    return cases
