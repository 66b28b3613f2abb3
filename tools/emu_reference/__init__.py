"""PyTorch reference implementation of Emu1, used for export and golden fixtures.

Modules: `config` (dimensions of the 14B and tiny models), `vision`, `causal_former`, `llama`
and `model` (the network, with the checkpoint's parameter names), `lazy_load` and `checkpoint`
(reading published checkpoints tensor by tensor, LoRA merge), `preprocess` and `prompts` (the
reference's image handling and prompt strings); `tokenizer` and `generation` (the slow tokenizer
and Hugging Face-faithful search) are written against the same model.
"""

from .config import EmuConfig, Variant, emu_14b_config, tiny_config
from .model import EmuModel, init_random_weights

__all__ = ["EmuConfig", "EmuModel", "Variant", "emu_14b_config", "init_random_weights", "tiny_config"]
