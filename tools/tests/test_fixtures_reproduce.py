"""Every committed fixture is what the committed scripts make: the goldens of both tiny variants,
the instruct and fp16-split bundles, the tokenizer goldens, and the fixtures stay within budget."""

import json
import subprocess
from pathlib import Path

import pytest

from closeness import assert_close_tree, assert_same_bundle
from emu_export.bundle import ExportOptions, export_bundle
from emu_reference.checkpoint import StateDictSource
from emu_reference.config import tiny_config
from fixtures import make_tokenizer_goldens
from fixtures.make_fixtures import LLAMA_CONFIG, SEEDS, build_model, goldens, tiny_decoder_export

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "test" / "fixtures"
FIXTURE_BUDGET_BYTES = 20 * 1024 * 1024


def quiet(message: str) -> None:
    del message


@pytest.mark.parametrize("variant", ["pretrain", "instruct"])
def test_goldens_reproduce(variant: str) -> None:
    fresh = json.loads(json.dumps(goldens(build_model(tiny_config(variant), SEEDS[variant]), variant)))
    committed = json.loads((FIXTURES / "goldens" / f"tiny-{variant}.json").read_text())
    assert_close_tree(fresh, committed)


def test_instruct_bundle_reproduces(tmp_path: Path) -> None:
    config = tiny_config("instruct")
    model = build_model(config, SEEDS["instruct"])
    export_bundle(config, StateDictSource(model.state_dict()), tmp_path / "b", LLAMA_CONFIG, ExportOptions(),
                  {"synthetic": True, "seed": SEEDS["instruct"]}, quiet)
    assert_same_bundle(tmp_path / "b", FIXTURES / "bundles" / "tiny-instruct")


def test_fp16_split_bundle_reproduces(tmp_path: Path) -> None:
    config = tiny_config("pretrain")
    model = build_model(config, SEEDS["pretrain"])
    export_bundle(config, StateDictSource(model.state_dict()), tmp_path / "b", LLAMA_CONFIG,
                  ExportOptions(dtype="fp16", split=2, external_data="always"),
                  {"synthetic": True, "seed": SEEDS["pretrain"]}, quiet, tiny_decoder_export(config))
    assert_same_bundle(tmp_path / "b", FIXTURES / "bundles" / "tiny-pretrain-split2-fp16")


def test_tokenizer_goldens_reproduce() -> None:
    committed = json.loads((FIXTURES / "tokenizer" / "goldens.json").read_text(encoding="utf-8"))
    assert make_tokenizer_goldens.build_goldens() == committed


def test_committed_fixtures_stay_within_budget() -> None:
    listed = subprocess.run(["git", "ls-files", "-z", "test/fixtures"], cwd=REPO, capture_output=True, check=True)
    files = [REPO / name for name in listed.stdout.decode().split("\0") if name]
    assert files, "git lists no fixtures"
    total = sum(path.stat().st_size for path in files if path.exists())
    assert total <= FIXTURE_BUDGET_BYTES, f"test/fixtures holds {total / 2**20:.1f} MiB, over 20 MiB"
