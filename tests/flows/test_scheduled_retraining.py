"""Scheduled retraining for real: a `prefect server` on loopback and the flow served in-process by
`flows.serve` on a one-minute cron; the scheduled run must complete and register a version. The other route,
a deployment to a process work pool run by a `prefect worker`, is exercised by tests/deploy/test_team_setup.py
against the whole authenticated team setup."""

from __future__ import annotations

import subprocess
import sys

import pytest

from components.applications.overrides import apply_overrides
from tests.conftest import tracking
from tests.services import PrefectServer, stop_process_group

pytestmark = pytest.mark.slow


def test_a_scheduled_run_fires_when_served(trained_workspace, tmp_path):
    workspace = trained_workspace[0]  # trained already: the scheduled run's stages are DVC's to skip
    apply_overrides(workspace / "params.yaml", {"orchestrate.cron": "* * * * *"})  # fires at the next minute
    server = PrefectServer(tmp_path / "prefect").start()
    serving = None
    try:
        serving = subprocess.Popen(
            [sys.executable, "-m", "flows.serve", "--workspace", str(workspace), "--profile", "tiny"],
            env=server.env,
            cwd=workspace,
            stdout=open(server.home / "serve.log", "w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        run = server.wait_for_runs(1)[0]
        assert run["deployment_id"] and run["parameters"]["profile"] == "tiny"
        versions = tracking(workspace).search_model_versions("name = 'sentences-bsvae'")
        assert [str(v.version) for v in versions] == ["1"]
    finally:
        stop_process_group(serving)
        server.stop()
