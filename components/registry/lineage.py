"""A run's lineage: its git commit, what the workspace held beyond it, and the content hashes in dvc.lock."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import yaml

from components.applications.base import Application
from components.core.errors import StageError
from components.models.store import WEIGHTS_FILE


def git_commit(workspace: Path) -> tuple[str, bool]:
    """(commit, dirty) of the workspace; ("unknown", True) outside a git repository."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=workspace, capture_output=True, text=True, check=True).stdout.strip()

    try:
        return git("rev-parse", "HEAD"), bool(git("status", "--porcelain", "--untracked-files=no"))
    except (subprocess.CalledProcessError, FileNotFoundError):
        return "unknown", True


def locked_stages(workspace: Path) -> dict:
    lock_path = workspace / "dvc.lock"
    if not lock_path.is_file():
        raise StageError(f"{lock_path}: not found; run the pipeline through DVC before registering")
    return (yaml.safe_load(lock_path.read_text(encoding="utf-8")) or {}).get("stages", {})


def locked_md5(workspace: Path, stage: str, path: str) -> str:
    """The content hash dvc.lock records for one output of one stage."""
    outs = {o["path"]: o.get("md5", "") for o in locked_stages(workspace).get(stage, {}).get("outs", [])}
    if path not in outs:
        raise StageError(f"{workspace / 'dvc.lock'}: stage {stage!r} has no recorded output {path!r}")
    return outs[path]


def uncommitted_patch(workspace: Path) -> str:
    """What the run used beyond its commit, as a patch against HEAD: edited tracked files (params the flow
    wrote, dvc.lock, the reference vocabulary) and new files git does not ignore (a corpus, a .dvc import).

    It is built in a scratch copy of git's index, so the workspace's own index is left as it was.
    """
    import shutil
    import tempfile

    try:
        git_dir = Path(
            subprocess.run(
                ["git", "rev-parse", "--absolute-git-dir"], cwd=workspace, capture_output=True, text=True, check=True
            ).stdout.strip()
        )
        with tempfile.TemporaryDirectory() as tmp:
            env = {**os.environ, "GIT_INDEX_FILE": str(Path(tmp) / "index")}
            if (git_dir / "index").is_file():
                shutil.copy2(git_dir / "index", env["GIT_INDEX_FILE"])
            subprocess.run(["git", "add", "-A"], cwd=workspace, env=env, capture_output=True, check=True)
            return subprocess.run(
                ["git", "diff", "--cached", "--binary", "HEAD"],
                cwd=workspace,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
    except (subprocess.CalledProcessError, FileNotFoundError):
        return ""


def warm_start_source(workspace: Path, app: Application) -> str:
    """'NAME vN' when the app's train stage started from a registered version's weights, else 'scratch'."""
    directory = app.optional_output(workspace, app.train_step, "--warm-start")
    if directory is None or not (directory / "source.json").is_file() or not (directory / WEIGHTS_FILE).is_file():
        return "scratch"
    info = json.loads((directory / "source.json").read_text(encoding="utf-8"))
    return f"{info['name']} v{info['version']}"


def base_model_source(workspace: Path, app: Application) -> str:
    """'NAME vN' when the run fine-tuned a registered model (train.init_from), else 'none'."""
    directory = app.optional_output(workspace, app.train_step, "--base")
    source = directory / "source.json" if directory else None
    info = json.loads(source.read_text(encoding="utf-8")) if source and source.is_file() else {}
    return f"{info['name']} v{info['version']}" if info.get("name") else "none"


def dvc_lineage(workspace: Path, app: Application, family: str) -> dict[str, str]:
    """Content hashes of the app's data, tokenizer, model and parameters, as its stages recorded them in dvc.lock."""
    tags = {
        tag: locked_md5(workspace, stage, path) for tag, (stage, path) in app.lineage_outputs(workspace, family).items()
    }
    recorded_params = {
        name: stage.get("params", {}) for name, stage in sorted(locked_stages(workspace).items()) if name in app.stages
    }
    tags["params.md5"] = hashlib.md5(json.dumps(recorded_params, sort_keys=True).encode()).hexdigest()
    return tags
