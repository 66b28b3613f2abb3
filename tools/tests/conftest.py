"""Test set-up: tools/ on sys.path (for `emu_reference` and `fixtures`) and the shared LLaMA files."""

import sys
from pathlib import Path

import pytest

TOOLS_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = TOOLS_DIR.parent
if str(TOOLS_DIR) not in sys.path:
    sys.path.insert(0, str(TOOLS_DIR))


@pytest.fixture(scope="session")
def llama_config_dir() -> Path:
    """emu1/llama_config from shared/, which sits inside or beside the checkout."""
    for shared in (REPO_ROOT / "shared", REPO_ROOT.parent / "shared"):
        candidate = shared / "emu1" / "llama_config"
        if (candidate / "tokenizer.model").is_file():
            return candidate
    raise FileNotFoundError("shared/emu1/llama_config not found inside or beside the repository")
