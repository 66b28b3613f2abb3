"""The bundle's ONNX graphs as PyTorch modules, and their export with weights as graph inputs.

Graphs are traced with every weight passed as an *input* (named by its checkpoint key) holding a
4-byte dummy broadcast to the full shape. The traced ModelProto therefore carries no weight data,
whatever the model size; `weights.attach_weights` later turns those inputs into initializers,
streaming the real tensors one at a time. This is how the 13B model is exported without ever
holding two copies of its weights (torch 1.13 has neither mmap loading nor external-data export).
"""

from __future__ import annotations

import io
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Dict, Iterator, List, Sequence, Tuple

import onnx
import torch
from torch import nn

from emu_reference.model import EmuModel

OPSET = 17
INT64_MAX = 2**63 - 1


class KeepLast(torch.autograd.Function):
    """hidden[:, S - count:] with `count` a runtime int64 scalar, 0 <= count <= S (ONNX: Slice with
    starts = S - count; not starts = -count, which for 0 would keep every position)."""

    @staticmethod
    def forward(ctx, hidden: torch.Tensor, count: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return hidden[:, hidden.shape[1] - int(count):]

    @staticmethod
    def symbolic(graph, hidden, count):  # type: ignore[no-untyped-def]
        length = graph.op("Shape", hidden, start_i=1, end_i=2)
        starts = graph.op("Sub", length, graph.op("Reshape", count, graph.op("Constant", value_t=torch.tensor([1]))))
        ends = graph.op("Constant", value_t=torch.tensor([INT64_MAX]))
        axes = graph.op("Constant", value_t=torch.tensor([1]))
        return graph.op("Slice", hidden, starts, ends, axes)


class VisionGraph(nn.Module):
    """pixel_values [B,3,224,224] -> image_embeds [B,32,hidden]."""

    def __init__(self, model: EmuModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.model.encode_images(pixel_values)


class EmbedGraph(nn.Module):
    """input_ids [B,S] int64 -> inputs_embeds [B,S,hidden]."""

    def __init__(self, model: EmuModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.model.embed(input_ids)


class DecoderPartGraph(nn.Module):
    """Layers [start, end) with a fixed-capacity cache; the last part adds the norm and both heads.

    forward(first, attention_mask, position_ids, past_0_key, past_0_value, ...,
            [num_logits_to_keep, num_regressed_to_keep])
    returns ([logits, regressed_embeds] | [hidden_states]) + [present_i_key, present_i_value, ...].
    Each head runs only on the last positions its count asks for, none for 0: a text step needs
    no regressed embedding and an image regression step no logits (the reference's regression
    never applies lm_head).
    """

    def __init__(self, model: EmuModel, start: int, end: int) -> None:
        super().__init__()
        self.model = model
        self.start, self.end = start, end
        self.is_last = end == model.config.llama.num_layers

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor, position_ids: torch.Tensor,
                *rest: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        count = self.end - self.start
        flat_past = rest[: 2 * count]
        past = [(flat_past[2 * i], flat_past[2 * i + 1]) for i in range(count)]
        lm = self.model.lm
        hidden, presents = lm.run_layers(hidden, attention_mask, position_ids, past, self.start)
        flat_present = [tensor for pair in presents for tensor in pair]
        if not self.is_last:
            return (hidden, *flat_present)
        logits = lm.lm_head(lm.model.norm(KeepLast.apply(hidden, rest[2 * count])))
        regressed = lm.stu_regress_head(lm.model.norm(KeepLast.apply(hidden, rest[2 * count + 1])))
        return (logits, regressed, *flat_present)


@dataclass(frozen=True)
class GraphSpec:
    """One ONNX file: its module, example inputs, I/O names, dynamic axes, and the weights it reads."""

    file: str
    module: nn.Module
    inputs: Dict[str, torch.Tensor]
    outputs: List[str]
    dynamic_axes: Dict[str, Dict[int, str]]
    weights: List[str]
    # Output dims that are not dynamic: torch sometimes names them symbolically, the bundle states them.
    static_dims: Dict[str, Dict[int, int]]


def _weight_names(model: EmuModel, prefixes: Sequence[str], excluded: Sequence[str] = ()) -> List[str]:
    return [
        name for name, _ in model.named_parameters()
        if name.startswith(tuple(prefixes)) and not name.startswith(tuple(excluded))
    ]


def vision_spec(model: EmuModel) -> GraphSpec:
    size = model.config.vision.image_size
    return GraphSpec(
        file="vision.onnx",
        module=VisionGraph(model),
        inputs={"pixel_values": torch.zeros(2, 3, size, size)},
        outputs=["image_embeds"],
        dynamic_axes={"pixel_values": {0: "batch_size"}, "image_embeds": {0: "batch_size"}},
        # visual.norm and visual.head are in the checkpoint but Emu never applies them.
        weights=_weight_names(model, ["visual.", "ln_visual.", "cformer."],
                              ["visual.norm.", "visual.head.", "cformer.cformer.embed_tokens."]),
        static_dims={"image_embeds": {1: model.config.cformer.n_causal, 2: model.config.llama.hidden_size}},
    )


def embed_spec(model: EmuModel) -> GraphSpec:
    return GraphSpec(
        file="embed_tokens.onnx",
        module=EmbedGraph(model),
        inputs={"input_ids": torch.ones(2, 3, dtype=torch.long)},
        outputs=["inputs_embeds"],
        dynamic_axes={"input_ids": {0: "batch_size", 1: "sequence_length"},
                      "inputs_embeds": {0: "batch_size", 1: "sequence_length"}},
        weights=["decoder.lm.model.embed_tokens.weight"],
        static_dims={"inputs_embeds": {2: model.config.llama.hidden_size}},
    )


def decoder_spec(model: EmuModel, start: int, end: int, file: str) -> GraphSpec:
    config = model.config.llama
    batch, new, capacity = 2, 3, 4
    first = "inputs_embeds" if start == 0 else "hidden_states"
    cache_shape = (batch, config.num_heads, capacity, config.head_dim)
    inputs: Dict[str, torch.Tensor] = {
        first: torch.zeros(batch, new, config.hidden_size),
        "attention_mask": torch.ones(batch, capacity + new, dtype=torch.long),
        "position_ids": torch.arange(new).repeat(batch, 1),
    }
    axes: Dict[str, Dict[int, str]] = {
        first: {0: "batch_size", 1: "sequence_length"},
        "attention_mask": {0: "batch_size", 1: "past_capacity + sequence_length"},
        "position_ids": {0: "batch_size", 1: "sequence_length"},
    }
    presents = []
    static: Dict[str, Dict[int, int]] = {}
    for layer in range(start, end):
        for kind in ("key", "value"):
            inputs[f"past_key_values.{layer}.{kind}"] = torch.zeros(cache_shape)
            axes[f"past_key_values.{layer}.{kind}"] = {0: "batch_size", 2: "past_capacity"}
            presents.append(f"present.{layer}.{kind}")
            axes[f"present.{layer}.{kind}"] = {0: "batch_size", 2: "sequence_length"}
            static[f"present.{layer}.{kind}"] = {1: config.num_heads, 3: config.head_dim}
    layer_prefixes = [f"decoder.lm.model.layers.{layer}." for layer in range(start, end)]
    if end == config.num_layers:
        inputs["num_logits_to_keep"] = torch.tensor(2, dtype=torch.long)
        inputs["num_regressed_to_keep"] = torch.tensor(1, dtype=torch.long)
        outputs = ["logits", "regressed_embeds"]
        axes["logits"] = {0: "batch_size", 1: "num_logits_to_keep"}
        axes["regressed_embeds"] = {0: "batch_size", 1: "num_regressed_to_keep"}
        static["logits"] = {2: config.vocab_size}
        static["regressed_embeds"] = {2: config.hidden_size}
        layer_prefixes += ["decoder.lm.model.norm.", "decoder.lm.lm_head.", "decoder.lm.stu_regress_head."]
    else:
        outputs = ["hidden_states"]
        axes["hidden_states"] = {0: "batch_size", 1: "sequence_length"}
        static["hidden_states"] = {2: config.hidden_size}
    return GraphSpec(file, DecoderPartGraph(model, start, end), inputs, outputs + presents, axes,
                     _weight_names(model, layer_prefixes), static)


def layer_ranges(num_layers: int, parts: int) -> List[Tuple[int, int]]:
    """Split layers into `parts` contiguous ranges as even as possible (earlier ranges get extras)."""
    if not 1 <= parts <= num_layers:
        raise ValueError(f"--split must be between 1 and the number of layers ({num_layers}), got {parts}")
    base, extra = divmod(num_layers, parts)
    ranges, start = [], 0
    for index in range(parts):
        end = start + base + (1 if index < extra else 0)
        ranges.append((start, end))
        start = end
    return ranges


def bundle_specs(model: EmuModel, parts: int) -> List[GraphSpec]:
    """vision.onnx, embed_tokens.onnx, and decoder.onnx or decoder.part{i}.onnx."""
    ranges = layer_ranges(model.config.llama.num_layers, parts)
    decoders = [
        decoder_spec(model, start, end, "decoder.onnx" if parts == 1 else f"decoder.part{index}.onnx")
        for index, (start, end) in enumerate(ranges)
    ]
    return [vision_spec(model), embed_spec(model), *decoders]


@contextmanager
def _parameters_replaced(model: nn.Module, replacements: Dict[str, torch.Tensor]) -> Iterator[None]:
    """Temporarily make `model`'s named parameters plain tensors (the traced weight inputs).

    torch 1.13's `stateless.functional_call` refuses to run under tracing, so the swap is done
    directly in each owning module's parameter table and undone afterwards.
    """
    saved = []
    try:
        for name, tensor in replacements.items():
            owner_path, _, leaf = name.rpartition(".")
            owner = model.get_submodule(owner_path)
            saved.append((owner, leaf, owner._parameters[leaf]))
            owner._parameters[leaf] = tensor  # type: ignore[assignment]
        yield
    finally:
        for owner, leaf, parameter in reversed(saved):
            owner._parameters[leaf] = parameter


class _WeightsAsInputs(nn.Module):
    """Calls `spec.module` with its named weights replaced by trailing positional inputs."""

    def __init__(self, spec: GraphSpec) -> None:
        super().__init__()
        self.graph = spec.module
        self.count = len(spec.inputs)
        self.names = spec.weights

    def forward(self, *tensors: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        args, weights = tensors[: self.count], tensors[self.count:]
        model: nn.Module = self.graph.model  # type: ignore[assignment]
        with _parameters_replaced(model, dict(zip(self.names, weights))):
            return self.graph(*args)


def _dummy_weights(model: nn.Module, names: List[str]) -> Tuple[torch.Tensor, ...]:
    """Zero stand-ins for the weights: one contiguous buffer per distinct shape, a view per weight.

    Views are distinct tensors to the tracer (so every weight stays its own graph input) while the
    memory is that of a few layers; contiguous buffers keep the traced matmuls on fast BLAS paths.
    """
    shapes = {name: tuple(parameter.shape) for name, parameter in model.named_parameters()}
    buffers: Dict[Tuple[int, ...], torch.Tensor] = {}
    dummies = []
    for name in names:
        shape = shapes[name]
        if shape not in buffers:
            buffers[shape] = torch.zeros(shape)
        dummies.append(buffers[shape].view(shape))
    return tuple(dummies)


def trace_graph(spec: GraphSpec) -> onnx.ModelProto:
    """Export `spec` at opset 17 with weights as inputs; returns the (weightless) ModelProto."""
    model: EmuModel = spec.module.model  # type: ignore[assignment]
    dummies = _dummy_weights(model, spec.weights)
    buffer = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(
            _WeightsAsInputs(spec),
            tuple(spec.inputs.values()) + dummies,
            buffer,
            input_names=list(spec.inputs) + spec.weights,
            output_names=spec.outputs,
            dynamic_axes=spec.dynamic_axes,
            opset_version=OPSET,
            do_constant_folding=True,
        )
    proto = onnx.load_from_string(buffer.getvalue())
    for output in proto.graph.output:
        dims = output.type.tensor_type.shape.dim
        for index, value in spec.static_dims.get(output.name, {}).items():
            dims[index].Clear()
            dims[index].dim_value = value
    proto.producer_name = "emu-bot tools/export.py"
    return proto
