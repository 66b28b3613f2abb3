#!/usr/bin/python3
"""Write the fixed held-out scenes the engine evaluation uses (seeds never used in training).

    /usr/bin/python3 tools/shapes/heldout.py [--out test/fixtures/shapes] [--count 200]

Scene i uses seed 9_000_000 + i (training pools use seeds below 1_000_000 through one
`random.Random(seed)` stream, and the streamed training scenes seeds 1_000_000-1_999_999, one
stream per chunk, so no scene repeats by construction of the generator state). Each
scene is a PNG (sizes 48-256, varied anti-aliasing) with its caption and one question, and every
scene also gives one drawing prompt "a <colour> <shape>". heldout.json lists them.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shapes.scenes import COLOUR_NAMES, SHAPES, questions, random_scene, render  # noqa: E402

SEED_BASE = 9_000_000
SIZES = (48, 64, 80, 100, 128, 160, 200, 256)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[2] / "test" / "fixtures" / "shapes")
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args()
    images = args.out / "heldout"
    images.mkdir(parents=True, exist_ok=True)
    cases = []
    for index in range(args.count):
        rng = random.Random(SEED_BASE + index)
        scene = random_scene(rng, sizes=SIZES)
        qa = rng.choice(questions(scene, rng))
        name = f"scene-{index:03d}.png"
        render(scene).save(images / name, optimize=True)
        cases.append({
            "image": f"heldout/{name}", "seed": SEED_BASE + index, "size": scene.size,
            "objects": [[o.colour, o.shape] for o in scene.objects], "caption": scene.caption,
            "question": qa.question, "answer": qa.answer,
            "draw": f"a {rng.choice(COLOUR_NAMES)} {rng.choice(SHAPES)}",
        })
    (args.out / "heldout.json").write_text(json.dumps({"seed_base": SEED_BASE, "cases": cases}, indent=1) + "\n")
    print(f"{len(cases)} held-out scenes in {args.out}")


if __name__ == "__main__":
    main()
