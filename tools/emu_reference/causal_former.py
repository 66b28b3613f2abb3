"""The Causal Former (reference: Emu1/models/causal_former.py over its modeling_t5.py).

A T5 decoder stack whose inputs are 32 learned queries: causal self-attention among the queries
with T5's unidirectional relative position bias (computed by block 0, reused by every block),
cross-attention to the 257 normalised vision tokens, ReLU feed-forward, RMS norms, no score
scaling. A final RMS norm and a Linear with bias project to the LLM width.
"""

from __future__ import annotations

import math
from typing import Optional

import torch
from torch import nn

from .config import CausalFormerConfig


class T5LayerNorm(nn.Module):
    """RMS norm without mean subtraction or bias; the variance is taken in float32."""

    def __init__(self, width: int, eps: float, device: Optional[torch.device] = None) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(width, device=device))
        self.eps = eps

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        variance = hidden.to(torch.float32).pow(2).mean(-1, keepdim=True)
        return self.weight * (hidden * torch.rsqrt(variance + self.eps))


def relative_position_buckets(length: int, num_buckets: int, max_distance: int) -> torch.Tensor:
    """T5's unidirectional buckets for a square causal window: [length, length] int64.

    Only non-positive offsets (attending backwards) get distinct buckets; half are exact, the
    rest logarithmic up to max_distance. The window is fixed (the 32 queries), so this is a
    constant of the graph.
    """
    context = torch.arange(length, dtype=torch.long)[:, None]
    memory = torch.arange(length, dtype=torch.long)[None, :]
    distance = -torch.clamp(memory - context, max=0)
    max_exact = num_buckets // 2
    is_small = distance < max_exact
    # As in the reference; clamping at 1 only avoids log(0) in entries `is_small` selects away.
    large = max_exact + (
        torch.log(distance.clamp(min=1).float() / max_exact) / math.log(max_distance / max_exact) * (num_buckets - max_exact)
    ).to(torch.long)
    large = torch.clamp(large, max=num_buckets - 1)
    return torch.where(is_small, distance, large)


class T5Attention(nn.Module):
    """Multi-head attention without 1/sqrt(d) scaling; `key_width` differs for cross-attention."""

    def __init__(
        self,
        config: CausalFormerConfig,
        key_width: int,
        relative_bias: bool,
        device: Optional[torch.device] = None,
    ) -> None:
        super().__init__()
        inner = config.num_heads * config.d_kv
        self.num_heads = config.num_heads
        self.d_kv = config.d_kv
        self.q = nn.Linear(config.d_model, inner, bias=False, device=device)
        self.k = nn.Linear(key_width, inner, bias=False, device=device)
        self.v = nn.Linear(key_width, inner, bias=False, device=device)
        self.o = nn.Linear(inner, config.d_model, bias=False, device=device)
        if relative_bias:
            self.relative_attention_bias = nn.Embedding(
                config.relative_attention_num_buckets, config.num_heads, device=device
            )

    def _heads(self, states: torch.Tensor) -> torch.Tensor:
        return states.reshape(states.shape[0], states.shape[1], self.num_heads, self.d_kv).transpose(1, 2)

    def forward(self, hidden: torch.Tensor, keys_from: torch.Tensor, bias: Optional[torch.Tensor]) -> torch.Tensor:
        query = self._heads(self.q(hidden))
        key = self._heads(self.k(keys_from))
        value = self._heads(self.v(keys_from))
        scores = torch.matmul(query, key.transpose(-1, -2))
        if bias is not None:
            scores = scores + bias
        weights = torch.softmax(scores.float(), dim=-1).type_as(scores)
        out = torch.matmul(weights, value).transpose(1, 2)
        return self.o(out.reshape(out.shape[0], out.shape[1], self.num_heads * self.d_kv))


class T5LayerSelfAttention(nn.Module):
    def __init__(self, config: CausalFormerConfig, relative_bias: bool, device: Optional[torch.device]) -> None:
        super().__init__()
        self.SelfAttention = T5Attention(config, config.d_model, relative_bias, device)
        self.layer_norm = T5LayerNorm(config.d_model, config.layer_norm_eps, device)

    def forward(self, hidden: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        normed = self.layer_norm(hidden)
        return hidden + self.SelfAttention(normed, normed, bias)


class T5LayerCrossAttention(nn.Module):
    def __init__(self, config: CausalFormerConfig, vision_width: int, device: Optional[torch.device]) -> None:
        super().__init__()
        self.EncDecAttention = T5Attention(config, vision_width, False, device)
        self.layer_norm = T5LayerNorm(config.d_model, config.layer_norm_eps, device)

    def forward(self, hidden: torch.Tensor, vision: torch.Tensor) -> torch.Tensor:
        # Every vision token is attended (the reference's encoder mask is all ones).
        return hidden + self.EncDecAttention(self.layer_norm(hidden), vision, None)


class T5DenseReluDense(nn.Module):
    def __init__(self, config: CausalFormerConfig, device: Optional[torch.device]) -> None:
        super().__init__()
        self.wi = nn.Linear(config.d_model, config.d_ff, bias=False, device=device)
        self.wo = nn.Linear(config.d_ff, config.d_model, bias=False, device=device)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.wo(torch.relu(self.wi(hidden)))


class T5LayerFF(nn.Module):
    def __init__(self, config: CausalFormerConfig, device: Optional[torch.device]) -> None:
        super().__init__()
        self.DenseReluDense = T5DenseReluDense(config, device)
        self.layer_norm = T5LayerNorm(config.d_model, config.layer_norm_eps, device)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return hidden + self.DenseReluDense(self.layer_norm(hidden))


class T5Block(nn.Module):
    """layer.0 self-attention, layer.1 cross-attention, layer.2 feed-forward (checkpoint names)."""

    def __init__(
        self, config: CausalFormerConfig, vision_width: int, relative_bias: bool, device: Optional[torch.device]
    ) -> None:
        super().__init__()
        self.layer = nn.ModuleList(
            [
                T5LayerSelfAttention(config, relative_bias, device),
                T5LayerCrossAttention(config, vision_width, device),
                T5LayerFF(config, device),
            ]
        )

    def forward(self, hidden: torch.Tensor, vision: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        hidden = self.layer[0](hidden, bias)
        hidden = self.layer[1](hidden, vision)
        return self.layer[2](hidden)


class T5DecoderStack(nn.Module):
    """`cformer.cformer`: blocks, final norm, and T5's unused token embedding."""

    def __init__(self, config: CausalFormerConfig, vision_width: int, device: Optional[torch.device]) -> None:
        super().__init__()
        self.config = config
        self.embed_tokens = nn.Embedding(config.t5_vocab_size, config.d_model, device=device)
        self.block = nn.ModuleList(
            T5Block(config, vision_width, index == 0, device) for index in range(config.num_layers)
        )
        self.final_layer_norm = T5LayerNorm(config.d_model, config.layer_norm_eps, device)

    def position_bias(self, length: int) -> torch.Tensor:
        """Block 0's relative bias plus the causal mask, [1, heads, length, length]."""
        config = self.config
        buckets = relative_position_buckets(
            length, config.relative_attention_num_buckets, config.relative_attention_max_distance
        )
        table = self.block[0].layer[0].SelfAttention.relative_attention_bias.weight
        bias = table[buckets.to(table.device)].permute(2, 0, 1).unsqueeze(0)
        causal = torch.ones(length, length, dtype=torch.bool, device=table.device).tril()
        return bias.masked_fill(~causal, torch.finfo(bias.dtype).min)

    def forward(self, queries: torch.Tensor, vision: torch.Tensor) -> torch.Tensor:
        bias = self.position_bias(queries.shape[1])
        hidden = queries
        for block in self.block:
            hidden = block(hidden, vision, bias)
        return self.final_layer_norm(hidden)


class CausalFormer(nn.Module):
    """`cformer`: learned queries -> T5 decoder over vision tokens -> projection to the LLM width."""

    def __init__(
        self, config: CausalFormerConfig, vision_width: int, output_dim: int, device: Optional[torch.device] = None
    ) -> None:
        super().__init__()
        self.cformer = T5DecoderStack(config, vision_width, device)
        self.causal_tokens = nn.Parameter(torch.zeros(1, config.n_causal, config.d_model, device=device))
        self.projection = nn.Linear(config.d_model, output_dim, device=device)

    def forward(self, vision: torch.Tensor) -> torch.Tensor:
        """[B, tokens, vision_width] normalised features -> [B, n_causal, output_dim]."""
        queries = self.causal_tokens.expand(vision.shape[0], -1, -1)
        return self.projection(self.cformer(queries, vision))
