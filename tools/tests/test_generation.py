import math

import pytest
import torch

from emu_reference.generation import (
    beam_search,
    combine_guidance,
    greedy,
    left_pad,
    positions_from_mask,
    regress_image_embeddings,
    right_pad,
    sample,
)

BOS, EOS, PAD, IMG = 1, 2, 3, 4
IDS = dict(bos=BOS, eos=EOS, pad=PAD)


class ToyModel:
    """A 2-layer causal transformer with random fixed weights, in float64 so that batched and
    per-row runs agree to rounding and ties between tokens do not happen."""

    def __init__(self, vocab: int = 48, hidden: int = 16, seed: int = 0, eos_bias: float = 0.0) -> None:
        g = torch.Generator().manual_seed(seed)

        def weight(*shape: int) -> torch.Tensor:
            return torch.randn(*shape, generator=g, dtype=torch.float64) / math.sqrt(shape[0])

        self.hidden = hidden
        self.tokens = torch.randn(vocab, hidden, generator=g, dtype=torch.float64)
        self.positions = torch.randn(128, hidden, generator=g, dtype=torch.float64) * 0.5
        self.layers = [[weight(hidden, hidden) for _ in range(4)] + [weight(hidden, 32), weight(32, hidden)] for _ in range(2)]
        self.lm_head = weight(hidden, vocab) * 4
        self.lm_head[:, EOS] = 0
        self.eos_bias = eos_bias
        self.regress_head = weight(hidden, hidden)

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        return self.tokens[ids]

    def forward(self, x: torch.Tensor, mask: torch.Tensor, positions: torch.Tensor):
        x = x + self.positions[positions]
        size = x.shape[1]
        allowed = torch.tril(torch.ones(size, size, dtype=torch.bool)) & mask.bool()[:, None, :]
        bias = torch.zeros(allowed.shape, dtype=x.dtype).masked_fill(~allowed, torch.finfo(x.dtype).min)
        for q, k, v, o, up, down in self.layers:
            h = _rms(x)
            attention = torch.softmax((h @ q) @ (h @ k).transpose(1, 2) / math.sqrt(self.hidden) + bias, -1)
            x = x + attention @ (h @ v) @ o
            x = x + torch.relu(_rms(x) @ up) @ down
        h = _rms(x)
        logits = h @ self.lm_head
        logits[..., EOS] += self.eos_bias
        return logits, h @ self.regress_head


def _rms(x: torch.Tensor) -> torch.Tensor:
    return x / x.pow(2).mean(-1, keepdim=True).add(1e-6).sqrt()


class Markov:
    """Next-token log-probabilities that depend on the last input token only (one-hot embeddings).
    Transitions not listed get probability 1e-6, so hand-computed scores are exact."""

    def __init__(self, table: dict[int, dict[int, float]], vocab: int = 12) -> None:
        probs = torch.full((vocab, vocab), 1e-6, dtype=torch.float64)
        for source, row in table.items():
            for target, p in row.items():
                probs[source, target] = p
        self.log_probs = torch.log_softmax(probs.log(), dim=-1)
        self.vocab = vocab

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.one_hot(ids, self.vocab).double()

    def forward(self, x: torch.Tensor, mask: torch.Tensor, positions: torch.Tensor):
        return self.log_probs[x.argmax(-1)], x

    def prompt(self, *ids: int) -> torch.Tensor:
        return self.embed(torch.tensor(ids))


@pytest.fixture(scope="module")
def toy() -> ToyModel:
    return ToyModel(eos_bias=6.6)


@pytest.fixture(scope="module")
def prompts(toy: ToyModel) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return [toy.embed(torch.randint(5, 48, (n,), generator=g)) for n in (3, 7, 5, 10)]


def test_positions_from_mask_follow_hf_llama():
    mask = torch.tensor([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]])
    assert positions_from_mask(mask).tolist() == [[1, 1, 0, 1, 2], [0, 1, 2, 3, 4]]


def test_padding_sides():
    ids, mask = left_pad([torch.tensor([7, 8]), torch.tensor([9])], PAD)
    assert ids.tolist() == [[7, 8], [PAD, 9]] and mask.tolist() == [[1, 1], [0, 1]]
    rows = [torch.ones(1, 2), torch.zeros(3, 2)]
    embeds, mask = right_pad(rows, torch.tensor([5.0, 6.0]))
    assert embeds[0].tolist() == [[1, 1], [5, 6], [5, 6]] and mask.tolist() == [[1, 0, 0], [1, 1, 1]]


def test_toy_model_emits_eos_sometimes(toy, prompts):
    rows = greedy(toy.forward, toy.embed, prompts, max_new_tokens=12, **IDS)
    ended = [row[-1] == EOS for row in rows]
    assert any(ended) and not all(ended), rows  # the tests below then cover both endings


@pytest.mark.parametrize("length_penalty", [0.0, 1.0])
def test_beam_search_with_one_beam_equals_greedy(toy, prompts, length_penalty):
    expected = greedy(toy.forward, toy.embed, prompts, max_new_tokens=12, **IDS)
    beams = beam_search(
        toy.forward, toy.embed, prompts, max_new_tokens=12, num_beams=1, length_penalty=length_penalty, **IDS
    )
    assert [row[0].tokens for row in beams] == expected


def test_batched_left_padded_greedy_equals_per_row(toy, prompts):
    batched = greedy(toy.forward, toy.embed, prompts, max_new_tokens=10, **IDS)
    alone = [greedy(toy.forward, toy.embed, [p], max_new_tokens=10, **IDS)[0] for p in prompts]
    assert batched == alone


def test_batched_left_padded_beam_search_equals_per_row(toy, prompts):
    kwargs = dict(max_new_tokens=8, num_beams=3, length_penalty=1.0, num_return_sequences=3, **IDS)
    batched = beam_search(toy.forward, toy.embed, prompts, **kwargs)
    for prompt, row in zip(prompts, batched):
        alone = beam_search(toy.forward, toy.embed, [prompt], **kwargs)[0]
        assert [h.tokens for h in row] == [h.tokens for h in alone]
        assert [h.score for h in row] == pytest.approx([h.score for h in alone], abs=1e-9)


def _sequence_log_prob(model, prompt, tokens):
    ids = torch.tensor(tokens)
    embeds = torch.cat([prompt, model.embed(ids[:-1])])[None]
    mask = torch.ones(embeds.shape[:2], dtype=torch.long)
    logits, _ = model.forward(embeds, mask, positions_from_mask(mask))
    log_probs = torch.log_softmax(logits[0, len(prompt) - 1 :], -1)
    return log_probs[torch.arange(len(tokens)), ids].sum().item()


@pytest.mark.parametrize("length_penalty", [0.0, 1.0, 2.0])
def test_beam_hypotheses_are_sorted_and_scored_with_bos_in_the_length(toy, prompts, length_penalty):
    rows = beam_search(
        toy.forward, toy.embed, prompts, max_new_tokens=6, num_beams=4, min_length=0,
        length_penalty=length_penalty, num_return_sequences=4, **IDS,
    )
    for prompt, row in zip(prompts, rows):
        scores = [h.score for h in row]
        assert scores == sorted(scores, reverse=True)
        for h in row:
            finished = h.tokens[-1] == EOS
            length = len(h.tokens) if finished else len(h.tokens) + 1  # BOS counts, EOS does not
            expected = _sequence_log_prob(toy, prompt, h.tokens) / length**length_penalty
            assert h.score == pytest.approx(expected, abs=1e-6)


def test_deterministic(toy, prompts):
    kwargs = dict(max_new_tokens=8, length_penalty=0.0, **IDS)
    assert beam_search(toy.forward, toy.embed, prompts, **kwargs) == beam_search(
        toy.forward, toy.embed, prompts, **kwargs
    )


# Markov vocabulary for hand-made cases: 5 = start, 6..11 = a, b, c, d, f, g.
START, A, B, C, D, F, G = 5, 6, 7, 8, 9, 10, 11
# A short likely answer (A EOS) and a long less likely one (B C D EOS).
BRANCHES = {
    START: {A: 0.6, B: 0.4},
    A: {EOS: 0.9, C: 0.1},
    B: {C: 0.95, A: 0.05},
    C: {D: 0.95, A: 0.05},
    D: {EOS: 0.95, A: 0.05},
}


def test_min_length_counts_bos_so_one_never_blocks_eos():
    model = Markov({START: {EOS: 0.7, A: 0.3}, A: {EOS: 0.6, A: 0.4}})
    run = lambda m: greedy(model.forward, model.embed, [model.prompt(START)], max_new_tokens=5, min_length=m, **IDS)[0]
    assert run(1) == [EOS]  # cur_len is 1 (the BOS column) at the first step: not blocked
    assert run(2) == [A, EOS]
    assert run(3) == [A, A, EOS]
    beams = beam_search(
        model.forward, model.embed, [model.prompt(START)], max_new_tokens=5, num_beams=2,
        length_penalty=0.0, min_length=2, num_return_sequences=2, **IDS,
    )[0]
    assert all(h.tokens[0] != EOS for h in beams)


def test_length_penalty_prefers_longer_hypotheses():
    model = Markov(BRANCHES)
    log = lambda *ps: sum(math.log(p) for p in ps)

    def best(length_penalty):
        return beam_search(
            model.forward, model.embed, [model.prompt(START)], max_new_tokens=5, num_beams=2,
            length_penalty=length_penalty, **IDS,
        )[0][0]

    short, long = best(0.0), best(2.0)
    assert short.tokens == [A, EOS] and short.score == pytest.approx(log(0.6, 0.9), abs=1e-4)
    assert long.tokens == [B, C, D, EOS]
    assert long.score == pytest.approx(log(0.4, 0.95, 0.95, 0.95) / 4**2, abs=1e-4)


def test_one_beam_ignores_eos_ranked_below_the_beams():
    # EOS is the second candidate of the only beam: 4.29 ignores it, as greedy does
    model = Markov({START: {A: 0.55, EOS: 0.45}, A: {B: 0.6, C: 0.4}, B: {B: 0.6, C: 0.4}, C: {B: 0.6, C: 0.4}})
    prompt = [model.prompt(START)]
    beams = beam_search(model.forward, model.embed, prompt, max_new_tokens=5, num_beams=1, length_penalty=0.0, **IDS)
    assert beams[0][0].tokens == [A, B, B, B, B]


# After step 2 two hypotheses exist (B EOS, A EOS); with length_penalty 1 the open beam A D F G
# can still beat them once divided by its length.
LATE_WINNER = {
    START: {A: 0.45, B: 0.35, C: 0.2},
    A: {EOS: 0.55, D: 0.45},
    B: {EOS: 0.9, D: 0.1},
    D: {F: 1.0},
    F: {G: 1.0},
    G: {EOS: 1.0},
}


def test_is_done_compares_with_the_length_penalised_best_score():
    model = Markov(LATE_WINNER)
    best = beam_search(
        model.forward, model.embed, [model.prompt(START)], max_new_tokens=6, num_beams=2, length_penalty=1.0, **IDS
    )[0][0]
    assert best.tokens == [A, D, F, G, EOS]
    assert best.score == pytest.approx(math.log(0.45 * 0.45) / 5, abs=1e-4)


def test_early_stopping_ends_as_soon_as_num_beams_hypotheses_exist():
    model = Markov(LATE_WINNER)
    best = beam_search(
        model.forward, model.embed, [model.prompt(START)], max_new_tokens=6, num_beams=2, length_penalty=1.0,
        early_stopping=True, **IDS,
    )[0][0]
    assert best.tokens == [B, EOS]


def test_eos_ranked_below_num_beams_is_ignored():
    # Step 2 ranks: A EOS, A D, B EOS (rank 2 = num_beams: ignored), B D.
    model = Markov({
        START: {A: 0.45, B: 0.35, C: 0.2},
        A: {EOS: 0.55, D: 0.45},
        B: {EOS: 0.55, D: 0.45},
        D: {EOS: 0.1, F: 0.9},
        F: {EOS: 0.1, F: 0.9},
    })
    rows = beam_search(
        model.forward, model.embed, [model.prompt(START)], max_new_tokens=4, num_beams=2, length_penalty=0.0,
        num_return_sequences=2, **IDS,
    )[0]
    assert [h.tokens for h in rows] == [[A, EOS], [A, D, F, F]]


def test_repetition_penalty_sees_generated_tokens_not_the_prompt():
    model = Markov({START: {START: 0.5, A: 0.4, B: 0.1}, A: {A: 0.5, B: 0.4, EOS: 0.1}, B: {EOS: 1.0}})
    run = lambda penalty: greedy(
        model.forward, model.embed, [model.prompt(START)], max_new_tokens=3, repetition_penalty=penalty, **IDS
    )[0]
    assert run(1.0) == [START, START, START]
    # the prompt token is not penalised; once generated it is, and A is chosen instead
    assert run(2.0) == [START, A, B]


def test_sampling_is_seeded_and_its_warpers_work(toy, prompts):
    def draw(seed, **kwargs):
        g = torch.Generator().manual_seed(seed)
        return sample(toy.forward, toy.embed, prompts, max_new_tokens=8, generator=g, **IDS, **kwargs)

    assert draw(3, temperature=3.0) == draw(3, temperature=3.0)
    assert draw(3, temperature=3.0) != draw(4, temperature=3.0)
    expected = greedy(toy.forward, toy.embed, prompts, max_new_tokens=8, **IDS)
    assert draw(5, top_k=1, temperature=3.0) == expected
    assert draw(6, top_p=0.0) == expected  # at least one token is always kept


def test_regression_shapes_and_guidance_rows(toy, prompts):
    cond = [torch.cat([p, toy.embed(torch.tensor([IMG]))]) for p in prompts[:2]]
    off = regress_image_embeddings(toy.forward, toy.embed, cond, num_tokens=32, guidance_scale=1.0, bos=BOS, pad=PAD, image_start=IMG)
    assert off.shape == (2, 32, toy.hidden)
    low = regress_image_embeddings(toy.forward, toy.embed, cond, num_tokens=32, guidance_scale=0.5, bos=BOS, pad=PAD, image_start=IMG)
    torch.testing.assert_close(low, off)
    on = regress_image_embeddings(toy.forward, toy.embed, cond, num_tokens=32, guidance_scale=7.5, bos=BOS, pad=PAD, image_start=IMG)
    assert on.shape == (4, 32, toy.hidden)
    torch.testing.assert_close(on[:2], off, atol=1e-10, rtol=0)  # cond rows first, not mixed
    empty = regress_image_embeddings(toy.forward, toy.embed, [toy.embed(torch.tensor([BOS, IMG]))], num_tokens=32, bos=BOS, pad=PAD)
    torch.testing.assert_close(on[2], empty[0], atol=1e-10, rtol=0)
    torch.testing.assert_close(on[3], empty[0], atol=1e-10, rtol=0)


def test_regression_batch_equals_rows_and_one_step_feeding(toy, prompts):
    cond = [torch.cat([p, toy.embed(torch.tensor([IMG]))]) for p in prompts]
    batched = regress_image_embeddings(toy.forward, toy.embed, cond, num_tokens=6, bos=BOS, pad=PAD)
    for row, prompt in zip(batched, cond):
        # the incremental form: feed only the newest embedding, read the last position
        sequence = prompt
        expected = []
        for _ in range(6):
            positions = torch.arange(len(sequence))[None]
            _, regressed = toy.forward(sequence[None], torch.ones_like(positions), positions)
            expected.append(regressed[0, -1])
            sequence = torch.cat([sequence, regressed[0, -1:]])
        torch.testing.assert_close(row, torch.stack(expected), atol=1e-10, rtol=0)


def test_combine_guidance():
    prediction = torch.tensor([[3.0], [1.0]])  # [cond; uncond]
    assert combine_guidance(prediction, 7.5).tolist() == [[1.0 + 7.5 * 2.0]]
