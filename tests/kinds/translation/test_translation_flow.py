"""The translation application end to end on the real stack: the flow runs its DVC stages, gates on BLEU,
registers `translation-transformer`, and the registered model translates through pyfunc, the generate command
and `mlflow models serve`; a failed gate registers nothing."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys

import mlflow
import pandas as pd
import pytest
import yaml

from components.registry.scoring import logged_model_id
from flows.retrain import retrain
from tests.conftest import MULTI30K, assert_up_to_date_and_rebuilt, glosses, make_workspace, tracking
from tests.services import invoke_served_model

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]
NAME = "translation-transformer"


@pytest.fixture(scope="module")
def translation_run(tmp_path_factory, prefect_api):
    ws = make_workspace(tmp_path_factory.mktemp("translation") / "ws", glosses(200))
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        mp.delenv("MLFLOW_REGISTRY_URI", raising=False)
        return ws, retrain(workspace=str(ws), app="translation", profile="tiny")


def test_the_flow_runs_the_stages_gates_on_bleu_and_registers(translation_run):
    ws, result = translation_run
    assert set(result["stages"]) == {
        f"translation-{s}" for s in ("ingest", "validate", "split", "check", "tokenize", "train", "evaluate")
    }
    assert result["registered"]["name"] == NAME and result["warm_start"] is None
    gate = json.loads((ws / "reports/translation/gate.json").read_text())
    assert [c["metric"] for c in gate["checks"]] == ["bleu", "bleu"] and all(c["disabled"] for c in gate["checks"])
    metrics = json.loads((ws / "metrics/translation/eval.json").read_text())
    assert 0 <= metrics["baseline_bleu"] < 5  # copying German captions as English ones
    client = tracking(ws)
    version = client.get_model_version_by_alias(NAME, "challenger")
    run = client.get_run(version.run_id)
    assert "bleu" in run.data.metrics and "ms_per_sentence_batch1_greedy" in run.data.metrics
    assert run.data.tags["application"] == "translation" and "tokenizer.md5" in version.tags
    assert "sacreBLEU" in version.description and "de -> en" in version.description


def test_the_registered_model_translates_and_handles_bad_input(translation_run):
    ws, _ = translation_run
    tracking(ws)
    model = mlflow.pyfunc.load_model(f"models:/{NAME}@challenger")
    long_source = " ".join(["Hund"] * 400)
    out = model.predict(
        pd.DataFrame({"text": ["Ein Hund rennt über die Wiese.", "", "日本語のテキスト ☃", long_source]}),
        params={"decoder": "greedy"},
    )
    assert list(out.columns) == ["text", "translation", "truncated"] and len(out) == 4
    assert out["translation"][1] == "" and out["truncated"].tolist() == [False, False, False, True]
    assert all(isinstance(t, str) for t in out["translation"])
    with pytest.raises(Exception, match="decodes with"):
        model.predict(pd.DataFrame({"text": ["Ein Hund."]}), params={"decoder": "latent"})
    cli = [
        sys.executable,
        "-m",
        "components.commands.generate",
        "--workspace",
        str(ws),
        "--model",
        f"models:/{NAME}@challenger",
    ]
    proc = subprocess.run(
        [*cli, "--translate", "Zwei Männer spielen Fußball.", "--decoder", "beam"], capture_output=True, text=True
    )
    assert proc.returncode == 0 and len(proc.stdout.splitlines()) == 1, proc.stderr
    proc = subprocess.run([*cli, "--translate", "Ein Hund.", "--beam-size", "0"], capture_output=True, text=True)
    assert proc.returncode == 1 and proc.stderr.startswith("error: generate: ") and "beam_size" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_the_predict_command_translates_a_whole_test_file(translation_run, tmp_path):
    """1,000 German captions, one per line, streamed through the registered model in chunks into a CSV."""
    ws, _ = translation_run
    source = MULTI30K / "test_2016_flickr.de.gz"  # the shipped test split, gzipped as it is shipped
    out = tmp_path / "translations.csv"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "components.commands.predict",
            "--workspace",
            str(ws),
            "--model",
            f"models:/{NAME}@challenger",
            "--input",
            str(source),
            "--output",
            str(out),
            "--batch-rows",
            "300",
            "--param",
            "decoder=greedy",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    frame = pd.read_csv(out, keep_default_na=False)
    lines = gzip.decompress(source.read_bytes()).decode("utf-8").splitlines()
    assert len(lines) == 1000 and frame["input"].tolist() == list(range(1000))
    assert frame["text"].tolist() == lines and frame.columns.tolist() == ["input", "text", "translation", "truncated"]
    assert "predict: 1,000/1,000 rows (100.0%)" in proc.stderr and "wrote 1,000 answer row(s)" in proc.stderr
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "components.commands.predict",
            "--workspace",
            str(ws),
            "--model",
            f"models:/{NAME}@challenger",
            "--input",
            str(source),
            "--output",
            str(out),
            "--param",
            "decoder=latent",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: predict: rows 0-255 of ") and "decodes with" in last
    assert len(pd.read_csv(out)) == 1000  # the earlier answers stay as they were


def test_the_score_command_records_a_version_s_scores_on_two_test_sets_side_by_side(translation_run, tmp_path):
    """The shipped test split (1,000 pairs, aligned gzipped files) and 200 validation pairs as a table, each scored
    with the evaluate stage's metrics and recorded as an evaluation run whose metrics the version's logged model
    lists by data set."""
    ws, result = translation_run
    version = result["registered"]["version"]
    val = {
        lang: gzip.decompress((MULTI30K / f"val.{lang}.gz").read_bytes()).decode().splitlines()[:200]
        for lang in ("de", "en")
    }
    pd.DataFrame(val).to_csv(tmp_path / "val200.tsv", sep="\t", index=False)
    for data, name in (
        (f"{MULTI30K / 'test_2016_flickr.de.gz'},{MULTI30K / 'test_2016_flickr.en.gz'}", "flickr2016"),
        (str(tmp_path / "val200.tsv"), "val"),
    ):
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "components.commands.score",
                "--workspace",
                str(ws),
                "--model",
                f"models:/{NAME}/{version}",
                "--data",
                data,
                "--name",
                name,
            ],
            cwd=ws,
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stderr
        assert f"{NAME} v{version}: scored on {name}; MLflow run " in proc.stdout
    client = tracking(ws)
    model_id = logged_model_id(client.get_model_version(NAME, version))
    scores = {(m.dataset_name, m.key): m.value for m in client.get_logged_model(model_id).metrics if m.dataset_name}
    assert {("flickr2016", "bleu"), ("val", "bleu"), ("flickr2016", "baseline_bleu")} <= set(scores)
    assert scores[("flickr2016", "test_pairs")] == 1000 and scores[("val", "test_pairs")] == 200
    runs = client.search_runs(
        [client.get_experiment_by_name("translation").experiment_id],
        f"tags.model_version = '{version}' and tags.registered_model = '{NAME}'",
    )
    assert {r.data.tags["mlflow.runName"] for r in runs} == {
        f"score {NAME} v{version} on flickr2016",
        f"score {NAME} v{version} on val",
    }
    assert all(r.inputs.dataset_inputs[0].tags[0].value == "evaluation" for r in runs)
    assert all(client.get_run(r.info.run_id).inputs.model_inputs[0].model_id == model_id for r in runs)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "components.commands.score",
            "--workspace",
            str(ws),
            "--model",
            f"models:/{NAME}/{version}",
            "--data",
            str(MULTI30K / "val.de.gz"),
        ],
        cwd=ws,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1 and proc.stderr.strip().splitlines()[-1].startswith("error: score: ")


def test_mlflow_models_serve_translates_a_rest_request(translation_run):
    ws, _ = translation_run
    answer = invoke_served_model(
        ws,
        f"models:/{NAME}@challenger",
        {
            "dataframe_split": {"columns": ["text"], "data": [["Ein Hund rennt über die Wiese."]]},
            "params": {"decoder": "greedy"},
        },
    )
    assert len(answer["predictions"]) == 1 and "translation" in answer["predictions"][0]


def test_a_failed_bleu_gate_registers_nothing_and_leaves_params_alone(translation_run):
    ws, _ = translation_run
    client = tracking(ws)
    before = {v.version for v in client.search_model_versions(f"name = '{NAME}'")}
    params_before = (ws / "params.yaml").read_text()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "components.commands.gate",
            "--app",
            "translation",
            "--metrics",
            str(ws / "metrics/translation/eval.json"),
            "--out-dir",
            str(ws / "gate-out"),
        ],
        cwd=ws,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr  # the tiny profile switches the margin over copying off
    raw = yaml.safe_load(params_before)
    raw["translation"]["gate"]["min_baseline_margin"] = 1.0  # a 60-step model does not translate better than copying
    (ws / "strict.yaml").write_text(yaml.safe_dump(raw))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "components.commands.gate",
            "--app",
            "translation",
            "--params",
            str(ws / "strict.yaml"),
            "--metrics",
            str(ws / "metrics/translation/eval.json"),
            "--out-dir",
            str(ws / "gate-out"),
        ],
        cwd=ws,
        capture_output=True,
        text=True,
    )
    last = proc.stderr.strip().splitlines()[-1]
    assert proc.returncode == 1 and last.startswith("error: gate: gate failed: better than copying the source: bleu")
    assert "gate.min_baseline_margin=1.0" in last
    assert {v.version for v in client.search_model_versions(f"name = '{NAME}'")} == before
    assert (ws / "params.yaml").read_text() == params_before


def test_the_accepted_words_are_recorded_and_the_version_rebuilds_bit_for_bit(translation_run, tmp_path):
    ws, result = translation_run
    for side in ("source", "target"):
        assert len((ws / f"data/translation/reference/vocab.{side}.txt").read_text(encoding="utf-8").split()) > 100
    assert_up_to_date_and_rebuilt(ws, "translation", NAME, result["registered"]["version"], tmp_path / "scratch")
