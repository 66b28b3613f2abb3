"""manifest.json: everything the engine needs besides the graphs (schema in docs/bundle-format.md)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import onnx
from onnx import TensorProto

from emu_reference import prompts
from emu_reference.config import EmuConfig, Variant
from emu_reference.preprocess import CLIP_MEAN, CLIP_STD, IMAGE_SIZE, VIDEO_FRAMES
from emu_reference.tokenizer import BOS_ID, EOS_ID, UNK_ID, added_token_ids

FORMAT = "emu-bot-bundle"
VERSION = 1
DTYPE_NAMES = {TensorProto.FLOAT: "float32", TensorProto.FLOAT16: "float16", TensorProto.INT64: "int64"}
TOKEN_ROLES = {
    "pad": prompts.PAD_TOKEN, "img_start": prompts.IMG_START, "img_end": prompts.IMG_END,
    "image": prompts.IMAGE_TOKEN, "user": prompts.USER_TOKEN, "assistant": prompts.ASSISTANT_TOKEN,
}


def token_ids(variant: Variant, first_added_id: int) -> Dict[str, Any]:
    """Role -> id; `user`/`assistant` are null for the pretrained model, which has no such tokens.
    Emu's added tokens start at `first_added_id`, the tokenizer's base vocabulary size."""
    added = added_token_ids(variant, first_added_id)
    ids: Dict[str, Any] = {"unk": UNK_ID, "bos": BOS_ID, "eos": EOS_ID}
    ids.update({role: added.get(text) for role, text in TOKEN_ROLES.items()})
    return ids


REFERENCE_DRAWING = {"guidance_scale": 7.5, "in_context_guidance_scale": 10.0, "num_inference_steps": 50}


def generation_defaults(variant: Variant, drawing: Optional[Dict[str, Any]] = None,
                        native_size: Optional[int] = None) -> Dict[str, Any]:
    """The reference's settings (inference.py, image_inference.py, modeling_emu.py). For a pretrain
    bundle, `drawing` replaces the reference's guidance scales or steps for a model that draws best
    with others, and the size is the image decoder's own (`native_size`; 512, as the reference, when
    the bundle has no decoder)."""
    text = {
        "num_beams": 5, "length_penalty": 0.0, "max_new_tokens": 128, "min_length": 1,
        "repetition_penalty": 1.0, "do_sample": False,
    }
    defaults: Dict[str, Any] = {
        "text": text,
        "video": {**text, "length_penalty": 1.0},
        "caption": {**text, "max_new_tokens": 512},
    }
    if variant == "pretrain":
        size = native_size or 512
        defaults["image"] = {**REFERENCE_DRAWING, **(drawing or {}), "height": size, "width": size}
    return defaults


def describe_values(values: List[onnx.ValueInfoProto]) -> List[Dict[str, Any]]:
    """name, dtype, shape (ints, or the symbolic dimension names) of graph inputs or outputs."""
    described = []
    for value in values:
        tensor_type = value.type.tensor_type
        shape = [dim.dim_param if dim.dim_param else dim.dim_value for dim in tensor_type.shape.dim]
        described.append({"name": value.name, "dtype": DTYPE_NAMES[tensor_type.elem_type], "shape": shape})
    return described


def graph_entry(model: onnx.ModelProto, file: str, external_data: Optional[str],
                layers: Optional[List[int]] = None) -> Dict[str, Any]:
    entry: Dict[str, Any] = {
        "file": file,
        "external_data": [external_data] if external_data else [],
        "inputs": describe_values(list(model.graph.input)),
        "outputs": describe_values(list(model.graph.output)),
    }
    if layers is not None:
        entry["layers"] = layers
    return entry


def build_manifest(config: EmuConfig, dtype: str, graphs: Optional[Dict[str, Any]], source: Dict[str, Any],
                   selfcheck: Optional[str], first_added_id: int,
                   image_decoder: Optional[Dict[str, Any]] = None,
                   drawing: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """The manifest; `graphs` and `selfcheck` are None for a --tokenizer-only bundle, `image_decoder`
    None without --decoder; Emu's added tokens start at `first_added_id` (the tokenizer's base
    vocabulary size); `drawing`: see generation_defaults."""
    llama, vision = config.llama, config.vision
    return {
        "format": FORMAT,
        "version": VERSION,
        "variant": config.variant,
        "dtype": dtype,
        "source": source,
        "model": {
            "hidden_size": llama.hidden_size,
            "num_layers": llama.num_layers,
            "num_heads": llama.num_heads,
            "head_dim": llama.head_dim,
            "intermediate_size": llama.intermediate_size,
            "vocab_size": llama.vocab_size,
            "max_positions": llama.max_positions,
            "rms_norm_eps": llama.rms_norm_eps,
            "image_tokens": config.cformer.n_causal,
            "vision_width": vision.width,
            "vision_layers": vision.layers,
        },
        "tokenizer": "tokenizer.json",
        "tokens": token_ids(config.variant, first_added_id),
        "image_preprocessing": {
            "size": IMAGE_SIZE, "resample": "bicubic", "keep_aspect_ratio": False, "crop": False,
            "color": "RGB", "rescale": 1 / 255, "mean": list(CLIP_MEAN), "std": list(CLIP_STD), "layout": "NCHW",
        },
        "video": {"frames": VIDEO_FRAMES,
                  "indices": "start + round_half_even(segment * i), segment = (frames - 1) / 8, start = floor(segment / 2)"},
        "prompts": prompts.templates(config.variant),
        "generation": generation_defaults(
            config.variant, drawing,
            None if image_decoder is None else image_decoder["sample_size"] * image_decoder["vae_scale_factor"]),
        "image_generation": config.variant == "pretrain",
        "graphs": graphs,
        "decoder_cache": None if graphs is None else {
            "kind": "fixed-capacity", "layout": ["batch_size", "num_heads", "past_capacity", "head_dim"],
            "dtype": dtype, "rotary": "applied (keys are stored after rotary embedding)",
        },
        "selfcheck": selfcheck,
        "image_decoder": image_decoder,
    }


def safety_preprocessing(preprocessor: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """CLIPImageProcessor settings from feature_extractor/preprocessor_config.json (SD's when absent)."""
    data = preprocessor or {}

    def side(value: Any, key: str) -> int:
        return int(value.get(key, value.get("height", 224))) if isinstance(value, dict) else int(value)

    return {
        "source": "feature_extractor/preprocessor_config.json" if preprocessor else "Stable Diffusion's defaults",
        "input": "the uint8 RGB image the engine outputs",
        "resize_shortest_edge": side(data.get("size", 224), "shortest_edge"),
        "resample": "bicubic" if int(data.get("resample", 3)) == 3 else f"PIL resample {data.get('resample')}",
        "center_crop": side(data.get("crop_size", 224), "height"),
        "rescale": 1 / 255,
        "mean": list(data.get("image_mean", CLIP_MEAN)), "std": list(data.get("image_std", CLIP_STD)),
        "layout": "NCHW",
    }


def image_decoder_manifest(config: Any, graphs: Dict[str, Any], scheduler_file: str, selfcheck: str,
                           preprocessor: Optional[Dict[str, Any]], source: Dict[str, Any]) -> Dict[str, Any]:
    """manifest.image_decoder (docs/bundle-format.md, "Image decoder")."""
    unet, vae = config.unet, config.vae
    return {
        "source": source,
        "graphs": graphs,
        "latent_channels": vae.latent_channels,
        "vae_scale_factor": vae.scale_factor,
        "scaling_factor": vae.scaling_factor,
        "scaling_applied_in_graphs": True,
        "sample_size": unet.sample_size,
        "cross_attention_dim": unet.cross_attention_dim,
        "timestep": {"dtype": "int64", "shape": ["batch_size"]},
        "guidance": {"batch_order": ["cond", "uncond"], "combine": "uncond + guidance_scale * (cond - uncond)",
                     "only_when": "guidance_scale > 1"},
        "init_noise": "standard normal [1, latent_channels, height / vae_scale_factor, width / vae_scale_factor]",
        "postprocess": "(image / 2 + 0.5) clamped to [0, 1], * 255, rounded half to even, uint8 HWC",
        "scheduler": scheduler_file,
        "schedulers": ["pndm", "ddim"],
        "default_scheduler": "pndm",
        "safety_checker": {
            "preprocessing": safety_preprocessing(preprocessor),
            "rule": "per image: adjustment = 0; for each special_care_scores[j] in order: if "
                    "round3(score + adjustment) > 0 then adjustment = 0.01; flagged if any "
                    "round3(concept_scores[k] + adjustment) > 0 (round3: round half to even at 3 decimals)",
            "special_care_adjustment": 0.01,
            "flagged_image": "black (all zeros)",
        },
        "selfcheck": selfcheck,
    }
