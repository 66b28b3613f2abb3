"""float32 -> float16 graph conversion with float32 islands (no onnxconverter-common here).

CPU torch 1.13 cannot run, hence cannot export, half precision, so graphs are exported in float32
and converted. Every float tensor becomes float16 except inside *kept* nodes, which stay float32
with Casts inserted at their boundaries:
- norms (LLaMA/T5 RMS norms, LayerNorms): a hidden state squared overflows float16 (LLaMA's hidden
  states reach the thousands); the reference itself takes the variance in float32;
- rotary cos/sin: position * frequency needs float32 (float16 has a step of 2 at 2048);
- Softmax, which the reference runs in float32;
- optionally whole scopes (the vision graph keeps `cformer` float32, see `VISION_KEEP`; the UNet
  its timestep embedding, `UNET_KEEP`).
Graph inputs and outputs that are float become float16 (so the KV cache is float16 end to end).
Constants are clamped into +-65504, which turns float32's finite minimum (the attention mask fill)
into float16's. Resize's `roi` and `scales` inputs stay float32, as the operator requires.
"""

from __future__ import annotations

import re
from typing import Callable, Dict, Iterable, List, Set, Tuple

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper, shape_inference

FLOAT, HALF = TensorProto.FLOAT, TensorProto.FLOAT16
FP16_MAX = 65504.0
KEEP_SCOPES = re.compile(r"/(?:[A-Za-z_]*norm[A-Za-z_0-9]*|ln_visual|rotary_emb)/")
KEEP_OPS = {"Softmax", "ReduceL2"}  # ReduceL2: the safety checker's cosine normalisation
# The Causal Former's T5 blocks are known to overflow in float16 (the reference clamps there);
# keeping them float32 costs ~250 MB for the 14B model's vision graph.
VISION_KEEP = re.compile(r"/cformer/")
# The UNet's sinusoidal timestep embedding: t * frequency up to 999 needs float32 (as diffusers does).
UNET_KEEP = re.compile(r"/time_proj/")
EXTRA_KEEP = {"vision.onnx": VISION_KEEP, "unet.onnx": UNET_KEEP}
# Ops whose float inputs may be of any float type (they do not compute on the values).
TYPE_AGNOSTIC = {"Shape", "Size", "Cast"}

NodePredicate = Callable[[onnx.NodeProto], bool]


def default_keep(extra_scope: "re.Pattern[str] | None" = None) -> NodePredicate:
    def keep(node: onnx.NodeProto) -> bool:
        if node.op_type in KEEP_OPS or KEEP_SCOPES.search(node.name):
            return True
        return bool(extra_scope is not None and extra_scope.search(node.name))
    return keep


def _float_tensors(model: onnx.ModelProto) -> Set[str]:
    graph = model.graph
    infos = list(graph.input) + list(graph.output) + list(graph.value_info)
    names = {info.name for info in infos if info.type.tensor_type.elem_type == FLOAT}
    names |= {tensor.name for tensor in graph.initializer if tensor.data_type == FLOAT}
    return names


def _clamped_half(array: np.ndarray) -> np.ndarray:
    return np.clip(array, -FP16_MAX, FP16_MAX).astype(np.float16)


def _convert_attributes(node: onnx.NodeProto) -> None:
    """Attributes that carry float32 values or types, for a node that now computes in float16."""
    if node.op_type == "Cast":
        for attribute in node.attribute:
            if attribute.name == "to" and attribute.i == FLOAT:
                attribute.i = HALF
    if node.op_type in ("Constant", "ConstantOfShape"):
        found = False
        for attribute in node.attribute:
            if attribute.name == "value" and attribute.t.data_type == FLOAT:
                attribute.t.CopyFrom(numpy_helper.from_array(_clamped_half(numpy_helper.to_array(attribute.t)),
                                                             attribute.t.name))
            found = found or attribute.name == "value"
        if node.op_type == "ConstantOfShape" and not found:
            node.attribute.append(helper.make_attribute("value", numpy_helper.from_array(np.zeros(1, np.float16))))


def convert_to_fp16(model: onnx.ModelProto, weight_inputs: Iterable[str], keep: NodePredicate) -> Dict[str, int]:
    """Convert in place; returns the dtype chosen for each weight input (float16 unless only kept
    nodes read it). The model must carry inferred types (`shape_inference.infer_shapes`)."""
    graph = model.graph
    floats = _float_tensors(model)
    weights = set(weight_inputs)
    dtype: Dict[str, int] = {}
    consumers: Dict[str, List[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)

    # Resize's roi and scales must be float32 whatever the data's type (nearest upsampling in the VAE).
    float32_only = {name for node in graph.node if node.op_type == "Resize" for name in node.input[1:3] if name}
    weight_dtype: Dict[str, int] = {}
    for name in weights:
        readers = consumers.get(name, [])
        weight_dtype[name] = FLOAT if readers and all(keep(node) for node in readers) else HALF
        dtype[name] = weight_dtype[name]
    for info in graph.input:
        if info.name in floats and info.name not in weights:
            info.type.tensor_type.elem_type = HALF
            dtype[info.name] = HALF
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    for name, tensor in initializers.items():
        if tensor.data_type == FLOAT:
            readers = consumers.get(name, [])
            if name in float32_only or (readers and all(keep(node) for node in readers)):
                dtype[name] = FLOAT
            else:
                tensor.CopyFrom(numpy_helper.from_array(_clamped_half(numpy_helper.to_array(tensor)), name))
                dtype[name] = HALF

    casts: Dict[Tuple[str, int], str] = {}
    new_nodes: List[onnx.NodeProto] = []

    def cast(name: str, to: int) -> str:
        key = (name, to)
        if key not in casts:
            casts[key] = f"{name}_as_{'fp32' if to == FLOAT else 'fp16'}"
            new_nodes.append(helper.make_node("Cast", [name], [casts[key]], to=to, name=f"{name}/cast_{to}"))
        return casts[key]

    for node in list(graph.node):
        producing_float32_only = node.op_type == "Constant" and set(node.output) <= float32_only
        precision = FLOAT if keep(node) or producing_float32_only else HALF
        if node.op_type not in TYPE_AGNOSTIC:
            for index, name in enumerate(node.input):
                if node.op_type == "Resize" and index in (1, 2):
                    continue
                if name in dtype and dtype[name] != precision:
                    node.input[index] = cast(name, precision)
        if precision == HALF:
            _convert_attributes(node)
        for name in node.output:
            if name in floats:
                dtype[name] = precision
        if node.op_type == "Cast":
            target = next(attribute.i for attribute in node.attribute if attribute.name == "to")
            if target in (FLOAT, HALF):
                dtype[node.output[0]] = target
        new_nodes.append(node)

    for output in graph.output:
        if output.name in floats:
            if dtype.get(output.name) == FLOAT:
                inner = output.name + "_fp32"
                for node in new_nodes:
                    node.output[:] = [inner if name == output.name else name for name in node.output]
                    node.input[:] = [inner if name == output.name else name for name in node.input]
                new_nodes.append(helper.make_node("Cast", [inner], [output.name], to=HALF, name=f"{output.name}/cast"))
            output.type.tensor_type.elem_type = HALF

    del graph.node[:]
    graph.node.extend(new_nodes)
    del graph.value_info[:]
    return weight_dtype


def infer_types(model: onnx.ModelProto) -> onnx.ModelProto:
    """Shape and type inference on a weightless graph (cheap whatever the model size)."""
    return shape_inference.infer_shapes(model, strict_mode=True)
