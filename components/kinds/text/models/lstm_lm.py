"""LSTM language model: the baseline every latent model's likelihood is judged against.

Same embedding and decoder sizes as the BS-VAE decoder; the interface it shares with the
latent models (a zero-dimensional latent) lives in no_latent.NoLatentLM.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from components.data.batches import PAD_ID
from components.kinds.text.models.base import Family
from components.kinds.text.models.no_latent import NoLatentLM


@dataclass(frozen=True)
class LSTMLMConfig:
    vocab_size: int
    embed_dim: int
    hidden_dim: int
    num_labels: int
    """0: unconditional; else the size of the label vocabulary."""

    def to_dict(self) -> dict:
        return {"family": "lm", **asdict(self)}


class LSTMLM(NoLatentLM):
    family = "lm"

    def __init__(self, config: LSTMLMConfig):
        super().__init__()
        self.config = c = config
        self.embed = nn.Embedding(c.vocab_size, c.embed_dim, padding_idx=PAD_ID)
        self.init_labels(c.embed_dim)
        self.decoder = nn.LSTM(c.embed_dim, c.hidden_dim, batch_first=True)
        self.out = nn.Linear(c.hidden_dim, c.vocab_size)

    def decode_logits(self, z: torch.Tensor, inputs: torch.Tensor, state=None, labels=None):
        out, state = self.decoder(self.embed_tokens(inputs, labels), state)
        return self.out(out), state


FAMILY = Family(
    name="lm",
    model=LSTMLM,
    config=LSTMLMConfig,
    describe=lambda m, own, train: (
        f"An LSTM language model (embedding {m.embed_dim}, hidden {m.hidden_dim}, no latent): the likelihood "
        "baseline for the latent models. Generates by ancestral sampling."
    ),
)
