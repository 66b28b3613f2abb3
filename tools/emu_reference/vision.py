"""EVA-CLIP ViT as Emu1 uses it (reference: Emu1/models/eva_vit_model.py).

Parameter names match the checkpoint's `visual.*` keys. Only `forward_features` matters to Emu:
it returns all CLS + patch tokens *before* the ViT's own final norm; `norm` and `head` exist so
the checkpoint loads strictly, and are never applied.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import nn
from torch.nn import functional as F

from .config import VisionConfig


class EvaAttention(nn.Module):
    """Fused qkv projection whose bias is (q_bias, 0, v_bias): the key has no bias."""

    def __init__(self, config: VisionConfig, device: Optional[torch.device] = None) -> None:
        super().__init__()
        width = config.width
        self.num_heads = config.num_heads
        self.head_dim = config.head_width
        self.scale = self.head_dim ** -0.5
        self.qkv = nn.Linear(width, 3 * width, bias=False, device=device)
        self.q_bias = nn.Parameter(torch.zeros(width, device=device))
        self.v_bias = nn.Parameter(torch.zeros(width, device=device))
        self.proj = nn.Linear(width, width, device=device)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        batch, tokens, width = hidden.shape
        bias = torch.cat((self.q_bias, torch.zeros_like(self.v_bias), self.v_bias))
        qkv = F.linear(hidden, self.qkv.weight, bias)
        qkv = qkv.reshape(batch, tokens, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        query, key, value = qkv[0], qkv[1], qkv[2]
        weights = torch.softmax(torch.matmul(query * self.scale, key.transpose(-2, -1)), dim=-1)
        out = torch.matmul(weights, value).transpose(1, 2).reshape(batch, tokens, width)
        return self.proj(out)


class EvaMlp(nn.Module):
    """fc1 -> exact (erf) GELU -> fc2."""

    def __init__(self, config: VisionConfig, device: Optional[torch.device] = None) -> None:
        super().__init__()
        self.fc1 = nn.Linear(config.width, config.mlp_hidden, device=device)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(config.mlp_hidden, config.width, device=device)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(hidden)))


class EvaBlock(nn.Module):
    """Pre-norm transformer block without layer scale (the 14B config has none)."""

    def __init__(self, config: VisionConfig, device: Optional[torch.device] = None) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(config.width, eps=config.layer_norm_eps, device=device)
        self.attn = EvaAttention(config, device)
        self.norm2 = nn.LayerNorm(config.width, eps=config.layer_norm_eps, device=device)
        self.mlp = EvaMlp(config, device)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        hidden = hidden + self.attn(self.norm1(hidden))
        return hidden + self.mlp(self.norm2(hidden))


class PatchEmbed(nn.Module):
    """Non-overlapping patch_size x patch_size convolution."""

    def __init__(self, config: VisionConfig, device: Optional[torch.device] = None) -> None:
        super().__init__()
        self.proj = nn.Conv2d(3, config.width, config.patch_size, stride=config.patch_size, device=device)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.proj(pixels).flatten(2).transpose(1, 2)


class EvaVisionTransformer(nn.Module):
    """The `visual` tower; `forward_features` is what Emu calls."""

    def __init__(self, config: VisionConfig, device: Optional[torch.device] = None) -> None:
        super().__init__()
        self.config = config
        self.patch_embed = PatchEmbed(config, device)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, config.width, device=device))
        self.pos_embed = nn.Parameter(torch.zeros(1, config.num_patches + 1, config.width, device=device))
        self.blocks = nn.ModuleList(EvaBlock(config, device) for _ in range(config.layers))
        # Present in the checkpoint, unused by Emu (it reads features before this norm).
        self.norm = nn.LayerNorm(config.width, eps=config.layer_norm_eps, device=device)
        self.head = nn.Linear(config.width, config.embed_dim, device=device)

    def forward_features(self, pixels: torch.Tensor) -> torch.Tensor:
        """[B, 3, H, W] normalised pixels -> [B, 1 + patches, width], before the final norm."""
        patches = self.patch_embed(pixels)
        cls = self.cls_token.expand(patches.shape[0], -1, -1)
        hidden = torch.cat((cls, patches), dim=1) + self.pos_embed
        for block in self.blocks:
            hidden = block(hidden)
        return hidden
