"""Read a .safetensors file tensor by tensor (the format is an 8-byte header length, a JSON header
of {name: {dtype, shape, data_offsets}}, then the raw little-endian data)."""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Tuple

import torch

from .lazy_load import CheckpointReadError

DTYPES: Dict[str, torch.dtype] = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
    "BOOL": torch.bool,
}
MAX_HEADER = 100 * 2**20


@dataclass(frozen=True)
class SafetensorsTensor:
    path: Path
    dtype: torch.dtype
    shape: Tuple[int, ...]
    start: int  # absolute file offset
    length: int

    def load(self) -> torch.Tensor:
        with open(self.path, "rb") as handle:
            handle.seek(self.start)
            data = bytearray(handle.read(self.length))
        if len(data) != self.length:
            raise CheckpointReadError(f"{self.path}: shorter than its header says; the file is truncated")
        if self.length == 0:
            return torch.empty(self.shape, dtype=self.dtype)
        return torch.frombuffer(data, dtype=self.dtype).reshape(self.shape).clone()


def read_safetensors(path: Path) -> Dict[str, SafetensorsTensor]:
    """The tensors of `path` by name, reading only the header."""
    try:
        with open(path, "rb") as handle:
            prefix = handle.read(8)
            if len(prefix) != 8:
                raise CheckpointReadError(f"{path}: not a safetensors file (too short)")
            (size,) = struct.unpack("<Q", prefix)
            if size > MAX_HEADER:
                raise CheckpointReadError(f"{path}: not a safetensors file (header of {size} bytes)")
            header = json.loads(handle.read(size))
            handle.seek(0, 2)
            file_size = handle.tell()
    except OSError as error:
        raise CheckpointReadError(f"{path}: cannot read ({error})") from error
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CheckpointReadError(f"{path}: not a safetensors file ({error})") from error
    tensors: Dict[str, SafetensorsTensor] = {}
    base = 8 + size
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype = DTYPES[info["dtype"]]
            begin, end = (int(value) for value in info["data_offsets"])
            shape = tuple(int(dim) for dim in info["shape"])
        except (KeyError, TypeError, ValueError) as error:
            raise CheckpointReadError(f"{path}: bad header entry for {name} ({error})") from error
        if base + end > file_size:
            raise CheckpointReadError(f"{path}: {name} lies beyond the end of the file; the file is truncated")
        tensors[name] = SafetensorsTensor(path, dtype, shape, base + begin, end - begin)
    return tensors
