"""The reference model's parameter names and shapes are the published checkpoint's, exactly.

The expected set is written out here from the reference sources (eva_vit_model.py, modeling_t5.py,
causal_former.py, modeling_llama.py on transformers 4.29), independently of the model code, and
compared on the meta device so no 14B weights are allocated.
"""

from typing import Dict, Tuple

import torch

from emu_reference.checkpoint import expected_shapes
from emu_reference.config import emu_14b_config, load_emu_config
from emu_reference.model import EmuModel

Shapes = Dict[str, Tuple[int, ...]]


def vision_keys() -> Shapes:
    width, mlp = 1408, 6144
    keys: Shapes = {
        "visual.cls_token": (1, 1, width),
        "visual.pos_embed": (1, 257, width),
        "visual.patch_embed.proj.weight": (width, 3, 14, 14),
        "visual.patch_embed.proj.bias": (width,),
        "visual.norm.weight": (width,),
        "visual.norm.bias": (width,),
        "visual.head.weight": (1024, width),
        "visual.head.bias": (1024,),
        "ln_visual.weight": (width,),
        "ln_visual.bias": (width,),
    }
    for block in range(40):
        prefix = f"visual.blocks.{block}."
        keys.update({
            prefix + "norm1.weight": (width,), prefix + "norm1.bias": (width,),
            prefix + "attn.q_bias": (width,), prefix + "attn.v_bias": (width,),
            prefix + "attn.qkv.weight": (3 * width, width),
            prefix + "attn.proj.weight": (width, width), prefix + "attn.proj.bias": (width,),
            prefix + "norm2.weight": (width,), prefix + "norm2.bias": (width,),
            prefix + "mlp.fc1.weight": (mlp, width), prefix + "mlp.fc1.bias": (mlp,),
            prefix + "mlp.fc2.weight": (width, mlp), prefix + "mlp.fc2.bias": (width,),
        })
    return keys


def cformer_keys() -> Shapes:
    d_model = 768
    keys: Shapes = {
        "cformer.causal_tokens": (1, 32, d_model),
        "cformer.projection.weight": (5120, d_model),
        "cformer.projection.bias": (5120,),
        "cformer.cformer.embed_tokens.weight": (32128, d_model),
        "cformer.cformer.final_layer_norm.weight": (d_model,),
        "cformer.cformer.block.0.layer.0.SelfAttention.relative_attention_bias.weight": (32, 12),
    }
    for block in range(12):
        prefix = f"cformer.cformer.block.{block}.layer."
        for name in "qkvo":
            keys[f"{prefix}0.SelfAttention.{name}.weight"] = (d_model, d_model)
        keys[f"{prefix}1.EncDecAttention.q.weight"] = (d_model, d_model)
        keys[f"{prefix}1.EncDecAttention.k.weight"] = (d_model, 1408)
        keys[f"{prefix}1.EncDecAttention.v.weight"] = (d_model, 1408)
        keys[f"{prefix}1.EncDecAttention.o.weight"] = (d_model, d_model)
        keys[f"{prefix}2.DenseReluDense.wi.weight"] = (3072, d_model)
        keys[f"{prefix}2.DenseReluDense.wo.weight"] = (d_model, 3072)
        for layer in range(3):
            keys[f"{prefix}{layer}.layer_norm.weight"] = (d_model,)
    return keys


def llama_keys(vocab: int) -> Shapes:
    hidden, mlp = 5120, 13824
    keys: Shapes = {
        "decoder.lm.model.embed_tokens.weight": (vocab, hidden),
        "decoder.lm.model.norm.weight": (hidden,),
        "decoder.lm.lm_head.weight": (vocab, hidden),
        "decoder.lm.stu_regress_head.weight": (hidden, hidden),
    }
    for layer in range(40):
        prefix = f"decoder.lm.model.layers.{layer}."
        for name in ("q_proj", "k_proj", "v_proj", "o_proj"):
            keys[f"{prefix}self_attn.{name}.weight"] = (hidden, hidden)
        keys[prefix + "self_attn.rotary_emb.inv_freq"] = (64,)
        keys[prefix + "mlp.gate_proj.weight"] = (mlp, hidden)
        keys[prefix + "mlp.up_proj.weight"] = (mlp, hidden)
        keys[prefix + "mlp.down_proj.weight"] = (hidden, mlp)
        keys[prefix + "input_layernorm.weight"] = (hidden,)
        keys[prefix + "post_attention_layernorm.weight"] = (hidden,)
    return keys


def test_emu_14b_pretrain_key_set_and_shapes() -> None:
    expected = {**vision_keys(), **cformer_keys(), **llama_keys(32004)}
    actual = expected_shapes(emu_14b_config("pretrain"))
    assert sorted(set(actual) - set(expected)) == []
    assert sorted(set(expected) - set(actual)) == []
    assert actual == expected


def test_emu_14b_instruct_differs_only_in_vocabulary() -> None:
    expected = {**vision_keys(), **cformer_keys(), **llama_keys(32006)}
    assert expected_shapes(emu_14b_config("instruct")) == expected


def test_config_files_give_the_14b_model(llama_config_dir) -> None:
    emu_json = llama_config_dir.parent / "Emu-14B.json"
    assert load_emu_config(emu_json, llama_config_dir, "instruct") == emu_14b_config("instruct")


def test_meta_model_allocates_nothing() -> None:
    model = EmuModel(emu_14b_config("pretrain"), device=torch.device("meta"))
    parameters = list(model.parameters())
    assert all(parameter.is_meta for parameter in parameters)
    assert sum(parameter.numel() for parameter in parameters) > 14_000_000_000
