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
