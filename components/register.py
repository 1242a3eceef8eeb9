"""Register: log a gated model to MLflow with its lineage and point an alias at the new version.

MLflow is imported here and only here (plus the pyfunc file MLflow loads), so the
training code runs on machines that have torch but no MLflow. The tracking URI
defaults to a SQLite database under mlruns/; set MLFLOW_TRACKING_URI for a server.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pandas as pd
import yaml

from components.cli import StageError, stage_main, stage_parser
from components.params import Params, flatten, load_params

log = logging.getLogger(__name__)

PYFUNC_CODE = Path(__file__).with_name("pyfunc_model.py")
MODEL_DIR = "models/bsvae"
TOKENIZER = "data/tokenizer/tokenizer.json"
RUNTIME_PACKAGES = ("mlflow", "torch", "tokenizers", "safetensors", "numpy", "pandas")
# dvc.lock outputs whose content hashes identify the data, tokenizer and model of a run.
LINEAGE_OUTS = {
    "data.corpus_md5": ("ingest", "data/interim/corpus.parquet"),
    "data.splits_md5": ("split", "data/processed/splits.parquet"),
    "data.tokens_md5": ("tokenize", "data/tokens"),
    "tokenizer.md5": ("tokenize", "data/tokenizer/tokenizer.json"),
    "model.md5": ("train", "models/bsvae"),
}


@dataclass(frozen=True)
class RegisteredVersion:
    name: str
    version: str
    run_id: str
    alias: str


def tracking_uri(workspace: Path) -> str:
    """MLFLOW_TRACKING_URI when set, else the embedded SQLite store in <workspace>/mlruns."""
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return os.environ["MLFLOW_TRACKING_URI"]
    home = workspace.resolve() / "mlruns"
    home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{home / 'mlflow.db'}"


def git_commit(workspace: Path) -> tuple[str, bool]:
    """(commit, dirty) of the workspace; ("unknown", True) outside a git repository."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=workspace, capture_output=True, text=True, check=True).stdout.strip()
    try:
        return git("rev-parse", "HEAD"), bool(git("status", "--porcelain", "--untracked-files=no"))
    except (subprocess.CalledProcessError, FileNotFoundError):
        return "unknown", True


def dvc_lineage(workspace: Path) -> dict[str, str]:
    """Content hashes of the run's data, tokenizer and model, read from dvc.lock."""
    lock_path = workspace / "dvc.lock"
    if not lock_path.is_file():
        raise StageError(f"{lock_path}: not found; run the pipeline through DVC before registering")
    stages = (yaml.safe_load(lock_path.read_text(encoding="utf-8")) or {}).get("stages", {})
    tags = {}
    for tag, (stage, path) in LINEAGE_OUTS.items():
        outs = {o["path"]: o.get("md5", "") for o in stages.get(stage, {}).get("outs", [])}
        if path not in outs:
            raise StageError(f"{lock_path}: stage {stage!r} has no recorded output {path!r}")
        tags[tag] = outs[path]
    return tags


def pinned_requirements() -> list[str]:
    return [f"{name}=={metadata.version(name).split('+')[0]}" for name in RUNTIME_PACKAGES]


def _scalar_metrics(path: Path) -> dict[str, float]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {k: float(v) for k, v in data.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def register_model(workspace: Path, params: Params, params_path: Path) -> RegisteredVersion:
    """Log params, per-epoch and evaluation metrics, lineage and the pyfunc model; alias the new version."""
    import mlflow
    from mlflow import MlflowClient
    from mlflow.models import infer_signature

    workspace = workspace.resolve()
    p = params.register
    lineage = dvc_lineage(workspace)
    commit, dirty = git_commit(workspace)
    history = json.loads((workspace / "metrics/train_history.json").read_text(encoding="utf-8"))
    eval_path = workspace / "metrics/eval.json"

    uri = tracking_uri(workspace)
    # With the embedded store, artifacts sit beside the database whatever the working directory;
    # a server chooses its own artifact root.
    artifact_location = (workspace / "mlruns" / "artifacts").as_uri() if uri.startswith("sqlite:") else None
    mlflow.set_tracking_uri(uri)
    client = MlflowClient()
    experiment = client.get_experiment_by_name(p.experiment)
    experiment_id = experiment.experiment_id if experiment else client.create_experiment(
        p.experiment, artifact_location=artifact_location)

    raw_params = yaml.safe_load(params_path.read_text(encoding="utf-8"))
    raw_params.pop("profiles", None)
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_params(flatten(raw_params))
        for row in history:
            mlflow.log_metrics({k: float(v) for k, v in row.items() if k not in ("epoch", "step")}, step=row["step"])
        mlflow.log_metrics(_scalar_metrics(eval_path))
        mlflow.set_tags({"git.commit": commit, "git.dirty": str(dirty), **lineage,
                         "model.family": params.model.family})
        for report in ("reports/samples.md", "reports/gate.md", "reports/gate.json"):
            if (workspace / report).is_file():
                mlflow.log_artifact(str(workspace / report), artifact_path="reports")
        example = pd.DataFrame({"n": [2]})
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=str(PYFUNC_CODE),
            artifacts={"model_dir": str(workspace / MODEL_DIR), "tokenizer": str(workspace / TOKENIZER)},
            code_paths=[str(PYFUNC_CODE.parent)],
            signature=infer_signature(example, pd.DataFrame({"text": ["a sentence", "another one"]})),
            input_example=example,
            pip_requirements=pinned_requirements(),
            registered_model_name=p.model_name,
        )
    version = str(info.registered_model_version)
    client.set_registered_model_alias(p.model_name, p.alias, version)
    for key, value in {"git.commit": commit, **lineage, "mlflow.run": run.info.run_id}.items():
        client.set_model_version_tag(p.model_name, version, key, value)
    log.info("registered %s version %s as @%s (run %s)", p.model_name, version, p.alias, run.info.run_id)
    return RegisteredVersion(name=p.model_name, version=version, run_id=run.info.run_id, alias=p.alias)


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    parser.add_argument("--workspace", default=".")

    def run(args):
        workspace = Path(args.workspace)
        params_path = workspace / args.params
        registered = register_model(workspace, load_params(params_path), params_path)
        print(f"models:/{registered.name}@{registered.alias} -> version {registered.version}")

    stage_main("register", run, parser)


if __name__ == "__main__":
    main()
