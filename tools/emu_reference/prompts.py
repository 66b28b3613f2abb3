"""Prompt strings of the reference (Emu1/inference.py, models/modeling_emu.py).

These go verbatim into the bundle manifest, so the engine builds prompts from the bundle rather
than from copies of its own.
"""

from __future__ import annotations

from typing import Dict

from .config import Variant

IMG_START = "[IMG]"
IMG_END = "[/IMG]"
IMAGE_TOKEN = "<image>"
USER_TOKEN = "[USER]"
ASSISTANT_TOKEN = "[ASSISTANT]"
PAD_TOKEN = "[PAD]"
N_CAUSAL = 32


def image_placeholder(n_causal: int = N_CAUSAL) -> str:
    """One image in a prompt: [IMG], 32 <image> slots for its embeddings, [/IMG]."""
    return IMG_START + IMAGE_TOKEN * n_causal + IMG_END


IMAGE_SYSTEM_MESSAGE = (
    "You will be presented with an image: [IMG]ImageContent[/IMG]. You will be able to see the image "
    "after I provide it to you. Please answer my questions based on the given image."
)
VIDEO_SYSTEM_MESSAGE = (
    "You are a helpful assistant and you will be presented with a video consisting of multiple "
    "chronological images: [IMG]ImageContent[/IMG]. You will be able to see the video after I "
    "provide it to you. Please answer my questions based on the given video."
)
CAPTION_QUESTION = "Please provide an accurate and concise description of the given image."
CAPTION_ANSWER_PREFIX = "The image depicts a photo of"

# `{system}` and `{interleaved}` are filled by the engine; the reference strips the result.
INSTRUCT_TEMPLATE = "{system} [USER]: {interleaved} [ASSISTANT]:"
PRETRAIN_TEMPLATE = "{interleaved}"


def instruct_prompt(system: str, interleaved: str) -> str:
    """Emu-I's chat prompt, stripped as the reference strips it (an empty system leaves no space)."""
    return INSTRUCT_TEMPLATE.format(system=system, interleaved=interleaved).strip()


def caption_prompt(n_causal: int = N_CAUSAL) -> str:
    """The reference's Emu-I captioning prompt for one image."""
    interleaved = image_placeholder(n_causal) + CAPTION_QUESTION
    return f"{IMAGE_SYSTEM_MESSAGE} [USER]: {interleaved} [ASSISTANT]: {CAPTION_ANSWER_PREFIX}".strip()


def templates(variant: Variant) -> Dict[str, str]:
    """The manifest's `prompts` section for a variant."""
    if variant == "pretrain":
        return {"template": PRETRAIN_TEMPLATE, "image_placeholder": image_placeholder()}
    return {
        "template": INSTRUCT_TEMPLATE,
        "image_placeholder": image_placeholder(),
        "image_system": IMAGE_SYSTEM_MESSAGE,
        "video_system": VIDEO_SYSTEM_MESSAGE,
        "multi_image_system": "",
        "caption_question": CAPTION_QUESTION,
        "caption_answer_prefix": CAPTION_ANSWER_PREFIX,
    }
