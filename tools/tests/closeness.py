"""Comparing regenerated fixtures with the committed ones across machines.

Graphs, inputs and configuration are byte for byte reproducible; what the PyTorch reference
computes is not, because its CPU kernels pick different vector paths on different processors
(about 1e-7 relative per operation). Reference outputs are therefore compared as numbers."""

import base64
import fnmatch
import json
import math
from pathlib import Path
from typing import Any, List

import numpy as np

RELATIVE = 1e-4
# Drawing goldens pass through 50 denoising steps and the safety checker, so float noise reaches
# about 2e-5 in absolute terms there; the engine's own tolerance against them is 1e-4.
ABSOLUTE = 1e-4

# Files under a bundle that hold what the reference computed, not what the exporter wrote.
REFERENCE_OUTPUTS = ["selfcheck/*.out.*.bin"]
REFERENCE_JSON = ["selfcheck/*.json"]


def _matches(name: str, patterns: List[str]) -> bool:
    return any(fnmatch.fnmatch(name, pattern) for pattern in patterns)


def assert_close_tree(fresh: Any, committed: Any, where: str = "$") -> None:
    """Equal structure, strings and integers; floats within RELATIVE/ABSOLUTE; base64 tensors decoded
    (float32 within tolerance, uint8 pixels within one level)."""
    if isinstance(committed, dict):
        assert isinstance(fresh, dict) and fresh.keys() == committed.keys(), where
        for key in committed:
            assert_close_tree(fresh[key], committed[key], f"{where}.{key}")
    elif isinstance(committed, list):
        assert isinstance(fresh, list) and len(fresh) == len(committed), where
        for index, (a, b) in enumerate(zip(fresh, committed)):
            assert_close_tree(a, b, f"{where}[{index}]")
    elif isinstance(committed, float) and not isinstance(committed, bool):
        assert isinstance(fresh, (int, float)), where
        assert math.isclose(fresh, committed, rel_tol=RELATIVE, abs_tol=ABSOLUTE), f"{where}: {fresh} != {committed}"
    elif isinstance(committed, str) and where.endswith("_base64"):
        a, b = base64.b64decode(fresh), base64.b64decode(committed)
        assert len(a) == len(b), where
        if "float32" in where:
            np.testing.assert_allclose(np.frombuffer(a, "<f4"), np.frombuffer(b, "<f4"), RELATIVE, ABSOLUTE, err_msg=where)
        else:
            difference = np.abs(np.frombuffer(a, np.uint8).astype(int) - np.frombuffer(b, np.uint8).astype(int))
            assert difference.max(initial=0) <= 1, where
    else:
        assert fresh == committed, f"{where}: {fresh!r} != {committed!r}"


def assert_same_bundle(fresh: Path, committed: Path) -> None:
    """Every file present in both; exporter output byte for byte, reference outputs as numbers."""
    def names(directory: Path) -> List[str]:
        return sorted(str(path.relative_to(directory)) for path in directory.rglob("*") if path.is_file())

    assert names(fresh) == names(committed)
    dtypes = {f"selfcheck/{tensor['file']}": tensor["dtype"]
              for index in (committed / "selfcheck").glob("*.json")
              for case in json.loads(index.read_text())["cases"] for tensor in case["inputs"] + case["outputs"]}
    for name in names(committed):
        a, b = (fresh / name).read_bytes(), (committed / name).read_bytes()
        if _matches(name, REFERENCE_OUTPUTS):
            assert len(a) == len(b), name
            dtype = np.dtype(dtypes[name]).newbyteorder("<")
            # float16 outputs round once more at the end: one unit in the last place is 1e-3.
            relative, absolute = (2e-3, 2e-3) if dtype == np.float16 else (RELATIVE, ABSOLUTE)
            np.testing.assert_allclose(np.frombuffer(a, dtype).astype(np.float64), np.frombuffer(b, dtype).astype(np.float64),
                                       relative, absolute, err_msg=name)
        elif _matches(name, REFERENCE_JSON):
            assert_close_tree(json.loads(a), json.loads(b), name)
        else:
            assert a == b, name
