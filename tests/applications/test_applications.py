"""Each application is a named unit: its params section, its stages and outputs in dvc.yaml, its model names.

dvc.yaml, the one definition of the stages, spells every path; the code reads an application's outputs from its
commands (components/applications/base.py): these tests hold dvc.yaml to declaring every path it passes.
"""

from __future__ import annotations

import pytest
import yaml

from components.applications.catalog import APPLICATIONS, application
from components.applications.kind import load_application_params
from components.core.errors import StageError
from components.core.params import application_names
from components.kinds.images.application import ImageApplication
from components.kinds.images.models.factory import IMAGE_FAMILIES
from components.kinds.text.application import TextApplication
from components.kinds.text.models.factory import FAMILIES
from components.kinds.translation.application import TranslationApplication
from components.kinds.translation.models.factory import TRANSLATION_FAMILIES
from components.versioning.stage_file import command_arguments
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
    assert app.model_families() and set(app.model_families()) <= set(known)


UNDECLARED = {"--checkpoint", "--timing", "--reports"}
"""Paths a stage's command takes that DVC does not track: the resumable checkpoint (deleted once the stage ends),
wall times (a rebuild hashes the same however fast the machine) and the folder of pictures the stage chooses."""


@pytest.mark.parametrize("stage", sorted(DVC))
def test_every_path_a_stage_is_given_is_one_dvc_tracks(stage):
    """The code reads outputs where dvc.yaml's commands put them (Application.output), so each path a command is
    given must be one of the stage's declared deps or outputs: then dvc.yaml is the one spelling of it."""
    declared = {*outs(stage), *(d.split("  #")[0] for d in DVC[stage].get("deps", []))}
    given = {flag: value for flag, value in command_arguments(DVC[stage]["cmd"]).items() if "/" in value}
    loose = {flag: value for flag, value in given.items() if flag not in UNDECLARED and value not in declared}
    assert not loose, f"{stage} passes paths it does not declare: {loose}"


@pytest.mark.parametrize("name", sorted(APPLICATIONS))
def test_the_outputs_the_code_reads_are_read_from_dvc_yaml(name):
    app, family = APPLICATIONS[name], RAW_PARAMS[name]["model"]["family"]
    for stage, path in app.lineage_outputs(ROOT, family).values():
        assert path in {resolve(o, name) for o in outs(stage)}, (stage, path)
    rel = lambda path: str(path.relative_to(ROOT))  # noqa: E731
    assert rel(app.eval_metrics(ROOT)) in outs(app.stage("evaluate"))
    assert rel(app.train_history(ROOT)) in outs(app.stage(app.train_step))
    assert rel(app.model_dir(ROOT, family)) == f"models/{name}/{family}"
    assert app.report_files(ROOT) == [p for p in app.report_files(ROOT) if p.is_file()]


@pytest.mark.parametrize("name", TEXT_APPS)
def test_a_text_applications_vocabularies_and_starting_weights_are_where_its_stages_read_them(name):
    app = APPLICATIONS[name]
    train, check = DVC[app.stage(app.train_step)], DVC[app.stage("check")]
    assert rel_in(app.warm_start_dir(ROOT), train["deps"]) and rel_in(app.base_dir(ROOT), train["deps"])
    assert rel_in(app.reference_vocab(ROOT), check["deps"]) and app.reference_vocab(ROOT).is_file()
    assert app.warm_start_dir(ROOT).is_dir()


def test_a_missing_flag_is_one_error_naming_the_stage(tmp_path):
    (tmp_path / "dvc.yaml").write_text("stages:\n  sentences-train:\n    cmd: python3 -m x --app sentences\n")
    with pytest.raises(StageError, match="stage 'sentences-train' passes no --history PATH"):
        APPLICATIONS["sentences"].train_history(tmp_path)


def rel_in(path, deps: list[str]) -> bool:
    return str(path.relative_to(ROOT)) in {d.split("  #")[0].strip() for d in deps}


@pytest.mark.parametrize("name", sorted(APPLICATIONS))
def test_model_names_follow_the_application_and_family(name):
    params = load_application_params(ROOT / "params.yaml", name)
    assert params.model_name == f"{name}-{params.model.family}"
    assert application(name).model_dir(ROOT, params.model.family) == ROOT / f"models/{name}/{params.model.family}"
