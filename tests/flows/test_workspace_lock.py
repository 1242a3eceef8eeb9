"""One run per workspace: the second is refused (or waits), and a crashed holder leaves no stale lock."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from flows.retrain import WorkspaceBusy, retrain
from flows.workspace_lock import workspace_lock


def hold_in_another_process(workspace, seconds: float = 60) -> subprocess.Popen:
    """Another run holding the workspace lock (until killed or `seconds` pass)."""
    code = (
        "import sys, time; from pathlib import Path; from flows.workspace_lock import workspace_lock\n"
        f"with workspace_lock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep({seconds})\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(workspace)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_holder_is_refused_with_the_first_ones_identity(tmp_path):
    other = hold_in_another_process(tmp_path)
    with pytest.raises(WorkspaceBusy, match=rf"another retrain run holds the workspace \(pid {other.pid}"):
        with workspace_lock(tmp_path):
            pass
    other.kill()
    other.wait()
    with workspace_lock(tmp_path):  # released when its holder died
        pass


def test_the_lock_is_re_entrant_in_its_thread_only(tmp_path):
    refused = []

    def elsewhere():
        try:
            with workspace_lock(tmp_path):
                pass
        except WorkspaceBusy:
            refused.append(True)

    with workspace_lock(tmp_path):
        with workspace_lock(tmp_path):  # the command line holds it while the flow takes it again
            thread = threading.Thread(target=elsewhere)
            thread.start()
            thread.join()
        thread = threading.Thread(target=elsewhere)
        thread.start()
        thread.join()
    assert refused == [True, True]


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
    proc = hold_in_another_process(tmp_path)
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
    other = hold_in_another_process(workspace)
    try:
        with pytest.raises(WorkspaceBusy):
            retrain(workspace=str(workspace), profile="tiny")
    finally:
        other.kill()
        other.wait()
    assert (workspace / "params.yaml").read_text() == params_before
    assert not (workspace / "dvc.lock").exists()


@pytest.mark.slow
def test_two_runs_started_a_second_apart_never_mix_their_parameters(trained_workspace):
    """The lock is taken before params.yaml is touched and held until the run ends: whichever run gets it
    registers exactly its own parameters, and the other is refused having changed nothing. (From the session's
    trained workspace: only the stages the new parameters touch run again.)"""
    from tests.conftest import shipped_params, tracking

    workspace = trained_workspace[0]

    cli = [sys.executable, "-m", "flows.retrain", "--workspace", str(workspace), "--profile", "tiny"]
    sets = {"a": ["train.seed=11"], "b": ["train.lr=0.0005", "model.bsvae.latent_dim=4"]}
    runs = {
        "a": subprocess.Popen(
            [*cli, *(f"--set={s}" for s in sets["a"])],
            cwd=workspace,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    }
    time.sleep(1.0)
    runs["b"] = subprocess.Popen(
        [*cli, *(f"--set={s}" for s in sets["b"])],
        cwd=workspace,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    outputs = {name: proc.communicate(timeout=900) for name, proc in runs.items()}
    codes = {name: proc.returncode for name, proc in runs.items()}
    assert sorted(codes.values()) == [0, 1], outputs
    won, lost = ("a", "b") if codes["a"] == 0 else ("b", "a")
    refusal = outputs[lost][1].strip().splitlines()
    assert len(refusal) == 1 and "another retrain run holds the workspace" in refusal[0], outputs[lost]

    version = tracking(workspace).get_model_version_by_alias("sentences-bsvae", "challenger")
    recorded = tracking(workspace).get_run(version.run_id).data.params
    shipped = shipped_params()
    tiny = {
        "sentences.train.seed": str(shipped.train.seed),
        "sentences.train.lr": str(shipped.train.lr),
        "sentences.model.bsvae.latent_dim": str(shipped.profiles["tiny"]["model"]["bsvae"]["latent_dim"]),
    }
    expected = {**tiny, **{f"sentences.{k}": v for k, v in (s.split("=") for s in sets[won])}}
    assert {k: recorded[k] for k in expected} == expected, won
