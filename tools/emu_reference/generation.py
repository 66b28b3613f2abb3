"""Hugging Face `generate` as transformers 4.29 runs it for Emu, and Emu's image-embedding regression.

The model is any pair of callables, so a toy model can test this module:

- `forward(inputs_embeds [B,S,H], attention_mask [B,S], position_ids [B,S])` returns
  `(logits [B,S,V], regressed [B,S,H])`, the two heads on the final-norm hidden state;
- `embed(input_ids [...]) -> [..., H]`, the token embedding.

Every step recomputes the whole sequence (no KV cache): this module is the ground truth the
engine's cached decoding must equal.

What 4.29 does when Emu calls `generate(inputs_embeds=..., attention_mask=...)` without `input_ids`
(generation/utils.py; transformers PR #21580, merged before 4.27: "the automated `input_ids` has a
sequence length of 1", a BOS column; only later versions start from an empty `input_ids`):

- `input_ids` starts as one BOS column per row. It is never fed to the model (the first step feeds
  the prompt embeddings, later steps the generated tokens), but every length is counted on it:
  `max_length = max_new_tokens + 1`; `MinLengthLogitsProcessor` blocks EOS while
  `input_ids.shape[-1] < min_length`, so Emu's `min_length=1` never blocks EOS, not even at the
  first step; beam hypotheses are length-penalised by `(1 + tokens before EOS) ** length_penalty`;
  `is_done` uses `cur_len = input_ids.shape[-1]`; the repetition penalty sees BOS and the generated
  tokens, never the prompt. The returned rows start with that BOS; the functions here drop it.
- Positions come from the attention mask (LlamaForCausalLM.prepare_inputs_for_generation):
  `cumsum(mask) - 1`, with masked positions set to 1. Batches are left padded with `[PAD]`.
- Beam search (`beam_search`, `BeamSearchScorer`, `BeamHypotheses`): log_softmax, logits processors,
  add the beam scores (`-1e9` for all but the first beam at the start), top `2 * num_beams` over
  `num_beams * vocab`, EOS candidates ranked below `num_beams` are ignored, the others become
  finished hypotheses; a finished batch row is padded with `[PAD]` from row 0; `finalize` adds the
  open beams when `max_length` is reached and returns the best hypotheses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import torch
from torch import Tensor

Forward = Callable[[Tensor, Tensor, Tensor], tuple[Tensor, Tensor]]
Embed = Callable[[Tensor], Tensor]

BOS_ID, EOS_ID, PAD_ID, IMAGE_START_ID = 1, 2, 32000, 32001


@dataclass(frozen=True)
class Hypothesis:
    """A finished beam: the new tokens (ending with EOS if it finished there) and its score."""

    tokens: list[int]
    score: float


def positions_from_mask(attention_mask: Tensor) -> Tensor:
    positions = attention_mask.long().cumsum(-1) - 1
    return positions.masked_fill(attention_mask == 0, 1)


def left_pad(rows: Sequence[Tensor], pad: Tensor | int) -> tuple[Tensor, Tensor]:
    """Stack rows of ids [S_i] or embeddings [S_i, H] padded on the left; returns (batch, mask)."""
    return _pad(rows, pad, left=True)


def right_pad(rows: Sequence[Tensor], pad: Tensor | int) -> tuple[Tensor, Tensor]:
    """As `left_pad`, padding on the right (the reference's image regression does this)."""
    return _pad(rows, pad, left=False)


def _pad(rows: Sequence[Tensor], pad: Tensor | int, left: bool) -> tuple[Tensor, Tensor]:
    width = max(len(row) for row in rows)
    padded, masks = [], []
    for row in rows:
        filler = torch.as_tensor(pad, dtype=row.dtype).expand(width - len(row), *row.shape[1:])
        ones = torch.ones(len(row), dtype=torch.long)
        zeros = torch.zeros(width - len(row), dtype=torch.long)
        padded.append(torch.cat([filler, row] if left else [row, filler]))
        masks.append(torch.cat([zeros, ones] if left else [ones, zeros]))
    return torch.stack(padded), torch.stack(masks)


def apply_repetition_penalty(input_ids: Tensor, scores: Tensor, penalty: float) -> Tensor:
    """RepetitionPenaltyLogitsProcessor: seen tokens' scores are divided (or, if negative,
    multiplied) by the penalty."""
    seen = torch.gather(scores, 1, input_ids)
    seen = torch.where(seen < 0, seen * penalty, seen / penalty)
    return scores.scatter(1, input_ids, seen)


def apply_min_length(input_ids: Tensor, scores: Tensor, min_length: int, eos: int) -> Tensor:
    """MinLengthLogitsProcessor: EOS is impossible while input_ids (BOS included) is too short."""
    if input_ids.shape[-1] >= min_length:
        return scores
    scores = scores.clone()
    scores[:, eos] = -float("inf")
    return scores


def _process(input_ids: Tensor, scores: Tensor, min_length: int, penalty: float, eos: int) -> Tensor:
    """The processors Emu's call enables, in 4.29's order (repetition before min length)."""
    if penalty != 1.0:
        scores = apply_repetition_penalty(input_ids, scores, penalty)
    return apply_min_length(input_ids, scores, min_length, eos)


def _last_logits(forward: Forward, embed: Embed, prompt: Tensor, mask: Tensor, ids: Tensor) -> Tensor:
    """Logits at the last position of prompt + generated tokens (ids without the BOS column)."""
    generated = ids[:, 1:]
    embeds = torch.cat([prompt, embed(generated).to(prompt.dtype)], dim=1)
    full_mask = torch.cat([mask, torch.ones_like(generated)], dim=1)
    logits, _ = forward(embeds, full_mask, positions_from_mask(full_mask))
    return logits[:, -1, :]


def _prepare(embed: Embed, prompts: Sequence[Tensor], pad: int) -> tuple[Tensor, Tensor]:
    pad_embedding = embed(torch.tensor([pad]))[0].to(prompts[0].dtype)
    return left_pad(prompts, pad_embedding)


def _until_eos(row: list[int], eos: int) -> list[int]:
    return row[: row.index(eos) + 1] if eos in row else row


def _search(
    forward: Forward,
    embed: Embed,
    prompts: Sequence[Tensor],
    choose: Callable[[Tensor, Tensor], Tensor],
    max_new_tokens: int,
    bos: int,
    eos: int,
    pad: int,
) -> list[list[int]]:
    """4.29's greedy_search / sample loop: finished rows continue with [PAD] until all end."""
    prompt, mask = _prepare(embed, prompts, pad)
    ids = torch.full((len(prompts), 1), bos, dtype=torch.long)
    unfinished = torch.ones(len(prompts), dtype=torch.long)
    while True:
        next_tokens = choose(ids, _last_logits(forward, embed, prompt, mask, ids))
        next_tokens = next_tokens * unfinished + pad * (1 - unfinished)
        ids = torch.cat([ids, next_tokens[:, None]], dim=-1)
        unfinished = unfinished * (next_tokens != eos).long()
        if unfinished.max() == 0 or ids.shape[-1] >= max_new_tokens + 1:
            return [_until_eos(row, eos) for row in ids[:, 1:].tolist()]


def greedy(
    forward: Forward,
    embed: Embed,
    prompts: Sequence[Tensor],
    *,
    max_new_tokens: int,
    min_length: int = 1,
    repetition_penalty: float = 1.0,
    bos: int = BOS_ID,
    eos: int = EOS_ID,
    pad: int = PAD_ID,
) -> list[list[int]]:
    """Greedy decoding of each prompt [S_i, H]; new tokens per row, up to and including EOS."""

    def choose(ids: Tensor, logits: Tensor) -> Tensor:
        return torch.argmax(_process(ids, logits, min_length, repetition_penalty, eos), dim=-1)

    return _search(forward, embed, prompts, choose, max_new_tokens, bos, eos, pad)


def sample(
    forward: Forward,
    embed: Embed,
    prompts: Sequence[Tensor],
    *,
    max_new_tokens: int,
    generator: torch.Generator,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    min_length: int = 1,
    repetition_penalty: float = 1.0,
    bos: int = BOS_ID,
    eos: int = EOS_ID,
    pad: int = PAD_ID,
) -> list[list[int]]:
    """Multinomial sampling with 4.29's warpers (temperature, top-k, top-p, in that order).
    For completeness: the reference's goldens use beam search only."""

    def choose(ids: Tensor, logits: Tensor) -> Tensor:
        scores = _process(ids, logits, min_length, repetition_penalty, eos)
        if temperature != 1.0:
            scores = scores / temperature
        if top_k:
            kth = torch.topk(scores, min(top_k, scores.shape[-1]))[0][..., -1, None]
            scores = scores.masked_fill(scores < kth, -float("inf"))
        if top_p < 1.0:
            ascending, order = torch.sort(scores, descending=False)
            drop = ascending.softmax(dim=-1).cumsum(dim=-1) <= 1 - top_p
            drop[..., -1:] = False
            scores = scores.masked_fill(drop.scatter(1, order, drop), -float("inf"))
        probs = scores.softmax(dim=-1)
        return torch.multinomial(probs, num_samples=1, generator=generator).squeeze(1)

    return _search(forward, embed, prompts, choose, max_new_tokens, bos, eos, pad)


class _Hypotheses:
    """BeamHypotheses: the best `num_beams` finished hypotheses of one batch row."""

    def __init__(self, num_beams: int, length_penalty: float, early_stopping: bool) -> None:
        self.num_beams = num_beams
        self.length_penalty = length_penalty
        self.early_stopping = early_stopping
        self.beams: list[tuple[float, list[int]]] = []
        self.worst_score = 1e9

    def add(self, ids: list[int], sum_logprobs: float, eos: int | None) -> None:
        """`ids` holds BOS and the generated tokens without EOS; they set the penalty's length."""
        score = sum_logprobs / (len(ids) ** self.length_penalty)
        if len(self.beams) < self.num_beams or score > self.worst_score:
            self.beams.append((score, ids[1:] + ([] if eos is None else [eos])))
            if len(self.beams) > self.num_beams:
                ranked = sorted((s, index) for index, (s, _) in enumerate(self.beams))
                del self.beams[ranked[0][1]]
                self.worst_score = ranked[1][0]
            else:
                self.worst_score = min(score, self.worst_score)

    def is_done(self, best_sum_logprobs: float, cur_len: int) -> bool:
        if len(self.beams) < self.num_beams:
            return False
        if self.early_stopping:
            return True
        return self.worst_score >= best_sum_logprobs / cur_len**self.length_penalty

    def best(self, count: int) -> list[Hypothesis]:
        ranked = sorted(self.beams, key=lambda beam: beam[0])
        return [Hypothesis(tokens=tokens, score=score) for score, tokens in reversed(ranked[-count:])]


def beam_search(
    forward: Forward,
    embed: Embed,
    prompts: Sequence[Tensor],
    *,
    max_new_tokens: int,
    length_penalty: float,
    num_beams: int = 5,
    min_length: int = 1,
    repetition_penalty: float = 1.0,
    early_stopping: bool = False,
    num_return_sequences: int = 1,
    bos: int = BOS_ID,
    eos: int = EOS_ID,
    pad: int = PAD_ID,
) -> list[list[Hypothesis]]:
    """4.29's beam search for each prompt [S_i, H]: per row, the best `num_return_sequences`
    hypotheses, best first."""
    batch = len(prompts)
    prompt, mask = _prepare(embed, prompts, pad)
    prompt, mask = prompt.repeat_interleave(num_beams, 0), mask.repeat_interleave(num_beams, 0)
    ids = torch.full((batch * num_beams, 1), bos, dtype=torch.long)
    hypotheses = [_Hypotheses(num_beams, length_penalty, early_stopping) for _ in range(batch)]
    done = [False] * batch
    beam_scores = torch.zeros((batch, num_beams), dtype=torch.float)
    beam_scores[:, 1:] = -1e9
    beam_scores = beam_scores.view(-1)
    while True:
        cur_len = ids.shape[-1]
        logits = _last_logits(forward, embed, prompt, mask, ids)
        scores = _process(ids, torch.log_softmax(logits, dim=-1), min_length, repetition_penalty, eos)
        scores = scores + beam_scores[:, None]
        vocab = scores.shape[-1]
        top_scores, top = torch.topk(scores.view(batch, -1), 2 * num_beams, dim=1, largest=True, sorted=True)
        top_beams, top_tokens = torch.div(top, vocab, rounding_mode="floor"), top % vocab

        next_scores = torch.zeros((batch, num_beams), dtype=top_scores.dtype)
        next_tokens = torch.full((batch, num_beams), pad, dtype=torch.long)
        next_rows = torch.zeros((batch, num_beams), dtype=torch.long)
        for b in range(batch):
            if done[b]:
                continue  # padded from row 0, as 4.29 does
            slot = 0
            for rank in range(2 * num_beams):
                token, row = int(top_tokens[b, rank]), b * num_beams + int(top_beams[b, rank])
                if token == eos:
                    if rank < num_beams:
                        hypotheses[b].add(ids[row].tolist(), top_scores[b, rank].item(), eos)
                else:
                    next_scores[b, slot], next_tokens[b, slot], next_rows[b, slot] = top_scores[b, rank], token, row
                    slot += 1
                if slot == num_beams:
                    break
            done[b] = hypotheses[b].is_done(top_scores[b].max().item(), cur_len)

        beam_scores = next_scores.view(-1)
        ids = torch.cat([ids[next_rows.view(-1)], next_tokens.view(-1, 1)], dim=-1)
        if all(done) or ids.shape[-1] >= max_new_tokens + 1:
            break

    for b in range(batch):
        if not done[b]:
            for row in range(b * num_beams, (b + 1) * num_beams):
                hypotheses[b].add(ids[row].tolist(), beam_scores[row].item(), None)
    return [h.best(num_return_sequences) for h in hypotheses]


def regress_image_embeddings(
    forward: Forward,
    embed: Embed,
    prompts: Sequence[Tensor],
    *,
    num_tokens: int = 32,
    guidance_scale: float = 1.0,
    bos: int = BOS_ID,
    image_start: int = IMAGE_START_ID,
    pad: int = PAD_ID,
) -> Tensor:
    """Emu's `generate_image` (Emu1/models/modeling_emu.py): each prompt [S_i, H] ends with `[IMG]`.

    Round k (k = 0..num_tokens-1) runs prompt + k fed embeddings, right padded with `[PAD]`,
    positions 0..n for every row (the reference passes no position ids), and takes `regressed` at
    the last k+1 positions (`[IMG]` and the k fed ones). Those k+1 embeddings are fed at the next
    round: the reference re-feeds all of them, recomputed, not only the newest. Returns
    [rows, num_tokens, H].

    Guidance: with guidance_scale > 1 the pipeline (Emu1/models/pipeline.py) regresses the empty
    prompt, which tokenizes to `BOS [IMG]`, in the same batch after the conditional rows. Both
    branches regress on their own embeddings; nothing is combined here. The combination
    `uncond + scale * (cond - uncond)` is applied to the UNet's noise prediction at every
    denoising step (`combine_guidance`), with the [cond; uncond] embeddings as its
    encoder_hidden_states.
    """
    rows = list(prompts)
    if guidance_scale > 1.0:
        unconditional = embed(torch.tensor([bos, image_start])).to(rows[0].dtype)
        rows += [unconditional] * len(prompts)
    pad_embedding = embed(torch.tensor([pad]))[0].to(rows[0].dtype)
    fed = [row[:0] for row in rows]
    for k in range(num_tokens):
        embeds, mask = right_pad([torch.cat([row, f]) for row, f in zip(rows, fed)], pad_embedding)
        positions = torch.arange(embeds.shape[1]).expand(len(rows), -1)
        _, regressed = forward(embeds, mask, positions)
        fed = [regressed[i, len(row) - 1 : len(row) + k] for i, row in enumerate(rows)]
    return torch.stack(fed)


def combine_guidance(prediction: Tensor, guidance_scale: float) -> Tensor:
    """Classifier-free guidance on a batch [cond; uncond] (pipeline.py, applied when scale > 1)."""
    cond, uncond = prediction.chunk(2)
    return uncond + guidance_scale * (cond - uncond)
