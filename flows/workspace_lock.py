"""One run per workspace: DVC allows one `dvc repro` per repository, and two flows interleaving
params.yaml edits, stages and registrations would corrupt each other's lineage.

The lock is an advisory `flock` on `.dvc/tmp/retrain.lock`: the kernel drops it when the holder
exits, however it exits, so a killed run never leaves a stale lock behind. The file records
who holds it, so the refusal can say which run to wait for. It is re-entrant within a thread:
the command line takes it before it touches params.yaml and keeps it while the flow, which takes
it again in the same thread, runs, so no other run can slip in between.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

LOCK_FILE = Path(".dvc") / "tmp" / "retrain.lock"
_held: dict[tuple[Path, int], int] = {}  # (lock file, thread) this process holds -> times entered


class WorkspaceBusy(RuntimeError):
    """Another run holds the workspace lock (and did not let go within the timeout)."""


def holder(lock_path: Path) -> str:
    try:
        info = json.loads(lock_path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return "another process"
    return f"pid {info.get('pid')} on {info.get('host')} since {info.get('since')}"


@contextlib.contextmanager
def workspace_lock(workspace: Path, timeout_s: float = 0.0, poll_s: float = 0.5) -> Iterator[Path]:
    """Hold the workspace's lock for the `with` body; wait up to `timeout_s`, then raise WorkspaceBusy."""
    lock_path = (workspace / LOCK_FILE).resolve()
    key = (lock_path, threading.get_ident())
    if key in _held:  # this thread holds it already (the command line around the flow)
        _held[key] += 1
        try:
            yield lock_path
        finally:
            _held[key] -= 1
        return
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    waited = f" after waiting {timeout_s:g} s" if timeout_s else ""
                    raise WorkspaceBusy(
                        f"{workspace}: another retrain run holds the workspace ({holder(lock_path)}){waited}; "
                        "let it finish or raise orchestrate.lock_timeout_s to wait for it"
                    ) from None
                time.sleep(poll_s)
        os.ftruncate(fd, 0)
        os.pwrite(
            fd,
            json.dumps(
                {
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "since": datetime.now(UTC).isoformat(timespec="seconds"),
                }
            ).encode(),
            0,
        )
        _held[key] = 1
        try:
            yield lock_path
        finally:
            del _held[key]
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
