"""Fine-tuning's pieces that need no registry: the init_from setting, partial loading of a base model's weights
and the check that base/ holds what params.yaml names (the flow end to end: tests/kinds/text/test_pretrain_flow.py)."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from components.core.errors import StageError
from components.core.params import ParamsError
from components.kinds.text.base_model import check_base, merge_base, parse_model_uri
from components.kinds.text.models.factory import build_model
from tests.conftest import model_params as conftest_model_params
from tests.conftest import params_for


def test_init_from_names_a_registered_model_by_alias_or_version():
    assert parse_model_uri("models:/pretrain-bsvae@champion") == ("pretrain-bsvae", "champion", None)
    assert parse_model_uri("models:/pretrain-bsvae/3") == ("pretrain-bsvae", None, "3")
    for bad in ("pretrain-bsvae", "models:/x@", "runs:/abc/model", "models:/a/b/c", "models:/a@1x"):
        with pytest.raises(ParamsError, match="train.init_from must be models:/NAME@ALIAS or models:/NAME/VERSION"):
            parse_model_uri(bad)


def test_init_from_and_a_champion_warm_start_cannot_both_choose_the_start():
    train = params_for("train", "conditional", init_from="models:/pretrain-bsvae@champion")
    with pytest.raises(ParamsError, match="set train.warm_start to scratch"):
        dataclasses.replace(train, warm_start="champion")
    with pytest.raises(ParamsError, match="init_from must be models:/NAME@ALIAS .* got 'models:/nope'"):
        dataclasses.replace(train, init_from="models:/nope")


def test_a_conditional_model_takes_every_shared_tensor_from_an_unconditional_base_and_starts_the_label_fresh():
    model_params = params_for("model", "conditional")
    torch.manual_seed(0)
    base = build_model(300, dataclasses.replace(model_params, conditional=False)).state_dict()
    torch.manual_seed(1)
    model = build_model(300, conftest_model_params(model_params, label_prior="learned"), num_labels=5)
    merged, fresh = merge_base(model.state_dict(), base, "train.init_from")
    assert set(fresh) == {"label_embed.weight", "prior_mu.weight", "prior_logvar.weight"}  # the label's own
    assert all(torch.equal(merged[k], base[k]) for k in merged if k not in fresh)
    assert all(torch.equal(merged[k], model.state_dict()[k]) for k in fresh)
    model.load_state_dict(merged, strict=True)


def test_another_architecture_or_family_is_one_error_naming_the_setting():
    model_params = params_for("model", "conditional")
    base = build_model(300, dataclasses.replace(model_params, conditional=False)).state_dict()
    wider = build_model(300, dataclasses.replace(model_params, hidden_dim=model_params.hidden_dim * 2), num_labels=5)
    with pytest.raises(StageError, match="set the model section to the base model's"):
        merge_base(wider.state_dict(), base, "train.init_from")
    with pytest.raises(StageError, match="shares no tensor"):
        merge_base(wider.state_dict(), {"generator.weight": torch.zeros(2)}, "train.init_from")


def test_the_stages_refuse_a_base_folder_that_holds_another_model_than_params_name(tmp_path):
    assert check_base(tmp_path, "") is None  # no init_from: nothing asked, nothing read
    with pytest.raises(StageError, match=r"train.init_from is models:/p@champion but .* holds no base"):
        check_base(tmp_path, "models:/p@champion")
    (tmp_path / "source.json").write_text(
        json.dumps({"init_from": "models:/p@challenger", "name": "p", "version": "1"})
    )
    (tmp_path / "tokenizer.json").write_text("{}")
    with pytest.raises(StageError, match="holds models:/p@challenger: run the flow"):
        check_base(tmp_path, "models:/p@champion")
    assert check_base(tmp_path, "models:/p@challenger")["version"] == "1"
