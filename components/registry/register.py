"""Register: log a gated model to MLflow with its lineage and point an alias at the new version.

MLflow is imported inside the functions here (and in the pyfunc file MLflow loads), so the
training code runs on machines that have torch but no MLflow. The tracking URI defaults
to a SQLite database under mlruns/; set MLFLOW_TRACKING_URI for a server.

Registering is idempotent: a version is keyed by the content hash of its weights, so
re-running the registration of the same trained model re-uses its version.
"""

from __future__ import annotations

import json
import logging
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import yaml

from components.applications.catalog import application
from components.applications.kind import KIND_METADATA, application_kind
from components.core.atomic import file_digest
from components.core.params import flatten
from components.evaluation.gate import Champion, GateReport
from components.models.store import WEIGHTS_FILE
from components.registry.lineage import base_model_source, dvc_lineage, git_commit, uncommitted_patch, warm_start_source
from components.registry.model_files import FILES_TAG, logged_files_digest
from components.registry.promotion import CHAMPION
from components.registry.tracking import connect, tracking_uri

log = logging.getLogger(__name__)

COMPONENTS = Path(__file__).resolve().parents[1]
"""The package the logged model carries as code, so its pyfunc file can import the generator and the models."""
RUNTIME_PACKAGES = ("mlflow", "torch", "tokenizers", "safetensors", "numpy", "pandas", "pyyaml")


@dataclass(frozen=True)
class RegisteredVersion:
    name: str
    version: str
    run_id: str
    alias: str
    created: bool
    """False when an existing version of the same weights was re-used."""


def pinned_requirements() -> list[str]:
    return [f"{name}=={metadata.version(name).split('+')[0]}" for name in RUNTIME_PACKAGES]


def scalar_metrics(metrics: dict) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def champion_of(client, name: str) -> Champion | None:
    """The version holding @champion with its run's metrics and lineage tags, or None if there is none."""
    from mlflow.exceptions import MlflowException

    try:
        version = client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException as err:
        if err.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise
    metrics = client.get_run(version.run_id).data.metrics
    return Champion(version=str(version.version), metrics=metrics, lineage=dict(version.tags))


def find_version(client, name: str, model_md5: str):
    """An existing version of `name` whose weights have this DVC hash, or None."""
    from mlflow.exceptions import MlflowException

    try:
        found = client.search_model_versions(f"name = '{name}' and tags.`model.md5` = '{model_md5}'")
    except MlflowException:
        return None
    return max(found, key=lambda v: int(v.version)) if found else None


def gate_tags(report: GateReport) -> dict[str, str]:
    """One version tag per gate check, e.g. gate.nll = '47.02 <= 80: pass', gate.nll_vs_baseline and
    gate.nll_vs_champion for the margin over the trivial baseline and the comparison with the champion."""
    tags = {"gate.passed": str(report.passed)}
    for c in report.checks:
        versus = (
            "_vs_champion"
            if c.name.startswith("no regression")
            else "_vs_baseline"
            if c.key.startswith("gate.min_baseline_margin")
            else ""
        )
        key = f"gate.{c.metric}{versus}"
        tags[key] = (
            f"{c.value:.6g}: disabled"
            if c.disabled
            else f"{c.value:.6g} {c.op} {c.threshold:.6g}: {'pass' if c.passed else 'fail'}"
        )
    return tags


def code_paths(kind, python_model: str, destination: Path) -> list[str]:
    """The code the served model runs, as the logged model's code_paths: the files under components/ that its
    module imports (lazily too; read from the imports as for DVC's code deps, components/versioning/code_deps.py)
    with the `__init__.py` of every package on their way, copied into destination/components; and the package
    of a kind defined outside components/, whole, so the served model imports its kind's code wherever it is
    loaded. Only what runs is uploaded, checked against files.sha256 at every load, and trusted."""
    import importlib
    import shutil

    from components.versioning.code_deps import transitive_imports

    root = COMPONENTS.parent
    imported = transitive_imports(root, Path(python_model).resolve())
    needed = {path for path in imported if path.is_relative_to(COMPONENTS)}
    for path in list(needed):
        directory = path.parent
        while directory.is_relative_to(COMPONENTS):
            needed.add(directory / "__init__.py")
            directory = directory.parent
    for path in needed:
        target = destination / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    top = importlib.import_module(type(kind).__module__.split(".")[0])
    path = Path(top.__file__).resolve()
    code = path.parent if path.name == "__init__.py" else path  # a package whole, or a one-file module alone
    return [str(destination / COMPONENTS.name)] + ([] if code.is_relative_to(COMPONENTS) else [str(code)])


def register_model(workspace: Path, params, params_path: Path, report: GateReport | None = None) -> RegisteredVersion:
    """Log params, metrics, lineage, plots and the pyfunc model; register a version (once) and alias it.
    What differs between kinds (the served model, its card, extra artifacts) comes from the application's kind."""
    import mlflow

    workspace = workspace.resolve()
    p, app, family = params.register, application(params.application, params_path), params.model.family
    kind = application_kind(params_path, params.application)
    model_name, model_dir = params.model_name, app.model_dir(workspace, family)
    lineage = {**dvc_lineage(workspace, app, family), "base_model": base_model_source(workspace, app)}
    commit, dirty = git_commit(workspace)
    history = json.loads(app.train_history(workspace).read_text(encoding="utf-8"))
    metrics = json.loads(app.eval_metrics(workspace).read_text(encoding="utf-8"))
    timings = {
        name: json.loads(path.read_text(encoding="utf-8"))
        for name in ("train", "evaluate")
        if (path := app.timing(workspace, app.train_step if name == "train" else name)) and path.is_file()
    }
    # Wall times and speeds are not DVC outputs (a rebuild hashes the same however fast the machine); the run
    # and the model card report them beside the metrics.
    speeds = {k: v for k, v in timings.get("evaluate", {}).items() if isinstance(v, (int, float))}
    metrics = {**metrics, **speeds}
    gate = gate_tags(report) if report is not None else {}
    version_tags = {
        "application": app.name,
        "model.family": family,
        "git.commit": commit,
        "git.dirty": str(dirty),
        "warm_start": warm_start_source(workspace, app),
        **lineage,
        **gate,
    }

    uri = tracking_uri(workspace)
    # With the embedded store, artifacts sit beside the database whatever the working directory;
    # a server chooses its own artifact root.
    artifact_location = (workspace / "mlruns" / "artifacts").as_uri() if uri.startswith("sqlite:") else None
    client = connect(workspace)
    existing = find_version(client, model_name, lineage["model.md5"])
    if existing is not None:
        log.info(
            "weights %s are already version %s of %s; re-using it", lineage["model.md5"], existing.version, model_name
        )
        for key, value in version_tags.items():
            client.set_model_version_tag(model_name, existing.version, key, value)
        client.set_registered_model_alias(model_name, p.alias, existing.version)
        return RegisteredVersion(model_name, str(existing.version), existing.run_id, p.alias, created=False)

    experiment = client.get_experiment_by_name(params.experiment_name)
    experiment_id = (
        experiment.experiment_id
        if experiment
        else client.create_experiment(params.experiment_name, artifact_location=artifact_location)
    )
    raw_params = yaml.safe_load(params_path.read_text(encoding="utf-8"))
    raw_params.pop("profiles", None)
    weights_sha = file_digest(model_dir / WEIGHTS_FILE)
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_params(flatten(raw_params))
        for row in history:
            mlflow.log_metrics({k: float(v) for k, v in row.items() if k not in ("epoch", "step")}, step=row["step"])
        mlflow.log_metrics(scalar_metrics(metrics))
        if "train" in timings:
            mlflow.log_metric("train_seconds", timings["train"]["train_seconds"])
        mlflow.set_tags(version_tags)
        # What `python -m components.commands.reproduce` needs to rebuild this version from its commit.
        mlflow.log_text(uncommitted_patch(workspace), "lineage/uncommitted.patch")
        mlflow.log_text((workspace / "dvc.lock").read_text(encoding="utf-8"), "lineage/dvc.lock")
        mlflow.log_text(params_path.read_text(encoding="utf-8"), "lineage/params.yaml")
        gate_files = [workspace / app.reports(name) for name in ("gate.md", "gate.json")]
        for report_file in [*app.report_files(workspace), *gate_files]:
            if report_file.is_file():
                mlflow.log_artifact(str(report_file), artifact_path="reports")
        for path, folder in kind.run_artifacts(workspace, app, history):
            mlflow.log_artifact(str(path), artifact_path=folder)
        served = kind.served_model(workspace, app, params, weights_sha)
        served["metadata"] = {**served.get("metadata", {}), KIND_METADATA: params.kind}
        with tempfile.TemporaryDirectory() as code:
            paths = code_paths(kind, served["python_model"], Path(code))
            info = mlflow.pyfunc.log_model(
                name="model", code_paths=paths, pip_requirements=pinned_requirements(), **served
            )
    # The digest of every file the version will serve, recorded in the request that creates the version: loaders
    # check it before importing the model's code, and only a release manager may change it (server_auth).
    record = {FILES_TAG: logged_files_digest(info.model_uri)}
    version = mlflow.register_model(info.model_uri, model_name, tags={**version_tags, **record})
    card = kind.model_card(workspace, app, model_name, params, metrics, lineage, commit)
    client.update_model_version(model_name, version.version, description=card)
    client.set_registered_model_alias(model_name, p.alias, version.version)
    log.info("registered %s version %s as @%s (run %s)", model_name, version.version, p.alias, run.info.run_id)
    return RegisteredVersion(model_name, str(version.version), run.info.run_id, p.alias, created=True)
