"""LSTM language model: the baseline every latent model's likelihood is judged against.

Same embedding and decoder sizes as the BS-VAE decoder, and the same interface with a
zero-dimensional latent: its "posterior" is empty, its KL is exactly 0 and its
importance-weighted NLL is its exact NLL, so one training loop, one evaluation and one
served model cover both, and the numbers compare like for like.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from components.batches import PAD_ID
from components.models.bsvae import VAEOutput, decode_loop, sentence_log_likelihood, with_bos_eos


@dataclass(frozen=True)
class LSTMLMConfig:
    vocab_size: int
    embed_dim: int = 128
    hidden_dim: int = 256
    latent_dim: int = 0  # no latent: kept so callers can treat every family alike
    word_dropout: float = 0.0

    def to_dict(self) -> dict:
        return {"family": "lm", **asdict(self)}


class LSTMLM(nn.Module):
    def __init__(self, config: LSTMLMConfig):
        super().__init__()
        self.config = c = LSTMLMConfig(**{**asdict(config), "latent_dim": 0})
        self.embed = nn.Embedding(c.vocab_size, c.embed_dim, padding_idx=PAD_ID)
        self.decoder = nn.LSTM(c.embed_dim, c.hidden_dim, batch_first=True)
        self.out = nn.Linear(c.hidden_dim, c.vocab_size)

    def encode(self, tokens: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        empty = tokens.new_zeros((tokens.shape[0], 0), dtype=torch.float32)
        return empty, empty

    def decode_logits(self, z: torch.Tensor, inputs: torch.Tensor, state=None):
        out, state = self.decoder(self.embed(inputs), state)
        return self.out(out), state

    def log_likelihood(self, z: torch.Tensor, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return sentence_log_likelihood(self.decode_logits(z, inputs)[0], targets)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor, sample: bool = True) -> VAEOutput:
        inputs, targets = with_bos_eos(tokens, lengths)
        mu, logvar = self.encode(tokens, lengths)
        return VAEOutput(rec_nll=-self.log_likelihood(mu, inputs, targets), kl=mu.new_zeros(mu.shape),
                         mu=mu, logvar=logvar)

    @torch.no_grad()
    def generate(self, z: torch.Tensor, max_len: int, temperature: float = 1.0, top_p: float = 1.0,
                 generator: torch.Generator | None = None, greedy: bool = False) -> list[list[int]]:
        return decode_loop(self, z, max_len, temperature, top_p, generator, greedy, state=None)
