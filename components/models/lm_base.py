"""What every language-model baseline shares: the latent models' interface with a zero-dimensional latent.

Its "posterior" is empty, its KL is exactly 0 and its importance-weighted NLL is its exact NLL, so
one training loop, one evaluation and one served model cover the baselines and the latent models,
and the numbers compare like for like. A subclass only says how it computes `decode_logits`.
"""

from __future__ import annotations

import torch
from torch import nn

from components.models.bsvae import VAEOutput, decode_loop, sentence_log_likelihood, with_bos_eos


class NoLatentLM(nn.Module):
    def decode_logits(self, z: torch.Tensor, inputs: torch.Tensor, state=None):
        raise NotImplementedError

    def encode(self, tokens: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        empty = tokens.new_zeros((tokens.shape[0], 0), dtype=torch.float32)
        return empty, empty

    def log_likelihood(self, z: torch.Tensor, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return sentence_log_likelihood(self.decode_logits(z, inputs)[0], targets)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor, sample: bool = True) -> VAEOutput:
        inputs, targets = with_bos_eos(tokens, lengths)
        mu, logvar = self.encode(tokens, lengths)
        return VAEOutput(rec_nll=-self.log_likelihood(mu, inputs, targets), kl=mu.new_zeros(mu.shape),
                         mu=mu, logvar=logvar)

    @torch.no_grad()
    def sample_latent(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.zeros(n, 0, device=self.out.weight.device)

    @torch.no_grad()
    def generate(self, z: torch.Tensor, max_len: int, temperature: float = 1.0, top_p: float = 1.0,
                 generator: torch.Generator | None = None, greedy: bool = False) -> list[list[int]]:
        return decode_loop(self, z, max_len, temperature, top_p, generator, greedy, state=None)
