"""The scene generator of tools/shapes (issue 12's spec)."""

from __future__ import annotations

import random

import pytest

from shapes.scenes import (COLOURS, SHAPES, Scene, ShapeSpec, dominant_colour, parse_caption, questions,
                           random_scene, render, scene_for_seed)
from shapes.templates import training_pair


def test_seeded_scenes_are_reproducible() -> None:
    assert scene_for_seed(5) == scene_for_seed(5)
    assert render(scene_for_seed(5)).tobytes() == render(scene_for_seed(5)).tobytes()
    assert len({scene_for_seed(seed) for seed in range(50)}) == 50


def test_two_shapes_side_by_side_without_overlap() -> None:
    rng = random.Random(1)
    for _ in range(200):
        scene = random_scene(rng, count=2)
        left, right = scene.objects
        assert left.cx + left.radius < 0.5 < right.cx - right.radius
        for obj in scene.objects:
            assert 0 < obj.cx - obj.radius and obj.cx + obj.radius < 1
            assert 0 < obj.cy - obj.radius and obj.cy + obj.radius < 1


def test_render_colours_background_and_size() -> None:
    for colour in COLOURS:
        for shape in SHAPES:
            scene = Scene((ShapeSpec(colour, shape, 0.5, 0.5, 0.3),), 64, 2)
            image = render(scene)
            assert image.size == (64, 64) and image.mode == "RGB"
            assert image.getpixel((0, 0)) == (255, 255, 255)
            assert image.getpixel((32, 34)) == COLOURS[colour]
            assert dominant_colour(image) == colour


def test_shapes_differ_in_area() -> None:
    areas = {}
    for shape in SHAPES:
        image = render(Scene((ShapeSpec("black", shape, 0.5, 0.5, 0.4),), 100, 1))
        areas[shape] = sum(1 for p in image.getdata() if p != (255, 255, 255))
    assert areas["circle"] > areas["square"] > areas["diamond"] > areas["triangle"] > areas["star"]
    # the triangle points up: narrow at the top
    image = render(Scene((ShapeSpec("black", "triangle", 0.5, 0.5, 0.4),), 100, 1))
    top = sum(1 for x in range(100) if image.getpixel((x, 15)) != (255, 255, 255))
    bottom = sum(1 for x in range(100) if image.getpixel((x, 80)) != (255, 255, 255))
    assert top < bottom


def test_captions_and_questions() -> None:
    scene = Scene((ShapeSpec("red", "circle", 0.25, 0.5, 0.15), ShapeSpec("blue", "square", 0.75, 0.5, 0.15)), 64, 1)
    assert scene.caption == "a red circle and a blue square"
    qa = {q.question: q.answer for q in questions(scene, random.Random(0))}
    assert qa["what colour is the circle?"] == "red"
    assert qa["what shape is the blue one?"] == "a square"
    assert qa["how many shapes are there?"] == "two"
    assert qa["what colour is the shape on the right?"] == "blue"
    same = Scene((ShapeSpec("red", "star", 0.25, 0.5, 0.15), ShapeSpec("red", "star", 0.75, 0.5, 0.15)), 64, 1)
    asked = {q.question for q in questions(same, random.Random(0))}
    assert "what colour is the star?" not in asked and "what shape is the red one?" not in asked
    assert parse_caption("The image depicts a photo of a red circle and a blue square.") == [
        ("red", "circle"), ("blue", "square")]


@pytest.mark.parametrize("kind", ["answer", "describe", "pretrain"])
def test_training_prompts_use_the_reference_templates(kind: str) -> None:
    prompt, completion = training_pair(kind, "what colour is the circle?", "red")
    if kind == "answer":
        assert prompt.startswith("You will be presented with an image: [IMG]ImageContent[/IMG].")
        assert prompt.endswith("[/IMG]what colour is the circle? [ASSISTANT]:") and completion == " red"
    elif kind == "describe":
        assert prompt.endswith("[ASSISTANT]: The image depicts a photo of")
    else:
        assert prompt.startswith("[IMG]<image>") and completion == "red"


def test_shapes_tokenizer_puts_emu_tokens_after_its_vocabulary() -> None:
    from pathlib import Path

    from emu_reference.tokenizer import SlowTokenizer, build_tokenizer_json

    data = Path(__file__).resolve().parents[1] / "shapes" / "data"
    tokenizer = SlowTokenizer(data / "tokenizer.model", "instruct")
    base = tokenizer.base_vocab_size
    assert base == 1024
    assert tokenizer.no_split_tokens["[PAD]"] == base and tokenizer.no_split_tokens["[ASSISTANT]"] == base + 5
    built = build_tokenizer_json(data, "pretrain")
    assert [t["id"] for t in built["added_tokens"]] == [0, 1, 2, base, base + 1, base + 2, base + 3]
    prompt, completion = training_pair("describe", "", "a red circle and a blue square")
    ids = tokenizer.encode(prompt + completion)
    assert ids[:len(tokenizer.encode(prompt))] == tokenizer.encode(prompt)
    completion_ids = ids[len(tokenizer.encode(prompt)):]
    assert 1 <= len(completion_ids) <= 7 and tokenizer.decode(completion_ids) == "a red circle and a blue square"
