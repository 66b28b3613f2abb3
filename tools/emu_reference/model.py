"""The whole Emu1 multimodal model with the checkpoint's top-level names.

`visual` (EVA ViT) -> `ln_visual` -> `cformer` (Causal Former + projection) gives 32 embeddings
per image; `decoder.lm` is LLaMA with `lm_head` and `stu_regress_head`.
"""

from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import nn

from .causal_former import CausalFormer
from .config import EmuConfig
from .llama import LlamaForRegression
from .vision import EvaVisionTransformer


class EmuDecoder(nn.Module):
    """Holds `lm` so that checkpoint keys read `decoder.lm.*` as in the reference."""

    def __init__(self, lm: LlamaForRegression) -> None:
        super().__init__()
        self.lm = lm


class EmuModel(nn.Module):
    """Emu1; build with device=torch.device("meta") to get names and shapes without memory."""

    def __init__(self, config: EmuConfig, device: Optional[torch.device] = None) -> None:
        super().__init__()
        self.config = config
        vision = config.vision
        self.visual = EvaVisionTransformer(vision, device)
        self.ln_visual = nn.LayerNorm(vision.width, eps=vision.layer_norm_eps, device=device)
        self.cformer = CausalFormer(config.cformer, vision.width, config.llama.hidden_size, device)
        self.decoder = EmuDecoder(LlamaForRegression(config.llama, device))

    @property
    def lm(self) -> LlamaForRegression:
        return self.decoder.lm

    def encode_images(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """[B, 3, 224, 224] normalised pixels -> [B, 32, hidden] embeddings fed to the LLM unscaled."""
        features = self.ln_visual(self.visual.forward_features(pixel_values))
        return self.cformer(features)

    def embed(self, input_ids: torch.Tensor) -> torch.Tensor:
        """[B, S] token ids -> [B, S, hidden]."""
        return self.lm.model.embed_tokens(input_ids)

    def forward(
        self, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor, position_ids: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """The generation callable: full recomputation -> (logits, regressed embeddings)."""
        return self.lm(inputs_embeds, attention_mask, position_ids)


def init_random_weights(model: EmuModel, seed: int) -> None:
    """Seeded weights with magnitudes that keep tiny models' activations well scaled.

    Every parameter is drawn in name order from one generator, so the result depends only on
    the seed and the configuration. Norm scales are 1 + noise, so a dropped scale shows up in
    the goldens.
    """
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in sorted(model.named_parameters()):
            noise = torch.randn(parameter.shape, generator=generator)
            if name.endswith(("norm.weight", "norm1.weight", "norm2.weight", "ln_visual.weight")):
                parameter.copy_(1.0 + 0.1 * noise)
            elif parameter.dim() == 4:
                parameter.copy_(noise / parameter[0].numel() ** 0.5)
            elif parameter.dim() >= 2:
                parameter.copy_(noise / parameter.shape[-1] ** 0.5)
            else:
                parameter.copy_(0.02 * noise)
