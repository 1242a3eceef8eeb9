"""The flow against a real MLflow tracking server stopped in the middle of a run: a clear failure, nothing
half-registered, and the rerun registers. (The flow against a server on PostgreSQL, with authentication and
S3 artifacts: tests/deploy/test_team_setup.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import mlflow
import pytest

from tests.services import MlflowServer

pytestmark = [pytest.mark.slow]


@pytest.fixture
def tracking_server(monkeypatch):
    def point_at(server: MlflowServer) -> mlflow.MlflowClient:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", server.url)
        mlflow.set_tracking_uri(server.url)
        mlflow.set_registry_uri(server.url)
        return mlflow.MlflowClient(server.url, server.url)

    return point_at


def test_an_mlflow_server_stopped_mid_run_fails_cleanly_and_the_rerun_registers(
    trained_workspace, tmp_path, tracking_server
):
    workspace = trained_workspace[0]  # trained in the embedded store: the server has never seen this model
    server = MlflowServer(f"sqlite:///{tmp_path / 'server.db'}", tmp_path / "artifacts").start()
    client = tracking_server(server)
    cli = [
        sys.executable,
        "-m",
        "flows.retrain",
        "--workspace",
        str(workspace),
        "--profile",
        "tiny",
        "--set",
        "register.model_name=faults",
        "--set",
        "orchestrate.retry_delay_s=1",
    ]
    env = {**os.environ, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}  # Prefect's retries only, to keep this short
    run = subprocess.Popen(cli, cwd=workspace, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    output = []
    for line in run.stdout:  # stop the server once training starts: the gate and registration follow
        output.append(line)
        if "dvc repro sentences-train" in line:
            server.stop()
            break
    output += run.stdout.readlines()
    assert run.wait(timeout=300) == 1, "".join(output)
    last = [line for line in output if line.startswith("error: retrain:")]
    assert last and last[-1].startswith(f"error: retrain: MLflow tracking server {server.url} is unreachable"), "".join(
        output[-20:]
    )
    assert sum("Retrying" in line or "retry" in line.lower() for line in output) >= 1, "".join(output[-40:])

    server = MlflowServer(server.backend_uri, server.artifacts, port=server.port).start()  # same store
    try:
        assert client.search_model_versions("name = 'faults'") == []  # nothing half-registered
        started = time.monotonic()
        rerun = subprocess.run(cli, cwd=workspace, capture_output=True, text=True, timeout=300, env=env)
        assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
        assert "registered models:/faults@challenger (version 1" in rerun.stdout
        assert "Running stage 'sentences-train'" not in rerun.stdout + rerun.stderr  # DVC kept the trained model
        assert time.monotonic() - started < 120
        assert [v.version for v in client.search_model_versions("name = 'faults'")] == ["1"]
    finally:
        server.stop()
