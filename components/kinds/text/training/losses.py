"""The training objective every family is trained with, from the terms its forward pass returns."""

from __future__ import annotations

import torch

from components.kinds.text.models.base import ModelOutput


def vae_loss(out: ModelOutput, beta: float, free_bits: float) -> tuple[torch.Tensor, dict[str, float]]:
    """Per-sentence loss: reconstruction + beta * KL, with each dimension's batch-mean KL floored at free_bits.

    For the VQ-VAE, `kl` is its prior's NLL of the codes (added in full) and `aux_loss` its commitment loss.
    """
    kl_per_dim = out.kl.mean(dim=0)
    rec = out.rec_nll.mean()
    if out.kl_is_scheduled:
        kl_term = torch.clamp(kl_per_dim, min=free_bits).sum() if free_bits > 0 else kl_per_dim.sum()
        loss = rec + beta * kl_term
    else:
        loss = rec + kl_per_dim.sum()
    if out.aux_loss is not None:
        loss = loss + out.aux_loss
    return loss, {"rec": rec.item(), "kl": kl_per_dim.sum().item()}
