"""The image application end to end on the real stack: the flow runs its DVC stages (classifier included), gates
on bits per dimension and FID, registers `images-bsvae`, and the registered model answers with PNG images
through pyfunc, the generate command and `mlflow models serve`; a malformed request image is one clear error."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys

import mlflow
import numpy as np
import pandas as pd
import pytest

from flows.retrain import retrain
from tests.conftest import (
    assert_up_to_date_and_rebuilt,
    git,
    glosses,
    make_workspace,
    tracking,
    write_idx,
)
from tests.kinds.images.test_images import fashion, png
from tests.services import served_answers

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]
NAME = "images-bsvae"


@pytest.fixture(scope="module")
def images_run(tmp_path_factory, prefect_api):
    ws = make_workspace(tmp_path_factory.mktemp("images") / "ws", glosses(200))
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        mp.delenv("MLFLOW_REGISTRY_URI", raising=False)
        return ws, retrain(workspace=str(ws), app="images", profile="tiny")


def decode(text: str) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(base64.b64decode(text))))


def test_the_flow_trains_the_classifier_gates_on_bpd_and_fid_and_registers(images_run):
    ws, result = images_run
    assert "images-classifier" in result["stages"] and result["registered"]["name"] == NAME
    gate = json.loads((ws / "reports/images/gate.json").read_text())
    assert [c["metric"] for c in gate["checks"]] == ["bpd", "bpd", "fid", "fid"]
    assert all(c["disabled"] for c in gate["checks"])  # the tiny profile: margin and bounds off
    metrics = json.loads((ws / "metrics/images/eval.json").read_text())
    assert 4 < metrics["baseline_bpd"] < 6 and metrics["baseline_fid"] > 0  # independent pixels, on 8 bits
    client = tracking(ws)
    version = client.get_model_version_by_alias(NAME, "challenger")
    run = client.get_run(version.run_id)
    assert {"bpd", "fid", "kid", "nll"} <= set(run.data.metrics) and run.data.tags["application"] == "images"
    assert "bits/dim" in version.description and "not Inception" in version.description
    artifacts = {a.path for a in client.list_artifacts(version.run_id, "reports")}
    assert {"reports/samples.png", "reports/reconstructions.png", "reports/interpolations.png"} <= artifacts


def test_the_registered_model_samples_and_reconstructs_png_and_refuses_a_malformed_image(images_run):
    ws, _ = images_run
    tracking(ws)
    model = mlflow.pyfunc.load_model(f"models:/{NAME}@challenger")
    out = model.predict(pd.DataFrame({"n": [3]}), params={"seed": 1})
    assert len(out) == 3 and decode(out["image"][0]).shape == (28, 28)
    raw = model.predict(pd.DataFrame({"n": [2]}), params={"output": "array", "seed": 1})
    assert np.asarray(raw["image"][0]).shape == (1, 28, 28)
    shirt = base64.b64encode(png(fashion(1)[0][0])).decode()
    assert decode(model.predict(pd.DataFrame({"image": [shirt]}))["image"][0]).shape == (28, 28)
    with pytest.raises(Exception, match="row 0: image does not decode"):
        model.predict(pd.DataFrame({"image": [base64.b64encode(b"not a picture").decode()]}))
    big = base64.b64encode(png(np.zeros((56, 56), dtype=np.uint8))).decode()
    with pytest.raises(Exception, match="row 0: image is 56x56 with 1 channel"):
        model.predict(pd.DataFrame({"image": [big]}))
    with pytest.raises(Exception, match="unconditional"):
        model.predict(pd.DataFrame({"label": ["3"], "n": [1]}))
    cli = [
        sys.executable,
        "-m",
        "components.commands.generate",
        "--workspace",
        str(ws),
        "--model",
        f"models:/{NAME}@challenger",
    ]
    proc = subprocess.run([*cli, "--n", "4", "--out", str(ws / "grid.png")], capture_output=True, text=True)
    assert proc.returncode == 0 and (ws / "grid.png").read_bytes()[:4] == b"\x89PNG", proc.stderr
    (ws / "broken.png").write_bytes(b"\x89PNG broken")
    proc = subprocess.run(
        [*cli, "--image", str(ws / "broken.png"), "--out", str(ws / "rec.png")], capture_output=True, text=True
    )
    assert proc.returncode == 1 and proc.stderr.startswith("error: generate: row 0: image does not decode")
    assert len(proc.stderr.strip().splitlines()) == 1 and not (ws / "rec.png").exists()


def test_the_predict_command_reconstructs_a_list_of_image_files(images_run, tmp_path):
    """A text file of 1,000 image paths (relative to it), reconstructed in chunks into a JSONL of PNGs."""
    ws, _ = images_run
    images, _ = fashion(20)
    for i, image in enumerate(images):
        (tmp_path / f"item{i}.png").write_bytes(png(image))
    (tmp_path / "files.txt").write_text("".join(f"item{i % 20}.png\n" for i in range(1000)))
    out = tmp_path / "reconstructions.jsonl"
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
            str(tmp_path / "files.txt"),
            "--column",
            "image",
            "--output",
            str(out),
            "--batch-rows",
            "128",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["input"] for r in rows] == list(range(1000)) and decode(rows[999]["image"]).shape == (28, 28)
    assert rows[0]["image"] == rows[20]["image"]  # the same file, the same reconstruction


def test_the_score_command_scores_an_unsplit_npz_of_images(images_run, tmp_path):
    ws, result = images_run
    images, labels = fashion(1000, "t10k")
    np.savez(tmp_path / "other.npz", images=images, labels=labels)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "components.commands.score",
            "--workspace",
            str(ws),
            "--model",
            f"models:/{NAME}@challenger",
            "--data",
            str(tmp_path / "other.npz"),
        ],
        cwd=ws,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads(proc.stdout[: proc.stdout.rindex("}") + 1])
    assert metrics["test_images"] == 1000 and 0 < metrics["bpd"] < 8


def test_mlflow_models_serve_answers_with_images_and_a_refused_request_with_its_reason_alone(images_run):
    ws, _ = images_run
    (status, answer), (refused, error) = served_answers(
        ws,
        f"models:/{NAME}@challenger",
        [
            {"dataframe_split": {"columns": ["n"], "data": [[2]]}, "params": {"seed": 3}},
            {"dataframe_split": {"columns": ["n"], "data": [[2]]}, "params": {"output": "gif"}},
        ],
    )
    assert status == 200, answer
    assert len(answer["predictions"]) == 2 and decode(answer["predictions"][0]["image"]).shape == (28, 28)
    assert refused == 400 and error["error_code"] == "INVALID_PARAMETER_VALUE", error
    assert "output must be png or array, got 'gif'" in error["message"] and "Traceback" not in json.dumps(error)


def test_the_accepted_histogram_is_recorded_and_the_version_rebuilds_bit_for_bit(images_run, tmp_path):
    ws, result = images_run
    histogram = json.loads((ws / "data/images/reference/histogram.json").read_text(encoding="utf-8"))
    assert len(histogram) == 16 and sum(histogram) == pytest.approx(1.0)
    assert_up_to_date_and_rebuilt(ws, "images", NAME, result["registered"]["version"], tmp_path / "scratch")


def test_the_drift_check_passes_the_shipped_images_and_stops_inverted_ones(images_run):
    """Against the accepted histogram: the same data passes; the same images inverted (dark on light) drift past
    dataset.max_intensity_drift and the check stage stops with one line naming the setting."""
    from components.kinds.images.data.images import read_idx
    from components.versioning.dvc import dvc_env

    ws, _ = images_run
    check = [sys.executable, "-m", "dvc", "repro", "--single-item", "images-check"]
    proc = subprocess.run(check, cwd=ws, capture_output=True, text=True, env=dvc_env())
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    corpus = ws / "data/raw/fashion-mnist"
    for name in ("train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz"):
        write_idx(corpus / name, 255 - read_idx(corpus / name))
    try:
        for stage in ("images-ingest", "images-validate", "images-split"):
            proc = subprocess.run([*check[:-1], stage], cwd=ws, capture_output=True, text=True, env=dvc_env())
            assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        proc = subprocess.run(check, cwd=ws, capture_output=True, text=True, env=dvc_env())
        assert proc.returncode != 0 and "intensity histogram drifted" in proc.stdout + proc.stderr
        assert "dataset.max_intensity_drift" in proc.stdout + proc.stderr
    finally:
        git(ws, "checkout", "--", "data/raw/fashion-mnist")
