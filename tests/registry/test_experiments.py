"""`dvc exp run -S ...` sweeps land in MLflow as runs named and tagged with the DVC experiment's name."""

from __future__ import annotations

import subprocess
import sys

import pytest

from components.registry.experiments import log_experiments
from components.versioning.dvc import dvc_env
from tests.conftest import tracking

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]


def test_each_dvc_experiment_becomes_one_named_mlflow_run(trained_workspace):
    workspace, _ = trained_workspace
    for name, override in (("steps-60", "sentences.train.max_steps=60"), ("lr-low", "sentences.train.lr=0.0005")):
        proc = subprocess.run(
            [sys.executable, "-m", "dvc", "exp", "run", "-n", name, "-S", override, "sentences-evaluate"],
            cwd=workspace,
            capture_output=True,
            text=True,
            env=dvc_env(),
        )
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    logged = log_experiments(workspace)
    assert set(logged) == {"steps-60", "lr-low"}
    client = tracking(workspace)
    run = client.get_run(logged["lr-low"])
    assert run.info.run_name == "lr-low"
    assert run.data.tags["dvc.experiment"] == "lr-low"
    assert run.data.params["sentences.train.lr"] == "0.0005"
    assert {"nll", "kl", "train.valid_nelbo"} <= set(run.data.metrics)
    assert client.get_run(logged["steps-60"]).data.metrics["train.steps"] == 60
    assert log_experiments(workspace) == logged  # idempotent: nothing logged twice
