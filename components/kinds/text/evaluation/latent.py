"""Whether the latent is used at all: mutual information and active units (a collapsed VAE has both near 0)."""

from __future__ import annotations

import math

import torch

from components.kinds.text.evaluation.likelihood import LOG_2PI, log_normal


def mutual_information(
    mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None, chunk: int = 256
) -> float:
    """I(x; z) under q(z|x) and the empirical data distribution (Hoffman & Johnson 2016; He et al. 2019).

    MI = E_x E_q(z|x)[log q(z|x)] - E_q(z)[log q(z)], with the aggregate posterior q(z)
    approximated by the mixture of all evaluated sentences' posteriors.
    """
    n, d = mu.shape
    neg_entropy = (-0.5 * d * LOG_2PI - 0.5 * (1 + logvar).sum(dim=-1)).mean()
    z = mu + torch.randn(mu.shape, generator=generator, device=mu.device) * (0.5 * logvar).exp()
    log_qz = []
    for start in range(0, n, chunk):
        zi = z[start : start + chunk].unsqueeze(1)  # (c, 1, D) against every posterior (1, N, D)
        log_q = log_normal(zi, mu.unsqueeze(0), logvar.unsqueeze(0))  # (c, N)
        log_qz.append(torch.logsumexp(log_q, dim=1) - math.log(n))
    return float(neg_entropy - torch.cat(log_qz).mean())


def active_units(mu: torch.Tensor, threshold: float = 0.01) -> tuple[int, list[float]]:
    """Dimensions whose posterior mean varies across sentences (Burda et al. 2016): Cov_x(E_q[z_d]) > threshold."""
    variance = mu.var(dim=0, unbiased=True) if len(mu) > 1 else torch.zeros(mu.shape[1])
    return int((variance > threshold).sum()), variance.tolist()
