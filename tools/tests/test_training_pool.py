"""The training pool's ring of streamed scenes and the scene stream's chunk files."""

import random
import sys
from pathlib import Path

import torch

TOOLS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TOOLS))
sys.path.insert(0, str(TOOLS / "train"))

from shapes.scenes import random_scene  # noqa: E402
from shapes_data import TRAIN_SIZES, Pool  # noqa: E402
from stream_scenes import chunk_seed, read_chunk, stream  # noqa: E402


def scenes(count: int, seed: int) -> list:
    rng = random.Random(seed)
    return [random_scene(rng) for _ in range(count)]


def test_the_pool_fills_its_capacity_then_replaces_the_oldest_scenes() -> None:
    first = scenes(3, 1)
    pool = Pool(first, torch.zeros(3, 3, 2, 2), capacity=5)
    streamed = scenes(4, 2)
    pool.add(streamed, torch.arange(1, 5, dtype=torch.float32).view(4, 1, 1, 1).expand(4, 3, 2, 2))
    assert len(pool) == 5
    # Slots 3 and 4 took the first two streamed scenes; then the oldest (slots 0, 1) made room.
    assert pool.scenes == [streamed[2], streamed[3], first[2], streamed[0], streamed[1]]
    assert [float(pool.pooled[slot, 0, 0, 0]) for slot in range(5)] == [3.0, 4.0, 0.0, 1.0, 2.0]


def test_a_pool_without_room_to_spare_keeps_its_scenes() -> None:
    pool = Pool(scenes(2, 3), torch.ones(2, 3, 2, 2))
    assert pool.capacity == 2 and len(pool) == 2


def test_the_stream_writes_seeded_chunks_and_keeps_only_the_newest(tmp_path: Path) -> None:
    written = stream(tmp_path, seed=7, minutes=1.0, size=4, factor=4, keep=2, limit=3)
    assert written == 3
    assert sorted(path.name for path in tmp_path.iterdir()) == ["scenes-00001.pt", "scenes-00002.pt"]
    chunk_scenes, pooled = read_chunk(tmp_path / "scenes-00002.pt")
    rng = random.Random(chunk_seed(7, 2))
    assert [scene.caption for scene in chunk_scenes] == [
        random_scene(rng, sizes=TRAIN_SIZES).caption for _ in range(4)]
    assert pooled.shape == (4, 3, 56, 56) and pooled.dtype == torch.float32
    assert chunk_seed(7, 2) < 9_000_000  # held-out scenes use seeds from 9,000,000 (tools/shapes/heldout.py)


def test_the_stream_stops_when_asked(tmp_path: Path) -> None:
    (tmp_path / "stop").touch()
    assert stream(tmp_path, seed=7, minutes=1.0, size=4, factor=4, keep=2) == 0
