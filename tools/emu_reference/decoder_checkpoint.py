"""pretrain/{unet,vae,safety_checker} as one validated, lazily read weight source.

Each folder holds a config.json and one weights file, .safetensors preferred over .bin (diffusers'
`diffusion_pytorch_model.*` for the UNet and VAE, transformers' `model.safetensors` /
`pytorch_model.bin` for the safety checker). Keys must match the reference modules exactly
(strict), with two tolerated legacy forms diffusers itself converts at load: the VAE mid-block
attention as query/key/value/proj_attn, and CLIP's saved `position_ids` buffer (derived, ignored).
Names come out prefixed by component: `unet.conv_in.weight`, `vae.decoder.conv_in.weight`, ...
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Tuple, Union

import torch

from .checkpoint import _summarise
from .config import ConfigError
from .diffusion_config import ImageDecoderConfig, load_decoder_config
from .image_decoder import COMPONENTS, ImageDecoderModel
from .lazy_load import CheckpointReadError, LazyTensor, lazy_state_dict
from .safetensors_reader import SafetensorsTensor, read_safetensors

WEIGHT_FILES: Dict[str, Tuple[str, ...]] = {
    "unet": ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin",
             "diffusion_pytorch_model.fp16.safetensors", "diffusion_pytorch_model.fp16.bin"),
    "vae": ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin",
            "diffusion_pytorch_model.fp16.safetensors", "diffusion_pytorch_model.fp16.bin"),
    "safety_checker": ("model.safetensors", "pytorch_model.bin", "model.fp16.safetensors", "pytorch_model.fp16.bin"),
}
LEGACY_VAE_ATTENTION = {"query": "to_q", "key": "to_k", "value": "to_v", "proj_attn": "to_out.0"}
LEGACY_VAE_KEY = re.compile(r"^(?P<head>.*mid_block\.attentions\.0)\.(?P<name>query|key|value|proj_attn)\."
                            r"(?P<leaf>weight|bias)$")
DERIVED = ("vision_model.vision_model.embeddings.position_ids",)

Stored = Union[LazyTensor, SafetensorsTensor]


class DecoderFolderError(ValueError):
    """The --decoder folder does not hold a usable image decoder; the message names the file and keys."""


def weight_file(folder: Path, component: str) -> Path:
    for name in WEIGHT_FILES[component]:
        if (folder / component / name).is_file():
            return folder / component / name
    raise DecoderFolderError(f"{folder / component}: no weights file (looked for {', '.join(WEIGHT_FILES[component])})")


def _read(path: Path) -> Dict[str, Stored]:
    try:
        if path.suffix == ".safetensors":
            return dict(read_safetensors(path))
        return dict(lazy_state_dict(path))
    except CheckpointReadError as error:
        raise DecoderFolderError(str(error)) from error


def _normalise(component: str, key: str) -> str:
    if component == "vae":
        match = LEGACY_VAE_KEY.match(key)
        if match:
            return f"{match['head']}.{LEGACY_VAE_ATTENTION[match['name']]}.{match['leaf']}"
    return key


class DecoderFolderSource:
    """A diffusers-format folder (unet/, vae/, safety_checker/, scheduler/), read tensor by tensor."""

    def __init__(self, folder: Path, config: ImageDecoderConfig | None = None) -> None:
        if not folder.is_dir():
            raise DecoderFolderError(f"{folder}: no such folder (expected pretrain/ with unet/ vae/ scheduler/ "
                                     f"safety_checker/)")
        try:
            self.config = config or load_decoder_config(folder)
        except ConfigError as error:
            raise DecoderFolderError(str(error)) from error
        self.folder = folder
        model = ImageDecoderModel(self.config, device=torch.device("meta"))
        self._expected = {name: tuple(tensor.shape) for name, tensor in model.state_dict().items()}
        self._tensors: Dict[str, Stored] = {}
        self.files: Dict[str, Path] = {}
        for component in COMPONENTS:
            self._add(component, weight_file(folder, component))

    def _add(self, component: str, path: Path) -> None:
        self.files[component] = path
        found: Dict[str, Stored] = {}
        for key, tensor in _read(path).items():
            if key in DERIVED:
                continue
            found[f"{component}.{_normalise(component, key)}"] = tensor
        expected = {name for name in self._expected if name.startswith(component + ".")}
        missing = sorted(name[len(component) + 1:] for name in expected - set(found))
        unexpected = sorted(name[len(component) + 1:] for name in set(found) - expected)
        if missing or unexpected:
            parts = ([f"missing keys: {_summarise(missing)}"] if missing else []) + (
                [f"unexpected keys: {_summarise(unexpected)}"] if unexpected else [])
            raise DecoderFolderError(f"{path}: does not match {component}/config.json; " + "; ".join(parts))
        wrong = [f"{name[len(component) + 1:]} {tuple(tensor.shape)} (expected {self._expected[name]})"
                 for name, tensor in found.items() if tuple(tensor.shape) != self._expected[name]]
        if wrong:
            raise DecoderFolderError(f"{path}: tensors with the wrong shape: {_summarise(wrong, 6)}")
        self._tensors.update(found)

    def names(self) -> List[str]:
        return list(self._expected)

    def shape(self, name: str) -> Tuple[int, ...]:
        return self._expected[name]

    def load(self, name: str) -> torch.Tensor:
        try:
            return self._tensors[name].load().to(torch.float32)
        except CheckpointReadError as error:
            raise DecoderFolderError(f"{error} (while reading {name})") from error
