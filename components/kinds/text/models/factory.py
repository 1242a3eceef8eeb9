"""params.yaml's model section to a model, through the family registry (families.py).

A family's config takes, by name, the model section's knobs it declares, shared (embed_dim, hidden_dim, ...) or its
own section's (model.bsvae.latent_dim), plus the vocabulary size, which comes from the tokenizer, and the number of
labels, from the label vocabulary when model.conditional is set; so a value is never copied by hand and never
defaulted in code.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch

from components.kinds.text.models.base import TextModel
from components.kinds.text.models.families import FAMILIES, config_values, family_named
from components.kinds.text.params import ModelParams
from components.models.store import load_model_dir, save_model_dir

__all__ = ["FAMILIES", "build_model", "load_model", "model_config", "model_from_config", "save_model"]

FROM_DATA = ("vocab_size", "num_labels")
"""Config fields that come from the data (the tokenizer, the label vocabulary), not from params.yaml."""


def model_config(vocab_size: int, mp: ModelParams, num_labels: int = 0) -> Any:
    """The config model.family's class is built from: its fields, filled by name from the model section's shared
    knobs and the family's own section."""
    config_cls = family_named(mp.family).config
    if mp.conditional and num_labels < 1:
        raise ValueError("model.conditional is true but there are no labels (the tokenize stage's labels.json)")
    known = config_values(mp)
    values = {f.name: known[f.name] for f in dataclasses.fields(config_cls) if f.name not in FROM_DATA}
    return config_cls(vocab_size=vocab_size, num_labels=num_labels if mp.conditional else 0, **values)


def build_model(vocab_size: int, mp: ModelParams, num_labels: int = 0) -> TextModel:
    """A freshly initialised model of model.family (torch's RNG decides the initial weights)."""
    return family_named(mp.family).model(model_config(vocab_size, mp, num_labels))


def model_from_config(raw: dict[str, Any]) -> TextModel:
    """A freshly initialised model from a saved config.json ({"family": ..., **fields})."""
    raw = upgrade_saved_config(dict(raw))
    family = family_named(raw.pop("family"))
    return family.model(family.config(**raw))


def upgrade_saved_config(raw: dict[str, Any]) -> dict[str, Any]:
    """Configs written before the families shared one contract: the VQ prior's fields were prior_layers and
    prior_heads (its dropout was fixed at 0.1), and the LM baselines carried an unused latent_dim and word_dropout."""
    if raw.get("family") == "vqvae" and "prior_layers" in raw:
        raw["layers"], raw["heads"] = raw.pop("prior_layers"), raw.pop("prior_heads")
        raw.setdefault("dropout", 0.1)
    if raw.get("family") == "lm":
        raw.pop("latent_dim", None)
        raw.pop("word_dropout", None)
    if raw.get("family") == "transformer_lm":
        raw.pop("latent_dim", None)
    raw.setdefault("num_labels", 0)  # saved before conditioning existed
    if raw.get("family") == "bsvae":
        raw.setdefault("label_prior", "standard")
        raw.setdefault("conditioning", "tokens")  # saved before latent conditioning existed
    return raw


def save_model(model: TextModel, directory: str | Path) -> None:
    """A text model's directory: safetensors weights and its config (components/models/store.py)."""
    save_model_dir(model, directory)


def load_model(directory: str | Path, device: str | torch.device = "cpu") -> TextModel:
    """Rebuild a text model from `directory`; any missing, foreign or tampered file is a ModelFileError."""
    return load_model_dir(directory, model_from_config, device)
