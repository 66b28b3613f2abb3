"""Stable Diffusion's safety checker with the parameter names of its diffusers folder.

Written from diffusers' pipelines/stable_diffusion/safety_checker.py and transformers'
CLIPVisionModel (modeling_clip.py). `vision_model.vision_model.*` is CLIP's vision transformer
(patch conv without bias, class embedding, learned positions, `pre_layrnorm` (sic), pre-norm
layers with quick-GELU MLPs, `post_layernorm` on the class token), then `visual_projection` and
cosine similarity against 17 concept and 3 special-care embeddings.

`scores` returns the raw margins (cosine - threshold) without the reference's rounding or its
special-care adjustment; `verdict` applies the reference's `forward` rule to them.
"""

from __future__ import annotations

from typing import List, Tuple

import torch
from torch import nn
from torch.nn import functional as F

from .diffusion_blocks import Device
from .diffusion_config import SafetyCheckerConfig

SPECIAL_CARE_ADJUSTMENT = 0.01


class ClipAttention(nn.Module):
    def __init__(self, config: SafetyCheckerConfig, device: Device) -> None:
        super().__init__()
        width = config.hidden_size
        self.heads = config.num_heads
        self.scale = (width // self.heads) ** -0.5
        self.k_proj = nn.Linear(width, width, device=device)
        self.v_proj = nn.Linear(width, width, device=device)
        self.q_proj = nn.Linear(width, width, device=device)
        self.out_proj = nn.Linear(width, width, device=device)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        batch, tokens, width = hidden.shape
        head_dim = width // self.heads

        def split(tensor: torch.Tensor) -> torch.Tensor:
            return tensor.reshape(batch, tokens, self.heads, head_dim).transpose(1, 2)

        query = split(self.q_proj(hidden) * self.scale)
        weights = torch.softmax(torch.matmul(query, split(self.k_proj(hidden)).transpose(-1, -2)), dim=-1)
        out = torch.matmul(weights, split(self.v_proj(hidden))).transpose(1, 2).reshape(batch, tokens, width)
        return self.out_proj(out)


class ClipMlp(nn.Module):
    def __init__(self, config: SafetyCheckerConfig, device: Device) -> None:
        super().__init__()
        self.quick = config.hidden_act == "quick_gelu"
        self.fc1 = nn.Linear(config.hidden_size, config.intermediate_size, device=device)
        self.fc2 = nn.Linear(config.intermediate_size, config.hidden_size, device=device)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        hidden = self.fc1(hidden)
        hidden = hidden * torch.sigmoid(1.702 * hidden) if self.quick else F.gelu(hidden)
        return self.fc2(hidden)


class ClipEncoderLayer(nn.Module):
    def __init__(self, config: SafetyCheckerConfig, device: Device) -> None:
        super().__init__()
        width, eps = config.hidden_size, config.layer_norm_eps
        self.self_attn = ClipAttention(config, device)
        self.layer_norm1 = nn.LayerNorm(width, eps=eps, device=device)
        self.mlp = ClipMlp(config, device)
        self.layer_norm2 = nn.LayerNorm(width, eps=eps, device=device)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        hidden = hidden + self.self_attn(self.layer_norm1(hidden))
        return hidden + self.mlp(self.layer_norm2(hidden))


class ClipEmbeddings(nn.Module):
    def __init__(self, config: SafetyCheckerConfig, device: Device) -> None:
        super().__init__()
        width = config.hidden_size
        self.class_embedding = nn.Parameter(torch.empty(width, device=device))
        self.patch_embedding = nn.Conv2d(3, width, config.patch_size, stride=config.patch_size, bias=False,
                                         device=device)
        self.position_embedding = nn.Embedding(config.num_positions, width, device=device)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        patches = self.patch_embedding(pixels).flatten(2).transpose(1, 2)
        cls = self.class_embedding.expand(patches.shape[0], 1, -1)
        return torch.cat([cls, patches], dim=1) + self.position_embedding.weight[None]


class ClipEncoder(nn.Module):
    def __init__(self, config: SafetyCheckerConfig, device: Device) -> None:
        super().__init__()
        self.layers = nn.ModuleList([ClipEncoderLayer(config, device) for _ in range(config.num_layers)])


class ClipVisionTransformer(nn.Module):
    def __init__(self, config: SafetyCheckerConfig, device: Device) -> None:
        super().__init__()
        width, eps = config.hidden_size, config.layer_norm_eps
        self.embeddings = ClipEmbeddings(config, device)
        self.pre_layrnorm = nn.LayerNorm(width, eps=eps, device=device)
        self.encoder = ClipEncoder(config, device)
        self.post_layernorm = nn.LayerNorm(width, eps=eps, device=device)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        """-> the pooled output: post_layernorm of the class token."""
        hidden = self.pre_layrnorm(self.embeddings(pixels))
        for layer in self.encoder.layers:
            hidden = layer(hidden)
        return self.post_layernorm(hidden[:, 0])


class ClipVisionModel(nn.Module):
    """transformers' CLIPVisionModel: the transformer sits under `vision_model`."""

    def __init__(self, config: SafetyCheckerConfig, device: Device) -> None:
        super().__init__()
        self.vision_model = ClipVisionTransformer(config, device)


def _cosine(embeds: torch.Tensor, concepts: torch.Tensor) -> torch.Tensor:
    return torch.matmul(F.normalize(embeds, dim=1), F.normalize(concepts, dim=1).t())


class StableDiffusionSafetyChecker(nn.Module):
    def __init__(self, config: SafetyCheckerConfig, device: Device = None) -> None:
        super().__init__()
        self.config = config
        self.vision_model = ClipVisionModel(config, device)
        self.visual_projection = nn.Linear(config.hidden_size, config.projection_dim, bias=False, device=device)
        self.concept_embeds = nn.Parameter(torch.empty(config.num_concepts, config.projection_dim, device=device))
        self.special_care_embeds = nn.Parameter(
            torch.empty(config.num_special_concepts, config.projection_dim, device=device))
        self.concept_embeds_weights = nn.Parameter(torch.empty(config.num_concepts, device=device))
        self.special_care_embeds_weights = nn.Parameter(torch.empty(config.num_special_concepts, device=device))

    def scores(self, clip_input: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """clip_input [B, 3, 224, 224] -> (concept margins [B, 17], special-care margins [B, 3]):
        cosine similarity minus the concept's threshold, unrounded, no adjustment."""
        embeds = self.visual_projection(self.vision_model.vision_model(clip_input))
        concept = _cosine(embeds, self.concept_embeds) - self.concept_embeds_weights
        special = _cosine(embeds, self.special_care_embeds) - self.special_care_embeds_weights
        return concept, special


def verdict(concept_scores: List[float], special_scores: List[float]) -> bool:
    """The reference's `forward` rule for one image: margins rounded to 3 decimals (Python's round);
    after the first positive special-care margin every later margin gets +0.01; NSFW if any
    concept margin is then positive."""
    adjustment = 0.0
    for margin in special_scores:
        if round(margin + adjustment, 3) > 0:
            adjustment = SPECIAL_CARE_ADJUSTMENT
    return any(round(margin + adjustment, 3) > 0 for margin in concept_scores)
