"""Published checkpoints as validated, lazily read weight sources.

`pretrain/multimodal_encoder/pytorch_model.bin` has exactly EmuModel's keys. `Emu-instruct.pt`
may be wrapped in {'module': ...} and its LLM sits under peft's `decoder.lm.base_model.model.`
with LoRA factors on q/k/v/o (r=16, alpha=16): those are merged, W + (alpha / r) * B @ A, when a
weight is read. Validation happens before anything is written, and every error names the file
and the keys involved.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Protocol, Tuple

import torch
from torch import nn

from .config import VOCAB_SIZES, EmuConfig
from .lazy_load import CheckpointReadError, LazyTensor, lazy_state_dict
from .llama import rotary_inv_freq
from .model import EmuModel

PEFT_PREFIX = "decoder.lm.base_model.model."
PLAIN_PREFIX = "decoder.lm."
# peft 0.2 wrote `.lora_A.weight`; 0.3+ `.lora_A.<adapter>.weight`; 0.7+ `.base_layer.weight`.
LORA_KEY = re.compile(r"^(?P<module>.+)\.lora_(?P<factor>[AB])(?:\.(?P<adapter>[^.]+))?\.weight$")
LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj")
DEFAULT_LORA_ALPHA = 16.0


class CheckpointError(ValueError):
    """The checkpoint does not fit the requested model; the message names the file and keys."""


class WeightSource(Protocol):
    """Named float tensors, read on demand so that large models never sit twice in memory."""

    def names(self) -> List[str]: ...

    def shape(self, name: str) -> Tuple[int, ...]: ...

    def load(self, name: str) -> torch.Tensor: ...


class StateDictSource:
    """A weight source over tensors already in memory (tiny models, tests)."""

    def __init__(self, tensors: Dict[str, torch.Tensor]) -> None:
        self._tensors = tensors

    def names(self) -> List[str]:
        return list(self._tensors)

    def shape(self, name: str) -> Tuple[int, ...]:
        return tuple(self._tensors[name].shape)

    def load(self, name: str) -> torch.Tensor:
        return self._tensors[name].detach().to(torch.float32)


def is_derived_buffer(name: str) -> bool:
    """Rotary inverse frequencies: in transformers-4.29 checkpoints, recomputed exactly at load."""
    return name.endswith("rotary_emb.inv_freq")


def expected_shapes(config: EmuConfig) -> Dict[str, Tuple[int, ...]]:
    """Every key EmuModel has, with its shape, computed on the meta device (no memory)."""
    model = EmuModel(config, device=torch.device("meta"))
    return {name: tuple(tensor.shape) for name, tensor in model.state_dict().items()}


def _summarise(keys: Iterable[str], limit: int = 12) -> str:
    keys = sorted(keys)
    shown = ", ".join(keys[:limit])
    return f"{shown} (and {len(keys) - limit} more)" if len(keys) > limit else shown


class CheckpointSource:
    """A published Emu checkpoint, validated against `config`, read tensor by tensor."""

    def __init__(self, path: Path, config: EmuConfig, lora_alpha: float = DEFAULT_LORA_ALPHA) -> None:
        self.path = path
        self.config = config
        self._lora_alpha = lora_alpha
        try:
            raw = lazy_state_dict(path)
        except CheckpointReadError as error:
            raise CheckpointError(str(error)) from error
        self._base: Dict[str, LazyTensor] = {}
        self._lora: Dict[str, Dict[str, LazyTensor]] = {}
        self._split_keys(raw)
        self._expected = expected_shapes(config)
        self._validate()

    def _split_keys(self, raw: Dict[str, LazyTensor]) -> None:
        unrecognised = []
        for key, tensor in raw.items():
            name = PLAIN_PREFIX + key[len(PEFT_PREFIX):] if key.startswith(PEFT_PREFIX) else key
            match = LORA_KEY.match(name)
            if match:
                self._lora.setdefault(match["module"] + ".weight", {})[match["factor"]] = tensor
                continue
            name = name.replace(".base_layer.weight", ".weight")
            if name in self._base:
                unrecognised.append(key)
            self._base[name] = tensor
        if unrecognised:
            raise CheckpointError(f"{self.path}: keys appear twice (plain and peft-wrapped): {_summarise(unrecognised)}")

    def _validate(self) -> None:
        path, expected = self.path, self._expected
        embed = self._base.get("decoder.lm.model.embed_tokens.weight")
        if embed is not None and embed.shape[0] != self.config.llama.vocab_size:
            found = {rows: name for name, rows in VOCAB_SIZES.items()}.get(embed.shape[0], "unknown")
            raise CheckpointError(
                f"{path}: decoder.lm.model.embed_tokens.weight has {embed.shape[0]} rows ({found} variant); "
                f"--variant {self.config.variant} needs {self.config.llama.vocab_size}"
            )
        missing = [name for name in expected if name not in self._base and not is_derived_buffer(name)]
        unexpected = [name for name in self._base if name not in expected]
        if missing or unexpected:
            parts = []
            if missing:
                parts.append(f"missing keys: {_summarise(missing)}")
            if unexpected:
                parts.append(f"unexpected keys: {_summarise(unexpected)}")
            raise CheckpointError(f"{path}: does not match the Emu {self.config.variant} model; " + "; ".join(parts))
        wrong = [
            f"{name} {tuple(tensor.shape)} (expected {expected[name]})"
            for name, tensor in self._base.items()
            if tuple(tensor.shape) != expected[name]
        ]
        if wrong:
            raise CheckpointError(f"{path}: tensors with the wrong shape: {_summarise(wrong, 6)}")
        self._validate_lora()

    def _validate_lora(self) -> None:
        bad = []
        for name, factors in self._lora.items():
            module = name.rsplit(".", 2)[-2]
            if name not in self._expected or module not in LORA_TARGETS or set(factors) != {"A", "B"}:
                bad.append(name)
                continue
            rows, cols = self._expected[name]
            a_shape, b_shape = tuple(factors["A"].shape), tuple(factors["B"].shape)
            if a_shape[1] != cols or b_shape[0] != rows or a_shape[0] != b_shape[1]:
                bad.append(f"{name} (lora_A {a_shape}, lora_B {b_shape})")
        if bad:
            raise CheckpointError(f"{self.path}: LoRA factors that do not fit q/k/v/o weights: {_summarise(bad, 6)}")
        if self._lora and self.config.variant != "instruct":
            raise CheckpointError(f"{self.path}: has LoRA weights (an Emu-I checkpoint) but --variant is pretrain")

    @property
    def lora_modules(self) -> List[str]:
        return sorted(self._lora)

    def names(self) -> List[str]:
        return list(self._expected)

    def shape(self, name: str) -> Tuple[int, ...]:
        return self._expected[name]

    def load(self, name: str) -> torch.Tensor:
        """float32 weight, LoRA merged; exact rotary frequencies for inv_freq buffers."""
        if is_derived_buffer(name):
            return rotary_inv_freq(self.config.llama.head_dim, self.config.llama.rope_theta)
        try:
            weight = self._base[name].load().to(torch.float32)
            factors: Optional[Dict[str, LazyTensor]] = self._lora.get(name)
            if factors is not None:
                down = factors["A"].load().to(torch.float32)
                up = factors["B"].load().to(torch.float32)
                weight += (self._lora_alpha / down.shape[0]) * (up @ down)
        except CheckpointReadError as error:
            raise CheckpointError(f"{error} (while reading {name})") from error
        return weight


def materialize(module: nn.Module, prefix: str, source: WeightSource) -> nn.Module:
    """Give a (meta-built) module real CPU weights read from `source` under `prefix`.

    Used to run or check one piece of a large model at a time: only this module's weights are
    in memory.
    """
    module.to_empty(device=torch.device("cpu"))
    with torch.no_grad():
        for name, tensor in module.state_dict(keep_vars=True).items():
            tensor.copy_(source.load(prefix + name))
    return module.eval()
