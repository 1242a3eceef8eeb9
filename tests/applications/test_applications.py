"""Each application is a named unit: its params section, its stages and outputs in dvc.yaml, its model names.

The code names an application's outputs (components/applications/) and dvc.yaml, the one definition of the
stages, writes them: these tests keep the two in agreement.
"""

from __future__ import annotations

import pytest
import yaml

from components.applications.catalog import APPLICATIONS, application
from components.core.errors import StageError
from components.core.params import application_names
from components.kinds.images.application import ImageApplication
from components.kinds.images.models.factory import IMAGE_FAMILIES
from components.kinds.registry import load_application_params
from components.kinds.text.application import TextApplication
from components.kinds.text.models.factory import FAMILIES
from components.kinds.translation.application import TranslationApplication
from components.kinds.translation.models.factory import TRANSLATION_FAMILIES
from tests.imports import ROOT

DVC = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
RAW_PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
TEXT_APPS = sorted(name for name, app in APPLICATIONS.items() if isinstance(app, TextApplication))


def outs(stage: str) -> set[str]:
    entries = [*DVC[stage].get("outs", []), *DVC[stage].get("metrics", []), *DVC[stage].get("plots", [])]
    return {next(iter(e)) if isinstance(e, dict) else e for e in entries}


def resolve(text: str, app: str) -> str:
    """dvc.yaml's ${app.model.family} as the shipped params.yaml sets it."""
    return text.replace(f"${{{app}.model.family}}", RAW_PARAMS[app]["model"]["family"])


def test_params_yaml_and_the_code_know_the_same_applications():
    assert sorted(application_names(RAW_PARAMS)) == sorted(APPLICATIONS)
    with pytest.raises(StageError, match="no application 'audio'"):
        application("audio")


@pytest.mark.parametrize("name", sorted(APPLICATIONS))
def test_an_applications_stages_are_in_dvc_yaml_in_order_and_read_its_params(name):
    app = APPLICATIONS[name]
    assert [s for s in DVC if s.startswith(f"{name}-")] == app.stages
    for stage in app.stages:
        assert f"--app {name}" in DVC[stage]["cmd"], stage
        params = [next(iter(p)) if isinstance(p, dict) else p for p in DVC[stage].get("params", [])]
        assert all(p.startswith(f"{name}.") for p in params), (stage, params)
    known = (
        TRANSLATION_FAMILIES
        if isinstance(app, TranslationApplication)
        else IMAGE_FAMILIES
        if isinstance(app, ImageApplication)
        else FAMILIES
    )
    assert set(app.families) <= set(known)


@pytest.mark.parametrize("name", sorted(APPLICATIONS))
def test_the_lineage_outputs_are_the_ones_dvc_yaml_writes(name):
    app, family = APPLICATIONS[name], RAW_PARAMS[name]["model"]["family"]
    for stage, path in app.lineage_outputs(family).values():
        assert path in {resolve(o, name) for o in outs(stage)}, (stage, path)
    assert {app.metrics("eval")} <= outs(app.stage("evaluate"))
    assert {app.metrics("train"), app.metrics("train_history")} <= outs(app.stage(app.train_step))


@pytest.mark.parametrize("name", TEXT_APPS)
def test_the_outputs_the_code_reads_are_the_ones_dvc_yaml_writes(name):
    app, family = APPLICATIONS[name], RAW_PARAMS[name]["model"]["family"]
    for stage, path in app.lineage_outputs(family).values():
        assert path in {resolve(o, name) for o in outs(stage)}, (stage, path)
    evaluate, train = app.stage("evaluate"), app.stage(app.train_step)
    assert {app.metrics("eval"), app.metrics("latent_dims"), app.reports("samples.md")} <= outs(evaluate)
    assert {app.metrics("train"), app.metrics("train_history")} <= outs(train)
    assert app.warm_start_dir in DVC[train]["deps"]
    assert f"--checkpoint {app.checkpoint}" in DVC[train]["cmd"]
    assert app.reports("timing/train.json") in DVC[train]["cmd"]
    assert app.reference_vocab in DVC[app.stage("check")]["deps"]
    assert (ROOT / app.reference_vocab).is_file() and (ROOT / app.warm_start_dir).is_dir()


@pytest.mark.parametrize("name", sorted(APPLICATIONS))
def test_model_names_follow_the_application_and_family(name):
    params = load_application_params(ROOT / "params.yaml", name)
    assert params.model_name == f"{name}-{params.model.family}"
    assert application(name).model_dir(params.model.family) == f"models/{name}/{params.model.family}"
