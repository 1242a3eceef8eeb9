"""The one contract every translation family implements, its config, and saving/loading (safetensors + JSON).

A translation family maps a padded batch of source ids to target ids. What the training loop, the evaluation
and the served model use, and nothing else:
- `forward(src, src_len, tgt, tgt_len, smoothing)` -> `TranslationLoss`: per-pair loss terms;
- `translate(src, src_len, decoder, max_len, beam_size)` -> target ids per pair (no <bos>/<eos>);
- `decoders`: the decoders `translate` accepts (greedy, beam, latent), `default_decoder` the one the gate and
  the served model use unless told otherwise.
No family imports another; they share only `seq2seq_blocks` and this module.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from components.kinds.translation.params import TranslationModelParams
from components.models.store import load_model_dir, save_model_dir


@dataclass
class TranslationConfig:
    family: str
    src_vocab: int
    tgt_vocab: int
    shared_vocab: bool
    """One tokenizer for both sides: source, target and output embeddings are one matrix."""
    d_model: int
    ff_dim: int
    heads: int
    encoder_layers: int
    decoder_layers: int
    dropout: float
    max_positions: int
    compression: int
    codebook_size: int
    prior_layers: int
    commitment: float
    ema_decay: float
    dead_code_threshold: float

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


FROM_DATA = ("src_vocab", "tgt_vocab", "shared_vocab")


def translation_config(mp: TranslationModelParams, src_vocab: int, tgt_vocab: int, shared: bool) -> TranslationConfig:
    """The config filled from params.yaml's model section by field name (the vocabularies come from the data)."""
    values = {f.name: getattr(mp, f.name) for f in dataclasses.fields(TranslationConfig) if f.name not in FROM_DATA}
    return TranslationConfig(src_vocab=src_vocab, tgt_vocab=tgt_vocab, shared_vocab=shared, **values)


@dataclass
class TranslationLoss:
    """Loss terms of one batch; training minimises rec.sum() + prior.sum() (when present) + aux."""

    rec: torch.Tensor
    """Label-smoothed target NLL per pair, shape (B,)."""
    tokens: int
    """Target tokens scored (end token included): the normaliser."""
    prior: torch.Tensor | None = None
    """latent: the code prior's NLL per pair (B,)."""
    aux: torch.Tensor | None = None
    """latent: the commitment loss (scalar)."""
    codes: torch.Tensor | None = None


class TranslationModel(nn.Module, ABC):
    family: ClassVar[str]
    decoders: ClassVar[tuple[str, ...]]
    default_decoder: ClassVar[str]

    def __init__(self, config: TranslationConfig):
        super().__init__()
        self.config = config

    @abstractmethod
    def forward(
        self, src: torch.Tensor, src_len: torch.Tensor, tgt: torch.Tensor, tgt_len: torch.Tensor, smoothing: float = 0.0
    ) -> TranslationLoss:
        """Loss terms for padded sources (B, S) and targets (B, T) of the given lengths."""

    @abstractmethod
    def translate(
        self, src: torch.Tensor, src_len: torch.Tensor, decoder: str, max_len: torch.Tensor, beam_size: int = 4
    ) -> list[list[int]]:
        """Target ids per source (without <bos>/<eos>), each at most max_len[i] tokens."""

    def check_decoder(self, decoder: str) -> None:
        if decoder not in self.decoders:
            raise ValueError(f"a {self.family} model decodes with {list(self.decoders)}, not {decoder!r}")


def save_translator(model: TranslationModel, directory: str | Path) -> None:
    save_model_dir(model, directory)


def load_translator(
    directory: str | Path, families: dict[str, type[TranslationModel]], device: str | torch.device = "cpu"
) -> TranslationModel:
    """Rebuild a translation model from `directory`; a missing, foreign or tampered file is a ModelFileError."""

    def build(raw: dict) -> TranslationModel:
        config = TranslationConfig(**raw)
        return families[config.family](config)

    return load_model_dir(directory, build, device)
