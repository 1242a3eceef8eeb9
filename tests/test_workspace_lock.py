"""One run per workspace: the second is refused (or waits), and a crashed holder leaves no stale lock."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from flows.retrain import WorkspaceBusy, retrain
from flows.workspace_lock import workspace_lock


def test_a_second_holder_is_refused_with_the_first_ones_identity(tmp_path):
    with workspace_lock(tmp_path):
        with pytest.raises(WorkspaceBusy, match=r"another retrain run holds the workspace \(pid \d+"):
            with workspace_lock(tmp_path):
                pass
    with workspace_lock(tmp_path):  # released on exit
        pass


def test_a_waiting_run_gets_the_lock_when_the_holder_finishes(tmp_path):
    acquired = threading.Event()

    def hold():
        with workspace_lock(tmp_path):
            acquired.set()
            time.sleep(1.0)

    holder = threading.Thread(target=hold)
    holder.start()
    acquired.wait()
    started = time.monotonic()
    with workspace_lock(tmp_path, timeout_s=30, poll_s=0.1):
        waited = time.monotonic() - started
    holder.join()
    assert 0.5 < waited < 30


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    code = ("import sys, time; from pathlib import Path; from flows.workspace_lock import workspace_lock\n"
            "with workspace_lock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    with pytest.raises(WorkspaceBusy):
        with workspace_lock(tmp_path):
            pass
    proc.kill()
    proc.wait()
    with workspace_lock(tmp_path):
        pass


@pytest.mark.usefixtures("prefect_api")
def test_an_overlapping_flow_run_is_refused_and_touches_nothing(workspace):
    params_before = (workspace / "params.yaml").read_text()
    with workspace_lock(workspace):
        with pytest.raises(WorkspaceBusy):
            retrain(workspace=str(workspace), profile="tiny")
    assert (workspace / "params.yaml").read_text() == params_before
    assert not (workspace / "dvc.lock").exists()
