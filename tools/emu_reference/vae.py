"""AutoencoderKL (Stable Diffusion's VAE) with diffusers' parameter names.

Written from diffusers' autoencoders/vae.py and autoencoder_kl.py. `encode` gives the diagonal
Gaussian's mean and standard deviation (log-variance clamped to [-30, 20] as diffusers does);
`decode` maps latents to images in about [-1, 1]. Neither applies `scaling_factor`: the image
pipeline multiplies by it after encoding and by its reciprocal before decoding.
"""

from __future__ import annotations

from typing import Tuple

import torch
from torch import nn
from torch.nn import functional as F

from .diffusion_blocks import Device, Downsample2D, ResnetBlock2D, SpatialSelfAttention, Upsample2D
from .diffusion_config import VaeConfig

EPS = 1e-6


class MidBlock(nn.Module):
    """UNetMidBlock2D without time embedding: resnet, spatial self-attention, resnet."""

    def __init__(self, channels: int, groups: int, device: Device) -> None:
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(channels, channels, None, groups, EPS, device=device)
                                      for _ in range(2)])
        self.attentions = nn.ModuleList([SpatialSelfAttention(channels, groups, device)])

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.resnets[1](self.attentions[0](self.resnets[0](hidden)))


class EncoderBlock(nn.Module):
    """DownEncoderBlock2D: resnets, then (except last) a padded stride-2 conv."""

    def __init__(self, in_channels: int, out_channels: int, layers: int, groups: int, final: bool,
                 device: Device) -> None:
        super().__init__()
        self.resnets = nn.ModuleList([
            ResnetBlock2D(in_channels if j == 0 else out_channels, out_channels, None, groups, EPS, device=device)
            for j in range(layers)])
        self.downsamplers = None if final else nn.ModuleList([Downsample2D(out_channels, 0, device)])

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        for resnet in self.resnets:
            hidden = resnet(hidden)
        return hidden if self.downsamplers is None else self.downsamplers[0](hidden)


class DecoderBlock(nn.Module):
    """UpDecoderBlock2D: layers_per_block + 1 resnets, then (except last) nearest x2 and a conv."""

    def __init__(self, in_channels: int, out_channels: int, layers: int, groups: int, final: bool,
                 device: Device) -> None:
        super().__init__()
        self.resnets = nn.ModuleList([
            ResnetBlock2D(in_channels if j == 0 else out_channels, out_channels, None, groups, EPS, device=device)
            for j in range(layers)])
        self.upsamplers = None if final else nn.ModuleList([Upsample2D(out_channels, device)])

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        for resnet in self.resnets:
            hidden = resnet(hidden)
        return hidden if self.upsamplers is None else self.upsamplers[0](hidden)


class Encoder(nn.Module):
    def __init__(self, config: VaeConfig, device: Device) -> None:
        super().__init__()
        channels, groups = config.block_out_channels, config.norm_num_groups
        self.conv_in = nn.Conv2d(config.in_channels, channels[0], 3, padding=1, device=device)
        blocks, previous = [], channels[0]
        for index, out in enumerate(channels):
            blocks.append(EncoderBlock(previous, out, config.layers_per_block, groups, index == len(channels) - 1,
                                       device))
            previous = out
        self.down_blocks = nn.ModuleList(blocks)
        self.mid_block = MidBlock(channels[-1], groups, device)
        self.conv_norm_out = nn.GroupNorm(groups, channels[-1], eps=EPS, device=device)
        self.conv_out = nn.Conv2d(channels[-1], 2 * config.latent_channels, 3, padding=1, device=device)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        hidden = self.conv_in(image)
        for block in self.down_blocks:
            hidden = block(hidden)
        hidden = self.mid_block(hidden)
        return self.conv_out(F.silu(self.conv_norm_out(hidden)))


class Decoder(nn.Module):
    def __init__(self, config: VaeConfig, device: Device) -> None:
        super().__init__()
        channels, groups = list(reversed(config.block_out_channels)), config.norm_num_groups
        self.conv_in = nn.Conv2d(config.latent_channels, channels[0], 3, padding=1, device=device)
        self.mid_block = MidBlock(channels[0], groups, device)
        blocks, previous = [], channels[0]
        for index, out in enumerate(channels):
            blocks.append(DecoderBlock(previous, out, config.layers_per_block + 1, groups,
                                       index == len(channels) - 1, device))
            previous = out
        self.up_blocks = nn.ModuleList(blocks)
        self.conv_norm_out = nn.GroupNorm(groups, channels[-1], eps=EPS, device=device)
        self.conv_out = nn.Conv2d(channels[-1], config.out_channels, 3, padding=1, device=device)

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        hidden = self.mid_block(self.conv_in(latents))
        for block in self.up_blocks:
            hidden = block(hidden)
        return self.conv_out(F.silu(self.conv_norm_out(hidden)))


class AutoencoderKL(nn.Module):
    def __init__(self, config: VaeConfig, device: Device = None) -> None:
        super().__init__()
        self.config = config
        latent = config.latent_channels
        self.encoder = Encoder(config, device)
        self.decoder = Decoder(config, device)
        self.quant_conv = nn.Conv2d(2 * latent, 2 * latent, 1, device=device)
        self.post_quant_conv = nn.Conv2d(latent, latent, 1, device=device)

    def encode(self, image: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """image [B, 3, H, W] in [-1, 1] -> (mean, std), each [B, latent_channels, H/8, W/8]."""
        moments = self.quant_conv(self.encoder(image))
        mean, logvar = torch.chunk(moments, 2, dim=1)
        return mean, torch.exp(0.5 * torch.clamp(logvar, -30.0, 20.0))

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """unscaled latents [B, latent_channels, h, w] -> image [B, 3, 8h, 8w], about [-1, 1] (not clamped)."""
        return self.decoder(self.post_quant_conv(latents))
