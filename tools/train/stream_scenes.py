#!/usr/bin/python3
"""Render fresh training scenes into a directory while the shapes Emu trains on another core.

    /usr/bin/python3 tools/train/stream_scenes.py --out OUT/scenes [--minutes 33] [--keep 40]

A fixed pool of a few thousand scenes is memorised: after the 42-minute joint stage a linear
read-out of the visual embeddings named every object of 91% of training scenes but of only 63%
of unseen ones. Rendering is about 3 ms a scene, too slow to do between training steps, so this
process renders chunks of `--chunk` scenes (chunk k from its own seed stream, `random.Random(
1_000_000 + 1000 * (seed % 1000) + k)`, never a held-out seed) and writes each as
`scenes-{k:05d}.pt` (scenes and their pooled pixels, float16) by an atomic rename; train_shapes.py
`--fresh-scenes DIR` adds each new chunk to its ring of scenes. Only the newest `--keep` chunks
stay on disk. It stops after `--minutes`, or when the file DIR/stop appears.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path
from typing import List, Tuple

import torch

TOOLS_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TOOLS_DIR))
sys.path.insert(0, str(TOOLS_DIR / "train"))

from shapes.scenes import Scene, random_scene  # noqa: E402
from shapes_data import TRAIN_SIZES, render_pooled  # noqa: E402

CHUNK_PATTERN = "scenes-*.pt"


def chunk_seed(seed: int, index: int) -> int:
    return 1_000_000 + 1000 * (seed % 1000) + index


def chunk_path(directory: Path, index: int) -> Path:
    return directory / f"scenes-{index:05d}.pt"


def chunk_index(path: Path) -> int:
    return int(path.stem.split("-")[1])


def write_chunk(directory: Path, index: int, seed: int, size: int, factor: int) -> None:
    rng = random.Random(chunk_seed(seed, index))
    scenes = [random_scene(rng, sizes=TRAIN_SIZES) for _ in range(size)]
    pooled = render_pooled(scenes, factor).to(torch.float16)
    partial = directory / f".scenes-{index:05d}.pt.partial"
    torch.save({"scenes": scenes, "pooled": pooled}, partial)
    os.replace(partial, chunk_path(directory, index))


def read_chunk(path: Path) -> Tuple[List[Scene], torch.Tensor]:
    data = torch.load(path)
    return data["scenes"], data["pooled"].to(torch.float32)


def stream(directory: Path, seed: int, minutes: float, size: int, factor: int, keep: int,
           limit: int | None = None, rate: float = 0.0) -> int:
    """Writes chunks until the deadline, the stop file or `limit` chunks; with `rate` > 0, at most
    that many scenes a second (the trainer takes about 90), leaving the rest of the core free."""
    directory.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    deadline = started + minutes * 60
    index = 0
    while (time.monotonic() < deadline and not (directory / "stop").exists()
           and (limit is None or index < limit)):
        write_chunk(directory, index, seed, size, factor)
        stale = chunk_path(directory, index - keep)
        stale.unlink(missing_ok=True)
        index += 1
        if rate > 0:
            time.sleep(max(0.0, min(started + index * size / rate, deadline) - time.monotonic()))
    return index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--minutes", type=float, default=33.0)
    parser.add_argument("--chunk", type=int, default=1000, help="scenes per file")
    parser.add_argument("--keep", type=int, default=40, help="newest files kept on disk")
    parser.add_argument("--rate", type=float, default=0.0, help="at most this many scenes a second (0: no limit)")
    parser.add_argument("--patch-pool", type=int, default=4, help="as train_shapes.py's --patch-pool")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--smoke", action="store_true", help="two chunks of 50 scenes")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    limit = None
    if args.smoke:
        args.chunk, limit = 50, 2
    written = stream(args.out, args.seed, args.minutes, args.chunk, args.patch_pool, args.keep, limit, args.rate)
    print(f"{written} chunks of {args.chunk} scenes written to {args.out}", flush=True)


if __name__ == "__main__":
    main()
