"""Read a torch.save zip checkpoint tensor by tensor, without loading it whole.

torch 1.13's `torch.load` has no mmap: it would read all 27 GB of Emu-instruct.pt at once. A
torch zip archive holds one pickle (`*/data.pkl`) describing tensors and one uncompressed record
per storage (`*/data/<key>`). Unpickling with our own `persistent_load` gives `LazyTensor`s that
read their bytes only when asked. Only the classes a state dict needs are resolved; anything
else in the pickle (training arguments, optimizer enums) becomes an inert placeholder, so loading
never runs code named by the file.
"""

from __future__ import annotations

import pickle
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Tuple

import torch

STORAGE_DTYPES: Dict[str, torch.dtype] = {
    "FloatStorage": torch.float32,
    "HalfStorage": torch.float16,
    "BFloat16Storage": torch.bfloat16,
    "DoubleStorage": torch.float64,
    "LongStorage": torch.int64,
    "IntStorage": torch.int32,
    "ShortStorage": torch.int16,
    "CharStorage": torch.int8,
    "ByteStorage": torch.uint8,
    "BoolStorage": torch.bool,
}


class CheckpointReadError(ValueError):
    """The file is not a readable torch checkpoint (truncated, corrupt, wrong format)."""


@dataclass(frozen=True)
class StorageRef:
    record: str
    dtype: torch.dtype


@dataclass(frozen=True)
class LazyTensor:
    """A tensor in a checkpoint archive; `load()` reads just its bytes."""

    archive: "LazyArchive"
    storage: StorageRef
    offset: int
    shape: Tuple[int, ...]
    stride: Tuple[int, ...]

    @property
    def dtype(self) -> torch.dtype:
        return self.storage.dtype

    def load(self) -> torch.Tensor:
        itemsize = torch.tensor([], dtype=self.dtype).element_size()
        # The furthest element the view touches decides how many bytes to read.
        span = 1 + sum((size - 1) * step for size, step in zip(self.shape, self.stride)) if all(self.shape) else 0
        data = self.archive.read(self.storage.record, self.offset * itemsize, span * itemsize)
        if span == 0:
            return torch.empty(self.shape, dtype=self.dtype)
        flat = torch.frombuffer(data, dtype=self.dtype)
        return flat.as_strided(self.shape, self.stride).clone()


class _Placeholder:
    """Stands in for any non-tensor object in the pickle; keeps nothing, runs nothing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        pass

    def __call__(self, *args: Any, **kwargs: Any) -> "_Placeholder":
        return _Placeholder()


class LazyArchive:
    """An open torch zip checkpoint."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._zip = zipfile.ZipFile(path)
            names = self._zip.namelist()
        except (OSError, zipfile.BadZipFile) as error:
            raise CheckpointReadError(f"{path}: not a readable torch zip checkpoint ({error})") from error
        pickles = [name for name in names if name.endswith("/data.pkl") or name == "data.pkl"]
        if len(pickles) != 1:
            raise CheckpointReadError(f"{path}: expected one data.pkl in the archive, found {len(pickles)}")
        self._prefix = pickles[0][: -len("data.pkl")]
        self._names = set(names)

    def read(self, record: str, start: int, length: int) -> bytearray:
        name = f"{self._prefix}data/{record}"
        if name not in self._names:
            raise CheckpointReadError(f"{self.path}: storage record {name} is missing (truncated file?)")
        try:
            with self._zip.open(name) as handle:
                handle.seek(start)
                data = bytearray(handle.read(length))
        except (OSError, EOFError, zipfile.BadZipFile) as error:
            raise CheckpointReadError(f"{self.path}: cannot read {name} ({error}); the file may be truncated") from error
        if len(data) != length:
            raise CheckpointReadError(f"{self.path}: {name} is shorter than its tensors need; the file is truncated")
        return data

    def root(self) -> Any:
        """Unpickle the object tree, with LazyTensor in place of every tensor."""
        archive = self

        class Unpickler(pickle.Unpickler):
            def find_class(self, module: str, name: str) -> Any:
                if module == "collections" and name == "OrderedDict":
                    return OrderedDict
                if module == "torch._utils" and name == "_rebuild_tensor_v2":
                    return archive._rebuild_tensor
                if module == "torch._utils" and name == "_rebuild_parameter":
                    return lambda data, requires_grad, hooks: data
                if module == "torch" and name in STORAGE_DTYPES:
                    return STORAGE_DTYPES[name]
                if module == "torch" and isinstance(getattr(torch, name, None), torch.dtype):
                    return getattr(torch, name)
                return _Placeholder

            def persistent_load(self, saved: Any) -> StorageRef:
                # ('storage', storage_type, key, location, numel)
                kind, storage_type, key = saved[0], saved[1], saved[2]
                if kind != "storage" or not isinstance(storage_type, torch.dtype):
                    raise CheckpointReadError(f"{archive.path}: unsupported storage record {saved[:3]!r}")
                return StorageRef(record=str(key), dtype=storage_type)

        try:
            with self._zip.open(f"{self._prefix}data.pkl") as handle:
                return Unpickler(handle).load()
        except (OSError, EOFError, zipfile.BadZipFile, pickle.UnpicklingError) as error:
            raise CheckpointReadError(f"{self.path}: cannot unpickle data.pkl ({error})") from error

    def _rebuild_tensor(
        self, storage: StorageRef, offset: int, shape: Tuple[int, ...], stride: Tuple[int, ...], *unused: Any
    ) -> LazyTensor:
        return LazyTensor(self, storage, int(offset), tuple(shape), tuple(stride))


def lazy_state_dict(path: Path) -> Dict[str, LazyTensor]:
    """The tensors of a checkpoint by name, unwrapping a DeepSpeed-style {'module': ...}."""
    if not path.is_file():
        raise CheckpointReadError(f"{path}: no such file")
    root = LazyArchive(path).root()
    if isinstance(root, dict) and isinstance(root.get("module"), dict):
        root = root["module"]
    if not isinstance(root, dict):
        raise CheckpointReadError(f"{path}: the checkpoint is not a state dict (found {type(root).__name__})")
    tensors = {key: value for key, value in root.items() if isinstance(value, LazyTensor)}
    others = sorted(key for key in root if key not in tensors)
    if others:
        raise CheckpointReadError(f"{path}: entries that are not tensors: {', '.join(map(str, others[:10]))}")
    return tensors
