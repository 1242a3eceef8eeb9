"""The conditional application end to end on the real stack: the flow runs its stages (classifier included),
gates on control accuracy, registers `conditional-bsvae`, and the registered model answers by label and prefix."""

from __future__ import annotations

import json
import subprocess
import sys

import mlflow
import pandas as pd
import pytest

from flows.retrain import retrain
from tests.conftest import assert_up_to_date_and_rebuilt, glosses, make_workspace, tracking

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]


@pytest.fixture(scope="module")
def conditional_run(tmp_path_factory, prefect_api):
    ws = make_workspace(tmp_path_factory.mktemp("conditional") / "ws", glosses(200))
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        mp.delenv("MLFLOW_REGISTRY_URI", raising=False)
        return ws, retrain(workspace=str(ws), app="conditional", profile="tiny")


def test_the_flow_trains_the_classifier_gates_on_control_and_registers_with_labels(conditional_run):
    ws, result = conditional_run
    assert "conditional-classifier" in result["stages"] and result["registered"]["name"] == "conditional-bsvae"
    metrics = json.loads((ws / "metrics/conditional/eval.json").read_text())
    assert 0 <= metrics["control_accuracy"] <= 1 and metrics["classifier_test_accuracy"] > 1 / 45
    assert len(metrics["nll_per_label"]) > 10  # the test rows spread over the labels
    gate = json.loads((ws / "reports/conditional/gate.json").read_text())
    control = [c for c in gate["checks"] if c["metric"] == "control_accuracy"]
    assert control and control[0]["disabled"]  # the tiny profile's threshold is 0
    run = tracking(ws).get_run(tracking(ws).get_model_version_by_alias("conditional-bsvae", "challenger").run_id)
    assert "control_accuracy" in run.data.metrics and run.data.tags["application"] == "conditional"
    assert "labels.md5" in " ".join(run.data.tags)


def test_the_registered_model_answers_by_label_and_prefix_and_names_the_labels_it_knows(conditional_run):
    ws, _ = conditional_run
    tracking(ws)
    model = mlflow.pyfunc.load_model("models:/conditional-bsvae@challenger")
    out = model.predict(pd.DataFrame({"label": ["noun.animal"], "n": [5]}), params={"seed": 1})
    assert len(out) == 5 and not any("<unk>" in t for t in out["text"])
    continued = model.predict(pd.DataFrame({"label": ["noun.food"], "prefix": ["a sweet"], "n": [2]}))
    assert all(t.startswith("a sweet") for t in continued["text"]), continued
    with pytest.raises(Exception, match=r"unknown label.*noun.animal"):
        model.predict(pd.DataFrame({"label": ["noun.nonsense"], "n": [1]}))
    cli = [sys.executable, "-m", "components.commands.generate", "--workspace", str(ws),
           "--model", "models:/conditional-bsvae@challenger"]
    proc = subprocess.run([*cli, "--label", "noun.nonsense"], capture_output=True, text=True)
    assert proc.returncode == 1 and proc.stderr.startswith("error: generate: unknown label(s) ['noun.nonsense']")
    assert len(proc.stderr.strip().splitlines()) == 1
    proc = subprocess.run([*cli, "--label", "verb.motion", "--prefix", "to move", "--n", "2"], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    assert [line.startswith("to move") for line in proc.stdout.splitlines()] == [True, True]


def test_the_version_rebuilds_bit_for_bit(conditional_run, tmp_path):
    ws, result = conditional_run
    assert_up_to_date_and_rebuilt(ws, "conditional", result["registered"]["name"], result["registered"]["version"],
                                  tmp_path / "scratch")
