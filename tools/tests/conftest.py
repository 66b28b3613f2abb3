"""Test set-up: tools/ on sys.path (for `emu_reference` and `fixtures`) and the LLaMA tokenizer files."""

import sys
from pathlib import Path

import pytest

TOOLS_DIR = Path(__file__).resolve().parents[1]
if str(TOOLS_DIR) not in sys.path:
    sys.path.insert(0, str(TOOLS_DIR))


@pytest.fixture(scope="session")
def llama_config_dir() -> Path:
    """The reference's LLaMA tokenizer files, committed under tools/data (see its README)."""
    return TOOLS_DIR / "data" / "llama_config"


@pytest.fixture(scope="session")
def fp16_split_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny pretrain model with its image decoder as float16, decoder in two parts, external data."""
    from emu_export.bundle import ExportOptions, export_bundle
    from emu_reference.checkpoint import StateDictSource
    from emu_reference.config import tiny_config
    from emu_reference.model import EmuModel, init_random_weights
    from fixtures.make_fixtures import tiny_decoder_export

    model = EmuModel(tiny_config())
    init_random_weights(model, 11)
    out = tmp_path_factory.mktemp("export") / "bundle"
    options = ExportOptions(dtype="fp16", split=2, external_data="always")
    return export_bundle(tiny_config(), StateDictSource(model.state_dict()), out, TOOLS_DIR / "data" / "llama_config",
                         options, {"synthetic": True}, lambda message: None, tiny_decoder_export(tiny_config()))
