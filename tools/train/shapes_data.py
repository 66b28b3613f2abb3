"""The training data of the shapes Emu: scenes preprocessed as the reference does, pooled for the
block-constant patch embedding, and each task's token ids and targets."""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
import torch
from PIL import Image
from torch.nn import functional as F

TOOLS_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TOOLS_DIR))

from emu_reference.preprocess import CLIP_MEAN, CLIP_STD, IMAGE_SIZE  # noqa: E402
from emu_reference.prompts import image_placeholder  # noqa: E402
from emu_reference.tokenizer import EOS_ID, SlowTokenizer  # noqa: E402
from shapes.scenes import Scene, questions, random_scene, render  # noqa: E402
from shapes.templates import training_pair  # noqa: E402

TOKENIZER_DIR = TOOLS_DIR / "shapes" / "data"
BASE_VOCAB = 1024
TRAIN_SIZES = (48, 64, 96, 128, 224)


def pixels_uint8(image: Image.Image) -> np.ndarray:
    """The reference's resize (RGB, bicubic to 224x224), kept as uint8 HWC to save memory."""
    return np.asarray(image.convert("RGB").resize((IMAGE_SIZE, IMAGE_SIZE), Image.BICUBIC), dtype=np.uint8)


MEAN = torch.tensor(CLIP_MEAN).view(1, 3, 1, 1)
STD = torch.tensor(CLIP_STD).view(1, 3, 1, 1)


def normalise(batch: np.ndarray) -> torch.Tensor:
    """uint8 [B, H, W, 3] -> float32 [B, 3, H, W] with CLIP normalisation (as preprocess_image)."""
    tensor = torch.from_numpy(batch).permute(0, 3, 1, 2).to(torch.float32) / 255.0
    return (tensor - MEAN) / STD


class Pool:
    """Scenes and their pooled pixels ([N, 3, 224/F, 224/F]: each scene preprocessed, then F x F
    average-pooled). With a capacity above the first scenes' count it is a ring: scenes streamed in
    later (`add`) fill it, then replace the oldest, so a long run sees fresh scenes instead of
    memorising a fixed pool."""

    def __init__(self, scenes: List[Scene], pooled: torch.Tensor, capacity: int = 0) -> None:
        capacity = max(capacity, len(scenes))
        self.pooled = torch.empty((capacity, *pooled.shape[1:]), dtype=torch.float32)
        self.pooled[:len(scenes)] = pooled
        self.scenes = list(scenes)
        self._oldest = 0
        self.capacity = capacity

    def __len__(self) -> int:
        return len(self.scenes)

    def add(self, scenes: List[Scene], pooled: torch.Tensor) -> None:
        for scene, pixels in zip(scenes, pooled):
            if len(self.scenes) < self.capacity:
                slot = len(self.scenes)
                self.scenes.append(scene)
            else:
                slot = self._oldest
                self._oldest = (self._oldest + 1) % self.capacity
                self.scenes[slot] = scene
            self.pooled[slot] = pixels


def render_pooled(scenes: List[Scene], factor: int, chunk: int = 64) -> torch.Tensor:
    """Scenes rendered and preprocessed the reference's way (224x224, CLIP normalisation), then
    average-pooled by `factor` for BlockPatchEmbed."""
    pooled = []
    for start in range(0, len(scenes), chunk):
        pixels = np.stack([pixels_uint8(render(scene)) for scene in scenes[start:start + chunk]])
        pooled.append(F.avg_pool2d(normalise(pixels), factor))
    return torch.cat(pooled)


def build_pool(count: int, seed: int, factor: int, capacity: int = 0) -> Pool:
    """`count` seeded scenes (one `random.Random(seed)` stream), with room for `capacity`."""
    rng = random.Random(seed)
    scenes = [random_scene(rng, sizes=TRAIN_SIZES) for _ in range(count)]
    return Pool(scenes, render_pooled(scenes, factor), capacity)


class Batcher:
    """Token ids, targets and image slots for one task's batch (right padded)."""

    def __init__(self, tokenizer: SlowTokenizer) -> None:
        self.tok = tokenizer
        self.image_id = tokenizer.no_split_tokens["<image>"]
        self.img_start = tokenizer.no_split_tokens["[IMG]"]
        self.pad = tokenizer.no_split_tokens["[PAD]"]
        self._cache: Dict[str, List[int]] = {}

    def encode(self, text: str) -> List[int]:
        if text not in self._cache:
            self._cache[text] = self.tok.encode(text)
        return self._cache[text]

    def text_example(self, kind: str, question: str, answer: str) -> Tuple[List[int], List[int]]:
        prompt, completion = training_pair(kind, question, answer)
        prompt_ids = self.encode(prompt)
        full = self.encode(prompt + completion)
        assert full[:len(prompt_ids)] == prompt_ids, (prompt, completion)
        ids = full + [EOS_ID]
        targets = [-100] * len(ids)
        for position in range(len(prompt_ids) - 1, len(ids) - 1):
            targets[position] = ids[position + 1]
        return ids, targets

    def regress_example(self, caption: str) -> List[int]:
        return self.encode(caption + image_placeholder())

    def pad_rows(self, rows: List[List[int]], fill: int) -> torch.Tensor:
        width = max(len(r) for r in rows)
        return torch.tensor([r + [fill] * (width - len(r)) for r in rows])


def sample_text(kind: str, scene: Scene, rng: random.Random) -> Tuple[str, str]:
    if kind == "answer":
        qa = rng.choice(questions(scene, rng))
        return qa.question, qa.answer
    return "", scene.caption
