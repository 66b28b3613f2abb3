"""Writes the bench bundle's decoder reduced to its weight MatMuls (bench/decoder-floor.mjs).

The graph has the mid-size synthetic bundle's 12 LLaMA layers (hidden 1024, intermediate 2816):
per layer the q, k, v, o, gate, up and down projections, with only the Mul and Sum that keep
every MatMul alive, and no attention, norm or rotary op. Run on one position it reads what a
decoder step reads and does nothing else, so its time is what onnxruntime's MatMuls alone take.

    /usr/bin/python3 bench/decoder_floor.py OUT.onnx
"""

import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HIDDEN, INTERMEDIATE, LAYERS = 1024, 2816, 12


def build() -> onnx.ModelProto:
    rng = np.random.default_rng(0)
    nodes, weights = [], []

    def weight(name: str, rows: int, columns: int) -> str:
        values = (rng.standard_normal((rows, columns)) * 0.01).astype(np.float32)
        weights.append(numpy_helper.from_array(values, name))
        return name

    hidden = "hidden"
    for layer in range(LAYERS):
        columns = {"q": HIDDEN, "k": HIDDEN, "v": HIDDEN, "o": HIDDEN, "gate": INTERMEDIATE, "up": INTERMEDIATE}
        for name, width in columns.items():
            projection = weight(f"{layer}.{name}.w", HIDDEN, width)
            nodes.append(helper.make_node("MatMul", [hidden, projection], [f"{layer}.{name}"]))
        nodes.append(helper.make_node("Mul", [f"{layer}.gate", f"{layer}.up"], [f"{layer}.gated"]))
        down = weight(f"{layer}.down.w", INTERMEDIATE, HIDDEN)
        nodes.append(helper.make_node("MatMul", [f"{layer}.gated", down], [f"{layer}.down"]))
        summed = [f"{layer}.{name}" for name in ("q", "k", "v", "o", "down")]
        nodes.append(helper.make_node("Sum", summed, [f"{layer}.out"]))
        hidden = f"{layer}.out"
    graph = helper.make_graph(
        nodes,
        "decoder-floor",
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, [1, "positions", HIDDEN])],
        [helper.make_tensor_value_info(hidden, TensorProto.FLOAT, [1, "positions", HIDDEN])],
        initializer=weights,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


if __name__ == "__main__":
    target = sys.argv[1]
    onnx.save(build(), target, save_as_external_data=True, location=target.rsplit("/", 1)[-1] + ".data")
