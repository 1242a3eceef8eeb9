"""The importance-weighted NLL (Burda et al. 2016): the number that compares latent models with a plain LM.

With K samples from q(z|x) as the proposal, the bound tightens towards log p(x) as K grows.
The samples are scored a bounded number of rows at a time, so memory does not grow with K.
"""

from __future__ import annotations

import math

import torch

from components.data.batches import with_bos_eos
from components.kinds.text.models.base import TextModel

LOG_2PI = math.log(2 * math.pi)


def log_normal(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; mu, diag(exp(logvar))) summed over the last dimension."""
    return -0.5 * (((z - mu) ** 2) / logvar.exp() + logvar + LOG_2PI).sum(dim=-1)


NOISE_GROUP = 50
"""Importance samples drawn per call of the random generator. Fixed, so the noise, and with it every recorded
NLL, stays the same whatever rows_per_pass is."""


@torch.no_grad()
def importance_weighted_nll(
    model: TextModel,
    tokens: torch.Tensor,
    lengths: torch.Tensor,
    samples: int,
    rows_per_pass: int | None = None,
    labels: torch.Tensor | None = None,
) -> torch.Tensor:
    """-log (1/K sum_k p(x, z_k) / q(z_k|x)) per sentence, z_k ~ q(z|x); shape (B,). With labels, every term is
    conditioned on them: -log p(x|y) through q(z|x, y), p(x|z, y) and p(z|y).

    The decoder scores at most `rows_per_pass` (sentence, sample) rows at once (all of a noise group when None):
    its logits, rows x tokens x vocabulary, are what fills memory, so peak memory stays flat in K.
    """
    mu, logvar = model.encode(tokens, lengths, labels)
    inputs, targets = with_bos_eos(tokens, lengths)
    log_weights = []
    for start in range(0, samples, NOISE_GROUP):
        k = min(NOISE_GROUP, samples - start)
        mu_k, logvar_k = mu.repeat(k, 1), logvar.repeat(k, 1)
        z = mu_k + torch.randn_like(mu_k) * (0.5 * logvar_k).exp()
        inputs_k, targets_k = inputs.repeat(k, 1), targets.repeat(k, 1)
        labels_k = None if labels is None else labels.repeat(k)
        step = rows_per_pass or len(z)
        log_px_z = torch.cat(
            [
                model.log_likelihood(
                    z[i : i + step],
                    inputs_k[i : i + step],
                    targets_k[i : i + step],
                    None if labels_k is None else labels_k[i : i + step],
                )
                for i in range(0, len(z), step)
            ]
        )
        log_pz = log_normal(z, *model.prior_params(z, labels_k))
        log_qz = log_normal(z, mu_k, logvar_k)
        log_weights.append((log_px_z + log_pz - log_qz).view(k, -1))
    log_weights = torch.cat(log_weights, dim=0)
    return -(torch.logsumexp(log_weights, dim=0) - math.log(samples))
