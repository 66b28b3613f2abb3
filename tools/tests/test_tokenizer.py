import json
import re

import pytest
import sentencepiece

from emu_reference.tokenizer import (
    ADDED_TOKENS,
    SlowTokenizer,
    added_token_ids,
    build_tokenizer_json,
)
from fixtures.tokenizer_cases import IMAGE, TOKENIZER_CASES

THERE = 1670  # "▁There"
COLON = 584  # "▁:"


@pytest.fixture(scope="module")
def sp(llama_config_dir):
    return sentencepiece.SentencePieceProcessor(model_file=str(llama_config_dir / "tokenizer.model"))


@pytest.fixture(scope="module")
def instruct(llama_config_dir):
    return SlowTokenizer(llama_config_dir / "tokenizer.model", "instruct")


@pytest.fixture(scope="module")
def pretrain(llama_config_dir):
    return SlowTokenizer(llama_config_dir / "tokenizer.model", "pretrain")


def oracle_encode(sp, text, specials):
    """An independent statement of 4.29's rule: a text segment loses its whitespace (Python's
    set) on each side that touches a special token, then is SentencePiece-encoded alone."""
    parts = re.split("(" + "|".join(map(re.escape, specials)) + ")", text)
    ids = [1]
    for index, part in enumerate(parts):
        if index % 2 == 1:
            ids.append(specials[part])
            continue
        if index > 0:
            part = part.lstrip()
        if index < len(parts) - 1:
            part = part.rstrip()
        if part:
            ids.extend(sp.encode(part))
    return ids


def test_cases_have_unique_names():
    names = [name for name, _ in TOKENIZER_CASES]
    assert len(names) == len(set(names))
    assert 30 <= len(names) <= 45


@pytest.mark.parametrize("name,text", TOKENIZER_CASES, ids=[name for name, _ in TOKENIZER_CASES])
def test_every_case_matches_sentencepiece_per_piece(instruct, sp, name, text):
    specials = {"<unk>": 0, "<s>": 1, "</s>": 2, **added_token_ids("instruct")}
    assert instruct.encode(text) == oracle_encode(sp, text, specials)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("[/IMG]There", [1, 32002, THERE]),
        ("a photo [IMG] of", [1, 263, 15373, 32001, 310]),
        (" Hello", [1, 29871, 15043]),  # a leading space is kept: "▁" then "▁Hello"
        ("   Hello", [1, 1678, 15043]),
        ("Hello   ", [1, 15043, 1678]),
        ("   ", [1, 268]),  # whitespace-only text is not dropped without a special token
        ("", [1]),
        ("before\n[IMG]\nafter", [1, 1434, 32001, 1156]),
        ("[IMG] \n\t [/IMG]", [1, 32001, 32002]),  # a whitespace-only piece vanishes
        ("a\x1c[IMG]\x1fb", [1, 263, 32001, 289]),  # \x1c-\x1f are Python whitespace
        ("a\x85[IMG]\x85b", [1, 263, 32001, 289]),
        ("a\u00a0[IMG]\u00a0b", [1, 263, 32001, 289]),
        ("a\ufeff[IMG]\ufeffb", [1, 263, 30143, 32001, 29871, 30143, 29890]),  # BOM is not
        ("a\u200b<image>\u200bb", [1, 263, 30166, 32003, 29871, 30166, 29890]),
        ("say <s> and </s> or <unk> here", [1, 1827, 1, 322, 2, 470, 0, 1244]),
        ("x [PAD] y", [1, 921, 32000, 343]),
        ("🦀", [1, 29871, 243, 162, 169, 131]),  # byte fallback
        ("日本", [1, 29871, 30325, 30346]),
        ("e\u0301", [1, 321, 30103]),
    ],
)
def test_hand_checked_ids(instruct, text, expected):
    assert instruct.encode(text) == expected


def test_without_bos(instruct):
    assert instruct.encode("[/IMG]There", add_bos=False) == [32002, THERE]


def test_pretrain_variant_does_not_know_instruct_tokens(pretrain, sp):
    assert pretrain.encode("[USER]") == [1] + sp.encode("[USER]")
    assert pretrain.encode("[IMG]") == [1, 32001]


def test_unknown_variant_is_rejected(llama_config_dir):
    with pytest.raises(ValueError, match="unknown variant"):
        SlowTokenizer(llama_config_dir / "tokenizer.model", "chat")


def test_instruct_caption_template(instruct, sp):
    text = dict(TOKENIZER_CASES)["instruct-caption"]
    ids = instruct.encode(text)
    image = [32001] + [32003] * 32 + [32002]
    user_at = ids.index(32004)
    assistant_at = ids.index(32005)
    # "[USER]: [IMG]": the colon is its own piece ("▁:"); the space before [IMG] is stripped
    assert ids[user_at + 1] == COLON
    assert ids[user_at + 2 : user_at + 2 + len(image)] == image
    assert ids[assistant_at + 1 :] == sp.encode(": The image depicts a photo of")
    assert ids.count(32003) == 32 and ids.count(32001) == 2 and ids.count(32002) == 2


def test_video_template_has_eight_images(instruct):
    ids = instruct.encode(dict(TOKENIZER_CASES)["instruct-video"])
    assert ids.count(32003) == 8 * 32
    assert ids[-2:] == [32005, COLON]


def test_image_placeholder_is_contiguous(instruct):
    assert instruct.encode(IMAGE) == [1, 32001] + [32003] * 32 + [32002]


def test_decode_skips_special_ids(instruct):
    assert instruct.decode([1, 32002, THERE, 2, 32000, 32000]) == "There"
    assert instruct.decode([1, 32001, 32003, 32002]) == ""


@pytest.mark.parametrize("text", ["I like 🦀 and 👩‍💻!", "line one\n line two", "日本語", "a  b"])
def test_decode_round_trips_plain_text(instruct, text):
    assert instruct.decode(instruct.encode(text)) == text


def test_tokenizer_json_appends_added_tokens(llama_config_dir):
    source = json.loads((llama_config_dir / "tokenizer.json").read_text(encoding="utf-8"))
    for variant, tokens in ADDED_TOKENS.items():
        built = build_tokenizer_json(llama_config_dir, variant)
        added = {token["content"]: token for token in built["added_tokens"]}
        assert [added[t]["id"] for t in tokens] == list(range(32000, 32000 + len(tokens)))
        assert {added[t]["id"] for t in ("<unk>", "<s>", "</s>")} == {0, 1, 2}
        assert len(added) == 3 + len(tokens)
        for token in added.values():
            assert token["special"] and token["lstrip"] and token["rstrip"]
            assert not token["normalized"] and not token["single_word"]
        for key in ("normalizer", "pre_tokenizer", "decoder", "model", "post_processor"):
            assert built[key] == source[key], key
        assert not set(tokens) & set(built["model"]["vocab"])
        assert built["model"]["byte_fallback"] is True
    assert "[USER]" not in {t["content"] for t in build_tokenizer_json(llama_config_dir, "pretrain")["added_tokens"]}
