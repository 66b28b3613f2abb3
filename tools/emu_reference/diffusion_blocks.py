"""Building blocks shared by the UNet and the VAE, with diffusers' parameter names and numerics.

Written from diffusers' resnet.py, attention.py, attention_processor.py, transformer_2d.py and
upsampling/downsampling.py (Stable Diffusion v1.x paths only): GroupNorm -> SiLU -> conv residual
blocks with an optional time-embedding projection, stride-2 convolution down, nearest x2 up,
and the spatial transformer (GroupNorm, 1x1 conv or linear in, self-attention, cross-attention and
a GEGLU feed-forward on LayerNorm'd tokens, out, residual).
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import nn
from torch.nn import functional as F

Device = Optional[torch.device]


class ResnetBlock2D(nn.Module):
    """norm1 -> SiLU -> conv1 (+ time_emb_proj(SiLU(temb))) -> norm2 -> SiLU -> conv2, plus shortcut."""

    def __init__(self, in_channels: int, out_channels: int, temb_channels: Optional[int], groups: int, eps: float,
                 output_scale_factor: float = 1.0, device: Device = None) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, in_channels, eps=eps, device=device)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1, device=device)
        self.time_emb_proj = nn.Linear(temb_channels, out_channels, device=device) if temb_channels else None
        self.norm2 = nn.GroupNorm(groups, out_channels, eps=eps, device=device)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, device=device)
        self.conv_shortcut = (nn.Conv2d(in_channels, out_channels, 1, device=device)
                              if in_channels != out_channels else None)
        self.output_scale_factor = output_scale_factor

    def forward(self, hidden: torch.Tensor, temb: Optional[torch.Tensor] = None) -> torch.Tensor:
        residual = hidden if self.conv_shortcut is None else self.conv_shortcut(hidden)
        out = self.conv1(F.silu(self.norm1(hidden)))
        if self.time_emb_proj is not None and temb is not None:
            out = out + self.time_emb_proj(F.silu(temb))[:, :, None, None]
        out = self.conv2(F.silu(self.norm2(out)))
        out = residual + out
        return out if self.output_scale_factor == 1.0 else out / self.output_scale_factor


class Downsample2D(nn.Module):
    """3x3 stride-2 conv; with padding 0 (the VAE) the input is first padded by one on the right/bottom."""

    def __init__(self, channels: int, padding: int, device: Device = None) -> None:
        super().__init__()
        self.padding = padding
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=padding, device=device)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        if self.padding == 0:
            hidden = F.pad(hidden, (0, 1, 0, 1))
        return self.conv(hidden)


class Upsample2D(nn.Module):
    """Nearest-neighbour x2 (or to the skip connection's size) then a 3x3 conv."""

    def __init__(self, channels: int, device: Device = None) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1, device=device)

    def forward(self, hidden: torch.Tensor, size: Optional[torch.Tensor] = None) -> torch.Tensor:
        if size is None:
            hidden = F.interpolate(hidden, scale_factor=2.0, mode="nearest")
        else:
            # diffusers passes the skip's size when the latent is not a multiple of 2**ups; nearest to
            # exactly twice the size is the same as scale_factor 2, so always using the skip's size is exact.
            hidden = F.interpolate(hidden, size=size, mode="nearest")
        return self.conv(hidden)


def attention(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, heads: int) -> torch.Tensor:
    """Multi-head softmax(q k^T * d^-1/2) v on [B, tokens, heads * d] tensors (softmax in float32)."""
    batch, tokens, inner = query.shape
    head_dim = inner // heads

    def split(tensor: torch.Tensor) -> torch.Tensor:
        return tensor.reshape(batch, -1, heads, head_dim).transpose(1, 2)

    scores = torch.matmul(split(query), split(key).transpose(-1, -2)) * head_dim ** -0.5
    weights = torch.softmax(scores.float(), dim=-1).to(query.dtype)
    return torch.matmul(weights, split(value)).transpose(1, 2).reshape(batch, tokens, inner)


class Attention(nn.Module):
    """diffusers' Attention as the UNet uses it: to_q/to_k/to_v without bias, to_out.0 with bias."""

    def __init__(self, query_dim: int, heads: int, head_dim: int, cross_dim: Optional[int] = None,
                 bias: bool = False, device: Device = None) -> None:
        super().__init__()
        inner = heads * head_dim
        self.heads = heads
        self.to_q = nn.Linear(query_dim, inner, bias=bias, device=device)
        self.to_k = nn.Linear(cross_dim or query_dim, inner, bias=bias, device=device)
        self.to_v = nn.Linear(cross_dim or query_dim, inner, bias=bias, device=device)
        self.to_out = nn.ModuleList([nn.Linear(inner, query_dim, device=device)])

    def forward(self, hidden: torch.Tensor, context: Optional[torch.Tensor] = None) -> torch.Tensor:
        context = hidden if context is None else context
        out = attention(self.to_q(hidden), self.to_k(context), self.to_v(context), self.heads)
        return self.to_out[0](out)


class GEGLU(nn.Module):
    def __init__(self, dim: int, inner: int, device: Device = None) -> None:
        super().__init__()
        self.proj = nn.Linear(dim, 2 * inner, device=device)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        value, gate = self.proj(hidden).chunk(2, dim=-1)
        return value * F.gelu(gate)


class FeedForward(nn.Module):
    """net.0 = GEGLU (4x inner), net.1 = dropout (no parameters), net.2 = Linear back."""

    def __init__(self, dim: int, device: Device = None) -> None:
        super().__init__()
        self.net = nn.ModuleList([GEGLU(dim, 4 * dim, device), nn.Identity(), nn.Linear(4 * dim, dim, device=device)])

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.net[2](self.net[0](hidden))


class BasicTransformerBlock(nn.Module):
    def __init__(self, dim: int, heads: int, cross_dim: int, device: Device = None) -> None:
        super().__init__()
        head_dim = dim // heads
        self.norm1 = nn.LayerNorm(dim, eps=1e-5, device=device)
        self.attn1 = Attention(dim, heads, head_dim, device=device)
        self.norm2 = nn.LayerNorm(dim, eps=1e-5, device=device)
        self.attn2 = Attention(dim, heads, head_dim, cross_dim, device=device)
        self.norm3 = nn.LayerNorm(dim, eps=1e-5, device=device)
        self.ff = FeedForward(dim, device)

    def forward(self, hidden: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        hidden = self.attn1(self.norm1(hidden)) + hidden
        hidden = self.attn2(self.norm2(hidden), context) + hidden
        return self.ff(self.norm3(hidden)) + hidden


class Transformer2DModel(nn.Module):
    """GroupNorm(eps 1e-6) -> proj_in -> one BasicTransformerBlock over H*W tokens -> proj_out -> + input."""

    def __init__(self, channels: int, heads: int, cross_dim: int, groups: int, linear_projection: bool,
                 device: Device = None) -> None:
        super().__init__()
        self.linear_projection = linear_projection
        self.norm = nn.GroupNorm(groups, channels, eps=1e-6, device=device)
        if linear_projection:
            self.proj_in: nn.Module = nn.Linear(channels, channels, device=device)
            self.proj_out: nn.Module = nn.Linear(channels, channels, device=device)
        else:
            self.proj_in = nn.Conv2d(channels, channels, 1, device=device)
            self.proj_out = nn.Conv2d(channels, channels, 1, device=device)
        self.transformer_blocks = nn.ModuleList([BasicTransformerBlock(channels, heads, cross_dim, device)])

    def forward(self, hidden: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = hidden.shape
        residual = hidden
        hidden = self.norm(hidden)
        if not self.linear_projection:
            hidden = self.proj_in(hidden)
        tokens = hidden.permute(0, 2, 3, 1).reshape(batch, height * width, channels)
        if self.linear_projection:
            tokens = self.proj_in(tokens)
        for block in self.transformer_blocks:
            tokens = block(tokens, context)
        if self.linear_projection:
            tokens = self.proj_out(tokens)
        hidden = tokens.reshape(batch, height, width, channels).permute(0, 3, 1, 2)
        if not self.linear_projection:
            hidden = self.proj_out(hidden)
        return hidden + residual


class SpatialSelfAttention(nn.Module):
    """The VAE mid-block attention: GroupNorm (eps 1e-6), one head as wide as the channels, biases,
    residual. Older diffusers folders name it query/key/value/proj_attn (mapped at load)."""

    def __init__(self, channels: int, groups: int, device: Device = None) -> None:
        super().__init__()
        self.group_norm = nn.GroupNorm(groups, channels, eps=1e-6, device=device)
        self.to_q = nn.Linear(channels, channels, device=device)
        self.to_k = nn.Linear(channels, channels, device=device)
        self.to_v = nn.Linear(channels, channels, device=device)
        self.to_out = nn.ModuleList([nn.Linear(channels, channels, device=device)])

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = hidden.shape
        tokens = self.group_norm(hidden).reshape(batch, channels, height * width).transpose(1, 2)
        out = attention(self.to_q(tokens), self.to_k(tokens), self.to_v(tokens), 1)
        out = self.to_out[0](out).transpose(1, 2).reshape(batch, channels, height, width)
        return out + hidden
