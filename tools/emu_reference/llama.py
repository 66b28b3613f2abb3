"""The LLaMA decoder with Emu's two heads (reference: Emu1/models/modeling_llama.py on
transformers 4.29's LlamaForCausalLM).

Parameter names match `decoder.lm.*` in the checkpoint. Attention reads a fixed-capacity key/value
cache without concatenating it to the new keys (see `LlamaAttention.forward`): the same code is
the full-recompute reference (empty cache) and the cached ONNX graph.
"""

from __future__ import annotations

import math
from typing import List, Optional, Tuple

import torch
from torch import nn
from torch.nn import functional as F

from .config import LlamaConfig


def rotary_inv_freq(head_dim: int, theta: float) -> torch.Tensor:
    """float32 inverse frequencies, computed exactly as transformers 4.29 does at construction."""
    return 1.0 / (theta ** (torch.arange(0, head_dim, 2).float() / head_dim))


class LlamaRMSNorm(nn.Module):
    """x * rsqrt(mean(x^2) + eps) * weight, with the mean of squares in float32."""

    def __init__(self, width: int, eps: float, device: Optional[torch.device] = None) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(width, device=device))
        self.variance_epsilon = eps

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        variance = hidden.to(torch.float32).pow(2).mean(-1, keepdim=True)
        return self.weight * (hidden * torch.rsqrt(variance + self.variance_epsilon))


class LlamaRotaryEmbedding(nn.Module):
    """cos/sin for arbitrary position ids, computed from the ids (never a table frozen at trace time).

    `inv_freq` is a persistent buffer because transformers 4.29 saved it in checkpoints. Its
    *values* are always the exact float32 ones: the reference built its cos/sin caches at
    construction, before loading a checkpoint whose copy had been rounded to bfloat16.
    """

    def __init__(self, head_dim: int, theta: float) -> None:
        super().__init__()
        # Always on the CPU: a model built on the meta device still needs real frequencies.
        self.register_buffer("inv_freq", rotary_inv_freq(head_dim, theta))

    def forward(self, position_ids: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """position_ids [B, S] int64 -> cos, sin [B, 1, S, head_dim] float32."""
        freqs = position_ids.to(torch.float32)[:, :, None] * self.inv_freq[None, None, :]
        angles = torch.cat((freqs, freqs), dim=-1)[:, None, :, :]
        return angles.cos(), angles.sin()


def rotate_half(states: torch.Tensor) -> torch.Tensor:
    half = states.shape[-1] // 2
    return torch.cat((-states[..., half:], states[..., :half]), dim=-1)


class LlamaAttention(nn.Module):
    """Causal attention over [past cache slots, new tokens] without concatenating the cache.

    Scores against the past and against the new keys are computed separately and concatenated
    (they are small), masked with the dtype's finite minimum (-inf would give NaN on fully masked
    rows such as left padding), softmaxed together, split, and the two weighted value products
    summed. Only the new (post-rotary) keys and values are returned for the caller to store.
    """

    def __init__(self, config: LlamaConfig, device: Optional[torch.device] = None) -> None:
        super().__init__()
        width = config.hidden_size
        self.num_heads = config.num_heads
        self.head_dim = config.head_dim
        self.q_proj = nn.Linear(width, width, bias=False, device=device)
        self.k_proj = nn.Linear(width, width, bias=False, device=device)
        self.v_proj = nn.Linear(width, width, bias=False, device=device)
        self.o_proj = nn.Linear(width, width, bias=False, device=device)
        self.rotary_emb = LlamaRotaryEmbedding(self.head_dim, config.rope_theta)

    def _heads(self, states: torch.Tensor) -> torch.Tensor:
        return states.reshape(states.shape[0], states.shape[1], self.num_heads, self.head_dim).transpose(1, 2)

    def forward(
        self,
        hidden: torch.Tensor,
        position_ids: torch.Tensor,
        allowed: torch.Tensor,
        past_key: torch.Tensor,
        past_value: torch.Tensor,
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        cos, sin = self.rotary_emb(position_ids)
        query = self._heads(self.q_proj(hidden))
        key = self._heads(self.k_proj(hidden))
        value = self._heads(self.v_proj(hidden))
        query = query * cos + rotate_half(query) * sin
        key = key * cos + rotate_half(key) * sin

        scale = math.sqrt(self.head_dim)
        scores_past = torch.matmul(query, past_key.transpose(2, 3)) / scale
        scores_new = torch.matmul(query, key.transpose(2, 3)) / scale
        scores = torch.cat((scores_past, scores_new), dim=-1)
        scores = scores.masked_fill(~allowed, torch.finfo(scores.dtype).min)
        weights = torch.softmax(scores.to(torch.float32), dim=-1).to(query.dtype)
        capacity = past_key.shape[2]
        out = torch.matmul(weights[..., :capacity], past_value) + torch.matmul(weights[..., capacity:], value)
        out = out.transpose(1, 2).reshape(hidden.shape[0], hidden.shape[1], self.num_heads * self.head_dim)
        return self.o_proj(out), key, value


class LlamaMLP(nn.Module):
    def __init__(self, config: LlamaConfig, device: Optional[torch.device] = None) -> None:
        super().__init__()
        self.gate_proj = nn.Linear(config.hidden_size, config.intermediate_size, bias=False, device=device)
        self.up_proj = nn.Linear(config.hidden_size, config.intermediate_size, bias=False, device=device)
        self.down_proj = nn.Linear(config.intermediate_size, config.hidden_size, bias=False, device=device)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.down_proj(F.silu(self.gate_proj(hidden)) * self.up_proj(hidden))


class LlamaDecoderLayer(nn.Module):
    def __init__(self, config: LlamaConfig, device: Optional[torch.device] = None) -> None:
        super().__init__()
        self.self_attn = LlamaAttention(config, device)
        self.mlp = LlamaMLP(config, device)
        self.input_layernorm = LlamaRMSNorm(config.hidden_size, config.rms_norm_eps, device)
        self.post_attention_layernorm = LlamaRMSNorm(config.hidden_size, config.rms_norm_eps, device)

    def forward(
        self,
        hidden: torch.Tensor,
        position_ids: torch.Tensor,
        allowed: torch.Tensor,
        past_key: torch.Tensor,
        past_value: torch.Tensor,
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        attended, key, value = self.self_attn(self.input_layernorm(hidden), position_ids, allowed, past_key, past_value)
        hidden = hidden + attended
        hidden = hidden + self.mlp(self.post_attention_layernorm(hidden))
        return hidden, key, value


def attention_allowed(attention_mask: torch.Tensor, new_tokens: int) -> torch.Tensor:
    """[B, C + S] 0/1 mask -> bool [B, 1, S, C + S]: past slots as masked, new tokens causally.

    The last `new_tokens` columns are the new tokens; everything before them is the cache.
    """
    valid = attention_mask.to(torch.bool)
    capacity = attention_mask.shape[1] - new_tokens
    past = valid[:, None, None, :capacity].expand(-1, 1, new_tokens, -1)
    causal = torch.ones(new_tokens, new_tokens, dtype=torch.bool, device=attention_mask.device).tril()
    new = valid[:, None, None, capacity:] & causal[None, None, :, :]
    return torch.cat((past, new), dim=-1)


class LlamaModel(nn.Module):
    """`decoder.lm.model`: token embedding, layers, final norm."""

    def __init__(self, config: LlamaConfig, device: Optional[torch.device] = None) -> None:
        super().__init__()
        self.config = config
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size, device=device)
        self.layers = nn.ModuleList(LlamaDecoderLayer(config, device) for _ in range(config.num_layers))
        self.norm = LlamaRMSNorm(config.hidden_size, config.rms_norm_eps, device)


class LlamaForRegression(nn.Module):
    """`decoder.lm`: the model plus `lm_head` (text) and `stu_regress_head` (visual embeddings)."""

    def __init__(self, config: LlamaConfig, device: Optional[torch.device] = None) -> None:
        super().__init__()
        self.config = config
        self.model = LlamaModel(config, device)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False, device=device)
        self.stu_regress_head = nn.Linear(config.hidden_size, config.hidden_size, bias=False, device=device)

    def run_layers(
        self,
        hidden: torch.Tensor,
        attention_mask: torch.Tensor,
        position_ids: torch.Tensor,
        past: List[Tuple[torch.Tensor, torch.Tensor]],
        start: int,
    ) -> Tuple[torch.Tensor, List[Tuple[torch.Tensor, torch.Tensor]]]:
        """Layers start .. start+len(past)-1; returns the hidden state and each layer's new K/V."""
        allowed = attention_allowed(attention_mask, hidden.shape[1])
        presents = []
        for offset, (past_key, past_value) in enumerate(past):
            layer = self.model.layers[start + offset]
            hidden, key, value = layer(hidden, position_ids, allowed, past_key, past_value)
            presents.append((key, value))
        return hidden, presents

    def heads(self, hidden: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Final norm, then logits [B, K, vocab] and regressed embeddings [B, K, hidden]."""
        normed = self.model.norm(hidden)
        return self.lm_head(normed), self.stu_regress_head(normed)

    def empty_past(self, batch: int, dtype: torch.dtype = torch.float32) -> List[Tuple[torch.Tensor, torch.Tensor]]:
        config = self.config
        shape = (batch, config.num_heads, 0, config.head_dim)
        return [(torch.zeros(shape, dtype=dtype), torch.zeros(shape, dtype=dtype)) for _ in range(config.num_layers)]

    def forward(
        self, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor, position_ids: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Full recomputation without a cache: (logits [B,S,V], regressed [B,S,H]) at every position."""
        past = self.empty_past(inputs_embeds.shape[0], inputs_embeds.dtype)
        hidden, _ = self.run_layers(inputs_embeds, attention_mask, position_ids, past, 0)
        return self.heads(hidden)
