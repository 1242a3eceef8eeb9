"""Transformer language model: the second likelihood baseline, beside the LSTM LM.

A decoder-only (causal) Transformer with learned positions, pre-norm blocks and the same
embedding width and vocabulary as the latent models (model.embed_dim is its width,
model.hidden_dim its feed-forward width). Like the LSTM LM it has a zero-dimensional latent
and the latent models' interface, so the same training loop, evaluation (its IW-NLL is its
exact NLL), gate and served model cover it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from components.data.batches import PAD_ID
from components.kinds.text.models.base import Family, check_attention
from components.kinds.text.models.no_latent import NoLatentLM
from components.models.blocks import check_length, transformer_blocks


@dataclass(frozen=True)
class TransformerLMConfig:
    vocab_size: int
    embed_dim: int
    hidden_dim: int
    layers: int
    heads: int
    dropout: float
    max_positions: int
    num_labels: int
    """0: unconditional; else the size of the label vocabulary."""

    def to_dict(self) -> dict:
        return {"family": "transformer_lm", **asdict(self)}


class TransformerLM(NoLatentLM):
    family = "transformer_lm"

    def __init__(self, config: TransformerLMConfig):
        super().__init__()
        self.config = c = config
        self.embed = nn.Embedding(c.vocab_size, c.embed_dim, padding_idx=PAD_ID)
        self.init_labels(c.embed_dim)
        self.positions = nn.Embedding(c.max_positions, c.embed_dim)
        self.blocks = transformer_blocks(c.embed_dim, c.heads, c.hidden_dim, c.layers, c.dropout)
        self.norm = nn.LayerNorm(c.embed_dim)
        self.out = nn.Linear(c.embed_dim, c.vocab_size)

    def decode_logits(self, z: torch.Tensor, inputs: torch.Tensor, state=None, labels=None):
        """Logits for `inputs`; `state` is the prefix decoded so far (recomputed: sentences are short)."""
        seq = inputs if state is None else torch.cat([state, inputs], dim=1)
        check_length(seq.shape[1], self.config.max_positions)
        positions = torch.arange(seq.shape[1], device=seq.device)
        causal = nn.Transformer.generate_square_subsequent_mask(seq.shape[1], device=seq.device)
        hidden = self.blocks(self.embed_tokens(seq, labels) + self.positions(positions), mask=causal, is_causal=True)
        logits = self.out(self.norm(hidden))
        return logits[:, -inputs.shape[1] :], seq


FAMILY = Family(
    name="transformer_lm",
    model=TransformerLM,
    config=TransformerLMConfig,
    describe=lambda m, own, train: (
        f"A causal Transformer language model ({m.layers} blocks, {m.heads} heads, width {m.embed_dim}, "
        f"feed-forward {m.hidden_dim}, no latent): a likelihood baseline. Generates by ancestral sampling."
    ),
    check=lambda m, own, train: check_attention(m, train, positional=True),
)
