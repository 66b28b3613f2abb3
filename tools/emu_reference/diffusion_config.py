"""Configuration of Emu's image decoder: the diffusers-format UNet, VAE, safety checker, scheduler.

Each component is read from the `config.json` of its folder in `pretrain/` (diffusers' and
transformers' field names). Only the Stable Diffusion v1.x family is supported: a field whose value
would change the architecture into something else (a class embedding, linear projections in a
VAE, ...) is refused by name rather than silently ignored. `tools/data/image_decoder/` holds the
configuration Emu's folders are expected to have (SD v1.5 with 5120-wide cross-attention).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Dict, Tuple

from .config import ConfigError

DATA_DIR = Path(__file__).resolve().parents[1] / "data" / "image_decoder"


def _read(path: Path) -> Dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ConfigError(f"cannot read {path}: {error}") from error


def _per_block(value: Any, blocks: int, field: str, path: Path) -> Tuple[int, ...]:
    values = tuple(value) if isinstance(value, (list, tuple)) else (value,) * blocks
    if len(values) != blocks:
        raise ConfigError(f"{path}: {field} has {len(values)} entries for {blocks} blocks")
    return tuple(int(item) for item in values)


def _refuse(data: Dict[str, Any], path: Path, allowed: Dict[str, Any]) -> None:
    """Fields that would change the architecture must have the SD v1.x value (or be absent)."""
    for field, ok in allowed.items():
        if field in data and data[field] not in ok:
            raise ConfigError(f"{path}: {field} = {data[field]!r} is not supported (supported: {ok})")


@dataclass(frozen=True)
class UNetConfig:
    """UNet2DConditionModel, Stable Diffusion v1.x layout."""

    in_channels: int = 4
    out_channels: int = 4
    sample_size: int = 64
    block_out_channels: Tuple[int, ...] = (320, 640, 1280, 1280)
    down_block_types: Tuple[str, ...] = ("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",)
    up_block_types: Tuple[str, ...] = ("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3
    layers_per_block: int = 2
    # diffusers' legacy naming: for UNet2DConditionModel `attention_head_dim` is the number of heads.
    num_attention_heads: Tuple[int, ...] = (8, 8, 8, 8)
    cross_attention_dim: int = 5120
    norm_num_groups: int = 32
    norm_eps: float = 1e-5
    downsample_padding: int = 1
    flip_sin_to_cos: bool = True
    freq_shift: int = 0
    mid_block_scale_factor: float = 1.0
    use_linear_projection: bool = False
    upcast_attention: bool = False

    @property
    def time_embed_dim(self) -> int:
        return 4 * self.block_out_channels[0]

    @staticmethod
    def from_json(path: Path) -> "UNetConfig":
        data = _read(path)
        _refuse(data, path, {
            "act_fn": ["silu"], "center_input_sample": [False], "class_embed_type": [None],
            "addition_embed_type": [None], "time_embedding_type": ["positional"], "dual_cross_attention": [False],
            "only_cross_attention": [False], "resnet_time_scale_shift": ["default"], "time_cond_proj_dim": [None],
            "encoder_hid_dim": [None], "mid_block_type": ["UNetMidBlock2DCrossAttn"], "conv_in_kernel": [3],
            "conv_out_kernel": [3], "transformer_layers_per_block": [1, [1, 1, 1, 1]],
            "num_class_embeds": [None], "projection_class_embeddings_input_dim": [None],
            "time_embedding_act_fn": [None], "timestep_post_act": [None], "class_embeddings_concat": [False],
            "cross_attention_norm": [None], "resnet_skip_time_act": [False], "resnet_out_scale_factor": [1.0],
        })
        try:
            channels = tuple(int(item) for item in data["block_out_channels"])
            blocks = len(channels)
            heads = data.get("num_attention_heads") or data.get("attention_head_dim", 8)
            config = UNetConfig(
                in_channels=int(data.get("in_channels", 4)), out_channels=int(data.get("out_channels", 4)),
                sample_size=int(data.get("sample_size", 64)), block_out_channels=channels,
                down_block_types=tuple(data["down_block_types"]), up_block_types=tuple(data["up_block_types"]),
                layers_per_block=int(data.get("layers_per_block", 2)),
                num_attention_heads=_per_block(heads, blocks, "attention_head_dim", path),
                cross_attention_dim=int(data["cross_attention_dim"]),
                norm_num_groups=int(data.get("norm_num_groups", 32)), norm_eps=float(data.get("norm_eps", 1e-5)),
                downsample_padding=int(data.get("downsample_padding", 1)),
                flip_sin_to_cos=bool(data.get("flip_sin_to_cos", True)), freq_shift=int(data.get("freq_shift", 0)),
                mid_block_scale_factor=float(data.get("mid_block_scale_factor", 1.0)),
                use_linear_projection=bool(data.get("use_linear_projection", False)),
                upcast_attention=bool(data.get("upcast_attention", False)),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ConfigError(f"{path}: missing or bad field {error}") from error
        known_down, known_up = {"CrossAttnDownBlock2D", "DownBlock2D"}, {"CrossAttnUpBlock2D", "UpBlock2D"}
        if (len(config.down_block_types) != blocks or len(config.up_block_types) != blocks
                or not set(config.down_block_types) <= known_down or not set(config.up_block_types) <= known_up):
            raise ConfigError(f"{path}: down/up_block_types {config.down_block_types} / {config.up_block_types} are not "
                              f"an SD v1.x layout of {blocks} blocks")
        return config


@dataclass(frozen=True)
class VaeConfig:
    """AutoencoderKL (encoder, diagonal Gaussian, decoder)."""

    in_channels: int = 3
    out_channels: int = 3
    latent_channels: int = 4
    block_out_channels: Tuple[int, ...] = (128, 256, 512, 512)
    layers_per_block: int = 2
    norm_num_groups: int = 32
    sample_size: int = 512
    scaling_factor: float = 0.18215

    @property
    def scale_factor(self) -> int:
        """Pixels per latent along each side (diffusers' `vae_scale_factor`)."""
        return 2 ** (len(self.block_out_channels) - 1)

    @staticmethod
    def from_json(path: Path) -> "VaeConfig":
        data = _read(path)
        blocks = len(data.get("block_out_channels", ()))
        _refuse(data, path, {
            "act_fn": ["silu"], "down_block_types": [["DownEncoderBlock2D"] * blocks],
            "up_block_types": [["UpDecoderBlock2D"] * blocks], "force_upcast": [True, False],
            "use_quant_conv": [True], "use_post_quant_conv": [True], "mid_block_add_attention": [True],
            "shift_factor": [None],
        })
        try:
            return VaeConfig(
                in_channels=int(data.get("in_channels", 3)), out_channels=int(data.get("out_channels", 3)),
                latent_channels=int(data.get("latent_channels", 4)),
                block_out_channels=tuple(int(item) for item in data["block_out_channels"]),
                layers_per_block=int(data.get("layers_per_block", 1)),
                norm_num_groups=int(data.get("norm_num_groups", 32)), sample_size=int(data.get("sample_size", 512)),
                scaling_factor=float(data.get("scaling_factor", 0.18215)),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ConfigError(f"{path}: missing or bad field {error}") from error


@dataclass(frozen=True)
class SafetyCheckerConfig:
    """StableDiffusionSafetyChecker: a CLIP vision tower, a projection, 17 + 3 concept embeddings."""

    image_size: int = 224
    patch_size: int = 14
    hidden_size: int = 1024
    intermediate_size: int = 4096
    num_layers: int = 24
    num_heads: int = 16
    layer_norm_eps: float = 1e-5
    hidden_act: str = "quick_gelu"
    projection_dim: int = 768
    num_concepts: int = 17
    num_special_concepts: int = 3

    @property
    def num_positions(self) -> int:
        return (self.image_size // self.patch_size) ** 2 + 1

    @staticmethod
    def from_json(path: Path) -> "SafetyCheckerConfig":
        data = _read(path)
        vision = data.get("vision_config") or {}
        # transformers fills unset vision_config fields with CLIPVisionConfig's defaults (ViT-B/32).
        try:
            config = SafetyCheckerConfig(
                image_size=int(vision.get("image_size", 224)), patch_size=int(vision.get("patch_size", 32)),
                hidden_size=int(vision.get("hidden_size", 768)),
                intermediate_size=int(vision.get("intermediate_size", 3072)),
                num_layers=int(vision.get("num_hidden_layers", 12)),
                num_heads=int(vision.get("num_attention_heads", 12)),
                layer_norm_eps=float(vision.get("layer_norm_eps", 1e-5)),
                hidden_act=str(vision.get("hidden_act", "quick_gelu")),
                projection_dim=int(data.get("projection_dim", 512)),
            )
        except (TypeError, ValueError) as error:
            raise ConfigError(f"{path}: bad field {error}") from error
        if config.hidden_act not in ("quick_gelu", "gelu"):
            raise ConfigError(f"{path}: vision_config.hidden_act = {config.hidden_act!r} is not supported")
        return config


@dataclass(frozen=True)
class SchedulerConfig:
    """The fields of scheduler_config.json the schedulers read (diffusers' names and defaults)."""

    class_name: str = "PNDMScheduler"
    num_train_timesteps: int = 1000
    beta_start: float = 0.00085
    beta_end: float = 0.012
    beta_schedule: str = "scaled_linear"
    set_alpha_to_one: bool = False
    skip_prk_steps: bool = True
    steps_offset: int = 1
    clip_sample: bool = False
    prediction_type: str = "epsilon"
    timestep_spacing: str = "leading"

    @staticmethod
    def from_dict(data: Dict[str, Any], where: str = "scheduler config") -> "SchedulerConfig":
        if data.get("trained_betas") is not None:
            raise ConfigError(f"{where}: trained_betas is not supported")
        _refuse(data, Path(where), {
            "beta_schedule": ["linear", "scaled_linear"], "prediction_type": ["epsilon"],
            "timestep_spacing": ["leading", "linspace", "trailing"], "thresholding": [False],
            "rescale_betas_zero_snr": [False],
        })
        defaults = SchedulerConfig()
        try:
            return SchedulerConfig(
                class_name=str(data.get("_class_name", defaults.class_name)),
                num_train_timesteps=int(data.get("num_train_timesteps", 1000)),
                beta_start=float(data.get("beta_start", 0.0001)), beta_end=float(data.get("beta_end", 0.02)),
                beta_schedule=str(data.get("beta_schedule", "linear")),
                set_alpha_to_one=bool(data.get("set_alpha_to_one", False)),
                skip_prk_steps=bool(data.get("skip_prk_steps", False)),
                steps_offset=int(data.get("steps_offset", 0)), clip_sample=bool(data.get("clip_sample", False)),
                prediction_type=str(data.get("prediction_type", "epsilon")),
                timestep_spacing=str(data.get("timestep_spacing", "leading")),
            )
        except (TypeError, ValueError) as error:
            raise ConfigError(f"{where}: bad field {error}") from error

    @staticmethod
    def from_json(path: Path) -> "SchedulerConfig":
        return SchedulerConfig.from_dict(_read(path), str(path))


@dataclass(frozen=True)
class ImageDecoderConfig:
    unet: UNetConfig
    vae: VaeConfig
    safety_checker: SafetyCheckerConfig
    scheduler: SchedulerConfig

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


def load_decoder_config(folder: Path) -> ImageDecoderConfig:
    """Read pretrain/{unet,vae,safety_checker,scheduler}/ config files."""
    return ImageDecoderConfig(
        unet=UNetConfig.from_json(folder / "unet" / "config.json"),
        vae=VaeConfig.from_json(folder / "vae" / "config.json"),
        safety_checker=SafetyCheckerConfig.from_json(folder / "safety_checker" / "config.json"),
        scheduler=SchedulerConfig.from_json(folder / "scheduler" / "scheduler_config.json"),
    )


def emu_decoder_config() -> ImageDecoderConfig:
    """The configuration committed under tools/data/image_decoder (see its README)."""
    return load_decoder_config(DATA_DIR)


def tiny_decoder_config(cross_attention_dim: int) -> ImageDecoderConfig:
    """Same structure as SD v1.x with tiny widths: 8x8 latents -> 64x64 images, a 2-layer CLIP.

    Cross-attention is as wide as the tiny LLM, so it conditions on the tiny model's regressed
    embeddings. The scheduler is the real SD v1.5 one.
    """
    return ImageDecoderConfig(
        unet=UNetConfig(
            block_out_channels=(8, 16), down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
            up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), layers_per_block=1, num_attention_heads=(2, 2),
            cross_attention_dim=cross_attention_dim, norm_num_groups=4, sample_size=8,
        ),
        vae=VaeConfig(block_out_channels=(4, 8, 8, 8), layers_per_block=1, norm_num_groups=4, sample_size=64),
        safety_checker=SafetyCheckerConfig(
            image_size=224, patch_size=32, hidden_size=16, intermediate_size=32, num_layers=2, num_heads=2,
            projection_dim=8,
        ),
        scheduler=SchedulerConfig(),
    )
