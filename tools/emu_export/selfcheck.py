"""The bundle's self-check: seeded inputs and PyTorch's outputs for every graph.

`emu-bot doctor --bundle DIR` feeds each case's inputs to its graph in onnxruntime-node and
reports the max abs error per output (Python has no onnxruntime here). The reference outputs are
computed piece by piece from the weight source (one vision tower, then one decoder layer at a
time), so checking a 14B bundle needs no more memory than exporting it.

Decoder cases: a left-padded prefill with an empty cache (capacity 0), then a two-token step
reading a capacity-8 cache that holds the prefill's keys/values in slots 0-4 and three empty,
masked slots; both keep one position's outputs (num_logits_to_keep = num_regressed_to_keep = 1),
and the prefill omits its [2, 1, vocab] logits (the step checks lm_head). Image decoder cases:
`image_selfcheck`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import torch

from emu_reference.checkpoint import WeightSource, materialize
from emu_reference.config import EmuConfig
from emu_reference.model import EmuModel

SEED = 1234
PREFILL, CAPACITY, STEP = 5, 8, 2
TOLERANCE = {"float32": 1e-3, "float16": 5e-2}


@dataclass
class Case:
    name: str
    graph: str
    inputs: Dict[str, torch.Tensor]
    outputs: Dict[str, torch.Tensor] = field(default_factory=dict)


class IoCast:
    """Rounds float inputs to the bundle's I/O dtype, so the reference sees what ORT will see."""

    def __init__(self, dtype: str) -> None:
        self.dtype = dtype
        self.half = dtype == "float16"

    def __call__(self, tensor: torch.Tensor) -> torch.Tensor:
        return tensor.half().float() if self.half and tensor.is_floating_point() else tensor


def _meta_model(config: EmuConfig) -> EmuModel:
    return EmuModel(config, device=torch.device("meta"))


def vision_pixels(size: int, io: IoCast) -> torch.Tensor:
    """The vision case's seeded pixels (the safety checker's case reuses them and their file)."""
    generator = torch.Generator().manual_seed(SEED)
    return io(torch.randn(1, 3, size, size, generator=generator).clamp(-2.5, 2.5))


def vision_case(config: EmuConfig, source: WeightSource, io: IoCast) -> Case:
    pixels = vision_pixels(config.vision.image_size, io)
    model = _meta_model(config)
    for name in ("visual", "ln_visual", "cformer"):
        materialize(getattr(model, name), name + ".", source)
    with torch.no_grad():
        embeds = model.encode_images(pixels)
    return Case("vision", "vision.onnx", {"pixel_values": pixels}, {"image_embeds": embeds})


def _token_batches(config: EmuConfig, pad_id: int) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Prefill ids (row 0 left-padded by 2 with `pad_id`, the tokenizer's [PAD]), its mask, and the
    step's new ids."""
    generator = torch.Generator().manual_seed(SEED + 1)
    vocab = config.llama.vocab_size
    prefill = torch.randint(3, vocab, (2, PREFILL), generator=generator)
    prefill[:, 0] = 1
    prefill[0, :3] = torch.tensor([pad_id, pad_id, 1])
    mask = torch.ones(2, PREFILL, dtype=torch.long)
    mask[0, :2] = 0
    step = torch.randint(3, vocab, (2, STEP), generator=generator)
    return prefill, mask, step


def embed_case(config: EmuConfig, source: WeightSource, pad_id: int) -> Tuple[Case, torch.Tensor]:
    prefill, _, step = _token_batches(config, pad_id)
    table = source.load("decoder.lm.model.embed_tokens.weight")
    ids = torch.cat((prefill, step), dim=1)
    return Case("embed_tokens", "embed_tokens.onnx", {"input_ids": ids}, {"inputs_embeds": table[ids]}), table


def decoder_cases(config: EmuConfig, source: WeightSource, io: IoCast, table: torch.Tensor,
                  ranges: List[Tuple[int, int]], files: List[str], pad_id: int) -> List[Case]:
    """Two cases per decoder part, computed layer by layer from the source."""
    prefill_ids, prefill_mask, step_ids = _token_batches(config, pad_id)
    positions = (prefill_mask.cumsum(-1) - 1).masked_fill(prefill_mask == 0, 1)
    step_positions = positions[:, -1:] + torch.arange(1, STEP + 1)
    step_mask = torch.zeros(2, CAPACITY + STEP, dtype=torch.long)
    step_mask[:, :PREFILL] = prefill_mask
    step_mask[:, CAPACITY:] = 1
    hidden = {"prefill": io(table[prefill_ids]), "step": io(table[step_ids])}
    llama = config.llama
    empty = torch.zeros(2, llama.num_heads, 0, llama.head_dim)
    model = _meta_model(config)
    cases: List[Case] = []
    for (start, end), file in zip(ranges, files):
        first = "inputs_embeds" if start == 0 else "hidden_states"
        prefill = Case(f"{file[:-5]}-prefill", file, {first: hidden["prefill"], "attention_mask": prefill_mask,
                                                       "position_ids": positions})
        step = Case(f"{file[:-5]}-step", file, {first: hidden["step"], "attention_mask": step_mask,
                                                 "position_ids": step_positions})
        for layer in range(start, end):
            module = materialize(model.lm.model.layers[layer], f"decoder.lm.model.layers.{layer}.", source)
            with torch.no_grad():
                model.lm.model.layers[layer] = module
                out, [(key, value)] = model.lm.run_layers(hidden["prefill"], prefill_mask, positions,
                                                          [(empty, empty)], layer)
                cache_key = torch.zeros(2, llama.num_heads, CAPACITY, llama.head_dim)
                cache_value = torch.zeros_like(cache_key)
                cache_key[:, :, :PREFILL], cache_value[:, :, :PREFILL] = io(key), io(value)
                step_out, [(step_key, step_value)] = model.lm.run_layers(
                    hidden["step"], step_mask, step_positions, [(cache_key, cache_value)], layer)
            module.to(torch.device("meta"))
            for case, past, new in ((prefill, (empty, empty), (key, value)),
                                    (step, (cache_key, cache_value), (step_key, step_value))):
                case.inputs[f"past_key_values.{layer}.key"], case.inputs[f"past_key_values.{layer}.value"] = past
                case.outputs[f"present.{layer}.key"], case.outputs[f"present.{layer}.value"] = new
            hidden = {"prefill": out, "step": step_out}
        if end == llama.num_layers:
            head_names = ("model.norm", "lm_head", "stu_regress_head")
            for name in head_names:
                module = model.lm.get_submodule(name)
                materialize(module, f"decoder.lm.{name}.", source)
            for case, keep in ((prefill, 1), (step, 1)):
                case.inputs["num_logits_to_keep"] = torch.tensor(keep)
                case.inputs["num_regressed_to_keep"] = torch.tensor(keep)
                with torch.no_grad():
                    stream = hidden["prefill" if case is prefill else "step"]
                    logits, regressed = model.lm.heads(stream[:, -keep:])
                # The prefill's logits are left out to keep bundles small: its last hidden state is checked
                # through regressed_embeds, and lm_head through the step's logits.
                heads = {"regressed_embeds": regressed} if case is prefill else {"logits": logits,
                                                                                 "regressed_embeds": regressed}
                case.outputs = {**heads, **case.outputs}
        else:
            hidden = {name: io(value) for name, value in hidden.items()}
            prefill.outputs = {"hidden_states": hidden["prefill"], **prefill.outputs}
            step.outputs = {"hidden_states": hidden["step"], **step.outputs}
        cases += [prefill, step]
    return cases


def _write_tensor(directory: Path, stem: str, tensor: torch.Tensor, dtype: str,
                  written: Dict[str, str]) -> Dict[str, Any]:
    """Write one tensor, or point at an identical file already written (`written`: digest -> file)."""
    numpy_dtype = {"float32": "<f4", "float16": "<f2", "int64": "<i8"}[dtype]
    array = tensor.detach().numpy().astype(numpy_dtype)
    data = array.tobytes()
    digest = hashlib.sha256(data).hexdigest() if len(data) >= 4096 else ""
    file = written.get(digest) if digest else None
    if file is None:
        file = f"{stem}.bin"
        (directory / file).write_bytes(data)
        if digest:
            written[digest] = file
    return {"file": file, "dtype": dtype, "shape": list(array.shape)}


def write_selfcheck(directory: Path, cases: List[Case], io_dtype: str, index_name: str = "index.json",
                    written: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """selfcheck/<index_name> plus one raw little-endian .bin per tensor (identical large tensors,
    also those of an earlier index passed as `written`, share one file). Returns `written`."""
    directory.mkdir(parents=True, exist_ok=True)
    written = {} if written is None else written
    index: Dict[str, Any] = {"format": "emu-bot-selfcheck", "version": 1, "io_dtype": io_dtype, "cases": []}
    for case in cases:
        entry: Dict[str, Any] = {"name": case.name, "graph": case.graph, "inputs": [], "outputs": []}
        for name, tensor in case.inputs.items():
            dtype = "int64" if not tensor.is_floating_point() else io_dtype
            entry["inputs"].append({"name": name, **_write_tensor(directory, f"{case.name}.in.{name}", tensor, dtype, written)})
        for name, tensor in case.outputs.items():
            described = _write_tensor(directory, f"{case.name}.out.{name}", tensor, "float32", written)
            peak = float(tensor.abs().max()) if tensor.numel() else 0.0
            described["tolerance"] = TOLERANCE[io_dtype] * max(1.0, peak)
            entry["outputs"].append({"name": name, **described})
        index["cases"].append(entry)
    (directory / index_name).write_text(json.dumps(index, indent=1) + "\n", encoding="utf8")
    return written
