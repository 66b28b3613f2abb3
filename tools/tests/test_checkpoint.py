"""Loading published-style checkpoints: strict keys, peft LoRA merge, clear errors."""

from pathlib import Path
from typing import Dict

import pytest
import torch

from emu_reference.checkpoint import CheckpointError, CheckpointSource, StateDictSource, materialize
from emu_reference.config import tiny_config
from emu_reference.model import EmuModel, init_random_weights


def tiny_state(variant: str, seed: int = 3) -> Dict[str, torch.Tensor]:
    model = EmuModel(tiny_config(variant))
    init_random_weights(model, seed)
    return model.state_dict()


def peft_wrap(state: Dict[str, torch.Tensor], rank: int = 4) -> Dict[str, torch.Tensor]:
    """The layout of Emu-instruct.pt: LLM under peft's prefix, LoRA factors on q/k/v/o."""
    generator = torch.Generator().manual_seed(7)
    wrapped: Dict[str, torch.Tensor] = {}
    for key, tensor in state.items():
        if not key.startswith("decoder.lm."):
            wrapped[key] = tensor
            continue
        name = "decoder.lm.base_model.model." + key[len("decoder.lm."):]
        wrapped[name] = tensor
        if key.rsplit(".", 2)[-2] in ("q_proj", "k_proj", "v_proj", "o_proj"):
            stem = name[: -len(".weight")]
            wrapped[stem + ".lora_A.default.weight"] = torch.randn(rank, tensor.shape[1], generator=generator)
            wrapped[stem + ".lora_B.default.weight"] = torch.randn(tensor.shape[0], rank, generator=generator)
    return wrapped


def test_pretrain_checkpoint_loads_strictly_and_lazily(tmp_path: Path) -> None:
    state = tiny_state("pretrain")
    path = tmp_path / "pytorch_model.bin"
    torch.save({key: value.to(torch.bfloat16) for key, value in state.items()}, path)
    EmuModel(tiny_config("pretrain")).load_state_dict(torch.load(path), strict=True)
    source = CheckpointSource(path, tiny_config("pretrain"))
    key = "decoder.lm.model.layers.1.mlp.up_proj.weight"
    assert torch.equal(source.load(key), state[key].to(torch.bfloat16).float())


def test_instruct_checkpoint_unwraps_module_and_merges_lora(tmp_path: Path) -> None:
    state = tiny_state("instruct")
    wrapped = peft_wrap(state)
    path = tmp_path / "Emu-instruct.pt"
    torch.save({"module": wrapped, "epoch": 3}, path)
    source = CheckpointSource(path, tiny_config("instruct"))
    assert len(source.lora_modules) == 4 * tiny_config().llama.num_layers
    key = "decoder.lm.model.layers.0.self_attn.v_proj.weight"
    stem = "decoder.lm.base_model.model.model.layers.0.self_attn.v_proj"
    down, up = wrapped[stem + ".lora_A.default.weight"], wrapped[stem + ".lora_B.default.weight"]
    merged = state[key] + (16.0 / 4) * (up @ down)
    assert torch.allclose(source.load(key), merged, atol=1e-5)
    untouched = "decoder.lm.model.layers.0.mlp.gate_proj.weight"
    assert torch.equal(source.load(untouched), state[untouched])


def test_materialize_builds_a_meta_module_from_a_source() -> None:
    state = tiny_state("pretrain")
    layer = EmuModel(tiny_config(), device=torch.device("meta")).lm.model.layers[1]
    materialize(layer, "decoder.lm.model.layers.1.", StateDictSource(state))
    assert torch.equal(layer.mlp.down_proj.weight, state["decoder.lm.model.layers.1.mlp.down_proj.weight"])


def test_missing_and_unexpected_keys_are_named(tmp_path: Path) -> None:
    state = tiny_state("pretrain")
    del state["cformer.projection.bias"]
    state["visual.extra.weight"] = torch.zeros(2)
    path = tmp_path / "bad.bin"
    torch.save(state, path)
    with pytest.raises(CheckpointError, match=r"missing keys: cformer\.projection\.bias.*unexpected keys: visual\.extra"):
        CheckpointSource(path, tiny_config("pretrain"))


def test_wrong_variant_is_named(tmp_path: Path) -> None:
    path = tmp_path / "instruct.bin"
    torch.save(tiny_state("instruct"), path)
    with pytest.raises(CheckpointError, match=r"32006 rows \(instruct variant\); --variant pretrain needs 32004"):
        CheckpointSource(path, tiny_config("pretrain"))


def test_truncated_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "whole.bin"
    torch.save(tiny_state("pretrain"), path)
    cut = tmp_path / "cut.bin"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="cut.bin"):
        source = CheckpointSource(cut, tiny_config("pretrain"))
        for name in source.names():
            source.load(name)
