"""The importance-weighted NLL (Burda et al. 2016): the number that compares latent models with a plain LM.

With K samples from q(z|x) as the proposal, the bound tightens towards log p(x) as K grows.
Samples are drawn in chunks, so memory grows with the chunk, not with K.
"""

from __future__ import annotations

import math

import torch

from components.models.base import TextModel, with_bos_eos

LOG_2PI = math.log(2 * math.pi)


def log_normal(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; mu, diag(exp(logvar))) summed over the last dimension."""
    return -0.5 * (((z - mu) ** 2) / logvar.exp() + logvar + LOG_2PI).sum(dim=-1)


@torch.no_grad()
def importance_weighted_nll(model: TextModel, tokens: torch.Tensor, lengths: torch.Tensor, samples: int,
                            chunk: int = 50) -> torch.Tensor:
    """-log (1/K sum_k p(x, z_k) / q(z_k|x)) per sentence, z_k ~ q(z|x); shape (B,)."""
    mu, logvar = model.encode(tokens, lengths)
    inputs, targets = with_bos_eos(tokens, lengths)
    log_weights = []
    for start in range(0, samples, chunk):
        k = min(chunk, samples - start)
        mu_k, logvar_k = mu.repeat(k, 1), logvar.repeat(k, 1)
        z = mu_k + torch.randn_like(mu_k) * (0.5 * logvar_k).exp()
        log_px_z = model.log_likelihood(z, inputs.repeat(k, 1), targets.repeat(k, 1))
        log_pz = log_normal(z, torch.zeros_like(z), torch.zeros_like(z))
        log_qz = log_normal(z, mu_k, logvar_k)
        log_weights.append((log_px_z + log_pz - log_qz).view(k, -1))
    log_weights = torch.cat(log_weights, dim=0)
    return -(torch.logsumexp(log_weights, dim=0) - math.log(samples))
