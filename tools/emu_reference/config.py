"""Configuration of the Emu1 architecture: the published 14B model and tiny test variants.

The numbers come from the reference's `Emu-14B.json` (EVA-CLIP ViT-g/14), the T5-base decoder
configuration the Causal Former is built from, and the LLaMA-13B `config.json`. Tiny variants
keep every structural choice (q/v-only bias, unidirectional relative bias in block 0, two heads
on the LLM) and shrink only widths and depths.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Dict, Literal

Variant = Literal["pretrain", "instruct"]

# Emu adds [PAD], [IMG], [/IMG], <image> to LLaMA's 32000 pieces; Emu-I adds [USER], [ASSISTANT].
BASE_VOCAB_SIZE = 32000
VOCAB_SIZES: Dict[str, int] = {"pretrain": BASE_VOCAB_SIZE + 4, "instruct": BASE_VOCAB_SIZE + 6}


class ConfigError(ValueError):
    """A configuration file is missing, unreadable or inconsistent; the message names it."""


@dataclass(frozen=True)
class VisionConfig:
    """EVA-CLIP ViT: pre-norm blocks, q/v bias only, learned absolute positions, CLS token."""

    image_size: int = 224
    patch_size: int = 14
    width: int = 1408
    layers: int = 40
    head_width: int = 88
    mlp_ratio: float = 4.3637
    # `visual.head` projects the CLS token to the CLIP embedding; unused by Emu but in the checkpoint.
    embed_dim: int = 1024
    layer_norm_eps: float = 1e-6

    @property
    def num_heads(self) -> int:
        return self.width // self.head_width

    @property
    def mlp_hidden(self) -> int:
        # The reference computes int(dim * mlp_ratio): 6144 for ViT-g.
        return int(self.width * self.mlp_ratio)

    @property
    def num_patches(self) -> int:
        return (self.image_size // self.patch_size) ** 2


@dataclass(frozen=True)
class CausalFormerConfig:
    """The decoder stack of T5-base with 1408-wide cross-attention keys/values."""

    d_model: int = 768
    num_layers: int = 12
    num_heads: int = 12
    d_kv: int = 64
    d_ff: int = 3072
    relative_attention_num_buckets: int = 32
    relative_attention_max_distance: int = 128
    layer_norm_eps: float = 1e-6
    # T5's shared token embedding stays in the checkpoint although the queries are learned.
    t5_vocab_size: int = 32128
    n_causal: int = 32


@dataclass(frozen=True)
class LlamaConfig:
    """LLaMA decoder: RMSNorm, SiLU gated MLP, rotary positions, no biases."""

    hidden_size: int = 5120
    intermediate_size: int = 13824
    num_layers: int = 40
    num_heads: int = 40
    rms_norm_eps: float = 1e-6
    max_positions: int = 2048
    vocab_size: int = VOCAB_SIZES["pretrain"]
    rope_theta: float = 10000.0

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_heads


@dataclass(frozen=True)
class EmuConfig:
    """The whole multimodal model; `variant` fixes the vocabulary size."""

    variant: Variant = "pretrain"
    vision: VisionConfig = field(default_factory=VisionConfig)
    cformer: CausalFormerConfig = field(default_factory=CausalFormerConfig)
    llama: LlamaConfig = field(default_factory=LlamaConfig)

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_dict(data: Dict[str, Any]) -> "EmuConfig":
        return EmuConfig(
            variant=data["variant"],
            vision=VisionConfig(**data["vision"]),
            cformer=CausalFormerConfig(**data["cformer"]),
            llama=LlamaConfig(**data["llama"]),
        )


def _read_json(path: Path) -> Dict[str, Any]:
    try:
        with open(path, "r", encoding="utf8") as handle:
            return json.load(handle)
    except (OSError, json.JSONDecodeError) as error:
        raise ConfigError(f"cannot read {path}: {error}") from error


def load_emu_config(emu_json: Path, llama_config_dir: Path, variant: Variant) -> EmuConfig:
    """Read `Emu-14B.json` and a LLaMA `config.json` the way the reference combines them."""
    if variant not in VOCAB_SIZES:
        raise ConfigError(f"unknown variant {variant!r}: expected pretrain or instruct")
    emu = _read_json(emu_json)
    llama = _read_json(llama_config_dir / "config.json")
    try:
        vision_cfg = emu["vision_cfg"]
        vision = VisionConfig(
            image_size=int(vision_cfg["image_size"]),
            patch_size=int(vision_cfg["patch_size"]),
            width=int(vision_cfg["width"]),
            layers=int(vision_cfg["layers"]),
            head_width=int(vision_cfg["head_width"]),
            mlp_ratio=float(vision_cfg["mlp_ratio"]),
            embed_dim=int(emu["embed_dim"]),
        )
        cformer = CausalFormerConfig(n_causal=int(emu["vladapter_cfg"]["n_causal"]))
        decoder = LlamaConfig(
            hidden_size=int(llama["hidden_size"]),
            intermediate_size=int(llama["intermediate_size"]),
            num_layers=int(llama["num_hidden_layers"]),
            num_heads=int(llama["num_attention_heads"]),
            rms_norm_eps=float(llama["rms_norm_eps"]),
            max_positions=int(llama["max_position_embeddings"]),
            vocab_size=VOCAB_SIZES[variant],
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ConfigError(f"{emu_json} or {llama_config_dir / 'config.json'}: missing or bad field {error}") from error
    return EmuConfig(variant=variant, vision=vision, cformer=cformer, llama=decoder)


def emu_14b_config(variant: Variant = "pretrain") -> EmuConfig:
    """The published Emu-14B configuration (the dataclass defaults), for the given variant."""
    return EmuConfig(variant=variant, llama=replace(LlamaConfig(), vocab_size=VOCAB_SIZES[variant]))


def tiny_config(variant: Variant = "pretrain") -> EmuConfig:
    """A structurally identical model small enough to commit: the vocabulary stays real.

    The LLM is only 8 wide (2 heads of 4) because the real 32004-row embedding and lm_head dominate
    the size (three fixture bundles with the image decoder must stay well under 20 MB together).
    """
    return EmuConfig(
        variant=variant,
        vision=VisionConfig(width=32, layers=2, head_width=8, mlp_ratio=4.3637, embed_dim=16),
        cformer=CausalFormerConfig(d_model=32, num_layers=2, num_heads=4, d_kv=8, d_ff=64, t5_vocab_size=64),
        llama=LlamaConfig(
            hidden_size=8, intermediate_size=22, num_layers=2, num_heads=2,
            max_positions=2048, vocab_size=VOCAB_SIZES[variant],
        ),
    )


def bench_config(variant: Variant = "pretrain") -> EmuConfig:
    """A mid-size synthetic model (about 200M decoder parameters) for benchmarks."""
    return EmuConfig(
        variant=variant,
        vision=VisionConfig(width=256, layers=4, head_width=64, embed_dim=128),
        cformer=CausalFormerConfig(d_model=256, num_layers=2, num_heads=4, d_kv=64, d_ff=1024, t5_vocab_size=64),
        llama=LlamaConfig(
            hidden_size=1024, intermediate_size=2816, num_layers=12, num_heads=16,
            max_positions=2048, vocab_size=VOCAB_SIZES[variant],
        ),
    )
