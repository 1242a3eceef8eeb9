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
    assert len(control) == 2 and all(c["disabled"] for c in control)  # the tiny profile: ratio and floor off
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
    cli = [
        sys.executable,
        "-m",
        "components.commands.generate",
        "--workspace",
        str(ws),
        "--model",
        "models:/conditional-bsvae@challenger",
    ]
    proc = subprocess.run([*cli, "--label", "noun.nonsense"], capture_output=True, text=True)
    assert proc.returncode == 1 and proc.stderr.startswith("error: generate: unknown label(s) ['noun.nonsense']")
    assert len(proc.stderr.strip().splitlines()) == 1
    proc = subprocess.run(
        [*cli, "--label", "verb.motion", "--prefix", "to move", "--n", "2"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert [line.startswith("to move") for line in proc.stdout.splitlines()] == [True, True]


def test_the_predict_command_answers_a_table_of_labels_and_prefixes(conditional_run, tmp_path):
    """Rows of label and prefix in a CSV, one sample each, into a parquet file; an unknown label stops it with the
    rows it was in. 200 rows: the text pyfunc samples a request row at a time (about 0.3 s a row for the tiny model
    on 2 cores), so 1,000 rows would cost the suite 5 minutes; the 1,000-row runs are translation's and images'."""
    ws, _ = conditional_run
    rows = pd.DataFrame(
        {
            "label": ["noun.animal", "verb.motion", "noun.food", "noun.artifact"] * 50,
            "prefix": ["a small", "to", "a sweet", "a"] * 50,
        }
    )
    rows.to_csv(tmp_path / "requests.csv", index=False)
    out = tmp_path / "samples.parquet"
    cli = [
        sys.executable,
        "-m",
        "components.commands.predict",
        "--workspace",
        str(ws),
        "--model",
        "models:/conditional-bsvae@challenger",
        "--output",
        str(out),
        "--param",
        "seed=7",
    ]
    proc = subprocess.run(
        [*cli, "--input", str(tmp_path / "requests.csv"), "--batch-rows", "64"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    frame = pd.read_parquet(out)
    assert frame["input"].tolist() == list(range(200))
    assert all(text.startswith(prefix) for text, prefix in zip(frame["text"], rows["prefix"]))
    (tmp_path / "labels.txt").write_text("noun.animal\nnoun.nonsense\n")
    proc = subprocess.run(
        [*cli, "--input", str(tmp_path / "labels.txt"), "--column", "label"], capture_output=True, text=True
    )
    assert proc.returncode == 1 and proc.stderr.strip().splitlines()[-1].startswith("error: predict: rows 0-1 of ")
    assert "unknown label" in proc.stderr and len(pd.read_parquet(out)) == 200


def test_the_score_command_scores_a_labelled_table_given_each_label(conditional_run, tmp_path):
    ws, result = conditional_run
    version = result["registered"]["version"]
    table = pd.read_csv(ws / "data/raw/wordnet_lexname_glosses.tsv", sep="\t", quoting=3, keep_default_na=False)
    table = table.head(1000)
    table.to_csv(tmp_path / "glosses.tsv", sep="\t", index=False)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "components.commands.score",
            "--workspace",
            str(ws),
            "--model",
            f"models:/conditional-bsvae/{version}",
            "--data",
            str(tmp_path / "glosses.tsv"),
        ],
        cwd=ws,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads(proc.stdout[: proc.stdout.rindex("}") + 1])
    assert metrics["sentences"] + metrics["rows_skipped"] == len(table) == 1000 and metrics["nll"] > 0
    table.assign(label="noun.nonsense").to_csv(tmp_path / "unknown.tsv", sep="\t", index=False)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "components.commands.score",
            "--workspace",
            str(ws),
            "--model",
            f"models:/conditional-bsvae/{version}",
            "--data",
            str(tmp_path / "unknown.tsv"),
        ],
        cwd=ws,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1 and "unknown label(s) ['noun.nonsense']" in proc.stderr.strip().splitlines()[-1]


def test_the_version_rebuilds_bit_for_bit(conditional_run, tmp_path):
    ws, result = conditional_run
    assert_up_to_date_and_rebuilt(
        ws, "conditional", result["registered"]["name"], result["registered"]["version"], tmp_path / "scratch"
    )
