"""The translation application end to end on the real stack: the flow runs its DVC stages, gates on BLEU,
registers `translation-transformer`, and the registered model translates through pyfunc, the generate command
and `mlflow models serve`; a failed gate registers nothing."""

from __future__ import annotations

import json
import subprocess
import sys

import mlflow
import pandas as pd
import pytest
import yaml

from flows.retrain import retrain
from tests.conftest import assert_up_to_date_and_rebuilt, glosses, make_workspace, tracking
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
    assert set(result["stages"]) == {f"translation-{s}" for s in
                                     ("ingest", "validate", "split", "check", "tokenize", "train", "evaluate")}
    assert result["registered"]["name"] == NAME and result["warm_start"] is None
    gate = json.loads((ws / "reports/translation/gate.json").read_text())
    assert [c["metric"] for c in gate["checks"]] == ["bleu"] and gate["checks"][0]["disabled"]  # tiny: min 0
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
    out = model.predict(pd.DataFrame({"text": ["Ein Hund rennt über die Wiese.", "", "日本語のテキスト ☃", long_source]}),
                        params={"decoder": "greedy"})
    assert list(out.columns) == ["text", "translation", "truncated"] and len(out) == 4
    assert out["translation"][1] == "" and out["truncated"].tolist() == [False, False, False, True]
    assert all(isinstance(t, str) for t in out["translation"])
    with pytest.raises(Exception, match="decodes with"):
        model.predict(pd.DataFrame({"text": ["Ein Hund."]}), params={"decoder": "latent"})
    cli = [sys.executable, "-m", "components.commands.generate", "--workspace", str(ws), "--model",
           f"models:/{NAME}@challenger"]
    proc = subprocess.run([*cli, "--translate", "Zwei Männer spielen Fußball.", "--decoder", "beam"],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and len(proc.stdout.splitlines()) == 1, proc.stderr
    proc = subprocess.run([*cli, "--translate", "Ein Hund.", "--beam-size", "0"], capture_output=True, text=True)
    assert proc.returncode == 1 and proc.stderr.startswith("error: generate: ") and "beam_size" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_mlflow_models_serve_translates_a_rest_request(translation_run):
    ws, _ = translation_run
    answer = invoke_served_model(ws, f"models:/{NAME}@challenger",
                                 {"dataframe_split": {"columns": ["text"], "data": [["Ein Hund rennt über die Wiese."]]},
                                  "params": {"decoder": "greedy"}})
    assert len(answer["predictions"]) == 1 and "translation" in answer["predictions"][0]


def test_a_failed_bleu_gate_registers_nothing_and_leaves_params_alone(translation_run):
    ws, _ = translation_run
    client = tracking(ws)
    before = {v.version for v in client.search_model_versions(f"name = '{NAME}'")}
    params_before = (ws / "params.yaml").read_text()
    proc = subprocess.run([sys.executable, "-m", "components.commands.gate", "--app", "translation",
                           "--metrics", str(ws / "metrics/translation/eval.json"), "--out-dir", str(ws / "gate-out")],
                          cwd=ws, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr  # the tiny profile's min_bleu is 0
    raw = yaml.safe_load(params_before)
    raw["translation"]["gate"]["min_bleu"] = 99.0
    (ws / "strict.yaml").write_text(yaml.safe_dump(raw))
    proc = subprocess.run([sys.executable, "-m", "components.commands.gate", "--app", "translation",
                           "--params", str(ws / "strict.yaml"), "--metrics", str(ws / "metrics/translation/eval.json"),
                           "--out-dir", str(ws / "gate-out")], cwd=ws, capture_output=True, text=True)
    assert proc.returncode == 1 and proc.stderr.strip().splitlines()[-1].startswith("error: gate: gate failed: bleu=")
    assert {v.version for v in client.search_model_versions(f"name = '{NAME}'")} == before
    assert (ws / "params.yaml").read_text() == params_before


def test_the_accepted_words_are_recorded_and_the_version_rebuilds_bit_for_bit(translation_run, tmp_path):
    ws, result = translation_run
    for side in ("source", "target"):
        assert len((ws / f"data/translation/reference/vocab.{side}.txt").read_text(encoding="utf-8").split()) > 100
    assert_up_to_date_and_rebuilt(ws, "translation", NAME, result["registered"]["version"], tmp_path / "scratch")
