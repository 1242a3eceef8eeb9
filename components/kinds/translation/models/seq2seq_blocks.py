"""Transformer pieces the translation families share: embeddings, a source encoder, and a decoder layer that
caches its keys and values, so autoregressive decoding costs one new position per step, not the whole prefix.

Pre-norm layers (Xiong et al. 2020) with PyTorch's fused scaled-dot-product attention. A decoder layer runs
causal (the autoregressive decoder, the code prior) or not (the latent family's parallel decoder and its
target encoder); every layer attends to the source encoding.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class Embeddings(nn.Module):
    """Token embedding scaled by sqrt(d) plus a learned position embedding, then dropout."""

    def __init__(self, vocab: int, d_model: int, max_positions: int, dropout: float):
        super().__init__()
        self.tokens = nn.Embedding(vocab, d_model)
        self.positions = nn.Embedding(max_positions, d_model)
        self.scale, self.dropout = math.sqrt(d_model), nn.Dropout(dropout)
        nn.init.normal_(self.tokens.weight, std=d_model**-0.5)

    def forward(self, ids: torch.Tensor, start: int = 0) -> torch.Tensor:
        positions = torch.arange(start, start + ids.shape[1], device=ids.device)
        return self.dropout(self.tokens(ids) * self.scale + self.positions(positions))


class Attention(nn.Module):
    def __init__(self, d_model: int, heads: int, dropout: float):
        super().__init__()
        self.heads, self.dropout = heads, dropout
        self.q, self.kv, self.out = (
            nn.Linear(d_model, d_model),
            nn.Linear(d_model, 2 * d_model),
            nn.Linear(d_model, d_model),
        )

    def split(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        return x.view(b, t, self.heads, d // self.heads).transpose(1, 2)

    def keys_values(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        k, v = self.kv(x).chunk(2, dim=-1)
        return self.split(k), self.split(v)

    def forward(
        self, x: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None, causal: bool = False
    ) -> torch.Tensor:
        """x attends to (k, v); `mask` (B, 1, 1, S) is True where a key may be attended to."""
        q = self.split(self.q(x))
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, is_causal=causal and mask is None, dropout_p=self.dropout if self.training else 0.0
        )
        b, h, t, dh = out.shape
        return self.out(out.transpose(1, 2).reshape(b, t, h * dh))


class FeedForward(nn.Sequential):
    def __init__(self, d_model: int, ff_dim: int, dropout: float):
        super().__init__(nn.Linear(d_model, ff_dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(ff_dim, d_model))


class EncoderLayer(nn.Module):
    def __init__(self, d_model: int, heads: int, ff_dim: int, dropout: float):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.attn, self.ff, self.drop = (
            Attention(d_model, heads, dropout),
            FeedForward(d_model, ff_dim, dropout),
            nn.Dropout(dropout),
        )

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.norm1(x)
        x = x + self.drop(self.attn(h, *self.attn.keys_values(h), mask=mask))
        return x + self.drop(self.ff(self.norm2(x)))


class SourceEncoder(nn.Module):
    """Source ids (B, S) -> encoding (B, S, d) and the key mask (B, 1, 1, S) every cross-attention uses."""

    def __init__(self, embed: Embeddings, d_model: int, heads: int, ff_dim: int, layers: int, dropout: float):
        super().__init__()
        self.embed = embed
        self.layers = nn.ModuleList(EncoderLayer(d_model, heads, ff_dim, dropout) for _ in range(layers))
        self.norm = nn.LayerNorm(d_model)

    def forward(self, src: torch.Tensor, src_len: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mask = key_mask(src_len, src.shape[1])
        x = self.embed(src)
        for layer in self.layers:
            x = layer(x, mask)
        return self.norm(x), mask


class DecoderLayer(nn.Module):
    """Self-attention (causal or not, with an optional cache), cross-attention to the source, feed-forward."""

    def __init__(self, d_model: int, heads: int, ff_dim: int, dropout: float):
        super().__init__()
        self.norms = nn.ModuleList(nn.LayerNorm(d_model) for _ in range(3))
        self.self_attn, self.cross_attn = Attention(d_model, heads, dropout), Attention(d_model, heads, dropout)
        self.ff, self.drop = FeedForward(d_model, ff_dim, dropout), nn.Dropout(dropout)

    def forward(self, x, memory_kv, memory_mask, causal: bool, self_mask=None, cache: dict | None = None):
        h = self.norms[0](x)
        k, v = self.self_attn.keys_values(h)
        if cache is not None:  # incremental: x is the newest position(s), the cache holds the ones before
            if "k" in cache:
                k, v = torch.cat([cache["k"], k], dim=2), torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
            causal = causal and x.shape[1] > 1
        x = x + self.drop(self.self_attn(h, k, v, mask=self_mask, causal=causal))
        x = x + self.drop(self.cross_attn(self.norms[1](x), *memory_kv, mask=memory_mask))
        return x + self.drop(self.ff(self.norms[2](x)))


class Decoder(nn.Module):
    """A stack of DecoderLayers over embedded inputs, ending in a LayerNorm (the caller projects to logits)."""

    def __init__(self, d_model: int, heads: int, ff_dim: int, layers: int, dropout: float, causal: bool):
        super().__init__()
        self.causal = causal
        self.layers = nn.ModuleList(DecoderLayer(d_model, heads, ff_dim, dropout) for _ in range(layers))
        self.norm = nn.LayerNorm(d_model)

    def memory(self, encoding: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """The source's keys and values for every layer's cross-attention (computed once per sentence batch)."""
        return [layer.cross_attn.keys_values(encoding) for layer in self.layers]

    def forward(self, x, memory, memory_mask, self_mask=None, caches: list[dict] | None = None) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x, memory[i], memory_mask, self.causal, self_mask, caches[i] if caches is not None else None)
        return self.norm(x)


def key_mask(lengths: torch.Tensor, width: int) -> torch.Tensor:
    """(B, 1, 1, width) True where position < length: what attention may look at."""
    return (torch.arange(width, device=lengths.device)[None, :] < lengths[:, None])[:, None, None, :]


def smoothed_nll(logits: torch.Tensor, targets: torch.Tensor, smoothing: float, ignore: int) -> torch.Tensor:
    """Per-sentence sum of label-smoothed cross-entropy over non-ignored targets, shape (B,)."""
    loss = F.cross_entropy(
        logits.float().transpose(1, 2), targets, ignore_index=ignore, reduction="none", label_smoothing=smoothing
    )
    return loss.sum(dim=1)
