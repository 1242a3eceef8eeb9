"""Rebuild a registered model version from its lineage and compare it with what was registered.

    python -m components.commands.reproduce --model sentences-bsvae --version 3

The version's run recorded its git commit and, as artifacts, the patch of what the workspace
held beyond that commit (params the flow wrote, dvc.lock, new files), dvc.lock and params.yaml.
This clones the workspace's repository at that commit into a scratch directory, applies the
patch, restores imported data sources from the DVC cache or remote, fetches warm-start weights
when the version had them and the base model it fine-tuned (the version it recorded), runs `dvc repro --force`
(every stage really runs: no run-cache) and compares every output hash in the rebuilt dvc.lock, the weights'
SHA-256 and the evaluation metrics with the registered ones. On CPU, training and evaluation are deterministic, so a
faithful rebuild matches exactly; any difference is listed and the exit status is 1.
"""

from __future__ import annotations

import json
import math
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from components.applications.base import Application
from components.applications.catalog import application
from components.applications.kind import FineTunes, application_kind, load_application_params
from components.core.atomic import file_digest
from components.core.errors import StageError
from components.models.store import WEIGHTS_FILE
from components.registry.artifacts import download_weights
from components.registry.model_files import download_verified
from components.registry.register import scalar_metrics
from components.registry.tracking import connect
from components.versioning.dvc import require_dvc_project, run_dvc


@dataclass(frozen=True)
class Comparison:
    item: str
    registered: str
    rebuilt: str

    @property
    def matches(self) -> bool:
        return self.registered == self.rebuilt


def lock_outputs(lock: dict) -> dict[str, str]:
    """'stage:path' -> md5 for every output recorded in a dvc.lock."""
    return {
        f"{name}:{out['path']}": out.get("md5", "")
        for name, stage in (lock.get("stages") or {}).items()
        for out in stage.get("outs", [])
    }


def compare(
    registered_lock: dict,
    rebuilt_lock: dict,
    registered_metrics: dict[str, float],
    rebuilt_metrics: dict[str, float],
    registered_sha: str,
    rebuilt_sha: str,
) -> list[Comparison]:
    """Every output hash, the weights' SHA-256 and every evaluation metric, registered vs rebuilt."""
    rows = [Comparison("weights sha256", registered_sha, rebuilt_sha)]
    before, after = lock_outputs(registered_lock), lock_outputs(rebuilt_lock)
    rows += [Comparison(f"dvc.lock {key}", before[key], after.get(key, "missing")) for key in sorted(before)]
    rows += [
        Comparison(f"metric {key}", repr(float(value)), repr(float(rebuilt_metrics.get(key, math.nan))))
        for key, value in sorted(registered_metrics.items())
    ]
    return rows


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise StageError(f"git {' '.join(args)} in {cwd}: {proc.stderr.strip()}")
    return proc.stdout


def reproduce(workspace: Path, name: str, version: str, scratch: Path) -> list[Comparison]:
    """Rebuild `name` v`version` in `scratch` (an empty or missing directory) and compare; see the module doc."""
    import mlflow
    from mlflow.exceptions import MlflowException

    workspace = require_dvc_project(workspace)
    client = connect(workspace)
    try:
        mv = client.get_model_version(name, version)
    except MlflowException as err:
        raise StageError(f"{name} v{version}: not in the registry at {mlflow.get_tracking_uri()}") from err
    commit = mv.tags.get("git.commit", "unknown")
    if commit == "unknown":
        raise StageError(f"{name} v{version}: registered without a git commit; it cannot be rebuilt")
    lineage = Path(
        mlflow.artifacts.download_artifacts(
            run_id=mv.run_id, artifact_path="lineage", dst_path=tempfile.mkdtemp(prefix="lineage-")
        )
    )
    if not (lineage / "dvc.lock").is_file():
        raise StageError(f"{name} v{version}: its run has no lineage/ artifacts (registered by an older version)")

    if scratch.exists() and any(scratch.iterdir()):
        raise StageError(f"{scratch}: scratch directory is not empty")
    git(workspace.parent, "clone", "--quiet", "--no-checkout", str(workspace), str(scratch))
    git(scratch, "checkout", "--quiet", commit)
    patch = lineage / "uncommitted.patch"
    if patch.stat().st_size:
        git(scratch, "apply", "--binary", str(patch))
    # Data sources (dvc import / add) come from the workspace's cache; outputs are rebuilt, not fetched.
    run_dvc(scratch, "cache", "dir", "--local", str(workspace / ".dvc" / "cache"))
    sources = [
        str(p.relative_to(scratch))
        for p in scratch.rglob("*.dvc")
        if p.is_file() and not {".dvc", ".git"} & set(p.relative_to(scratch).parts[:-1])
    ]
    if sources:
        run_dvc(scratch, "checkout", *sources)
    app = application(mv.tags.get("application", "sentences"), workspace / "params.yaml")  # older versions: sentences
    warm = mv.tags.get("warm_start", "scratch")
    if warm != "scratch":
        source_name, source_version = warm.rsplit(" v", 1)
        download_weights(source_name, source_version, app.warm_start_dir(scratch))
        (app.warm_start_dir(scratch) / "source.json").write_text(
            json.dumps({"name": source_name, "version": source_version})
        )
    base = mv.tags.get("base_model", "none")
    if base != "none":  # the version the run fine-tuned, whatever its alias names today
        kind = application_kind(scratch / "params.yaml", app.name)
        if not isinstance(kind, FineTunes):
            raise StageError(f"{mv.name} v{mv.version} names a base model, but the {kind.name} kind fine-tunes none")
        kind.prepare_base(
            scratch, load_application_params(scratch / "params.yaml", app.name), client, base.rsplit(" v", 1)[1]
        )
    run_dvc(scratch, "repro", "--force", "--no-run-cache", app.stages[-1])  # the app's stages, and only those

    registered_lock = app_stages_only(yaml.safe_load((lineage / "dvc.lock").read_text(encoding="utf-8")), app)
    rebuilt_lock = app_stages_only(yaml.safe_load((scratch / "dvc.lock").read_text(encoding="utf-8")), app)
    run = client.get_run(mv.run_id)
    rebuilt_metrics = scalar_metrics(json.loads(app.eval_metrics(scratch).read_text(encoding="utf-8")))
    registered_metrics = {k: v for k, v in run.data.metrics.items() if k in rebuilt_metrics}
    with tempfile.TemporaryDirectory() as tmp:  # the registered files, checked against their record
        model_config = yaml.safe_load((download_verified(mv, Path(tmp)) / "MLmodel").read_text(encoding="utf-8"))
    return compare(
        registered_lock,
        rebuilt_lock,
        registered_metrics,
        rebuilt_metrics,
        model_config["flavors"]["python_function"]["config"]["weights_sha256"],
        file_digest(app.model_dir(scratch, run.data.tags["model.family"]) / WEIGHTS_FILE),
    )


def app_stages_only(lock: dict, app: Application) -> dict:
    """A dvc.lock reduced to the application's stages (other applications are not rebuilt)."""
    return {**lock, "stages": {k: v for k, v in (lock.get("stages") or {}).items() if k in app.stages}}


def table(rows: list[Comparison]) -> str:
    lines = ["| item | registered | rebuilt | same |", "|---|---|---|---|"]
    lines += [f"| {r.item} | {r.registered} | {r.rebuilt} | {'yes' if r.matches else 'NO'} |" for r in rows]
    return "\n".join(lines)
