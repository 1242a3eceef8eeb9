"""The one Transformer block builder: the BS-VAE's Transformer halves, the Transformer LM and the VQ prior."""

from __future__ import annotations

from torch import nn


def transformer_blocks(width: int, heads: int, feedforward: int, layers: int, dropout: float) -> nn.TransformerEncoder:
    """`layers` pre-norm blocks, `width` wide with a `feedforward`-wide MLP (causal when given a mask)."""
    if width % heads:
        raise ValueError(f"width {width} is not divisible by heads {heads}")
    block = nn.TransformerEncoderLayer(width, heads, feedforward, dropout, batch_first=True, norm_first=True)
    return nn.TransformerEncoder(block, layers, enable_nested_tensor=False)


def check_length(length: int, max_positions: int) -> None:
    if length > max_positions:
        raise ValueError(f"sequence of {length} tokens exceeds max_positions {max_positions}")
