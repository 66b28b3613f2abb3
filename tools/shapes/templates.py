"""Training and evaluation prompts, built with the reference's own prompt strings
(tools/emu_reference/prompts.py), so they equal what src/chat sends:

- answer (instruct): `{image system} [USER]: {image}{question} [ASSISTANT]:` then ` {answer}`;
- describe (instruct): the reference's captioning prompt, ending `The image depicts a photo of`,
  then ` {caption}`;
- pretrain (in-context style): `{image}{caption}` — the image placeholder followed by its caption,
  and for drawing `{caption}[IMG]` (the engine appends `[IMG]`).
"""

from __future__ import annotations

from typing import Tuple

from emu_reference.prompts import IMAGE_SYSTEM_MESSAGE, caption_prompt, image_placeholder, instruct_prompt


def answer_prompt(question: str) -> str:
    return instruct_prompt(IMAGE_SYSTEM_MESSAGE, image_placeholder() + question)


def describe_prompt() -> str:
    return caption_prompt()


def pretrain_caption_prompt() -> str:
    return image_placeholder()


def training_pair(kind: str, question: str, answer: str) -> Tuple[str, str]:
    """(prompt, completion) where completion is what the model must generate (a leading space)."""
    if kind == "answer":
        return answer_prompt(question), " " + answer
    if kind == "describe":
        return describe_prompt(), " " + answer
    if kind == "pretrain":
        return pretrain_caption_prompt(), answer
    raise ValueError(kind)
