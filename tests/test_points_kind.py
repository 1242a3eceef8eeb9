"""The abstraction holds: a fourth kind defined only in tests/ (tests/points_kind: 2-D points from a Gaussian
mixture, a tiny VAE) goes ingest -> validate -> split -> train -> evaluate -> gate -> register -> serve through the
shared code (engine, quarantine accounting, hash split, flow, gate, registry, pyfunc), named in params.yaml
(`kind: points_kind.kind`) and its stages in dvc.yaml, without an edit to any module under components/."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from tests.conftest import ROOT, git, glosses, make_workspace, tracking

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]

PARAMS = """
points:
  kind: points_kind.kind
  data: {corpus: data/raw/points.csv}
  validate: {max_abs: 100.0, max_quarantine_fraction: 0.05}
  split: {valid_fraction: 0.1, test_fraction: 0.15, salt: split-v1}
  model: {family: vae, hidden: 32, latent_dim: 2}
  train: {seed: 0, epochs: 40, max_steps: 0, min_steps: 0, batch_size: 64, lr: 0.01, grad_clip: 0.0, grad_accum: 1,
          compile: false, patience: 0, checkpoint_every: 50, min_checkpoints: 2, device: cpu, precision: fp32,
          threads: 1, launcher: python3}
  evaluate: {iw_samples: 64}
  gate: {max_nll: 0.0}
  register: {model_name: "{application}-{family}", experiment: "{application}", alias: challenger,
             auto_promote: false, promote_margin: 0.0}
  profiles: {}
"""

STAGES = """
  points-ingest:
    cmd: python3 -m points_kind.stages.ingest --app points --out data/points/interim/corpus.parquet
    deps: [points_kind, data/raw/points.csv]
    params: [points.data]
    outs: [data/points/interim/corpus.parquet]
  points-validate:
    cmd: python3 -m points_kind.stages.validate --app points --corpus data/points/interim/corpus.parquet
      --out data/points/interim/validated.parquet --quarantine data/points/interim/quarantine.parquet
      --metrics metrics/points/validate.json
    deps: [points_kind, data/points/interim/corpus.parquet]
    params: [points.validate]
    outs: [data/points/interim/validated.parquet, data/points/interim/quarantine.parquet]
    metrics: [metrics/points/validate.json: {cache: false}]
  points-split:
    cmd: python3 -m points_kind.stages.split --app points --corpus data/points/interim/validated.parquet
      --out data/points/processed/splits.parquet
    deps: [points_kind, data/points/interim/validated.parquet]
    params: [points.split]
    outs: [data/points/processed/splits.parquet]
  points-train:
    cmd: ${points.train.launcher} -m points_kind.stages.train --app points --splits data/points/processed/splits.parquet
      --out-dir models/points/vae --metrics metrics/points/train.json --history metrics/points/train_history.json
      --checkpoint checkpoints/points/train.pt --timing reports/points/timing/train.json
    deps: [points_kind, data/points/processed/splits.parquet]
    params: [points.model, points.train]
    outs: [models/points/vae]
    metrics: [metrics/points/train.json: {cache: false}]
    plots: [metrics/points/train_history.json: {cache: false, x: epoch}]
  points-evaluate:
    cmd: python3 -m points_kind.stages.evaluate --app points --splits data/points/processed/splits.parquet
      --model-dir models/points/vae --metrics metrics/points/eval.json
    deps: [points_kind, models/points/vae, data/points/processed/splits.parquet]
    params: [points.evaluate]
    metrics: [metrics/points/eval.json: {cache: false}]
"""


def mixture(n: int, seed: int = 0) -> np.ndarray:
    """n points from three well separated Gaussians: what one Gaussian fits badly and a VAE can learn."""
    rng = np.random.default_rng(seed)
    centres = np.array([[-4.0, 0.0], [4.0, 0.0], [0.0, 5.0]])
    return centres[rng.integers(0, 3, n)] + rng.normal(scale=0.6, size=(n, 2))


@pytest.fixture(scope="module")
def points_run(tmp_path_factory, prefect_api):
    from flows.retrain import retrain

    ws = make_workspace(tmp_path_factory.mktemp("points") / "ws", glosses(200))
    shutil.copytree(ROOT / "tests" / "points_kind", ws / "points_kind", ignore=shutil.ignore_patterns("__pycache__"))
    rows = pd.DataFrame(mixture(800), columns=["x", "y"])
    bad = pd.DataFrame({"x": [np.nan, 1e6, 3.0], "y": [1.0, 0.0, np.inf]})  # quarantined: not finite, too far
    pd.concat([rows, bad], ignore_index=True).to_csv(ws / "data/raw/points.csv", index=False)
    with open(ws / "params.yaml", "a", encoding="utf-8") as fh:
        fh.write(PARAMS)
    dvc_yaml = (ws / "dvc.yaml").read_text(encoding="utf-8")
    (ws / "dvc.yaml").write_text(dvc_yaml.replace("\nstages:\n", "\nstages:" + STAGES + "\n", 1), encoding="utf-8")
    git(ws, "add", "-A")
    git(ws, "commit", "-q", "-m", "the points kind")
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(ws))  # where params.yaml's `kind: points_kind.kind` is found
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        mp.delenv("MLFLOW_REGISTRY_URI", raising=False)
        yield ws, retrain(workspace=str(ws), app="points")


def test_the_toy_kind_runs_every_stage_and_is_gated_and_registered(points_run):
    ws, result = points_run
    assert list(result["stages"]) == [
        "points-ingest",
        "points-validate",
        "points-split",
        "points-train",
        "points-evaluate",
    ]
    validate = json.loads((ws / "metrics/points/validate.json").read_text())
    assert validate["points_in"] == 803 == validate["points_kept"] + validate["points_quarantined"]
    assert validate["quarantined_by_check"] == {"finite": 2, "range": 1}
    metrics = json.loads((ws / "metrics/points/eval.json").read_text())
    assert metrics["nll"] < metrics["baseline_nll"]  # the gate's own check, which passed
    assert result["gate"]["passed"] and result["registered"]["name"] == "points-vae"
    client = tracking(ws)
    version = client.get_model_version_by_alias("points-vae", "challenger")
    assert version.tags["application"] == "points" and "A VAE over 2-D points" in version.description
    assert json.loads((ws / "reports/points/timing/train.json").read_text())["threads"] == 1


SERVE = """
import sys, mlflow, pandas as pd
assert not any("points_kind" in name for name in sys.modules)
mlflow.set_tracking_uri(sys.argv[1]); mlflow.set_registry_uri(sys.argv[1])
out = mlflow.pyfunc.load_model("models:/points-vae@challenger").predict(pd.DataFrame({"n": [5]}))
print(list(out.columns), len(out), bool(out.notna().all().all()))
"""


def test_the_registered_toy_model_is_served_through_pyfunc(points_run, tmp_path):
    """In a fresh process away from the workspace: the kind's code travels with the logged model."""
    ws, _ = points_run
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [sys.executable, "-c", SERVE, f"sqlite:///{ws / 'mlruns' / 'mlflow.db'}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == "['input', 'x', 'y'] 5 True"


def test_the_toy_kind_is_served_by_generate_and_predict(points_run, tmp_path):
    """The commands a person runs ask the model's kind (recorded at registration) for its options and its answer's
    shape: the toy kind takes the defaults (--n, every column printed) with no edit to any command."""
    ws, _ = points_run
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # the project's code; points_kind comes with the logged model
    model = ["--workspace", str(ws), "--model", "models:/points-vae@challenger"]
    proc = subprocess.run(
        [sys.executable, "-m", "components.commands.generate", *model, "--n", "3"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    assert lines[0].split("\t") == ["input", "x", "y"] and len(lines) == 4
    proc = subprocess.run(
        [sys.executable, "-m", "components.commands.generate", *model, "--translate", "Ein Hund."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 1 and proc.stderr.startswith("error: generate: models:/points-vae@challenger is a points")
    assert "--translate" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    (tmp_path / "requests.jsonl").write_text('{"n": 2}\n{"n": 1}\n')
    proc = subprocess.run(
        [sys.executable, "-m", "components.commands.predict", *model, "--input", "requests.jsonl"]
        + ["--output", "points.csv"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    answers = pd.read_csv(tmp_path / "points.csv")
    assert list(answers.columns) == ["input", "x", "y"] and answers["input"].tolist() == [0, 0, 1]


def test_no_shared_module_names_the_toy_kind():
    assert not [p for p in (ROOT / "components").rglob("*.py") if "points_kind" in p.read_text(encoding="utf-8")]
