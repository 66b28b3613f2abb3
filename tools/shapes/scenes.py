"""Seeded scenes of coloured shapes, their captions and question-answer pairs.

The scene spec (other tools render scenes from it too; keep to it exactly):
- white background, square image of any size; one or two filled shapes; with two, they stand
  side by side (left and right halves) without overlapping;
- colours (RGB): red (220,30,30), orange (245,140,20), yellow (240,210,20), green (30,170,60),
  blue (30,80,220), purple (140,50,180), pink (240,120,180), black (20,20,20);
- shapes: circle, square, triangle (pointing up), star (five points), diamond (a square on its
  corner);
- captions name the shapes left to right: "a red circle", "a red circle and a blue square".

Everything is drawn from a `random.Random(seed)`, so a seed reproduces a scene exactly. Size,
position and anti-aliasing (supersampling factor 1, 2 or 4) vary per scene.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from PIL import Image, ImageDraw

COLOURS: Dict[str, Tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "orange": (245, 140, 20),
    "yellow": (240, 210, 20),
    "green": (30, 170, 60),
    "blue": (30, 80, 220),
    "purple": (140, 50, 180),
    "pink": (240, 120, 180),
    "black": (20, 20, 20),
}
SHAPES: Tuple[str, ...] = ("circle", "square", "triangle", "star", "diamond")
COLOUR_NAMES: Tuple[str, ...] = tuple(COLOURS)
COUNT_WORDS = {1: "one", 2: "two"}
WHITE = (255, 255, 255)


@dataclass(frozen=True)
class ShapeSpec:
    colour: str
    shape: str
    # Centre and radius (half the bounding box) as fractions of the image side.
    cx: float
    cy: float
    radius: float

    @property
    def phrase(self) -> str:
        return f"a {self.colour} {self.shape}"


@dataclass(frozen=True)
class Scene:
    objects: Tuple[ShapeSpec, ...]  # left to right
    size: int
    supersample: int  # 1: aliased; 2 or 4: anti-aliased by drawing larger and downsampling

    @property
    def caption(self) -> str:
        return " and ".join(obj.phrase for obj in self.objects)


def shape_polygon(shape: str, cx: float, cy: float, r: float) -> List[Tuple[float, float]]:
    """Vertices of a polygonal shape in pixels (y down); circles are drawn as ellipses instead."""
    if shape == "square":
        s = r * 0.85
        return [(cx - s, cy - s), (cx + s, cy - s), (cx + s, cy + s), (cx - s, cy + s)]
    if shape == "diamond":
        return [(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)]
    if shape == "triangle":
        # Pointing up, centred on its bounding box.
        return [(cx, cy - r), (cx + r, cy + r * 0.85), (cx - r, cy + r * 0.85)]
    if shape == "star":
        points = []
        inner = r * 0.42
        for k in range(10):
            angle = -math.pi / 2 + k * math.pi / 5
            radius = r if k % 2 == 0 else inner
            points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle) + r * 0.1))
        return points
    raise ValueError(f"not a polygonal shape: {shape!r}")


def render(scene: Scene) -> Image.Image:
    """The scene as an RGB PIL image of scene.size x scene.size."""
    big = scene.size * scene.supersample
    image = Image.new("RGB", (big, big), WHITE)
    draw = ImageDraw.Draw(image)
    for obj in scene.objects:
        cx, cy, r = obj.cx * big, obj.cy * big, obj.radius * big
        colour = COLOURS[obj.colour]
        if obj.shape == "circle":
            draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour)
        else:
            draw.polygon(shape_polygon(obj.shape, cx, cy, r), fill=colour)
    if scene.supersample > 1:
        image = image.resize((scene.size, scene.size), Image.LANCZOS)
    return image


def random_scene(rng: random.Random, sizes: Sequence[int] = (64, 96, 128, 224),
                 count: Optional[int] = None, objects: Optional[Sequence[Tuple[str, str]]] = None) -> Scene:
    """One scene: 1 or 2 shapes (or `count`, or exactly `objects` as (colour, shape) left to right)."""
    if objects is None:
        n = count if count is not None else rng.choice((1, 2))
        objects = [(rng.choice(COLOUR_NAMES), rng.choice(SHAPES)) for _ in range(n)]
    n = len(objects)
    if n not in (1, 2):
        raise ValueError("a scene holds one or two shapes")
    size = rng.choice(tuple(sizes))
    supersample = rng.choice((1, 2, 4))
    specs = []
    if n == 1:
        radius = rng.uniform(0.16, 0.36)
        cx = rng.uniform(radius + 0.04, 1 - radius - 0.04)
        cy = rng.uniform(radius + 0.04, 1 - radius - 0.04)
        specs.append(ShapeSpec(objects[0][0], objects[0][1], cx, cy, radius))
    else:
        # Each shape lives in its own half (with a gap), so they never overlap and order is clear.
        for index, (colour, shape) in enumerate(objects):
            radius = rng.uniform(0.12, 0.2)
            lo, hi = (radius + 0.03, 0.47 - radius) if index == 0 else (0.53 + radius, 0.97 - radius)
            cx = rng.uniform(lo, hi)
            cy = rng.uniform(radius + 0.1, 1 - radius - 0.1)
            specs.append(ShapeSpec(colour, shape, cx, cy, radius))
    return Scene(tuple(specs), size, supersample)


@dataclass(frozen=True)
class QA:
    question: str
    answer: str


def questions(scene: Scene, rng: random.Random) -> List[QA]:
    """Every question the scene answers unambiguously."""
    objs = scene.objects
    qa = [QA("how many shapes are there?", COUNT_WORDS[len(objs)])]
    shapes = [o.shape for o in objs]
    colours = [o.colour for o in objs]
    for obj in objs:
        if shapes.count(obj.shape) == 1:
            qa.append(QA(f"what colour is the {obj.shape}?", obj.colour))
        if colours.count(obj.colour) == 1:
            qa.append(QA(f"what shape is the {obj.colour} one?", f"a {obj.shape}"))
    if len(objs) == 2:
        qa.append(QA("what colour is the shape on the left?", objs[0].colour))
        qa.append(QA("what colour is the shape on the right?", objs[1].colour))
        qa.append(QA("what shape is on the left?", f"a {objs[0].shape}"))
        qa.append(QA("what shape is on the right?", f"a {objs[1].shape}"))
    qa.append(QA("what is in the image?", scene.caption))
    return qa


def scene_for_seed(seed: int, **kwargs) -> Scene:
    return random_scene(random.Random(seed), **kwargs)


def dominant_colour(image: Image.Image, threshold: int = 60) -> Optional[str]:
    """The spec colour nearest to the mean of non-white pixels (None if the image is all white).

    A pixel is non-white when its distance to white exceeds `threshold`.
    """
    pixels = list(image.convert("RGB").getdata())
    picked = [p for p in pixels if math.dist(p, WHITE) > threshold]
    if not picked:
        return None
    counts: Dict[str, int] = {}
    for p in picked:
        name = nearest_colour(p)
        counts[name] = counts.get(name, 0) + 1
    return max(counts, key=lambda k: counts[k])


def nearest_colour(rgb: Sequence[float]) -> str:
    return min(COLOURS, key=lambda name: math.dist(COLOURS[name], rgb))


def parse_caption(text: str) -> List[Tuple[str, str]]:
    """(colour, shape) pairs named in a caption, in order; words outside the spec are ignored."""
    words = [w.strip(".,!?;:").lower() for w in text.split()]
    found = []
    for i, w in enumerate(words):
        if w in SHAPES and i > 0 and words[i - 1] in COLOURS:
            found.append((words[i - 1], w))
    return found
