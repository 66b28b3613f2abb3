"""The shapes model's own small tokenizer: SentencePiece BPE with byte fallback, LLaMA-style.

    /usr/bin/python3 tools/shapes/tokenizer.py        # writes tools/shapes/data/tokenizer.{model,json}

Trained on the scene vocabulary (colours, shapes, captions, questions, answers) and the
reference's prompt strings, with LLaMA's layout: `<unk>`=0, `<s>`=1, `</s>`=2, the 256 byte pieces
`<0x00>`..`<0xFF>` at 3..258, then the learned pieces; no normalisation besides SentencePiece's
dummy prefix, whitespace kept as is, digits split; pieces may span spaces (the reference's
fixed prompt strings become a few pieces, which keeps training sequences short). Any text encodes (unknown characters fall back
to bytes), so people's messages still work, if slowly.

`tokenizer.json` has the structure of the LLaMA file (tools/data/llama_config/tokenizer.json):
BPE with byte_fallback, the Prepend/Replace normalizer and the Replace/ByteFallback/Fuse/Strip
decoder; merges come from the vocabulary the way transformers' SentencePieceExtractor derives
them (every split of a piece into two pieces, ranked by the piece's id). Emu's added tokens are
appended by the exporter (emu_reference.tokenizer.build_tokenizer_json) right after the
vocabulary, so `[PAD]` = vocabulary size.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Dict, List

import sentencepiece

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from emu_reference import prompts  # noqa: E402
from shapes.scenes import COLOURS, COUNT_WORDS, SHAPES  # noqa: E402

DATA_DIR = HERE / "data"
VOCAB_SIZE = 1024


def corpus() -> List[str]:
    lines = [prompts.IMAGE_SYSTEM_MESSAGE, prompts.VIDEO_SYSTEM_MESSAGE, prompts.CAPTION_QUESTION,
             prompts.CAPTION_ANSWER_PREFIX]
    phrases = [f"a {c} {s}" for c in COLOURS for s in SHAPES]
    lines += phrases
    lines += [f"{a} and {b}" for a in phrases[::3] for b in phrases[::4]]
    for s in SHAPES:
        lines.append(f"what colour is the {s}?")
    for c in COLOURS:
        lines.append(f"what shape is the {c} one?")
    for side in ("left", "right"):
        lines += [f"what colour is the shape on the {side}?", f"what shape is on the {side}?"]
    lines += ["how many shapes are there?", "what is in the image?", " ".join(COUNT_WORDS.values())]
    lines += [
        "Describe the image. What do you see? Draw a picture of a shape.",
        "This is the first image: This is the second image: An image of",
        "Hello! How are you? Yes, no. The picture shows a colourful figure on white.",
    ]
    # Repeat the scene words so they win merges over the long system messages.
    # Repeat the prompt strings and scene words so they win merges: pieces may span spaces, so the
    # reference's long prompt strings become a few pieces (short training sequences).
    fixed = [prompts.IMAGE_SYSTEM_MESSAGE, prompts.CAPTION_QUESTION, prompts.CAPTION_ANSWER_PREFIX] * 200
    return lines + fixed + phrases * 20 + [" ".join(COLOURS)] * 40 + [" ".join(SHAPES)] * 40


def train(vocab_size: int = VOCAB_SIZE) -> bytes:
    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus()), model_writer=model, model_type="bpe", vocab_size=vocab_size,
        byte_fallback=True, character_coverage=1.0, unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
        add_dummy_prefix=True, remove_extra_whitespaces=False, normalization_rule_name="identity",
        split_digits=True, split_by_whitespace=False, max_sentencepiece_length=256,
        hard_vocab_limit=False, minloglevel=2, num_threads=1,
    )
    return model.getvalue()


def tokenizer_json(model_bytes: bytes) -> Dict:
    sp = sentencepiece.SentencePieceProcessor(model_proto=model_bytes)
    vocab = {sp.id_to_piece(i): i for i in range(sp.get_piece_size())}
    merges = []
    for piece, piece_id in vocab.items():
        if piece_id == 0 or sp.is_byte(piece_id) or sp.is_control(piece_id) or len(piece) < 2:
            continue
        for cut in range(1, len(piece)):
            left, right = piece[:cut], piece[cut:]
            if left in vocab and right in vocab:
                merges.append((piece_id, vocab[left], vocab[right], left, right))
    merges.sort()
    special = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                "normalized": True, "special": True} for i, t in enumerate(["<unk>", "<s>", "</s>"])]
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": special,
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "\u2581"},
            {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
        "pre_tokenizer": None,
        "post_processor": None,
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
            {"type": "ByteFallback"}, {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True,
                  "vocab": vocab, "merges": [f"{left} {right}" for *_, left, right in merges]},
    }


def main() -> None:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    model_bytes = train()
    (DATA_DIR / "tokenizer.model").write_bytes(model_bytes)
    data = tokenizer_json(model_bytes)
    (DATA_DIR / "tokenizer.json").write_text(json.dumps(data, ensure_ascii=False) + "\n", encoding="utf8")
    print(f"{len(data['model']['vocab'])} pieces, {len(data['model']['merges'])} merges -> {DATA_DIR}")


if __name__ == "__main__":
    main()
