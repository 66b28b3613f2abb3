"""Turn a traced graph's weight inputs into initializers, streaming the data one tensor at a time.

Each weight is read from a `WeightSource` (LoRA merged, float32), transposed when the graph only
uses it through a Transpose (torch exports Linear on 3-D inputs as MatMul(x, Transpose(W)); the
stored tensor is then W^T and the Transpose node goes, as optimum's exports have it), cast to its
target dtype and either embedded or appended to one external data file, 4096-byte aligned so
onnxruntime can memory-map it (tensors under 4 KiB are only 64-byte aligned). Only one weight is in memory at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

from emu_reference.checkpoint import WeightSource

ALIGNMENT = 4096
# Tensors smaller than a page gain nothing from page alignment; they are packed 64-byte aligned.
SMALL_ALIGNMENT = 64
FP16_MAX = 65504.0
TRANSPOSED_SUFFIX = ".T"


class WeightRangeError(ValueError):
    """A weight does not fit float16; the message names it."""


@dataclass
class WeightPlan:
    """How one initializer is produced from the source."""

    key: str
    transposed: bool = False
    dtype: int = TensorProto.FLOAT


def fold_weight_transposes(model: onnx.ModelProto, weight_names: List[str]) -> Dict[str, WeightPlan]:
    """Plan every weight input; weights used only through Transpose(perm=[1,0]) are stored transposed."""
    graph = model.graph
    consumers: Dict[str, List[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    plans: Dict[str, WeightPlan] = {}
    removed: List[onnx.NodeProto] = []
    renames: Dict[str, str] = {}
    for key in weight_names:
        users = consumers.get(key, [])
        transposes = [
            node for node in users
            if node.op_type == "Transpose" and list(helper.get_attribute_value(node.attribute[0])) == [1, 0]
        ]
        if users and len(transposes) == len(users):
            name = key + TRANSPOSED_SUFFIX
            plans[name] = WeightPlan(key, transposed=True)
            for node in transposes:
                renames[node.output[0]] = name
                removed.append(node)
        else:
            plans[key] = WeightPlan(key)
    for node in removed:
        graph.node.remove(node)
    for node in graph.node:
        for index, name in enumerate(node.input):
            if name in renames:
                node.input[index] = renames[name]
    for name in list(renames):
        for info in [info for info in graph.value_info if info.name == name]:
            graph.value_info.remove(info)
    return plans


def _as_array(tensor: torch.Tensor, plan: WeightPlan) -> np.ndarray:
    if plan.transposed:
        tensor = tensor.t()
    array = tensor.contiguous().numpy()
    if plan.dtype == TensorProto.FLOAT16:
        peak = float(np.abs(array).max()) if array.size else 0.0
        if not np.isfinite(peak) or peak > FP16_MAX:
            raise WeightRangeError(f"{plan.key}: values up to {peak:g} do not fit float16 (max {FP16_MAX:g})")
        return array.astype(np.float16)
    return array.astype(np.float32)


def attach_weights(
    model: onnx.ModelProto,
    plans: Dict[str, WeightPlan],
    source: WeightSource,
    data_path: Optional[Path],
    progress: Callable[[str], None],
) -> int:
    """Replace weight inputs by initializers; external data goes to `data_path` when given.

    Returns the number of weight bytes written.
    """
    graph = model.graph
    for info in [info for info in graph.input if info.name in plans or info.name in {p.key for p in plans.values()}]:
        graph.input.remove(info)
    total = 0
    handle = open(data_path, "wb") if data_path is not None else None
    try:
        for index, (name, plan) in enumerate(plans.items()):
            array = _as_array(source.load(plan.key), plan)
            tensor = TensorProto(name=name, data_type=plan.dtype, dims=array.shape)
            if handle is None:
                tensor.raw_data = array.tobytes()
            else:
                offset = handle.tell()
                padding = -offset % (ALIGNMENT if array.nbytes >= ALIGNMENT else SMALL_ALIGNMENT)
                handle.write(b"\0" * padding)
                offset += padding
                handle.write(array.tobytes())
                tensor.data_location = TensorProto.EXTERNAL
                for field, value in (("location", data_path.name), ("offset", str(offset)),
                                     ("length", str(array.nbytes))):
                    entry = tensor.external_data.add()
                    entry.key, entry.value = field, value
            graph.initializer.append(tensor)
            total += array.nbytes
            if index % 50 == 0 or index == len(plans) - 1:
                progress(f"  weights {index + 1}/{len(plans)} ({total / 2**30:.2f} GiB written)")
    finally:
        if handle is not None:
            handle.close()
    return total


def weight_bytes(plans: Dict[str, WeightPlan], source: WeightSource) -> int:
    """Size the weights will take, before anything is read."""
    total = 0
    for plan in plans.values():
        size = 2 if plan.dtype == TensorProto.FLOAT16 else 4
        total += size * int(np.prod(source.shape(plan.key)))
    return total


def numpy_initializer(model: onnx.ModelProto, name: str) -> np.ndarray:
    """An embedded initializer as numpy (tests and checks)."""
    for tensor in model.graph.initializer:
        if tensor.name == name:
            return numpy_helper.to_array(tensor)
    raise KeyError(name)
