"""Export round trip on tiny models: files, graph names and shapes, onnx.checker, fp16, split,
staging, and that the committed fixtures reproduce."""

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict

import numpy as np
import onnx
import pytest
import torch

from closeness import assert_same_bundle
from emu_export.bundle import BundleError, ExportOptions, export_bundle
from fixtures.make_fixtures import tiny_decoder_export
from emu_export.graphs import layer_ranges
from emu_reference.checkpoint import StateDictSource
from emu_reference.config import tiny_config
from emu_reference.model import EmuModel, init_random_weights

TOOLS = Path(__file__).resolve().parents[1]
REPO = TOOLS.parent
LLAMA_CONFIG = TOOLS / "data" / "llama_config"


def quiet(message: str) -> None:
    del message


def tiny_source(variant: str = "pretrain", seed: int = 11) -> StateDictSource:
    model = EmuModel(tiny_config(variant))
    init_random_weights(model, seed)
    return StateDictSource(model.state_dict())


def io_names(model: onnx.ModelProto) -> Dict[str, Dict[str, list]]:
    def shape(value: onnx.ValueInfoProto) -> list:
        return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]
    return {"inputs": {v.name: shape(v) for v in model.graph.input},
            "outputs": {v.name: shape(v) for v in model.graph.output}}


def test_fixture_bundle_graphs_have_the_documented_interface() -> None:
    bundle = REPO / "test" / "fixtures" / "bundles" / "tiny-pretrain"
    decoder = onnx.load(str(bundle / "decoder.onnx"), load_external_data=False)
    names = io_names(decoder)
    assert list(names["inputs"])[:3] == ["inputs_embeds", "attention_mask", "position_ids"]
    assert names["inputs"]["attention_mask"] == ["batch_size", "past_capacity + sequence_length"]
    assert names["inputs"]["past_key_values.1.value"] == ["batch_size", 2, "past_capacity", 4]
    assert names["inputs"]["num_logits_to_keep"] == []
    assert names["inputs"]["num_regressed_to_keep"] == []
    assert list(names["outputs"]) == ["logits", "regressed_embeds", "present.0.key", "present.0.value",
                                      "present.1.key", "present.1.value"]
    assert names["outputs"]["logits"] == ["batch_size", "num_logits_to_keep", 32004]
    assert names["outputs"]["regressed_embeds"] == ["batch_size", "num_regressed_to_keep", 8]
    assert names["outputs"]["present.0.key"] == ["batch_size", 2, "sequence_length", 4]
    vision = io_names(onnx.load(str(bundle / "vision.onnx")))
    assert vision == {"inputs": {"pixel_values": ["batch_size", 3, 224, 224]},
                      "outputs": {"image_embeds": ["batch_size", 32, 8]}}
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["format"] == "emu-bot-bundle" and manifest["version"] == 1
    assert manifest["graphs"]["decoder"][0]["inputs"][0]["name"] == "inputs_embeds"
    assert manifest["tokens"] == {"unk": 0, "bos": 1, "eos": 2, "pad": 32000, "img_start": 32001, "img_end": 32002,
                                  "image": 32003, "user": None, "assistant": None}


def test_fp16_split_bundle_is_valid_and_named_by_global_layer(fp16_split_bundle: Path) -> None:
    files = sorted(path.name for path in fp16_split_bundle.iterdir())
    assert files == ["decoder.part0.onnx", "decoder.part0.onnx_data", "decoder.part1.onnx", "decoder.part1.onnx_data",
                     "embed_tokens.onnx", "embed_tokens.onnx_data", "manifest.json", "safety_checker.onnx",
                     "safety_checker.onnx_data", "scheduler.json", "selfcheck", "tokenizer.json", "unet.onnx",
                     "unet.onnx_data", "vae_decoder.onnx", "vae_decoder.onnx_data", "vae_encoder.onnx",
                     "vae_encoder.onnx_data", "vision.onnx", "vision.onnx_data"]
    for name in ("vision.onnx", "embed_tokens.onnx", "decoder.part0.onnx", "decoder.part1.onnx"):
        onnx.checker.check_model(str(fp16_split_bundle / name))
    part0 = io_names(onnx.load(str(fp16_split_bundle / "decoder.part0.onnx"), load_external_data=False))
    part1 = io_names(onnx.load(str(fp16_split_bundle / "decoder.part1.onnx"), load_external_data=False))
    assert "inputs_embeds" in part0["inputs"] and "hidden_states" in part0["outputs"]
    assert "hidden_states" in part1["inputs"] and "past_key_values.1.key" in part1["inputs"]
    assert "past_key_values.0.key" not in part1["inputs"] and "logits" in part1["outputs"]
    manifest = json.loads((fp16_split_bundle / "manifest.json").read_text())
    assert [entry["layers"] for entry in manifest["graphs"]["decoder"]] == [[0, 1], [1, 2]]
    decoder = onnx.load(str(fp16_split_bundle / "decoder.part1.onnx"), load_external_data=False)
    types = {value.name: value.type.tensor_type.elem_type for value in decoder.graph.input}
    assert types["hidden_states"] == onnx.TensorProto.FLOAT16 and types["attention_mask"] == onnx.TensorProto.INT64
    big = [t for t in decoder.graph.initializer if t.name == "decoder.lm.lm_head.weight.T"]
    assert big and big[0].data_type == onnx.TensorProto.FLOAT16 and big[0].data_location == onnx.TensorProto.EXTERNAL
    norms = [t for t in decoder.graph.initializer if t.name == "decoder.lm.model.norm.weight"]
    assert norms[0].data_type == onnx.TensorProto.FLOAT  # norms stay float32


def test_selfcheck_index_describes_raw_files(fp16_split_bundle: Path) -> None:
    index = json.loads((fp16_split_bundle / "selfcheck" / "index.json").read_text())
    graphs = {case["graph"] for case in index["cases"]}
    assert graphs == {"vision.onnx", "embed_tokens.onnx", "decoder.part0.onnx", "decoder.part1.onnx"}
    sizes = {"float32": 4, "float16": 2, "int64": 8}
    for case in index["cases"]:
        for tensor in case["inputs"] + case["outputs"]:
            path = fp16_split_bundle / "selfcheck" / tensor["file"]
            assert path.stat().st_size == sizes[tensor["dtype"]] * int(np.prod(tensor["shape"]))
    prefill = next(case for case in index["cases"] if case["name"] == "decoder.part0-prefill")
    past = next(tensor for tensor in prefill["inputs"] if tensor["name"] == "past_key_values.0.key")
    assert past["shape"][2] == 0 and past["dtype"] == "float16"


def test_layer_ranges_are_contiguous_and_even() -> None:
    assert layer_ranges(40, 3) == [(0, 14), (14, 27), (27, 40)]
    with pytest.raises(ValueError, match="--split"):
        layer_ranges(2, 3)


def test_failed_export_leaves_no_bundle(tmp_path: Path) -> None:
    broken = tiny_source()
    del broken._tensors["decoder.lm.lm_head.weight"]  # noqa: SLF001 - simulate a source that fails late
    out = tmp_path / "bundle"
    with pytest.raises(KeyError):
        export_bundle(tiny_config(), broken, out, LLAMA_CONFIG, ExportOptions(), {}, quiet)
    assert list(tmp_path.iterdir()) == []
    out.mkdir()
    (out / "keep.txt").write_text("x")
    with pytest.raises(BundleError, match="--overwrite"):
        export_bundle(tiny_config(), tiny_source(), out, LLAMA_CONFIG, ExportOptions(), {}, quiet)


def test_cli_reports_a_bad_checkpoint_with_exit_status_2(tmp_path: Path) -> None:
    state = EmuModel(tiny_config("instruct")).state_dict()
    checkpoint = tmp_path / "Emu-instruct.pt"
    torch.save(state, checkpoint)
    result = subprocess.run(
        [sys.executable, str(TOOLS / "export.py"), "--checkpoint", str(checkpoint), "--variant", "pretrain",
         "--out", str(tmp_path / "out")], capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert result.stderr.startswith("error [EXPORT_CHECKPOINT]:") and "Emu-instruct.pt" in result.stderr
    assert not (tmp_path / "out").exists()


def test_tokenizer_only_bundle(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(TOOLS / "export.py"), "--tokenizer-only", "--llama-config", str(LLAMA_CONFIG),
         "--variant", "instruct", "--out", str(tmp_path / "tok")], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "tok" / "manifest.json").read_text())
    assert manifest["graphs"] is None and manifest["tokens"]["assistant"] == 32005
    tokenizer = json.loads((tmp_path / "tok" / "tokenizer.json").read_text())
    assert tokenizer["added_tokens"][-1]["content"] == "[ASSISTANT]"


def test_export_is_deterministic_and_reproduces_the_committed_fixture(tmp_path: Path) -> None:
    out = tmp_path / "tiny-pretrain"
    export_bundle(tiny_config(), tiny_source("pretrain", 11), out, LLAMA_CONFIG, ExportOptions(),
                  {"synthetic": True, "seed": 11}, quiet, tiny_decoder_export(tiny_config()))
    assert_same_bundle(out, REPO / "test" / "fixtures" / "bundles" / "tiny-pretrain")


def test_cli_without_pytorch_says_which_python_to_use(tmp_path: Path) -> None:
    script = ("import runpy, sys; sys.modules['torch'] = None; "
              f"sys.argv = ['export.py', '--tokenizer-only', '--variant', 'instruct', '--out', {str(tmp_path / 'b')!r}]; "
              f"runpy.run_path({str(TOOLS / 'export.py')!r}, run_name='__main__')")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith("error [EXPORT_ENVIRONMENT]: ")
    assert "cannot import torch;" in result.stderr and "/usr/bin/python3" in result.stderr
    assert not (tmp_path / "b").exists()


def test_every_exporter_error_code_is_documented() -> None:
    source = (TOOLS / "export.py").read_text()
    codes = set(re.findall(r"error \[(EXPORT_[A-Z_]+)\]", source))
    assert len(codes) >= 4
    documented = set(re.findall(r"^\| `(EXPORT_[A-Z_]+)` \|", (REPO / "docs" / "errors.md").read_text(), re.MULTILINE))
    assert codes == documented
