"""End to end on the real stack: Prefect (test harness), DVC (a real repo) and MLflow (a real SQLite store)."""

from __future__ import annotations

import subprocess
import sys

import mlflow
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException

from components.versioning.dvc import DvcFailed, dvc_env, stage_order
from flows.retrain import retrain
from tests.conftest import tracking

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]
STAGES = [f"sentences-{step}" for step in ("ingest", "validate", "split", "check", "tokenize", "train", "evaluate")]


def test_flow_runs_every_stage_registers_and_the_challenger_generates(trained_workspace):
    workspace, result = trained_workspace
    assert list(result["stages"]) == STAGES
    assert set(result["stages"].values()) == {"ran"}
    registered = result["registered"]
    client = tracking(workspace)
    version = client.get_model_version_by_alias(registered["name"], "challenger")
    assert str(version.version) == registered["version"]
    run = client.get_run(version.run_id)
    assert {
        "nll",
        "ppl",
        "kl",
        "nelbo",
        "mutual_information",
        "active_units",
        "recon_bleu",
        "distinct_2",
        "self_bleu",
    } <= set(run.data.metrics)
    assert run.data.params["sentences.train.epochs"] == "1"  # the tiny profile was written and recorded
    assert run.data.tags["application"] == "sentences" and result["application"] == "sentences"
    assert len(run.data.tags["git.commit"]) == 40
    assert len(client.get_metric_history(run.info.run_id, "train_rec")) >= 1

    model = mlflow.pyfunc.load_model(f"models:/{registered['name']}@challenger")
    sentences = model.predict(pd.DataFrame({"n": [5]}))
    assert len(sentences) == 5 and all(isinstance(s, str) for s in sentences["text"])


def test_an_unchanged_rerun_skips_every_stage_and_registers_no_new_version(trained_workspace):
    workspace, first = trained_workspace
    assert (
        (workspace / "data/sentences/reference/vocab.txt").read_text().strip()
    )  # the registered data became the reference
    # dvc.lock matches the new reference: the application's stages are all up to date (the other application, which
    # this flow did not run, is not built yet)
    status = subprocess.run(
        [sys.executable, "-m", "dvc", "status", "--with-deps", "sentences-evaluate"],
        cwd=workspace,
        capture_output=True,
        text=True,
        env=dvc_env(),
    )
    assert "Data and pipelines are up to date" in status.stdout, status.stdout
    again = retrain(workspace=str(workspace))
    assert again["stages"] == {s: "skipped" for s in STAGES}
    assert again["registered"]["version"] == first["registered"]["version"]
    assert again["registered"]["created"] is False
    assert len(tracking(workspace).search_model_versions("name = 'sentences-bsvae'")) == 1


def test_failing_stage_fails_the_flow_with_its_message_and_registers_nothing(workspace):
    corpus = workspace / "bad.txt"
    corpus.write_bytes(b"   \n\t\n" * 50 + b"one good line here\n")
    with pytest.raises(DvcFailed, match=r"validate.*quarantined"):
        retrain(workspace=str(workspace), corpus=str(corpus), profile="tiny")
    with pytest.raises(MlflowException):
        tracking(workspace).get_registered_model("sentences-bsvae")


def test_cli_reports_one_error_line_and_exits_non_zero(workspace):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "flows.retrain",
            "--workspace",
            str(workspace),
            "--corpus",
            str(workspace / "missing.txt"),
        ],
        capture_output=True,
        text=True,
        cwd=workspace,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"error: retrain: {workspace / 'missing.txt'}: corpus not found (a file or a directory of files)"
    ]


def test_stage_order_comes_from_dvc_yaml(workspace):
    assert [s for s in stage_order(workspace) if s.startswith("sentences-")] == STAGES


def test_auto_promotion_makes_the_first_passing_model_champion(trained_workspace):
    workspace, first = trained_workspace
    result = retrain(workspace=str(workspace), overrides=["register.auto_promote=true"])
    assert result["registered"]["promoted"] is True
    champion = tracking(workspace).get_model_version_by_alias("sentences-bsvae", "champion")
    assert str(champion.version) == first["registered"]["version"]
