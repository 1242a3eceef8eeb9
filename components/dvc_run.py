"""Running the `dvc` command from Python: with this interpreter, and its directory first on PATH, so the
stages DVC starts (`python -m components.<stage>`, `torchrun ...`) run in the same virtual environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def dvc_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("DVC_NO_ANALYTICS", "1")
    return env


def dvc_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "dvc", *args]


def run_dvc(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """`dvc ARGS` in `cwd`, output captured; the caller decides what a failure means."""
    return subprocess.run(dvc_command(*args), cwd=cwd, capture_output=True, text=True, env=dvc_env())


def require_dvc_project(workspace: Path, pipeline: bool = True) -> Path:
    """The workspace, resolved, if it is a DVC project (with a dvc.yaml when `pipeline`); else one StageError."""
    from components.cli import StageError

    workspace = Path(workspace).resolve()
    if not (workspace / ".dvc").is_dir() or (pipeline and not (workspace / "dvc.yaml").is_file()):
        what = "a DVC project with a dvc.yaml" if pipeline else "a DVC project"
        raise StageError(f"{workspace}: not {what} (pass --workspace the project root)")
    return workspace
