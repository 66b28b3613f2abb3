#!/usr/bin/python3
"""Export a published Emu1 checkpoint to an emu-bot model bundle (docs/bundle-format.md).

    python3 tools/export.py --checkpoint PATH --variant pretrain|instruct --out DIR
        [--decoder DIR] [--dtype fp32|fp16] [--split N] [--llama-config DIR] [--emu-config FILE]
    python3 tools/export.py --tokenizer-only --llama-config DIR --variant pretrain|instruct --out DIR

Exit status: 0 done; 2 bad input (one line `error [CODE]: message` on stderr); 1 anything else.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path
from typing import List, Optional

TOOLS_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS_DIR))


def _require_python_packages() -> None:
    """A Python without Debian's PyTorch and ONNX (a pyenv or venv first on PATH) gets one line, not a trace."""
    missing = []
    for module in ("torch", "onnx", "sentencepiece", "numpy"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        print(f"error [EXPORT_ENVIRONMENT]: {sys.executable} cannot import {', '.join(missing)}; run the exporter with "
              "Debian's Python, /usr/bin/python3, after `apt-get install python3-torch python3-onnx "
              "python3-sentencepiece python3-pil`", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    _require_python_packages()

import json  # noqa: E402

from emu_export.bundle import BundleError, DecoderExport, ExportOptions, export_bundle, export_tokenizer_only  # noqa: E402
from emu_export.weights import WeightRangeError  # noqa: E402
from emu_reference.checkpoint import CheckpointError, CheckpointSource  # noqa: E402
from emu_reference.config import ConfigError, EmuConfig, load_emu_config  # noqa: E402
from emu_reference.decoder_checkpoint import DecoderFolderError, DecoderFolderSource  # noqa: E402

DEFAULT_LLAMA_CONFIG = TOOLS_DIR / "data" / "llama_config"


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, help="pretrain/multimodal_encoder/pytorch_model.bin or Emu-instruct.pt")
    parser.add_argument("--variant", required=True, choices=["pretrain", "instruct"])
    parser.add_argument("--out", required=True, type=Path, help="bundle directory to create")
    parser.add_argument("--dtype", default="fp32", choices=["fp32", "fp16"])
    parser.add_argument("--split", type=int, default=1, help="decoder layer ranges (one per GPU)")
    parser.add_argument("--llama-config", type=Path, default=None,
                        help="folder with config.json and tokenizer files (default: the copy in tools/)")
    parser.add_argument("--emu-config", type=Path, default=None,
                        help="Emu-14B.json (default: next to the LLaMA config folder)")
    parser.add_argument("--tokenizer-only", action="store_true", help="write only tokenizer.json and manifest.json")
    parser.add_argument("--decoder", type=Path, default=None,
                        help="pretrain/ folder with the diffusers-format unet/ vae/ scheduler/ safety_checker/ "
                             "(and feature_extractor/): adds the image decoder (pretrain only)")
    parser.add_argument("--external-data", default="auto", choices=["auto", "always"],
                        help="auto: external data only for graphs over 1 GiB of weights")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing, non-empty --out")
    return parser.parse_args(argv)


def resolve_config(args: argparse.Namespace) -> tuple[EmuConfig, Path]:
    llama_dir: Path = args.llama_config or DEFAULT_LLAMA_CONFIG
    emu_json: Path = args.emu_config or llama_dir.parent / "Emu-14B.json"
    return load_emu_config(emu_json, llama_dir, args.variant), llama_dir


def progress(message: str, started: float = time.monotonic()) -> None:
    print(f"[{time.monotonic() - started:7.1f}s] {message}", flush=True)


def run(args: argparse.Namespace) -> None:
    config, llama_dir = resolve_config(args)
    if args.tokenizer_only:
        export_tokenizer_only(config, args.out, llama_dir, args.overwrite,
                              {"tokenizer_from": llama_dir.name}, progress)
        return
    if args.checkpoint is None:
        raise BundleError("--checkpoint is required unless --tokenizer-only is given")
    decoder = read_decoder(args.decoder) if args.decoder is not None else None
    progress(f"reading {args.checkpoint} (tensor index only; weights are read when written)")
    source = CheckpointSource(args.checkpoint, config)
    if source.lora_modules:
        progress(f"merging LoRA into {len(source.lora_modules)} attention weights as they are written")
    options = ExportOptions(dtype=args.dtype, split=args.split, external_data=args.external_data,
                            overwrite=args.overwrite)
    info = {"checkpoint": args.checkpoint.name, "lora_merged": bool(source.lora_modules)}
    export_bundle(config, source, args.out, llama_dir, options, info, progress, decoder)


def _json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf8"))
    except (OSError, json.JSONDecodeError) as error:
        raise DecoderFolderError(f"cannot read {path}: {error}") from error


def read_decoder(folder: Path) -> DecoderExport:
    """Validate the --decoder folder (configs, strict keys of every weights file) before any export."""
    progress(f"reading {folder} (configs and tensor indexes only)")
    source = DecoderFolderSource(folder)
    preprocessor_path = folder / "feature_extractor" / "preprocessor_config.json"
    preprocessor = _json(preprocessor_path) if preprocessor_path.is_file() else None
    files = {name: str(path.relative_to(folder)) for name, path in source.files.items()}
    return DecoderExport(source.config, source, _json(folder / "scheduler" / "scheduler_config.json"), preprocessor,
                         {"folder": folder.name, "files": files})


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    try:
        run(args)
    except DecoderFolderError as error:
        print(f"error [EXPORT_DECODER]: {error}", file=sys.stderr)
        return 2
    except (CheckpointError, ConfigError) as error:
        print(f"error [EXPORT_CHECKPOINT]: {error}", file=sys.stderr)
        return 2
    except (BundleError, WeightRangeError, ValueError) as error:
        print(f"error [EXPORT_INPUT]: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
