"""One place for a text family: a family defined in one module outside components/ (tests/kinds/text/toy_family.py),
named by params.yaml, is checked, built, trained, saved, loaded and described through the registry alone."""

from __future__ import annotations

import copy

import pytest
import torch
import yaml

from components.applications.kind import application_params, kind_of
from components.core.params import ParamsError
from components.kinds.text.card import describe_family
from components.kinds.text.models.factory import build_model, load_model, save_model
from components.kinds.text.models.families import FAMILIES, family_params
from components.kinds.text.training.loop import train_model
from tests.conftest import ROOT, counting_arrays, params_for
from tests.kinds.text import toy_family


def checked(raw: dict):
    """What the flow checks before it runs: the schema, then the kind's own check (the model family)."""
    params = application_params(raw, "sentences")
    kind_of(raw, "sentences").check_params(params)
    return params


def with_toy(width) -> dict:
    raw = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    raw["sentences"]["model"]["family"] = toy_family.NAME
    raw["sentences"]["model"][toy_family.NAME] = {"width": width}
    return raw


def test_a_family_outside_components_is_checked_trained_saved_loaded_and_described(tmp_path):
    params = checked(with_toy(8))
    assert family_params(params.model) == toy_family.BigramParams(width=8) and toy_family.NAME not in FAMILIES
    p = params_for("train", epochs=3, batch_size=16, warmup_steps=0)
    result = train_model(counting_arrays(), counting_arrays(64, seed=1), 50, params.model, p, torch.device("cpu"))
    losses = [row["valid_nelbo"] for row in result.history]
    assert isinstance(result.model, toy_family.BigramLM) and losses[-1] < losses[0]
    save_model(result.model, tmp_path)
    assert isinstance(load_model(tmp_path), toy_family.BigramLM)  # the saved config names the family's module
    assert describe_family(params) == "A bigram language model (8 wide)."
    assert isinstance(build_model(50, params.model), toy_family.BigramLM)


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda raw: raw["sentences"]["model"][toy_family.NAME].update(width=0), "width: must be positive"),
        (lambda raw: raw["sentences"]["model"].update(family="bigram"), "model.family: must be one of"),
        (lambda raw: raw["sentences"]["model"].update(gru={"width": 3}), "model.gru: no family has a section"),
        (lambda raw: raw["sentences"]["model"]["vqvae"].update(codes=0), "sentences.model.vqvae.codes: must be"),
    ],
)
def test_family_knobs_are_checked_in_their_own_section(change, message):
    raw = copy.deepcopy(with_toy(8))
    change(raw)
    with pytest.raises(ParamsError, match=message):
        checked(raw)
