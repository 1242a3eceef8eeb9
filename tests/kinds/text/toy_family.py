"""A text model family defined only here, in one module: its model, config, own params section and model card line,
and its `FAMILY` record. params.yaml names it by module path (`model.family: tests.kinds.text.toy_family`) and its
own knobs sit in its section of the model section; the factory, the params check, the training loop and the model
card take it with no edit to components/ (tests/kinds/text/test_families.py)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from components.core.schema import Positive, Section
from components.data.batches import PAD_ID
from components.kinds.text.models.base import Family
from components.kinds.text.models.no_latent import NoLatentLM

NAME = __name__  # what model.family says and a saved config records


@dataclass(frozen=True)
class BigramParams(Section):
    width: Positive
    """The width of the one embedding the next token is read from."""


@dataclass(frozen=True)
class BigramConfig:
    vocab_size: int
    width: int
    num_labels: int

    def to_dict(self) -> dict:
        return {"family": NAME, **asdict(self)}


class BigramLM(NoLatentLM):
    """The next token from the previous one alone."""

    family = NAME

    def __init__(self, config: BigramConfig):
        super().__init__()
        self.config = c = config
        self.embed = nn.Embedding(c.vocab_size, c.width, padding_idx=PAD_ID)
        self.init_labels(c.width)
        self.out = nn.Linear(c.width, c.vocab_size)

    def decode_logits(self, z: torch.Tensor, inputs: torch.Tensor, state=None, labels=None):
        return self.out(self.embed_tokens(inputs, labels)), state


FAMILY = Family(
    name=NAME,
    model=BigramLM,
    config=BigramConfig,
    params=BigramParams,
    describe=lambda m, own, train: f"A bigram language model ({own.width} wide).",
)
