"""The reference model: cached decoding equals full recomputation, and the committed goldens
reproduce (image embeddings and a greedy generation)."""

import json
from pathlib import Path

import torch

from emu_reference import generation
from emu_reference.config import tiny_config
from emu_reference.model import EmuModel, init_random_weights
from fixtures.make_fixtures import SEEDS, Reference, build_model

GOLDENS = Path(__file__).resolve().parents[2] / "test" / "fixtures" / "goldens"


def test_fixed_capacity_cache_matches_full_recomputation() -> None:
    model = EmuModel(tiny_config())
    init_random_weights(model, 5)
    lm = model.lm
    embeds = torch.randn(2, 7, model.config.llama.hidden_size)
    mask = torch.tensor([[0, 0, 1, 1, 1, 1, 1], [1] * 7])
    positions = generation.positions_from_mask(mask)
    with torch.no_grad():
        logits, regressed = lm(embeds, mask, positions)
        hidden, presents = lm.run_layers(embeds[:, :5], mask[:, :5], positions[:, :5], lm.empty_past(2), 0)
        capacity = 9  # slots 5..8 stay empty and masked
        cache = []
        for key, value in presents:
            heads, head_dim = model.config.llama.num_heads, model.config.llama.head_dim
            buffers = torch.zeros(2, heads, capacity, head_dim), torch.zeros(2, heads, capacity, head_dim)
            buffers[0][:, :, :5], buffers[1][:, :, :5] = key, value
            cache.append(buffers)
        step_mask = torch.zeros(2, capacity + 2, dtype=torch.long)
        step_mask[:, :5], step_mask[:, capacity:] = mask[:, :5], 1
        hidden, _ = lm.run_layers(embeds[:, 5:], step_mask, positions[:, 5:], cache, 0)
        step_logits, step_regressed = lm.heads(hidden)
    assert torch.allclose(step_logits, logits[:, 5:], atol=1e-5)
    assert torch.allclose(step_regressed, regressed[:, 5:], atol=1e-5)


def test_goldens_reproduce() -> None:
    golden = json.loads((GOLDENS / "tiny-pretrain.json").read_text())
    reference = Reference(build_model(tiny_config("pretrain"), SEEDS["pretrain"]), "pretrain")
    for name, embeds in reference.image_embeds.items():
        assert torch.allclose(embeds, torch.tensor(golden["images"][name]), atol=1e-5)
    prompt = golden["prompts"][1]
    ids, embeds = reference.prompt(prompt["text"], prompt["images"])
    assert ids == prompt["ids"]
    expected = next(case for case in golden["generation"] if case["prompts"] == [prompt["name"]])
    tokens = generation.greedy(reference.forward, reference.embed, [embeds], max_new_tokens=expected["max_new_tokens"])
    assert expected["mode"] == "greedy" and tokens == expected["tokens"]
