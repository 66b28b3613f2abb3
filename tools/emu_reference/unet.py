"""UNet2DConditionModel (Stable Diffusion v1.x layout) with diffusers' parameter names.

Written from diffusers' unet_2d_condition.py, unet_2d_blocks.py and embeddings.py. The noise
prediction for latents `sample` [B, 4, h, w] at integer `timestep` [B] given `encoder_hidden_states`
[B, tokens, cross_attention_dim] (Emu: the 32 regressed embeddings, 5120 wide).
"""

from __future__ import annotations

import math
from typing import List, Optional, Tuple

import torch
from torch import nn
from torch.nn import functional as F

from .diffusion_blocks import Device, Downsample2D, ResnetBlock2D, Transformer2DModel, Upsample2D
from .diffusion_config import UNetConfig


class Timesteps(nn.Module):
    """Sinusoidal embedding of integer timesteps, computed in float32 (diffusers' get_timestep_embedding)."""

    def __init__(self, channels: int, flip_sin_to_cos: bool, shift: float) -> None:
        super().__init__()
        self.channels, self.flip, self.shift = channels, flip_sin_to_cos, shift

    def forward(self, timesteps: torch.Tensor) -> torch.Tensor:
        half = self.channels // 2
        exponent = -math.log(10000) * torch.arange(0, half, dtype=torch.float32) / (half - self.shift)
        angles = timesteps[:, None].float() * torch.exp(exponent)[None, :]
        sin, cos = torch.sin(angles), torch.cos(angles)
        emb = torch.cat([cos, sin], dim=-1) if self.flip else torch.cat([sin, cos], dim=-1)
        return F.pad(emb, (0, 1)) if self.channels % 2 else emb


class TimestepEmbedding(nn.Module):
    def __init__(self, channels: int, dim: int, device: Device = None) -> None:
        super().__init__()
        self.linear_1 = nn.Linear(channels, dim, device=device)
        self.linear_2 = nn.Linear(dim, dim, device=device)

    def forward(self, emb: torch.Tensor) -> torch.Tensor:
        return self.linear_2(F.silu(self.linear_1(emb)))


class DownBlock(nn.Module):
    """CrossAttnDownBlock2D (with `attentions`) or DownBlock2D; returns the output and its skips."""

    def __init__(self, config: UNetConfig, index: int, in_channels: int, out_channels: int, final: bool,
                 device: Device) -> None:
        super().__init__()
        cross = config.down_block_types[index] == "CrossAttnDownBlock2D"
        layers = config.layers_per_block
        groups, eps, temb = config.norm_num_groups, config.norm_eps, config.time_embed_dim
        self.resnets = nn.ModuleList([
            ResnetBlock2D(in_channels if j == 0 else out_channels, out_channels, temb, groups, eps, device=device)
            for j in range(layers)
        ])
        self.attentions = nn.ModuleList([
            Transformer2DModel(out_channels, config.num_attention_heads[index], config.cross_attention_dim, groups,
                               config.use_linear_projection, device)
            for _ in range(layers)
        ]) if cross else None
        self.downsamplers = None if final else nn.ModuleList(
            [Downsample2D(out_channels, config.downsample_padding, device)])

    def forward(self, hidden: torch.Tensor, temb: torch.Tensor,
                context: torch.Tensor) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        skips = []
        for j, resnet in enumerate(self.resnets):
            hidden = resnet(hidden, temb)
            if self.attentions is not None:
                hidden = self.attentions[j](hidden, context)
            skips.append(hidden)
        if self.downsamplers is not None:
            hidden = self.downsamplers[0](hidden)
            skips.append(hidden)
        return hidden, skips


class UpBlock(nn.Module):
    """CrossAttnUpBlock2D or UpBlock2D: layers_per_block + 1 resnets over [hidden, skip] concatenations."""

    def __init__(self, config: UNetConfig, index: int, prev_channels: int, out_channels: int, skip_in: int,
                 final: bool, device: Device) -> None:
        super().__init__()
        cross = config.up_block_types[index] == "CrossAttnUpBlock2D"
        layers = config.layers_per_block + 1
        groups, eps, temb = config.norm_num_groups, config.norm_eps, config.time_embed_dim
        heads = tuple(reversed(config.num_attention_heads))[index]
        resnets = []
        for j in range(layers):
            skip = skip_in if j == layers - 1 else out_channels
            first = prev_channels if j == 0 else out_channels
            resnets.append(ResnetBlock2D(first + skip, out_channels, temb, groups, eps, device=device))
        self.resnets = nn.ModuleList(resnets)
        self.attentions = nn.ModuleList([
            Transformer2DModel(out_channels, heads, config.cross_attention_dim, groups, config.use_linear_projection,
                               device)
            for _ in range(layers)
        ]) if cross else None
        self.upsamplers = None if final else nn.ModuleList([Upsample2D(out_channels, device)])

    def forward(self, hidden: torch.Tensor, skips: List[torch.Tensor], temb: torch.Tensor, context: torch.Tensor,
                upsample_to: Optional[torch.Tensor]) -> torch.Tensor:
        for j, resnet in enumerate(self.resnets):
            hidden = resnet(torch.cat([hidden, skips.pop()], dim=1), temb)
            if self.attentions is not None:
                hidden = self.attentions[j](hidden, context)
        if self.upsamplers is not None:
            hidden = self.upsamplers[0](hidden, upsample_to)
        return hidden


class MidBlock(nn.Module):
    """UNetMidBlock2DCrossAttn: resnet, transformer, resnet."""

    def __init__(self, config: UNetConfig, device: Device) -> None:
        super().__init__()
        channels = config.block_out_channels[-1]
        groups, eps, temb = config.norm_num_groups, config.norm_eps, config.time_embed_dim
        scale = config.mid_block_scale_factor
        self.resnets = nn.ModuleList([
            ResnetBlock2D(channels, channels, temb, groups, eps, scale, device) for _ in range(2)])
        self.attentions = nn.ModuleList([
            Transformer2DModel(channels, config.num_attention_heads[-1], config.cross_attention_dim, groups,
                               config.use_linear_projection, device)])

    def forward(self, hidden: torch.Tensor, temb: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        hidden = self.resnets[0](hidden, temb)
        hidden = self.attentions[0](hidden, context)
        return self.resnets[1](hidden, temb)


class UNet2DConditionModel(nn.Module):
    def __init__(self, config: UNetConfig, device: Device = None) -> None:
        super().__init__()
        self.config = config
        channels = config.block_out_channels
        blocks = len(channels)
        self.conv_in = nn.Conv2d(config.in_channels, channels[0], 3, padding=1, device=device)
        self.time_proj = Timesteps(channels[0], config.flip_sin_to_cos, config.freq_shift)
        self.time_embedding = TimestepEmbedding(channels[0], config.time_embed_dim, device)
        down, previous = [], channels[0]
        for index, out in enumerate(channels):
            down.append(DownBlock(config, index, previous, out, index == blocks - 1, device))
            previous = out
        self.down_blocks = nn.ModuleList(down)
        self.mid_block = MidBlock(config, device)
        reversed_channels = list(reversed(channels))
        up, previous = [], reversed_channels[0]
        for index, out in enumerate(reversed_channels):
            skip_in = reversed_channels[min(index + 1, blocks - 1)]
            up.append(UpBlock(config, index, previous, out, skip_in, index == blocks - 1, device))
            previous = out
        self.up_blocks = nn.ModuleList(up)
        self.conv_norm_out = nn.GroupNorm(config.norm_num_groups, channels[0], eps=config.norm_eps, device=device)
        self.conv_out = nn.Conv2d(channels[0], config.out_channels, 3, padding=1, device=device)

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor, encoder_hidden_states: torch.Tensor) -> torch.Tensor:
        """sample [B, C, h, w], timestep [B] (integers; any dtype), encoder_hidden_states [B, T, D] -> [B, C, h, w]."""
        temb = self.time_embedding(self.time_proj(timestep).to(sample.dtype))
        hidden = self.conv_in(sample)
        skips = [hidden]
        for block in self.down_blocks:
            hidden, block_skips = block(hidden, temb, encoder_hidden_states)
            skips += block_skips
        hidden = self.mid_block(hidden, temb, encoder_hidden_states)
        for block in self.up_blocks:
            mine = skips[-len(block.resnets):]
            del skips[-len(block.resnets):]
            # Upsample to the next skip's size: x2 when h, w are multiples of 2**ups, as diffusers does otherwise.
            upsample_to = skips[-1].shape[2:] if block.upsamplers is not None else None
            hidden = block(hidden, mine, temb, encoder_hidden_states, upsample_to)
        return self.conv_out(F.silu(self.conv_norm_out(hidden)))
