"""A tiny VAE over 2-D points: a Gaussian latent, a Gaussian decoder, an importance-weighted NLL."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class PointsConfig:
    family: str
    hidden: int
    latent_dim: int

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


class PointsVAE(nn.Module):
    def __init__(self, config: PointsConfig):
        super().__init__()
        self.config = config
        h, z = config.hidden, config.latent_dim
        self.encoder = nn.Sequential(nn.Linear(2, h), nn.Tanh(), nn.Linear(h, 2 * z))
        self.decoder = nn.Sequential(nn.Linear(z, h), nn.Tanh(), nn.Linear(h, 4))

    def terms(self, x: torch.Tensor, k: int = 1) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """log p(x|z), log p(z), log q(z|x) for k posterior samples each: (k, B)."""
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        z = mu + torch.randn(k, *mu.shape) * (0.5 * logvar).exp()
        mean, log_scale = self.decoder(z).chunk(2, dim=-1)
        log_px = torch.distributions.Normal(mean, log_scale.clamp(-5, 5).exp()).log_prob(x).sum(-1)
        log_pz = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)
        log_qz = torch.distributions.Normal(mu, (0.5 * logvar).exp()).log_prob(z).sum(-1)
        return log_px, log_pz, log_qz

    def nelbo(self, x: torch.Tensor) -> torch.Tensor:
        log_px, log_pz, log_qz = self.terms(x)
        return -(log_px + log_pz - log_qz).mean()

    @torch.no_grad()
    def nll(self, x: torch.Tensor, k: int) -> torch.Tensor:
        log_px, log_pz, log_qz = self.terms(x, k)
        return -(torch.logsumexp(log_px + log_pz - log_qz, dim=0) - math.log(k))

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        z = torch.randn(n, self.config.latent_dim, generator=generator)
        mean, log_scale = self.decoder(z).chunk(2, dim=-1)
        return mean + torch.randn(mean.shape, generator=generator) * log_scale.clamp(-5, 5).exp()
