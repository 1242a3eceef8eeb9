"""Scheduled retraining for real: a `prefect server` on loopback, the flow deployed on a one-minute cron to a
process work pool with a `prefect worker`, then served in-process through `flows.serve`; each route's
scheduled run must complete and register a new version."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from flows.retrain import apply_overrides
from tests.conftest import tracking
from tests.services import PrefectServer, stop_process_group, venv_tool

pytestmark = pytest.mark.slow
DEPLOYMENT = "retrain-sentences"


def wait_for_runs(server: PrefectServer, count: int, ignore_deployment: str | None = None,
                  timeout: float = 420) -> list[dict]:
    """Until `count` flow runs have completed; fail at once if one fails or crashes. Runs of `ignore_deployment`
    (a route already checked and shut down, whose late runs the shutdown may have cut short) do not count."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        bad = [r for r in server.flow_runs(("FAILED", "CRASHED")) if r["deployment_id"] != ignore_deployment]
        logs = "".join(path.read_text()[-3000:] for path in sorted(server.home.glob("*.log"))
                       if path.name != "server.log")
        assert not bad, f"a scheduled run failed: {[r['state']['message'] for r in bad]}\n{logs}"
        done = [r for r in server.flow_runs() if r["deployment_id"] != ignore_deployment]
        if len(done) >= count:
            return done
        time.sleep(3)
    pytest.fail(f"fewer than {count} scheduled runs completed in {timeout} s (see {server.home})")


def test_a_scheduled_run_fires_on_a_worker_and_when_served(workspace, tmp_path):
    apply_overrides(workspace / "params.yaml", {"orchestrate.cron": "* * * * *"})  # fires at the next minute
    server = PrefectServer(tmp_path / "prefect").start()
    env, processes = server.env, []
    try:
        subprocess.run([venv_tool("prefect"), "work-pool", "create", "retrain-pool", "--type", "process"],
                       env=env, check=True, capture_output=True, cwd=workspace)
        deploy = subprocess.run([sys.executable, "-m", "flows.serve", "--workspace", str(workspace), "--profile",
                                 "tiny", "--work-pool", "retrain-pool"], env=env, capture_output=True, text=True,
                                cwd=workspace)
        assert deploy.returncode == 0 and "deployed" in deploy.stdout, deploy.stderr[-2000:]
        processes.append(subprocess.Popen([venv_tool("prefect"), "worker", "start", "--pool", "retrain-pool"],
                                          env=env, cwd=workspace, stdout=open(server.home / "worker.log", "w"),
                                          stderr=subprocess.STDOUT, start_new_session=True))
        first = wait_for_runs(server, 1)[0]
        assert first["deployment_id"] and first["parameters"]["profile"] == "tiny"
        versions = tracking(workspace).search_model_versions("name = 'sentences-bsvae'")
        assert [str(v.version) for v in versions] == ["1"]

        # The flow served by this checkout's own process instead (the pool's deployment goes first: one
        # deployment of a name at a time); another seed, so a new version.
        subprocess.run([venv_tool("prefect"), "deployment", "delete", f"retrain/{DEPLOYMENT}"], env=env, check=True,
                       capture_output=True, cwd=workspace)
        stop_process_group(processes.pop())  # the worker; a late run it had just started ends with it
        apply_overrides(workspace / "params.yaml", {"sentences.train.seed": 7})
        processes.append(subprocess.Popen([sys.executable, "-m", "flows.serve", "--workspace", str(workspace),
                                           "--profile", "tiny"], env=env, cwd=workspace,
                                          stdout=open(server.home / "serve.log", "w"), stderr=subprocess.STDOUT,
                                          start_new_session=True))
        wait_for_runs(server, 1, ignore_deployment=first["deployment_id"])
        versions = tracking(workspace).search_model_versions("name = 'sentences-bsvae'")
        assert sorted(str(v.version) for v in versions) == ["1", "2"]
    finally:
        for process in processes:
            stop_process_group(process)
        server.stop()
