"""The image decoder's ONNX graphs: UNet, VAE decoder and encoder, safety checker.

Same export path as the language graphs (`graphs.trace_graph`: weights as traced inputs, streamed
into initializers later). Spatial sizes are dynamic; latents and images are in the scheduler's
space: `vae_decoder.onnx` multiplies by 1 / scaling_factor itself and `vae_encoder.onnx` returns
the latent distribution already multiplied by scaling_factor.
"""

from __future__ import annotations

from typing import Dict, List, Tuple

import torch
from torch import nn

from emu_reference.image_decoder import ImageDecoderModel

from .graphs import GraphSpec

IMAGE_GRAPHS = ("unet", "vae_decoder", "vae_encoder", "safety_checker")


class UNetGraph(nn.Module):
    """sample [B,4,h,w], timestep int64 [B], encoder_hidden_states [B,T,D] -> noise_pred [B,4,h,w]."""

    def __init__(self, model: ImageDecoderModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor, encoder_hidden_states: torch.Tensor) -> torch.Tensor:
        return self.model.unet(sample, timestep, encoder_hidden_states)


class VaeDecoderGraph(nn.Module):
    """latents [B,4,h,w] (scheduler space) -> image [B,3,8h,8w] in about [-1, 1], not clamped."""

    def __init__(self, model: ImageDecoderModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        vae = self.model.vae
        return vae.decode(latents * (1 / vae.config.scaling_factor))


class VaeEncoderGraph(nn.Module):
    """image [B,3,H,W] in [-1, 1] -> (latent_mean, latent_std) [B,4,H/8,W/8], both times scaling_factor."""

    def __init__(self, model: ImageDecoderModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, image: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        vae = self.model.vae
        mean, std = vae.encode(image)
        return mean * vae.config.scaling_factor, std * vae.config.scaling_factor


class SafetyCheckerGraph(nn.Module):
    """clip_input [B,3,224,224] -> concept_scores [B,17], special_care_scores [B,3] (cosine - threshold)."""

    def __init__(self, model: ImageDecoderModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, clip_input: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.model.safety_checker.scores(clip_input)


def _weights(model: ImageDecoderModel, prefixes: List[str]) -> List[str]:
    return [name for name, _ in model.named_parameters() if name.startswith(tuple(prefixes))]


def image_specs(model: ImageDecoderModel, hidden_tokens: int) -> Dict[str, GraphSpec]:
    config = model.config
    unet, vae, checker = config.unet, config.vae, config.safety_checker
    latent = vae.latent_channels
    # Traced at a non-square size that is not a multiple of 2**ups, so nothing spatial gets frozen.
    h, w = 8, 12
    spatial = {0: "batch_size", 2: "latent_height", 3: "latent_width"}
    pixels = {0: "batch_size", 2: "height", 3: "width"}
    return {
        "unet": GraphSpec(
            file="unet.onnx", module=UNetGraph(model),
            inputs={"sample": torch.zeros(2, unet.in_channels, h, w), "timestep": torch.tensor([981, 1]),
                    "encoder_hidden_states": torch.zeros(2, hidden_tokens, unet.cross_attention_dim)},
            outputs=["noise_pred"],
            dynamic_axes={"sample": spatial, "timestep": {0: "batch_size"},
                          "encoder_hidden_states": {0: "batch_size", 1: "sequence_length"}, "noise_pred": spatial},
            weights=_weights(model, ["unet."]),
            static_dims={"noise_pred": {1: unet.out_channels}},
        ),
        "vae_decoder": GraphSpec(
            file="vae_decoder.onnx", module=VaeDecoderGraph(model),
            inputs={"latents": torch.zeros(1, latent, h, w)}, outputs=["image"],
            dynamic_axes={"latents": spatial, "image": pixels},
            weights=_weights(model, ["vae.decoder.", "vae.post_quant_conv."]),
            static_dims={"image": {1: vae.out_channels}},
        ),
        "vae_encoder": GraphSpec(
            file="vae_encoder.onnx", module=VaeEncoderGraph(model),
            inputs={"image": torch.zeros(1, vae.in_channels, h * vae.scale_factor, w * vae.scale_factor)},
            outputs=["latent_mean", "latent_std"],
            dynamic_axes={"image": pixels, "latent_mean": spatial, "latent_std": spatial},
            weights=_weights(model, ["vae.encoder.", "vae.quant_conv."]),
            static_dims={"latent_mean": {1: latent}, "latent_std": {1: latent}},
        ),
        "safety_checker": GraphSpec(
            file="safety_checker.onnx", module=SafetyCheckerGraph(model),
            inputs={"clip_input": torch.zeros(1, 3, checker.image_size, checker.image_size)},
            outputs=["concept_scores", "special_care_scores"],
            dynamic_axes={"clip_input": {0: "batch_size"}, "concept_scores": {0: "batch_size"},
                          "special_care_scores": {0: "batch_size"}},
            weights=_weights(model, ["safety_checker."]),
            static_dims={"concept_scores": {1: checker.num_concepts},
                         "special_care_scores": {1: checker.num_special_concepts}},
        ),
    }
