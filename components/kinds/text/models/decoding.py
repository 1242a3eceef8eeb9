"""Autoregressive decoding shared by every family: one token at a time, sampled (nucleus) or greedy."""

from __future__ import annotations

import math

import torch
from torch import nn

from components.data.batches import BOS_ID, EOS_ID, PAD_ID, UNK_ID


@torch.no_grad()
def decode_loop(
    model: nn.Module,
    z: torch.Tensor,
    max_len: int,
    temperature: float,
    top_p: float,
    generator: torch.Generator | None,
    greedy: bool,
    state,
    labels: torch.Tensor | None = None,
    prefix: list[int] | None = None,
) -> list[list[int]]:
    """Autoregressive decoding shared by every family: `model.decode_logits(z, tokens, state, labels)` one step at
    a time, after reading <bos> and `prefix` (which every returned row starts with). <unk> is never chosen: it
    is not a word a reader can use, so sampling renormalises over the known tokens (the NLL the model reports
    is unchanged: it still scores <unk> where the data has one)."""
    batch = z.shape[0]
    prefix = list(prefix or [])
    token = torch.tensor([[BOS_ID, *prefix]], dtype=torch.long, device=z.device).expand(batch, -1)
    done = torch.zeros(batch, dtype=torch.bool, device=z.device)
    out: list[torch.Tensor] = []
    for _ in range(max(max_len - len(prefix), 0) + 1):
        logits, state = model.decode_logits(z, token, state, labels)
        logits = logits[:, -1]
        logits[:, [PAD_ID, BOS_ID, UNK_ID]] = -math.inf
        if greedy:
            nxt = logits.argmax(dim=-1)
        else:
            nxt = sample_top_p(logits / max(temperature, 1e-6), top_p, generator)
        nxt = nxt.masked_fill(done, PAD_ID)
        out.append(nxt)
        done |= nxt == EOS_ID
        if bool(done.all()):
            break
        token = nxt.unsqueeze(1)
    rows = torch.stack(out, dim=1).tolist()
    return [
        (prefix + (row[: row.index(EOS_ID)] if EOS_ID in row else row))[: max(max_len, len(prefix))] for row in rows
    ]


def sample_top_p(logits: torch.Tensor, top_p: float, generator: torch.Generator | None) -> torch.Tensor:
    """Nucleus sampling: draw from the smallest set of tokens whose probability reaches top_p."""
    probs = torch.softmax(logits.float(), dim=-1)
    if top_p < 1.0:
        sorted_probs, order = probs.sort(dim=-1, descending=True)
        keep = sorted_probs.cumsum(dim=-1) - sorted_probs < top_p
        sorted_probs = sorted_probs * keep
        probs = torch.zeros_like(probs).scatter(-1, order, sorted_probs)
    return torch.multinomial(probs, 1, generator=generator).squeeze(1)
