"""The image decoder's parameter names and shapes are the diffusers folders', exactly.

The expected sets are enumerated here from diffusers' Stable Diffusion v1.x layout (the names of
unet_2d_condition.py / unet_2d_blocks.py / autoencoder_kl.py and transformers' CLIPVisionModel),
independently of the model code, and compared on the meta device: no weights are allocated.
Parameter totals are the published ones (SD v1.5 UNet 859,520,964 at cross-attention 768; VAE
83,653,863; safety checker 303,981,588).
"""

import dataclasses
import json
import struct
from pathlib import Path
from typing import Dict, Tuple

import pytest
import torch

from emu_reference.decoder_checkpoint import DecoderFolderError, DecoderFolderSource
from emu_reference.diffusion_config import DATA_DIR, emu_decoder_config, tiny_decoder_config
from emu_reference.image_decoder import ImageDecoderModel, init_random_decoder_weights
from emu_reference.safety_checker import StableDiffusionSafetyChecker
from emu_reference.unet import UNet2DConditionModel
from emu_reference.vae import AutoencoderKL

Shapes = Dict[str, Tuple[int, ...]]


def resnet(prefix: str, cin: int, cout: int, temb: int = 0) -> Shapes:
    keys: Shapes = {f"{prefix}norm1.weight": (cin,), f"{prefix}norm1.bias": (cin,),
                    f"{prefix}conv1.weight": (cout, cin, 3, 3), f"{prefix}conv1.bias": (cout,),
                    f"{prefix}norm2.weight": (cout,), f"{prefix}norm2.bias": (cout,),
                    f"{prefix}conv2.weight": (cout, cout, 3, 3), f"{prefix}conv2.bias": (cout,)}
    if temb:
        keys.update({f"{prefix}time_emb_proj.weight": (cout, temb), f"{prefix}time_emb_proj.bias": (cout,)})
    if cin != cout:
        keys.update({f"{prefix}conv_shortcut.weight": (cout, cin, 1, 1), f"{prefix}conv_shortcut.bias": (cout,)})
    return keys


def transformer(prefix: str, c: int, cross: int) -> Shapes:
    block = prefix + "transformer_blocks.0."
    keys: Shapes = {f"{prefix}norm.weight": (c,), f"{prefix}norm.bias": (c,),
                    f"{prefix}proj_in.weight": (c, c, 1, 1), f"{prefix}proj_in.bias": (c,),
                    f"{prefix}proj_out.weight": (c, c, 1, 1), f"{prefix}proj_out.bias": (c,)}
    for norm in ("norm1", "norm2", "norm3"):
        keys.update({f"{block}{norm}.weight": (c,), f"{block}{norm}.bias": (c,)})
    for attn, kv in (("attn1", c), ("attn2", cross)):
        keys.update({f"{block}{attn}.to_q.weight": (c, c), f"{block}{attn}.to_k.weight": (c, kv),
                     f"{block}{attn}.to_v.weight": (c, kv), f"{block}{attn}.to_out.0.weight": (c, c),
                     f"{block}{attn}.to_out.0.bias": (c,)})
    keys.update({f"{block}ff.net.0.proj.weight": (8 * c, c), f"{block}ff.net.0.proj.bias": (8 * c,),
                 f"{block}ff.net.2.weight": (c, 4 * c), f"{block}ff.net.2.bias": (c,)})
    return keys


def sd_unet_keys(cross: int) -> Shapes:
    ch, temb = [320, 640, 1280, 1280], 1280
    keys: Shapes = {"conv_in.weight": (320, 4, 3, 3), "conv_in.bias": (320,),
                    "time_embedding.linear_1.weight": (temb, 320), "time_embedding.linear_1.bias": (temb,),
                    "time_embedding.linear_2.weight": (temb, temb), "time_embedding.linear_2.bias": (temb,),
                    "conv_norm_out.weight": (320,), "conv_norm_out.bias": (320,),
                    "conv_out.weight": (4, 320, 3, 3), "conv_out.bias": (4,)}
    previous = 320
    for i, c in enumerate(ch):
        for j in range(2):
            keys.update(resnet(f"down_blocks.{i}.resnets.{j}.", previous if j == 0 else c, c, temb))
            if i < 3:
                keys.update(transformer(f"down_blocks.{i}.attentions.{j}.", c, cross))
        if i < 3:
            keys.update({f"down_blocks.{i}.downsamplers.0.conv.weight": (c, c, 3, 3),
                         f"down_blocks.{i}.downsamplers.0.conv.bias": (c,)})
        previous = c
    keys.update(resnet("mid_block.resnets.0.", 1280, 1280, temb))
    keys.update(resnet("mid_block.resnets.1.", 1280, 1280, temb))
    keys.update(transformer("mid_block.attentions.0.", 1280, cross))
    rev = list(reversed(ch))
    previous = 1280
    # Skip channels each up resnet concatenates (popped from the down path's outputs).
    skips = [320, 320, 320, 320, 640, 640, 640, 1280, 1280, 1280, 1280, 1280]
    for i, c in enumerate(rev):
        for j in range(3):
            keys.update(resnet(f"up_blocks.{i}.resnets.{j}.", (previous if j == 0 else c) + skips.pop(), c, temb))
            if i > 0:
                keys.update(transformer(f"up_blocks.{i}.attentions.{j}.", c, cross))
        if i < 3:
            keys.update({f"up_blocks.{i}.upsamplers.0.conv.weight": (c, c, 3, 3),
                         f"up_blocks.{i}.upsamplers.0.conv.bias": (c,)})
        previous = c
    return keys


def sd_vae_keys() -> Shapes:
    ch = [128, 256, 512, 512]
    keys: Shapes = {"encoder.conv_in.weight": (128, 3, 3, 3), "encoder.conv_in.bias": (128,),
                    "encoder.conv_norm_out.weight": (512,), "encoder.conv_norm_out.bias": (512,),
                    "encoder.conv_out.weight": (8, 512, 3, 3), "encoder.conv_out.bias": (8,),
                    "quant_conv.weight": (8, 8, 1, 1), "quant_conv.bias": (8,),
                    "post_quant_conv.weight": (4, 4, 1, 1), "post_quant_conv.bias": (4,),
                    "decoder.conv_in.weight": (512, 4, 3, 3), "decoder.conv_in.bias": (512,),
                    "decoder.conv_norm_out.weight": (128,), "decoder.conv_norm_out.bias": (128,),
                    "decoder.conv_out.weight": (3, 128, 3, 3), "decoder.conv_out.bias": (3,)}
    for side in ("encoder", "decoder"):
        mid = f"{side}.mid_block."
        keys.update(resnet(mid + "resnets.0.", 512, 512))
        keys.update(resnet(mid + "resnets.1.", 512, 512))
        keys.update({mid + "attentions.0.group_norm.weight": (512,), mid + "attentions.0.group_norm.bias": (512,)})
        for name in ("to_q", "to_k", "to_v", "to_out.0"):
            keys.update({f"{mid}attentions.0.{name}.weight": (512, 512), f"{mid}attentions.0.{name}.bias": (512,)})
    previous = 128
    for i, c in enumerate(ch):
        for j in range(2):
            keys.update(resnet(f"encoder.down_blocks.{i}.resnets.{j}.", previous if j == 0 else c, c))
        if i < 3:
            keys.update({f"encoder.down_blocks.{i}.downsamplers.0.conv.weight": (c, c, 3, 3),
                         f"encoder.down_blocks.{i}.downsamplers.0.conv.bias": (c,)})
        previous = c
    previous = 512
    for i, c in enumerate(reversed(ch)):
        for j in range(3):
            keys.update(resnet(f"decoder.up_blocks.{i}.resnets.{j}.", previous if j == 0 else c, c))
        if i < 3:
            keys.update({f"decoder.up_blocks.{i}.upsamplers.0.conv.weight": (c, c, 3, 3),
                         f"decoder.up_blocks.{i}.upsamplers.0.conv.bias": (c,)})
        previous = c
    return keys


def safety_keys() -> Shapes:
    width, mlp, root = 1024, 4096, "vision_model.vision_model."
    keys: Shapes = {root + "embeddings.class_embedding": (width,),
                    root + "embeddings.patch_embedding.weight": (width, 3, 14, 14),
                    root + "embeddings.position_embedding.weight": (257, width),
                    root + "pre_layrnorm.weight": (width,), root + "pre_layrnorm.bias": (width,),
                    root + "post_layernorm.weight": (width,), root + "post_layernorm.bias": (width,),
                    "visual_projection.weight": (768, width), "concept_embeds": (17, 768),
                    "special_care_embeds": (3, 768), "concept_embeds_weights": (17,),
                    "special_care_embeds_weights": (3,)}
    for n in range(24):
        layer = f"{root}encoder.layers.{n}."
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
            keys.update({f"{layer}self_attn.{proj}.weight": (width, width), f"{layer}self_attn.{proj}.bias": (width,)})
        for norm in ("layer_norm1", "layer_norm2"):
            keys.update({f"{layer}{norm}.weight": (width,), f"{layer}{norm}.bias": (width,)})
        keys.update({f"{layer}mlp.fc1.weight": (mlp, width), f"{layer}mlp.fc1.bias": (mlp,),
                     f"{layer}mlp.fc2.weight": (width, mlp), f"{layer}mlp.fc2.bias": (width,)})
    return keys


def shapes(module: torch.nn.Module) -> Shapes:
    return {name: tuple(tensor.shape) for name, tensor in module.state_dict().items()}


def test_emu_unet_has_the_sd_v1_keys_with_5120_wide_cross_attention() -> None:
    config = emu_decoder_config()
    assert config.unet.cross_attention_dim == 5120 and config.unet.num_attention_heads == (8, 8, 8, 8)
    assert shapes(UNet2DConditionModel(config.unet, torch.device("meta"))) == sd_unet_keys(5120)


def test_sd15_unet_parameter_count_is_the_published_one() -> None:
    unet = dataclasses.replace(emu_decoder_config().unet, cross_attention_dim=768)
    model = UNet2DConditionModel(unet, torch.device("meta"))
    assert len(model.state_dict()) == 686
    assert sum(p.numel() for p in model.parameters()) == 859_520_964


def test_vae_and_safety_checker_keys_and_counts() -> None:
    config = emu_decoder_config()
    vae = AutoencoderKL(config.vae, torch.device("meta"))
    assert shapes(vae) == sd_vae_keys()
    assert sum(p.numel() for p in vae.parameters()) == 83_653_863
    checker = StableDiffusionSafetyChecker(config.safety_checker, torch.device("meta"))
    assert shapes(checker) == safety_keys()
    assert sum(p.numel() for p in checker.parameters()) == 303_981_588
    assert config.vae.scale_factor == 8 and config.vae.scaling_factor == 0.18215


def test_committed_configs_are_sd15_with_a_note() -> None:
    scheduler = json.loads((DATA_DIR / "scheduler" / "scheduler_config.json").read_text())
    assert scheduler["_class_name"] == "PNDMScheduler" and scheduler["skip_prk_steps"] is True
    assert "could not be downloaded" in (DATA_DIR / "README.md").read_text()


def write_safetensors(path: Path, tensors: Dict[str, torch.Tensor]) -> None:
    """A minimal safetensors writer (header, then data in order)."""
    names = {torch.float32: "F32", torch.float16: "F16", torch.int64: "I64"}
    header, blobs, offset = {}, [], 0
    for name, tensor in tensors.items():
        data = tensor.contiguous().numpy().tobytes()
        header[name] = {"dtype": names[tensor.dtype], "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    encoded = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + b"".join(blobs))


def write_tiny_folder(root: Path, legacy_vae: bool = True) -> Dict[str, torch.Tensor]:
    """A diffusers-format folder for the tiny decoder: UNet as .bin, VAE (legacy attention names)
    and safety checker (with CLIP's position_ids buffer) as fp16 safetensors."""
    config = tiny_decoder_config(16)
    model = ImageDecoderModel(config)
    init_random_decoder_weights(model, 3)
    state = model.state_dict()
    for component in ("unet", "vae", "safety_checker", "scheduler"):
        (root / component).mkdir(parents=True)
    (root / "scheduler" / "scheduler_config.json").write_text(
        (DATA_DIR / "scheduler" / "scheduler_config.json").read_text())
    torch.save({k[5:]: v for k, v in state.items() if k.startswith("unet.")},
               root / "unet" / "diffusion_pytorch_model.bin")
    vae = {}
    for key, value in state.items():
        if key.startswith("vae."):
            key = key[4:]
            if legacy_vae:
                for new, old in (("to_q", "query"), ("to_k", "key"), ("to_v", "value"), ("to_out.0", "proj_attn")):
                    key = key.replace(f"attentions.0.{new}.", f"attentions.0.{old}.")
            vae[key] = value.half()
    write_safetensors(root / "vae" / "diffusion_pytorch_model.safetensors", vae)
    checker = {k[15:]: v.half() for k, v in state.items() if k.startswith("safety_checker.")}
    checker["vision_model.vision_model.embeddings.position_ids"] = torch.arange(50)[None]
    write_safetensors(root / "safety_checker" / "model.safetensors", checker)
    unet, vae_cfg, safety = config.unet, config.vae, config.safety_checker
    (root / "unet" / "config.json").write_text(json.dumps({
        "block_out_channels": list(unet.block_out_channels), "down_block_types": list(unet.down_block_types),
        "up_block_types": list(unet.up_block_types), "layers_per_block": 1, "attention_head_dim": 2,
        "cross_attention_dim": 16, "norm_num_groups": 4, "sample_size": 8}))
    (root / "vae" / "config.json").write_text(json.dumps({
        "block_out_channels": list(vae_cfg.block_out_channels), "layers_per_block": 1, "norm_num_groups": 4,
        "down_block_types": ["DownEncoderBlock2D"] * 4, "up_block_types": ["UpDecoderBlock2D"] * 4, "sample_size": 64}))
    (root / "safety_checker" / "config.json").write_text(json.dumps({"projection_dim": 8, "vision_config": {
        "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
        "patch_size": 32, "image_size": 224}}))
    return state


def test_folder_loads_strictly_from_bin_and_safetensors_with_legacy_names(tmp_path: Path) -> None:
    state = write_tiny_folder(tmp_path)
    source = DecoderFolderSource(tmp_path)
    assert source.config == tiny_decoder_config(16)
    assert sorted(source.names()) == sorted(state)
    assert torch.equal(source.load("unet.conv_in.weight"), state["unet.conv_in.weight"])
    name = "vae.decoder.mid_block.attentions.0.to_out.0.weight"
    assert torch.equal(source.load(name), state[name].half().float())


def test_folder_errors_name_the_file_and_keys(tmp_path: Path) -> None:
    write_tiny_folder(tmp_path)
    path = tmp_path / "unet" / "diffusion_pytorch_model.bin"
    weights = torch.load(path)
    del weights["conv_out.bias"]
    weights["extra.weight"] = torch.zeros(1)
    torch.save(weights, path)
    with pytest.raises(DecoderFolderError, match=r"unet/diffusion_pytorch_model.bin: does not match unet/config.json; "
                                                 r"missing keys: conv_out.bias; unexpected keys: extra.weight"):
        DecoderFolderSource(tmp_path)
    path.unlink()
    with pytest.raises(DecoderFolderError, match="no weights file"):
        DecoderFolderSource(tmp_path)
    with pytest.raises(DecoderFolderError, match="no such folder"):
        DecoderFolderSource(tmp_path / "nope")


def test_unsupported_architecture_fields_are_refused(tmp_path: Path) -> None:
    write_tiny_folder(tmp_path)
    config = json.loads((tmp_path / "unet" / "config.json").read_text())
    config["class_embed_type"] = "timestep"
    (tmp_path / "unet" / "config.json").write_text(json.dumps(config))
    with pytest.raises(DecoderFolderError, match="class_embed_type"):
        DecoderFolderSource(tmp_path)

