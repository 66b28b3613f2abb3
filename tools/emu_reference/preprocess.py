"""Image and video preprocessing the way the reference does it (Emu1/utils.py).

`process_img`: RGB, PIL resize straight to 224x224 (bicubic, the Pillow default for RGB; aspect
ratio not kept, no crop), /255 and CLIP normalisation in float64 numpy, then float32 CHW.
Video: 8 frame indices `start + round(seg * i)`, seg = (frames - 1) / 8, start = int(seg / 2),
numpy rounding (halves to even).
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Tuple, Union

import numpy as np
import torch
from PIL import Image

IMAGE_SIZE = 224
CLIP_MEAN: Tuple[float, float, float] = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD: Tuple[float, float, float] = (0.26862954, 0.26130258, 0.27577711)
VIDEO_FRAMES = 8


def preprocess_image(image: Union[Path, Image.Image]) -> torch.Tensor:
    """An image file or PIL image -> float32 [3, 224, 224], normalised."""
    picture = Image.open(image) if isinstance(image, Path) else image
    picture = picture.convert("RGB").resize((IMAGE_SIZE, IMAGE_SIZE), Image.BICUBIC)
    array = np.asarray(picture) / 255.0
    array = (array - np.array(CLIP_MEAN)) / np.array(CLIP_STD)
    return torch.tensor(array).to(torch.float32).permute(2, 0, 1).contiguous()


def video_frame_indices(num_frames: int, num_segments: int = VIDEO_FRAMES) -> List[int]:
    """The reference's frame sampling: segment midpoints with numpy's round-half-to-even."""
    segment = float(num_frames - 1) / num_segments
    start = int(segment / 2)
    return [start + int(np.round(segment * index)) for index in range(num_segments)]
