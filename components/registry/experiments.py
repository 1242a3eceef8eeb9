"""Log DVC experiments to MLflow, one run per experiment, named and tagged with the experiment's name.

    dvc exp run -n lr-low -S train.lr=0.001            # or a sweep: --queue several, then dvc exp run --run-all
    dvc exp run -n lat-16 -S model.latent_dim=16
    python -m components.commands.experiments   # one MLflow run per experiment, in <register.experiment>-dvc

`dvc exp run` runs the stages of dvc.yaml with the -S overrides and commits the results to a
hidden git ref; it knows nothing of MLflow. This reads each experiment's params and metrics
back from DVC (`dvc.api`) and logs them, so sweeps sit beside the registered runs in the
MLflow UI. It is idempotent: an experiment already logged (same commit) is skipped. Registering
and gating stay with the retrain flow: `dvc exp apply NAME` then `python -m flows.retrain`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from components.applications.base import Application
from components.applications.catalog import application
from components.applications.kind import load_application_params
from components.core.params import flatten
from components.registry.register import scalar_metrics
from components.registry.tracking import connect
from components.versioning.dvc import require_dvc_project
from components.versioning.stage_file import stages

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Experiment:
    name: str
    rev: str
    baseline: str


def metric_files(workspace: Path, app: Application) -> list[str]:
    """The metrics files dvc.yaml declares for the application's stages, in stage order."""
    files = []
    for name, stage in stages(workspace).items():
        if name not in app.stages:
            continue
        for entry in stage.get("metrics", []):
            files.append(next(iter(entry)) if isinstance(entry, dict) else entry)
    return files


def list_experiments(workspace: Path) -> list[Experiment]:
    import dvc.api

    rows = dvc.api.exp_show(repo=str(workspace))
    experiments, baseline = [], ""
    for row in rows:
        if row.get("typ") == "baseline":
            baseline = row["rev"]
        elif row.get("Experiment"):
            experiments.append(Experiment(name=row["Experiment"], rev=row["rev"], baseline=baseline))
    return experiments


def experiment_metrics(workspace: Path, rev: str, app: Application) -> dict[str, float]:
    """Each metrics file of the experiment's commit; eval metrics by name (as the retrain flow logs them),
    the others as '<file>.<key>'."""
    import dvc.api
    from dvc.exceptions import PathMissingError

    out: dict[str, float] = {}
    for path in metric_files(workspace, app):
        try:
            values = scalar_metrics(json.loads(dvc.api.read(path, repo=str(workspace), rev=rev)))
        except (PathMissingError, FileNotFoundError, ValueError):
            log.warning("experiment %s has no readable %s", rev, path)
            continue
        prefix = "" if path == app.output(workspace, "evaluate", "--metrics") else f"{Path(path).stem}."
        out.update({f"{prefix}{k}": v for k, v in values.items()})
    return out


def log_experiments(workspace: Path, app_name: str | None = None) -> dict[str, str]:
    """Log every DVC experiment not yet in MLflow, with the application's params and metrics (the only
    application when `app_name` is None); return {experiment name: MLflow run id}."""
    import dvc.api
    import mlflow

    workspace = require_dvc_project(workspace)
    params = load_application_params(workspace / "params.yaml", app_name)
    app = application(params.application, workspace / "params.yaml")
    client = connect(workspace)
    name = f"{params.experiment_name}-dvc"
    found = client.get_experiment_by_name(name)
    experiment_id = found.experiment_id if found else client.create_experiment(name)
    logged = {}
    for exp in list_experiments(workspace):
        existing = client.search_runs(
            [experiment_id], f"tags.`dvc.exp_rev` = '{exp.rev}' and attributes.status = 'FINISHED'"
        )
        if existing:
            logged[exp.name] = existing[0].info.run_id
            continue
        exp_params = dvc.api.params_show(repo=str(workspace), rev=exp.rev).get(app.name, {})
        exp_params.pop("profiles", None)
        metrics = experiment_metrics(workspace, exp.rev, app)  # read before the run starts: no half-logged runs
        with mlflow.start_run(
            experiment_id=experiment_id,
            run_name=exp.name,
            tags={"dvc.experiment": exp.name, "dvc.exp_rev": exp.rev, "dvc.baseline_rev": exp.baseline},
        ) as run:
            mlflow.log_params(flatten(exp_params, f"{app.name}."))
            mlflow.log_metrics(metrics)
        logged[exp.name] = run.info.run_id
        log.info("logged DVC experiment %s (%s) as MLflow run %s", exp.name, exp.rev, run.info.run_id)
    return logged
