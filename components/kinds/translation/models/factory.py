"""The translation families by name, built from params.yaml's model section or loaded from a model directory."""

from __future__ import annotations

from pathlib import Path

import torch

from components.kinds.translation.models.base import TranslationModel, load_translator, translation_config
from components.kinds.translation.models.latent_translator import LatentTranslator
from components.kinds.translation.models.transformer_translator import TransformerTranslator
from components.kinds.translation.params import TranslationModelParams

TRANSLATION_FAMILIES: dict[str, type[TranslationModel]] = {
    cls.family: cls for cls in (TransformerTranslator, LatentTranslator)
}


def build_translator(mp: TranslationModelParams, src_vocab: int, tgt_vocab: int, shared: bool) -> TranslationModel:
    """A freshly initialised model of model.family (torch's RNG decides the initial weights)."""
    return TRANSLATION_FAMILIES[mp.family](translation_config(mp, src_vocab, tgt_vocab, shared))


def load_translation_model(directory: str | Path, device: str | torch.device = "cpu") -> TranslationModel:
    return load_translator(directory, TRANSLATION_FAMILIES, device)
