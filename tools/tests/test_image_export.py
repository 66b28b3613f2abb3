"""Image decoder export: graph interfaces, manifest.image_decoder, fp16, self-check, CLI --decoder,
and that the committed image goldens reproduce."""

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import onnx
import pytest
import torch

from closeness import assert_close_tree
from emu_export.bundle import BundleError, ExportOptions, export_bundle
from emu_export.manifest import generation_defaults
from emu_reference.config import tiny_config
from fixtures.image_goldens import image_goldens
from fixtures.make_fixtures import tiny_decoder_export
from test_export import LLAMA_CONFIG, REPO, TOOLS, io_names, quiet, tiny_source
from test_image_decoder_keys import write_tiny_folder

FIXTURES = REPO / "test" / "fixtures"


def test_fixture_image_graphs_have_the_documented_interface() -> None:
    bundle = FIXTURES / "bundles" / "tiny-pretrain"
    unet = io_names(onnx.load(str(bundle / "unet.onnx")))
    assert unet == {"inputs": {"sample": ["batch_size", 4, "latent_height", "latent_width"],
                               "timestep": ["batch_size"],
                               "encoder_hidden_states": ["batch_size", "sequence_length", 8]},
                    "outputs": {"noise_pred": ["batch_size", 4, "latent_height", "latent_width"]}}
    timestep = next(value for value in onnx.load(str(bundle / "unet.onnx")).graph.input if value.name == "timestep")
    assert timestep.type.tensor_type.elem_type == onnx.TensorProto.INT64
    assert io_names(onnx.load(str(bundle / "vae_decoder.onnx"))) == {
        "inputs": {"latents": ["batch_size", 4, "latent_height", "latent_width"]},
        "outputs": {"image": ["batch_size", 3, "height", "width"]}}
    assert io_names(onnx.load(str(bundle / "vae_encoder.onnx")))["outputs"] == {
        "latent_mean": ["batch_size", 4, "latent_height", "latent_width"],
        "latent_std": ["batch_size", 4, "latent_height", "latent_width"]}
    assert io_names(onnx.load(str(bundle / "safety_checker.onnx"))) == {
        "inputs": {"clip_input": ["batch_size", 3, 224, 224]},
        "outputs": {"concept_scores": ["batch_size", 17], "special_care_scores": ["batch_size", 3]}}
    manifest = json.loads((bundle / "manifest.json").read_text())
    image = manifest["image_decoder"]
    assert sorted(image["graphs"]) == ["safety_checker", "unet", "vae_decoder", "vae_encoder"]
    assert image["scheduler"] == "scheduler.json" and image["selfcheck"] == "selfcheck/image_decoder.json"
    assert (image["latent_channels"], image["vae_scale_factor"], image["scaling_factor"]) == (4, 8, 0.18215)
    assert image["guidance"]["batch_order"] == ["cond", "uncond"]
    scheduler = json.loads((bundle / "scheduler.json").read_text())
    assert scheduler["_class_name"] == "PNDMScheduler" and scheduler["steps_offset"] == 1
    assert json.loads((FIXTURES / "bundles" / "tiny-instruct" / "manifest.json").read_text())["image_decoder"] is None
    # Drawing defaults: the reference's guidance and steps, at the decoder's own size (8 latents x 8).
    assert manifest["generation"]["image"] == {"guidance_scale": 7.5, "in_context_guidance_scale": 10.0,
                                               "num_inference_steps": 50, "height": 64, "width": 64}


def test_a_model_can_carry_its_own_drawing_defaults() -> None:
    assert generation_defaults("pretrain", {"guidance_scale": 3.0}, 64)["image"] == {
        "guidance_scale": 3.0, "in_context_guidance_scale": 10.0, "num_inference_steps": 50,
        "height": 64, "width": 64}
    assert generation_defaults("pretrain")["image"]["width"] == 512  # no decoder: the reference's size
    assert "image" not in generation_defaults("instruct")
    for drawing, message in (({"guidance": 3.0}, "drawing default 'guidance' is unknown"),
                             ({"num_inference_steps": 2.5}, "must be a positive number")):
        decoder = replace(tiny_decoder_export(tiny_config()), drawing=drawing)
        with pytest.raises(BundleError, match=message):
            export_bundle(tiny_config(), tiny_source("pretrain"), Path("/nonexistent"), LLAMA_CONFIG,
                          ExportOptions(), {}, quiet, decoder)


def test_fp16_image_graphs_keep_the_timestep_embedding_float32(fp16_split_bundle: Path) -> None:
    unet = onnx.load(str(fp16_split_bundle / "unet.onnx"), load_external_data=False)
    types = {value.name: value.type.tensor_type.elem_type for value in unet.graph.input}
    assert types == {"sample": onnx.TensorProto.FLOAT16, "timestep": onnx.TensorProto.INT64,
                     "encoder_hidden_states": onnx.TensorProto.FLOAT16}
    sines = [node for node in unet.graph.node if node.op_type in ("Sin", "Cos")]
    assert sines and all("/time_proj/" in node.name for node in sines)
    casts = [node for node in unet.graph.node if "/unet/time_proj/" in node.name and node.op_type == "Cast"]
    assert casts and all(node.attribute[0].i == onnx.TensorProto.FLOAT for node in casts)
    for name in ("unet.onnx", "vae_decoder.onnx", "vae_encoder.onnx", "safety_checker.onnx"):
        onnx.checker.check_model(str(fp16_split_bundle / name))


def test_image_selfcheck_index(fp16_split_bundle: Path) -> None:
    index = json.loads((fp16_split_bundle / "selfcheck" / "image_decoder.json").read_text())
    assert [case["graph"] for case in index["cases"]] == ["unet.onnx", "vae_decoder.onnx", "vae_encoder.onnx",
                                                          "safety_checker.onnx"]
    safety = index["cases"][3]["inputs"][0]
    assert safety["file"] == "vision.in.pixel_values.bin" and safety["dtype"] == "float16"
    unet = index["cases"][0]["inputs"]
    assert [(t["name"], t["dtype"], t["shape"]) for t in unet] == [
        ("sample", "float16", [2, 4, 8, 8]), ("timestep", "int64", [2]),
        ("encoder_hidden_states", "float16", [2, 32, 8])]
    old = json.loads((fp16_split_bundle / "selfcheck" / "index.json").read_text())
    assert all(case["graph"] in {"vision.onnx", "embed_tokens.onnx", "decoder.part0.onnx", "decoder.part1.onnx"}
               for case in old["cases"])


def test_decoder_must_fit_the_model() -> None:
    decoder = tiny_decoder_export(tiny_config())
    with pytest.raises(BundleError, match="only the pretrained model draws"):
        export_bundle(tiny_config("instruct"), tiny_source("instruct"), Path("/nonexistent"), LLAMA_CONFIG,
                      ExportOptions(), {}, quiet, decoder)


def test_cli_decoder_errors(tmp_path: Path) -> None:
    folder = tmp_path / "pretrain"
    write_tiny_folder(folder)
    (folder / "vae" / "diffusion_pytorch_model.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}")
    checkpoint = tmp_path / "pytorch_model.bin"
    checkpoint.write_bytes(b"")
    result = subprocess.run(
        [sys.executable, str(TOOLS / "export.py"), "--checkpoint", str(checkpoint), "--variant", "pretrain",
         "--decoder", str(folder), "--out", str(tmp_path / "out")], capture_output=True, text=True, check=False)
    # The decoder folder is validated before the (large) checkpoint is opened.
    assert result.returncode == 2
    assert result.stderr.startswith("error [EXPORT_DECODER]:")
    assert "vae/diffusion_pytorch_model.safetensors: does not match vae/config.json; missing keys:" in result.stderr
    assert not (tmp_path / "out").exists()


def test_committed_image_goldens_reproduce() -> None:
    regression = json.loads((FIXTURES / "goldens" / "tiny-pretrain.json").read_text())["regression"]
    fresh = json.loads(json.dumps(image_goldens(tiny_config(), regression), separators=(",", ":")))
    committed = json.loads((FIXTURES / "goldens" / "tiny-pretrain-image.json").read_text())
    assert_close_tree(fresh, committed)
    assert committed["timesteps"]["pndm"]["50"][:4] == [981, 961, 961, 941]
    assert {case["has_nsfw_concept"] for case in committed["cases"]} == {True, False}
