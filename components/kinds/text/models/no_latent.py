"""What the language-model baselines share: the model contract with a zero-dimensional latent.

Their "posterior" is empty, their KL is exactly 0 and their importance-weighted NLL is their exact
NLL, so one training loop, one evaluation and one served model cover the baselines and the latent
models, and the numbers compare like for like. A subclass only says how it computes `decode_logits`.
"""

from __future__ import annotations

import torch

from components.kinds.text.models.base import ModelOutput, TextModel, with_bos_eos
from components.kinds.text.models.decoding import decode_loop


class NoLatentLM(TextModel):
    latent_kind = "none"

    @property
    def latent_dim(self) -> int:
        return 0

    def encode(self, tokens: torch.Tensor, lengths: torch.Tensor, labels=None) -> tuple[torch.Tensor, torch.Tensor]:
        empty = tokens.new_zeros((tokens.shape[0], 0), dtype=torch.float32)
        return empty, empty

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor, sample: bool = True, labels=None) -> ModelOutput:
        inputs, targets = with_bos_eos(tokens, lengths)
        mu, logvar = self.encode(tokens, lengths)
        return ModelOutput(
            rec_nll=-self.log_likelihood(mu, inputs, targets, labels), kl=mu.new_zeros(mu.shape), mu=mu, logvar=logvar
        )

    @torch.no_grad()
    def sample_latent(self, n: int, generator: torch.Generator | None = None, labels=None) -> torch.Tensor:
        return torch.zeros(n, 0, device=self.out.weight.device)

    @torch.no_grad()
    def generate(
        self,
        z: torch.Tensor,
        max_len: int,
        temperature: float = 1.0,
        top_p: float = 1.0,
        generator: torch.Generator | None = None,
        greedy: bool = False,
        labels=None,
        prefix: list[int] | None = None,
    ) -> list[list[int]]:
        return decode_loop(self, z, max_len, temperature, top_p, generator, greedy, None, labels, prefix)
