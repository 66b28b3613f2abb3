"""Emu's tokenizer: the slow LlamaTokenizer of transformers 4.29 with Emu's added tokens.

The reference (baaivision/Emu, Emu1/models/modeling_llama.py) loads
`LlamaTokenizer.from_pretrained(..., use_fast=False)` and then calls `add_special_tokens` with plain
strings: `pad_token="[PAD]"`, `bos/eos/unk` re-set to `"<s>"`, `"</s>"`, `"<unk>"`, and
`additional_special_tokens=["[IMG]", "[/IMG]", "<image>"]` (plus `"[USER]"`, `"[ASSISTANT]"` for
Emu-I). `[PAD]` is new and gets 32000, the others follow in order.

What transformers 4.29's slow `PreTrainedTokenizer.tokenize` then does (tokenization_utils.py):

1. `prepare_for_tokenization` is the base no-op (LlamaTokenizer 4.29 has no `legacy` flag and no
   override; those arrived in 4.31).
2. A trie splits the text on every "no split" token: the added tokens and also `<s>`, `</s>`,
   `<unk>` (special tokens are registered as no-split). No empty pieces are produced.
3. For each no-split token that is not an `AddedToken` object, the neighbouring text is stripped:
   the piece on its right with `str.lstrip()`, the piece on its left with `str.rstrip()`. Because
   Emu set every special token as a plain `str`, this applies to all of them, `<s>` included.
   Python's `str.strip` whitespace set is used (it includes \\x1c-\\x1f and \\x85, excludes \\ufeff).
4. Pieces that became empty are dropped; every other text piece is SentencePiece-encoded on its own,
   so each gets its own dummy-prefix space (`[/IMG]There` gives `▁There`).
5. BOS (1) is prepended; EOS is not appended.

Decoding (`batch_decode(..., skip_special_tokens=True)`) drops every special id (0, 1, 2 and the added
ids) and SentencePiece-decodes the rest as one sequence.

`build_tokenizer_json` writes the fast-tokenizer file for the TypeScript engine. A fast tokenizer
cannot express step 3 exactly (its whitespace set is not Python's), so the engine splits on the
added tokens and strips itself, then encodes each piece alone. What matters in the file is
therefore that encoding one piece reproduces SentencePiece: the normalizer (prepend `▁`, spaces to
`▁`), the BPE model with byte fallback and the decoder are kept as the LLaMA file has them. The added
tokens, and `<s>`, `</s>`, `<unk>` with them since the slow tokenizer splits and strips on those too,
carry `lstrip`/`rstrip` = true, the nearest fast-tokenizer statement of step 3, and
`normalized` = false so they match the raw text.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import sentencepiece

ADDED_TOKENS: dict[str, list[str]] = {
    "pretrain": ["[PAD]", "[IMG]", "[/IMG]", "<image>"],
    "instruct": ["[PAD]", "[IMG]", "[/IMG]", "<image>", "[USER]", "[ASSISTANT]"],
}
FIRST_ADDED_ID = 32000
UNK_ID, BOS_ID, EOS_ID = 0, 1, 2
LLAMA_SPECIAL_TOKENS = {"<unk>": UNK_ID, "<s>": BOS_ID, "</s>": EOS_ID}


def added_token_ids(variant: str, first_id: int = FIRST_ADDED_ID) -> dict[str, int]:
    """Emu's added tokens of one variant with their ids, in order, right after the base vocabulary.

    `first_id` is the base vocabulary's size: 32000 for LLaMA; a smaller SentencePiece model
    (the trained shapes model's, tools/shapes/tokenizer.py) puts them after its own pieces.
    """
    if variant not in ADDED_TOKENS:
        raise ValueError(f"unknown variant {variant!r}; expected one of {sorted(ADDED_TOKENS)}")
    return {token: first_id + index for index, token in enumerate(ADDED_TOKENS[variant])}


class SlowTokenizer:
    """Reproduces the reference's slow tokenizer (see the module docstring) on SentencePiece."""

    def __init__(self, sp_model_path: str | Path, variant: str) -> None:
        self._sp = sentencepiece.SentencePieceProcessor(model_file=str(sp_model_path))
        # The added tokens follow the SentencePiece vocabulary (32000 pieces for LLaMA).
        self.base_vocab_size = self._sp.get_piece_size()
        self.no_split_tokens: dict[str, int] = {**LLAMA_SPECIAL_TOKENS,
                                                **added_token_ids(variant, self.base_vocab_size)}
        self.special_ids = frozenset(self.no_split_tokens.values())
        # No token is a prefix or substring of another, so a leftmost-match regex splits exactly
        # like 4.29's trie.
        alternatives = sorted(self.no_split_tokens, key=len, reverse=True)
        self._splitter = re.compile("(" + "|".join(map(re.escape, alternatives)) + ")")

    def split(self, text: str) -> list[str]:
        """Text and no-split tokens in order, stripped and without empty pieces, as 4.29 does."""
        pieces = [piece for piece in self._splitter.split(text) if piece]
        for index, piece in enumerate(pieces):
            if piece not in self.no_split_tokens:
                continue
            if index + 1 < len(pieces):
                pieces[index + 1] = pieces[index + 1].lstrip()
            if index > 0:
                pieces[index - 1] = pieces[index - 1].rstrip()
        return [piece for piece in pieces if piece]

    def encode(self, text: str, add_bos: bool = True) -> list[int]:
        ids = [BOS_ID] if add_bos else []
        for piece in self.split(text):
            if piece in self.no_split_tokens:
                ids.append(self.no_split_tokens[piece])
            else:
                ids.extend(self.encode_piece(piece))
        return ids

    def encode_piece(self, piece: str) -> list[int]:
        """SentencePiece ids of text that holds no added token (its own dummy-prefix space)."""
        return [self._sp.piece_to_id(token) for token in self._sp.encode(piece, out_type=str)]

    def decode(self, ids: list[int], skip_special_tokens: bool = True) -> str:
        """Like 4.29's decode with skip_special_tokens=True, the only mode the reference uses."""
        if not skip_special_tokens:
            raise NotImplementedError("the reference only decodes with skip_special_tokens=True")
        pieces = [self._sp.id_to_piece(i) for i in ids if i not in self.special_ids]
        return self._sp.decode(pieces) if pieces else ""


def build_tokenizer_json(llama_config_dir: str | Path, variant: str) -> dict:
    """The LLaMA `tokenizer.json` with Emu's added tokens appended (see the module docstring).

    The added ids start right after the file's vocabulary (32000 for LLaMA; a smaller
    SentencePiece model built the same way, such as tools/shapes/tokenizer.py's, works too).
    Its pieces must be numbered 0 .. n-1 with `<unk>`, `<s>`, `</s>` at 0, 1, 2.
    """
    source = json.loads((Path(llama_config_dir) / "tokenizer.json").read_text(encoding="utf-8"))
    result = copy.deepcopy(source)
    vocab = result["model"]["vocab"]
    vocab_size = len(vocab)
    if sorted(vocab.values()) != list(range(vocab_size)) or any(
            vocab.get(token) != token_id for token, token_id in LLAMA_SPECIAL_TOKENS.items()):
        raise ValueError("expected a SentencePiece vocabulary numbered 0 .. n-1 with <unk>, <s>, </s> at 0, 1, 2")
    no_split_tokens = {**LLAMA_SPECIAL_TOKENS, **added_token_ids(variant, vocab_size)}
    result["added_tokens"] = [
        {
            "id": token_id,
            "content": content,
            "single_word": False,
            "lstrip": True,
            "rstrip": True,
            "normalized": False,
            "special": True,
        }
        for content, token_id in sorted(no_split_tokens.items(), key=lambda item: item[1])
    ]
    return result


def base_vocabulary_size(tokenizer_json: dict) -> int:
    """The SentencePiece pieces of a `build_tokenizer_json` result: the id of Emu's first added
    token (32000 for LLaMA)."""
    return len(tokenizer_json["model"]["vocab"])
