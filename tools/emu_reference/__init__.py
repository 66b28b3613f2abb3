"""PyTorch reference implementation of Emu1, used for export and golden fixtures.

Modules: `config` (dimensions of the 14B and tiny models), `vision`, `causal_former`, `llama`
and `model` (the network, with the checkpoint's parameter names), `lazy_load` and `checkpoint`
(reading published checkpoints tensor by tensor, LoRA merge), `preprocess` and `prompts` (the
reference's image handling and prompt strings); `tokenizer` and `generation` (the slow tokenizer
and Hugging Face-faithful search) are written against the same model. The image decoder: `diffusion_config` (UNet, VAE, safety
checker and scheduler configuration), `diffusion_blocks`, `unet`, `vae`, `safety_checker` (diffusers'
names and numerics), `schedulers` (PNDM, DDIM), `image_decoder` (the three as one module, Emu's
drawing loop and post-processing), `decoder_checkpoint` and `safetensors_reader` (the pretrain/
folders, strict keys).
"""

from .config import EmuConfig, Variant, emu_14b_config, tiny_config
from .model import EmuModel, init_random_weights

__all__ = ["EmuConfig", "EmuModel", "Variant", "emu_14b_config", "init_random_weights", "tiny_config"]
