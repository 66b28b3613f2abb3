#!/usr/bin/python3
"""Export the trained shapes Emu (tools/train/train_shapes.py) into the default bundles.

    /usr/bin/python3 tools/train/export_shapes.py [--checkpoint tools/train/out/shapes-emu.pt]
        [--pretrain-checkpoint tools/train/out/pretrain/shapes-emu.pt]
        [--decoder tools/train/out/shapes-decoder.pt] [--out bundles]

Exported through the exporter's own API (tools/emu_export) twice: `tiny-instruct` (vocabulary
1024 + 6 added tokens) and `tiny-pretrain` (the first 1024 + 4 rows of the embedding and lm_head;
no [USER]/[ASSISTANT]), from one checkpoint, or, as the real Emu's two variants are, the pretrain
one from its own (`--pretrain-checkpoint`: the same model with its LLM trained further on
regression, train_all.sh's third stage), with the image decoder
of train_decoder.py (the exporter's DecoderExport) so it draws. The tokenizer folder
is tools/shapes/data (its tokenizer.json; build_tokenizer_json appends Emu's tokens after it,
and the exporter takes the manifest's token ids and the self-check's [PAD] from it).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

TOOLS_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TOOLS_DIR))
sys.path.insert(0, str(TOOLS_DIR / "train"))

from emu_export.bundle import DecoderExport, ExportOptions, export_bundle  # noqa: E402
from emu_reference.checkpoint import StateDictSource  # noqa: E402
from emu_reference.config import EmuConfig  # noqa: E402
from emu_reference.diffusion_config import DATA_DIR as DECODER_DATA  # noqa: E402
from shapes_data import BASE_VOCAB, TOKENIZER_DIR  # noqa: E402

REPO = TOOLS_DIR.parent
# This tiny UNet draws best at a lower guidance than Emu's 7.5 (10 in context): over 200 held-out
# prompts, through the engine, drawn colour 99.5% / 99.5% / 82.5% and drawn shape 98% / 97.5% /
# 82.5% at 3 / 5 / 7.5 (tools/train/README.md). The bundle says so; a request can ask for any scale.
DRAWING = {"guidance_scale": 3.0, "in_context_guidance_scale": 4.0}


def decoder_export(path: Path) -> DecoderExport:
    """The trained UNet/VAE (tools/train/train_decoder.py) with SD v1.5's scheduler and feature extractor."""
    from train_decoder import decoder_config

    data = torch.load(path, map_location="cpu")
    return DecoderExport(decoder_config(scaling_factor=data["scaling_factor"]), StateDictSource(data["state_dict"]),
                         json.loads((DECODER_DATA / "scheduler" / "scheduler_config.json").read_text()),
                         json.loads((DECODER_DATA / "feature_extractor" / "preprocessor_config.json").read_text()),
                         {"synthetic": False, "trained": "shapes (issue 12)", "checkpoint": path.name,
                          "seed": data["seed"], "unet_steps": data["unet_steps"], "vae_steps": data["vae_steps"]},
                         DRAWING)


def export(checkpoint: Path, out_dir: Path, decoder: Path | None = None,
           pretrain_checkpoint: Path | None = None) -> None:
    for variant, rows in (("instruct", BASE_VOCAB + 6), ("pretrain", BASE_VOCAB + 4)):
        source = pretrain_checkpoint if variant == "pretrain" and pretrain_checkpoint is not None else checkpoint
        data = torch.load(source, map_location="cpu")
        base = EmuConfig.from_dict(data["config"])
        state = data["state_dict"]
        info = {"synthetic": False, "trained": "shapes (issue 12)", "checkpoint": f"{source.parent.name}/{source.name}",
                "seed": data["seed"], "lora_merged": False}
        config = EmuConfig.from_dict({**base.to_dict(), "variant": variant,
                                      "llama": {**base.to_dict()["llama"], "vocab_size": rows}})
        weights = dict(state)
        for key in ("decoder.lm.model.embed_tokens.weight", "decoder.lm.lm_head.weight"):
            weights[key] = state[key][:rows].clone()
        image = decoder_export(decoder) if variant == "pretrain" and decoder is not None else None
        export_bundle(config, StateDictSource(weights), out_dir / f"tiny-{variant}", TOKENIZER_DIR,
                      ExportOptions(overwrite=True), info, print, image)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, default=TOOLS_DIR / "train" / "out" / "shapes-emu.pt")
    parser.add_argument("--decoder", type=Path, default=TOOLS_DIR / "train" / "out" / "shapes-decoder.pt",
                        help="the image decoder for tiny-pretrain (train_decoder.py); 'none' to leave it out")
    parser.add_argument("--pretrain-checkpoint", type=Path, default=None,
                        help="the pretrain variant's own checkpoint (default: --checkpoint)")
    parser.add_argument("--out", type=Path, default=REPO / "bundles")
    args = parser.parse_args()
    export(args.checkpoint, args.out, None if str(args.decoder) == "none" else args.decoder,
           args.pretrain_checkpoint)


if __name__ == "__main__":
    main()
