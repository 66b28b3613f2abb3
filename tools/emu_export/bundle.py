"""Write a bundle directory: graphs, tokenizer.json, self-check, manifest.

Everything is written into a temporary directory beside the target and renamed into place only
when complete, so a failed or interrupted export never leaves a bundle that looks whole.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import onnx
import torch
from onnx import TensorProto

from emu_reference.checkpoint import WeightSource
from emu_reference.config import EmuConfig
from emu_reference.diffusion_config import ImageDecoderConfig
from emu_reference.image_decoder import ImageDecoderModel
from emu_reference.model import EmuModel
from emu_reference.tokenizer import added_token_ids, base_vocabulary_size, build_tokenizer_json

from .fp16 import EXTRA_KEEP, convert_to_fp16, default_keep, infer_types
from .graphs import GraphSpec, bundle_specs, layer_ranges, trace_graph
from .image_graphs import image_specs
from .image_selfcheck import image_decoder_cases
from .manifest import REFERENCE_DRAWING, build_manifest, graph_entry, image_decoder_manifest
from .selfcheck import IoCast, decoder_cases, embed_case, vision_case, write_selfcheck
from .weights import attach_weights, fold_weight_transposes, weight_bytes

# Protocol buffers cannot exceed 2 GiB; stay well below with the graph structure included.
EXTERNAL_DATA_THRESHOLD = 1 << 30
DTYPES = {"fp32": "float32", "fp16": "float16"}

Progress = Callable[[str], None]


class BundleError(ValueError):
    """The output location or options are unusable; the message says which."""


@dataclass(frozen=True)
class DecoderExport:
    """The image decoder to add: configuration, weights (`unet.*`, `vae.*`, `safety_checker.*`), the
    scheduler_config.json object as read, and feature_extractor/preprocessor_config.json if any.
    `drawing` sets the model's own defaults in manifest.generation.image (`guidance_scale`,
    `in_context_guidance_scale`, `num_inference_steps`) where they differ from the reference's."""

    config: ImageDecoderConfig
    source: WeightSource
    scheduler_json: Dict[str, Any]
    preprocessor_json: Optional[Dict[str, Any]]
    info: Dict[str, Any]
    drawing: Optional[Dict[str, Any]] = None


@dataclass(frozen=True)
class ExportOptions:
    dtype: str = "fp32"
    split: int = 1
    external_data: str = "auto"  # "auto": only graphs over EXTERNAL_DATA_THRESHOLD; "always"
    overwrite: bool = False


def _gib(size: float) -> str:
    return f"{size / 2**30:.2f} GiB"


def _parameter_bytes(module: torch.nn.Module) -> int:
    return sum(4 * parameter.numel() for parameter in module.parameters())


def _export_graph(spec: GraphSpec, source: WeightSource, directory: Path, options: ExportOptions,
                  progress: Progress) -> onnx.ModelProto:
    dummy = sum(4 * int(torch.Size(shape).numel()) for shape in {tuple(source.shape(w)) for w in spec.weights})
    progress(f"{spec.file}: tracing ({len(spec.weights)} weights as inputs; needs about {_gib(dummy)} of stand-ins)")
    proto = infer_types(trace_graph(spec))
    keep = default_keep(EXTRA_KEEP.get(spec.file))
    dtypes = convert_to_fp16(proto, spec.weights, keep) if options.dtype == "fp16" else {}
    plans = fold_weight_transposes(proto, spec.weights)
    for plan in plans.values():
        plan.dtype = dtypes.get(plan.key, TensorProto.FLOAT)
    size = weight_bytes(plans, source)
    external = options.external_data == "always" or size > EXTERNAL_DATA_THRESHOLD
    data_path = directory / (spec.file + "_data") if external else None
    largest = max((weight_bytes({name: plan}, source) for name, plan in plans.items()), default=0)
    progress(f"{spec.file}: writing {_gib(size)} of weights {'to ' + data_path.name if data_path else 'inline'} "
             f"(one tensor at a time; largest {_gib(largest)})")
    attach_weights(proto, plans, source, data_path, progress)
    proto = onnx.shape_inference.infer_shapes(proto) if data_path is None else proto
    onnx.save_model(proto, str(directory / spec.file))
    onnx.checker.check_model(str(directory / spec.file))
    return proto


def _write_json(path: Path, data: Dict[str, Any], compact: bool = False) -> None:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")) if compact else json.dumps(data, indent=2)
    path.write_text(text + "\n", encoding="utf8")


class _Staging:
    """A temp dir beside `target`, renamed onto it at the end (or removed on failure)."""

    def __init__(self, target: Path, overwrite: bool) -> None:
        if target.exists() and any(target.iterdir()) and not overwrite:
            raise BundleError(f"{target} exists and is not empty; pass --overwrite to replace it")
        target.parent.mkdir(parents=True, exist_ok=True)
        self.target = target
        self.path = target.parent / f".{target.name}.partial-{os.getpid()}"

    def __enter__(self) -> Path:
        shutil.rmtree(self.path, ignore_errors=True)
        self.path.mkdir()
        return self.path

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        if kind is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            return
        old = self.target.parent / f".{self.target.name}.old-{os.getpid()}"
        if self.target.exists():
            self.target.rename(old)
        self.path.rename(self.target)
        shutil.rmtree(old, ignore_errors=True)


def _check_decoder(config: EmuConfig, decoder: DecoderExport) -> None:
    if config.variant != "pretrain":
        raise BundleError("--decoder: only the pretrained model draws (the reference refuses Emu-I); "
                          "use --variant pretrain")
    width = decoder.config.unet.cross_attention_dim
    if width != config.llama.hidden_size:
        raise BundleError(f"--decoder: the UNet's cross_attention_dim is {width} but the LLM's regressed embeddings "
                          f"are {config.llama.hidden_size} wide (unet/config.json does not belong to this model)")
    for key, value in (decoder.drawing or {}).items():
        if key not in REFERENCE_DRAWING:
            raise BundleError(f"drawing default {key!r} is unknown: expected one of {sorted(REFERENCE_DRAWING)}")
        if not isinstance(value, (int, float)) or value <= 0 or (key == "num_inference_steps" and value != int(value)):
            raise BundleError(f"drawing default {key} must be a positive number (whole for steps), got {value!r}")


def _export_image_decoder(config: EmuConfig, decoder: DecoderExport, staging: Path, options: ExportOptions,
                          io: IoCast, written: Dict[str, str], progress: Progress) -> Dict[str, Any]:
    """unet.onnx, vae_decoder.onnx, vae_encoder.onnx, safety_checker.onnx, scheduler.json, their
    self-check; returns manifest.image_decoder."""
    model = ImageDecoderModel(decoder.config, device=torch.device("meta"))
    specs = image_specs(model, config.cformer.n_causal)
    graphs: Dict[str, Any] = {}
    for index, (name, spec) in enumerate(specs.items()):
        progress(f"[image {index + 1}/{len(specs)}] {spec.file}")
        proto = _export_graph(spec, decoder.source, staging, options, progress)
        external = spec.file + "_data" if (staging / (spec.file + "_data")).exists() else None
        graphs[name] = graph_entry(proto, spec.file, external)
    _write_json(staging / "scheduler.json", decoder.scheduler_json)
    progress(f"self-check: image decoder reference outputs (needs about {_gib(_parameter_bytes(model.unet))} "
             "for the UNet, then the VAE, then the safety checker)")
    cases = image_decoder_cases(model, decoder.source, io, config.cformer.n_causal, config.vision.image_size)
    write_selfcheck(staging / "selfcheck", cases, io.dtype, "image_decoder.json", written)
    return image_decoder_manifest(decoder.config, graphs, "scheduler.json", "selfcheck/image_decoder.json",
                                  decoder.preprocessor_json, decoder.info)


def export_bundle(config: EmuConfig, source: WeightSource, out: Path, llama_config_dir: Path,
                  options: ExportOptions, source_info: Dict[str, Any], progress: Progress,
                  decoder: Optional[DecoderExport] = None) -> Path:
    """Export every graph, the tokenizer, the self-check and the manifest into `out` (with the
    image decoder when `decoder` is given)."""
    if options.dtype not in DTYPES:
        raise BundleError(f"--dtype must be fp32 or fp16, got {options.dtype!r}")
    if decoder is not None:
        _check_decoder(config, decoder)
    ranges = layer_ranges(config.llama.num_layers, options.split)
    io_dtype = DTYPES[options.dtype]
    with _Staging(out, options.overwrite) as staging:
        tokenizer = build_tokenizer_json(llama_config_dir, config.variant)
        first_added_id = base_vocabulary_size(tokenizer)
        _write_json(staging / "tokenizer.json", tokenizer, compact=True)
        model = EmuModel(config, device=torch.device("meta"))
        specs = bundle_specs(model, options.split)
        entries: Dict[str, Any] = {"decoder": []}
        for index, spec in enumerate(specs):
            progress(f"[{index + 1}/{len(specs)}] {spec.file}")
            proto = _export_graph(spec, source, staging, options, progress)
            external = spec.file + "_data" if (staging / (spec.file + "_data")).exists() else None
            if spec.file.startswith("decoder"):
                start, end = ranges[len(entries["decoder"])]
                entries["decoder"].append(graph_entry(proto, spec.file, external, [start, end]))
            else:
                entries[spec.file[:-5]] = graph_entry(proto, spec.file, external)
        progress(f"self-check: reference outputs (needs about {_gib(_parameter_bytes(model.visual))} for the "
                 f"vision tower, then {_gib(_parameter_bytes(model.lm.model.layers[0]))} per decoder layer)")
        io = IoCast(io_dtype)
        pad_id = added_token_ids(config.variant, first_added_id)["[PAD]"]
        embed, table = embed_case(config, source, pad_id)
        cases = [vision_case(config, source, io), embed]
        files: List[str] = [entry["file"] for entry in entries["decoder"]]
        cases += decoder_cases(config, source, io, table, ranges, files, pad_id)
        written = write_selfcheck(staging / "selfcheck", cases, io_dtype)
        image_decoder = None
        if decoder is not None:
            image_decoder = _export_image_decoder(config, decoder, staging, options, io, written, progress)
        manifest = build_manifest(config, io_dtype, entries, source_info, "selfcheck/index.json", first_added_id,
                                  image_decoder, None if decoder is None else decoder.drawing)
        _write_json(staging / "manifest.json", manifest)
    progress(f"bundle written to {out}")
    return out


def export_tokenizer_only(config: EmuConfig, out: Path, llama_config_dir: Path, overwrite: bool,
                          source_info: Dict[str, Any], progress: Optional[Progress] = None) -> Path:
    """Just tokenizer.json and a manifest without graphs (graphs and selfcheck are null)."""
    with _Staging(out, overwrite) as staging:
        tokenizer = build_tokenizer_json(llama_config_dir, config.variant)
        _write_json(staging / "tokenizer.json", tokenizer, compact=True)
        _write_json(staging / "manifest.json",
                    build_manifest(config, "float32", None, source_info, None, base_vocabulary_size(tokenizer)))
    if progress is not None:
        progress(f"tokenizer bundle written to {out}")
    return out
