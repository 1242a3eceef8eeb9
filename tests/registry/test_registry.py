"""Gate against the champion, promotion, generation and serving, on a real MLflow store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from components.commands import generate, promote
from components.core.errors import StageError
from components.evaluation.gate import GateFailed
from components.models.store import ModelFileError
from components.registry.artifacts import download_weights
from components.registry.model_files import FILES_TAG
from flows.retrain import retrain
from tests.conftest import tracking
from tests.services import invoke_served_model

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]
NAME = "sentences-bsvae"


def versions(client) -> list[str]:
    return sorted(str(v.version) for v in client.search_model_versions(f"name = '{NAME}'"))


def test_promotion_gate_against_champion_and_rollback(trained_workspace, capsys):
    ws, first = trained_workspace
    client = tracking(ws)
    v1 = first["registered"]["version"]
    assert promote.main(["--model", NAME, "--version", v1, "--workspace", str(ws)]) == 0

    # A retrain on other seeds is compared with the champion on the same data, then registered.
    second = retrain(workspace=str(ws), overrides=["train.seed=99", "gate.max_nll_regression=100.0"])
    v2 = second["registered"]["version"]
    assert v2 != v1
    report = json.loads((ws / "reports/sentences/gate.json").read_text())
    assert report["champion"] == v1
    assert any(c["name"] == "no regression vs champion" and c["note"] == f"champion v{v1}" for c in report["checks"])
    assert client.get_model_version_by_alias(NAME, "champion").version == int(v1)  # not auto-promoted

    # A model that fails the gate registers nothing and leaves the champion alone: a tiny model does not beat the
    # unigram LM on these 2,000 glosses, and the refusal names the setting.
    before = versions(client)
    with pytest.raises(GateFailed, match=r"better than a unigram LM: nll .*gate\.min_baseline_margin=0\.05"):
        retrain(workspace=str(ws), overrides=["train.seed=5", "gate.min_baseline_margin=0.05"])
    assert versions(client) == before
    assert client.get_model_version_by_alias(NAME, "champion").version == int(v1)
    assert "**FAIL**" in (ws / "reports/sentences/gate.md").read_text()

    assert promote.main(["--model", NAME, "--version", v2, "--workspace", str(ws)]) == 0
    assert client.get_model_version_by_alias(NAME, "previous-champion").version == int(v1)
    assert promote.main(["--model", NAME, "--rollback", "--workspace", str(ws)]) == 0
    assert client.get_model_version_by_alias(NAME, "champion").version == int(v1)
    assert promote.main(["--model", NAME, "--version", "999", "--workspace", str(ws)]) == 1
    assert "error: promote:" in capsys.readouterr().err


def test_version_carries_gate_values_lineage_and_a_model_card(trained_workspace):
    ws, first = trained_workspace
    version = tracking(ws).get_model_version(NAME, first["registered"]["version"])
    assert version.tags["gate.passed"] == "True"
    assert version.tags["gate.nll"].endswith(": disabled")  # the tiny profile: no absolute bound, ...
    assert version.tags["gate.nll_vs_baseline"].endswith(": disabled")  # ... nor margin over the unigram LM
    for key in ("git.commit", "data.splits_md5", "tokenizer.md5", "params.md5", "model.md5"):
        assert version.tags[key], key
    assert "## Held-out test metrics" in version.description


def test_predict_samples_reconstructs_and_interpolates(trained_workspace):
    ws, first = trained_workspace
    tracking(ws)
    model = mlflow.pyfunc.load_model(f"models:/{NAME}@challenger")
    a = model.predict(pd.DataFrame({"n": [3]}), params={"seed": 1, "temperature": 0.7, "top_p": 0.8, "max_len": 6})
    b = model.predict(pd.DataFrame({"n": [3]}), params={"seed": 1, "temperature": 0.7, "top_p": 0.8, "max_len": 6})
    assert a.equals(b) and len(a) == 3 and all(len(t.split()) <= 6 for t in a["text"])
    recon = model.predict(pd.DataFrame({"text": ["a discrete unit of living matter", "the action of something"]}))
    assert recon["input"].tolist() == [0, 1]
    walk = model.predict(pd.DataFrame({"start": ["a cat"], "end": ["the state of being happy"]}), params={"steps": 4})
    assert len(walk) == 4
    with pytest.raises(Exception, match="give n"):
        model.predict(pd.DataFrame({"start": ["only a start"]}))


def test_a_vqvae_is_gated_registered_and_generates(trained_workspace):
    ws, _ = trained_workspace
    client = tracking(ws)
    result = retrain(
        workspace=str(ws),
        profile="tiny",  # the profile resets gate thresholds earlier tests changed
        overrides=["model.family=vqvae", "gate.min_codebook_perplexity=1.0"],
    )  # tiny's 0 disables it
    version = client.get_model_version("sentences-vqvae", result["registered"]["version"])
    assert client.get_run(version.run_id).data.tags["model.family"] == "vqvae"
    assert version.tags["gate.codebook_perplexity"].endswith(": pass")
    assert "Codebook: perplexity" in version.description
    metrics = json.loads((ws / "metrics/sentences/eval.json").read_text())
    assert metrics["nll"] == pytest.approx(metrics["reconstruction_nll"] + metrics["kl"], rel=1e-4)
    model = mlflow.pyfunc.load_model("models:/sentences-vqvae@challenger")
    samples = model.predict(pd.DataFrame({"n": [3]}), params={"seed": 1, "max_len": 6})
    assert len(samples) == 3
    walk = model.predict(pd.DataFrame({"start": ["a cat"], "end": ["the state of being happy"]}), params={"steps": 3})
    assert len(walk) == 3


def test_generate_cli(trained_workspace, capsys):
    ws, _ = trained_workspace
    assert (
        generate.main(["--model", f"models:/{NAME}@challenger", "--n", "2", "--seed", "3", "--workspace", str(ws)]) == 0
    )
    assert len(capsys.readouterr().out.strip().splitlines()) == 2
    assert generate.main(["--model", f"models:/{NAME}@nope", "--workspace", str(ws)]) == 1
    assert "error: generate:" in capsys.readouterr().err


def test_tampered_weights_are_refused(trained_workspace, tmp_path):
    ws, _ = trained_workspace
    tracking(ws)
    local = mlflow.artifacts.download_artifacts(f"models:/{NAME}@challenger", dst_path=str(tmp_path))
    weights = next(tmp_path.rglob("model.safetensors"))
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF  # the header still parses; only the numbers changed
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="SHA-256"):
        mlflow.pyfunc.load_model(local)


def test_every_loader_checks_the_files_record_before_any_model_code_runs(trained_workspace, capsys):
    """A file rewritten in the artifact store itself (not through MLflow) is caught against the version's
    files.sha256 tag before the model's code is imported: generate, warm-start weights, promote."""
    ws, first = trained_workspace
    client = tracking(ws)
    version = client.get_model_version(NAME, first["registered"]["version"])
    assert len(version.tags[FILES_TAG]) == 64
    model_id = version.source.removeprefix("models:/")
    stored = Path(client.get_logged_model(model_id).artifact_location.removeprefix("file://"))
    code = next(stored.rglob("serving/pyfunc.py"))
    original, marker = code.read_bytes(), ws / "model-code-ran"
    code.write_bytes(original + f"\nopen({str(marker)!r}, 'w').close()\n".encode())
    try:
        assert generate.main(["--model", f"models:/{NAME}/{version.version}", "--n", "1", "--workspace", str(ws)]) == 1
        err = capsys.readouterr().err
        assert f"error: generate: {NAME} v{version.version}: its files do not match the files.sha256" in err, err
        with pytest.raises(StageError, match="do not match the files.sha256"):
            download_weights(NAME, str(version.version), ws / "scratch-weights")
        assert promote.main(["--model", NAME, "--version", str(version.version), "--workspace", str(ws)]) == 1
        assert "its files do not match" in capsys.readouterr().err
        served = subprocess.run(
            [
                sys.executable,
                "-m",
                "components.commands.serve",
                "--model",
                f"models:/{NAME}/{version.version}",
                "--workspace",
                str(ws),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert (
            served.returncode == 1
            and served.stderr.startswith("error: serve: ")
            and "Traceback" not in served.stderr
            and "its files do not match" in served.stderr
        ), served.stderr
        assert not marker.exists()
    finally:
        code.write_bytes(original)
    assert generate.main(["--model", f"models:/{NAME}/{version.version}", "--n", "1", "--workspace", str(ws)]) == 0


def test_mlflow_models_serve_answers_a_rest_request(trained_workspace):
    ws, _ = trained_workspace
    answer = invoke_served_model(
        ws, f"models:/{NAME}@challenger", {"dataframe_split": {"columns": ["n"], "data": [[2]]}, "params": {"seed": 1}}
    )
    assert len(answer["predictions"]) == 2
