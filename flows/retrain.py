"""The retraining flow: run the DVC pipeline stage by stage, gate the model, register it in MLflow.

dvc.yaml stays the only definition of the stages: the flow reads their order from DVC
and runs each through `dvc repro --single-item`, so unchanged stages are skipped and
dvc.lock stays true. What DVC cannot do is added here: one Prefect task per stage (so
the UI shows each), the gate decision, MLflow registration and a Markdown report.

    python -m flows.retrain                                   # params.yaml as it is (its only application)
    python -m flows.retrain --app sentences --corpus my.txt --profile tiny --set train.epochs=3
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

# The embedded Prefect server's telemetry heartbeat races the flow for its SQLite file; it sends nothing we need.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# MLflow's own HTTP retries (7, exponential) would hide an unreachable server for minutes per call; the
# gate and register tasks retry with Prefect's backoff instead, so keep MLflow's short.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from prefect.exceptions import MissingContextError
from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, temporary_settings

from components.applications.catalog import application
from components.applications.kind import (
    AcceptsData,
    FineTunes,
    WarmStarts,
    application_kind,
    load_application_params,
)
from components.applications.overrides import profile_in_force, write_profile
from components.core.errors import StageError, error_line, redact
from components.core.params import (
    PARAMS_FILE,
    ParamsError,
    choose_application,
    read_params_file,
)
from components.evaluation.gate import enforce, write_report
from components.registry.tracking import REFUSED, check_server_access, describe_server_error
from components.versioning import dvc
from components.versioning.dvc import DvcFailed, require_dvc_project
from flows.console import quiet_console, send_tracebacks_to
from flows.prefect_access import check_prefect_access
from flows.workspace_lock import WorkspaceBusy, workspace_lock


def retry_if_transient(task, task_run, state) -> bool:
    """Retry a failed task unless its failure is deterministic (bad params, a failed gate or stage)."""
    try:
        state.result()
    except (StageError, ParamsError):  # a failed gate, stage or DVC command included
        return False
    except Exception as err:  # an MLflow server that refuses the credentials or the user will refuse them again
        return getattr(err, "error_code", None) not in REFUSED
    return True


# --- DVC ---------------------------------------------------------------------------------------
class StageProgress:
    """A progress bar in the Prefect UI for a stage that reports progress (the training engine's lines: step,
    steps/s, time left), made at its first progress line and moved at each next one."""

    def __init__(self, stage: str):
        self.stage, self.artifact = stage, None

    def __call__(self, line: str) -> None:
        from prefect.artifacts import create_progress_artifact, update_progress_artifact

        from components.engine.progress import parse_progress

        progress = parse_progress(line)
        if progress is None:
            return
        description = f"{self.stage}: {progress.describe()}"
        if self.artifact is None:
            self.artifact = create_progress_artifact(progress.percent, description=description)
        else:
            update_progress_artifact(self.artifact, progress.percent, description=description)


@task(name="dvc-stage")
def run_stage(workspace: str, stage: str) -> str:
    """`dvc repro --single-item STAGE`, its output streamed into the Prefect log line by line, and its progress
    (a training stage's steps/s and time left) shown as a progress artifact of the task run."""
    output = dvc.run_dvc(
        Path(workspace),
        "repro",
        "--single-item",
        stage,
        logger=get_run_logger(),
        stage=stage,
        on_line=StageProgress(stage),
    )
    return "skipped" if "didn't change, skipping" in output else "ran"


@task(name="dvc update")
def update_sources_task(workspace: str) -> list[str]:
    """`dvc update` each imported source (dvc import / import-url): a grown directory or a new file
    version becomes a new data version in dvc.lock's terms, and the stages after it re-run."""
    ws, logger = Path(workspace), get_run_logger()
    sources = dvc.imported_sources(ws)
    for source in sources:
        dvc.run_dvc(ws, "update", source, logger=logger)
    return sources


class PushFailed(RuntimeError):
    """`dvc push` failed: usually the remote's network or credentials, so the task retries it."""


def retry_push(task, task_run, state) -> bool:
    """Retry a failed push, but not a corrupt cache: pushing again would not mend it."""
    try:
        state.result()
    except StageError:
        return False
    except Exception:
        return True
    return True


@task(name="dvc push", retry_condition_fn=retry_push)
def push_task(workspace: str) -> str:
    """Check the cache, then `dvc push` the run's data, tokenizer and model to the default remote."""
    from components.versioning.cache import verify

    ws, logger = Path(workspace), get_run_logger()
    remote = dvc.default_remote(ws)
    if not remote:
        logger.warning(
            "no default DVC remote configured: nothing pushed (a remote: dvc remote add -d; docs/team-setup.md)"
        )
        return "no remote"
    verify(ws)  # DVC would push a rotten object as it is; refuse, naming it
    try:
        dvc.run_dvc(ws, "push", logger=logger)
    except DvcFailed as err:
        raise PushFailed(f"{dvc.describe_remote(ws, remote)}: {err}") from err
    return remote


@task(name="warm start", retry_condition_fn=retry_if_transient)
def warm_start_task(workspace: str, app: str) -> str:
    """Fill warm_start/<app>/ with the champion's weights when params ask and they fit; empty it otherwise."""
    from components.registry.tracking import connect

    ws = Path(workspace)
    params = load_application_params(ws / PARAMS_FILE, app)
    client = connect(ws) if params.train.warm_start == "champion" else None
    reason = application_kind(ws / PARAMS_FILE, app).prepare_warm_start(ws, params, client)
    get_run_logger().info("%s", reason)
    return reason


@task(name="base model", retry_condition_fn=retry_if_transient)
def base_model_task(workspace: str, app: str) -> str:
    """Fill base/<app>/ with the registered model train.init_from names (fine-tuning); empty it otherwise."""
    from components.registry.tracking import connect

    ws = Path(workspace)
    params = load_application_params(ws / PARAMS_FILE, app)
    client = connect(ws) if params.train.init_from else None
    reason = application_kind(ws / PARAMS_FILE, app).prepare_base(ws, params, client)
    get_run_logger().info("%s", reason)
    return reason


# --- gate and registry ----------------------------------------------------------------------
@task(name="gate", retry_condition_fn=retry_if_transient)
def gate_task(workspace: str, app: str) -> dict:
    """Thresholds from params.yaml plus the no-regression check against the current @champion."""
    from components.registry.lineage import dvc_lineage
    from components.registry.register import champion_of
    from components.registry.tracking import connect

    ws = Path(workspace)
    params = load_application_params(ws / PARAMS_FILE, app)
    unit = application(app, ws / PARAMS_FILE)
    champion = champion_of(connect(ws), params.model_name)
    report = application_kind(ws / PARAMS_FILE, app).gate(
        json.loads(unit.eval_metrics(ws).read_text(encoding="utf-8")),
        params.gate,
        lineage=dvc_lineage(ws, unit, params.model.family),
        champion=champion,
    )
    write_report(report, ws / unit.reports())
    create_markdown_artifact(key="gate-report", markdown=report.to_markdown(), description="Gate checks")
    enforce(report)
    return report.to_dict()


@task(name="register", retry_condition_fn=retry_if_transient)
def register_task(workspace: str, app: str, gate: dict) -> dict:
    """Register (idempotently) and alias the model; auto-promote when params ask and the gate allows."""
    from components.evaluation.gate import GateReport
    from components.registry.promotion import promote
    from components.registry.register import register_model
    from components.registry.tracking import connect, tracking_uri

    ws = Path(workspace)
    params = load_application_params(ws / PARAMS_FILE, app)
    report = GateReport.from_dict(gate)
    registered = register_model(ws, params, ws / PARAMS_FILE, report)
    client = connect(ws)
    result = {
        **registered.__dict__,
        "promoted": False,
        "run_url": run_url(tracking_uri(ws), client.get_run(registered.run_id).info.experiment_id, registered.run_id),
    }
    p = params.register
    beats = report.beats_champion_by is not None and report.beats_champion_by >= p.promote_margin
    if p.auto_promote and (beats or report.champion is None):
        from mlflow.exceptions import MlflowException

        try:
            promote(client, registered.name, registered.version)
            result["promoted"] = True
        except MlflowException as err:  # a shared server lets only release managers move @champion
            if err.error_code != "PERMISSION_DENIED":
                raise
            get_run_logger().warning(
                "register.auto_promote: the server refused to move @champion (%s); "
                "version %s stays @%s for a release manager to promote",
                err.message,
                registered.version,
                registered.alias,
            )
    return result


check_workspace = require_dvc_project  # one StageError naming the directory


def preflight(workspace: str, app: str | None):
    """What must hold before anything runs or changes, checked once: a DVC project, the MLflow server accepting
    the credentials (or no server), the DVC remote when the run pushes. The application's params as they stand."""
    ws = check_workspace(workspace)
    check_server_access(ws)
    params = load_application_params(ws / PARAMS_FILE, app)
    if params.orchestrate.push:
        dvc.check_remote(ws)
    return ws, params


def prepare_workspace(
    ws: Path, app: str | None, corpus: str | None, profile: str | None, overrides: list[str]
) -> tuple[str, Any]:
    """Write profile, corpus and overrides into params.yaml (checked first; errors name what is wrong); the
    application's name and its params as the run will read them."""
    if corpus is not None:
        corpus_path = Path(corpus).resolve()
        if not corpus_path.exists():
            raise StageError(f"{corpus}: corpus not found (a file or a directory of files)")
        corpus = str(corpus_path.relative_to(ws)) if corpus_path.is_relative_to(ws) else str(corpus_path)
    params_path = ws / PARAMS_FILE
    app = application(choose_application(read_params_file(params_path), app), params_path).name  # one the code knows
    write_profile(ws, app, profile, overrides, corpus)
    params = load_application_params(params_path, app)
    application_kind(params_path, app).check_params(params)  # what the schema alone cannot check (a model family)
    in_force = profile_in_force(read_params_file(params_path), app)
    if in_force:  # never silently: a profile stays written in params.yaml
        message = (
            f"params.yaml holds {app}'s {in_force!r} profile values"
            f"{'' if profile else ' (written by an earlier run)'}; --profile default returns to the committed values"
        )
        try:
            get_run_logger().warning(message)
        except MissingContextError:  # before the flow starts (the command line checks its input first)
            print(f"warning: retrain: {message}", file=sys.stderr)
    return app, params


@contextlib.contextmanager
def prepared(workspace: str, app: str | None, corpus: str | None, profile: str | None, overrides: list[str]):
    """Preflight, then the workspace lock (held from before params.yaml is touched until the run has pushed: a
    second run waits orchestrate.lock_timeout_s, then is refused with WorkspaceBusy), then params.yaml written.
    Yields (workspace, application, its params)."""
    ws, params = preflight(workspace, app)
    with workspace_lock(ws, params.orchestrate.lock_timeout_s):
        app, params = prepare_workspace(ws, app, corpus, profile, overrides)
        yield ws, app, params


@task(name="accept data")
def accept_data_task(workspace: str, app: str) -> str:
    """Record the registered model's data as the reference the next run's data is checked against (the kind says
    what: a vocabulary, vocabularies per side, an intensity histogram)."""
    ws = Path(workspace)
    recorded = application_kind(ws / PARAMS_FILE, app).accept_data(ws, application(app, ws / PARAMS_FILE))
    get_run_logger().info("accepted data: %s", recorded)
    return recorded


def run_url(tracking_uri: str, experiment_id: str, run_id: str) -> str:
    """Where a person opens the run: the server's UI, or `make ui`'s address for the embedded store."""
    base = tracking_uri.rstrip("/") if tracking_uri.startswith(("http://", "https://")) else "http://127.0.0.1:5000"
    return redact(f"{base}/#/experiments/{experiment_id}/runs/{run_id}")


def publish_summary(ws: Path, app: str, registered: dict, gate: dict) -> None:
    """Prefect artifacts of the run: metrics table, summary with the MLflow link, and the link itself."""
    from components.registry.register import scalar_metrics

    unit = application(app, ws / PARAMS_FILE)
    scalars = scalar_metrics(json.loads(unit.eval_metrics(ws).read_text(encoding="utf-8")))
    create_table_artifact(
        key="eval-metrics",
        table=[{"metric": k, "value": round(v, 6)} for k, v in scalars.items()],
        description=f"Held-out metrics of {registered['name']} v{registered['version']}",
    )
    rows = "\n".join(f"| {k} | {v:.4g} |" for k, v in scalars.items())
    create_markdown_artifact(
        key="retrain-summary",
        markdown=(
            f"# Registered {registered['name']} v{registered['version']} as @{registered['alias']}\n\n"
            f"MLflow run: [{registered['run_id']}]({registered['run_url']})"
            f"{' (start the UI with `make ui`)' if registered['run_url'].startswith('http://127.0.0.1:5000') else ''}"
            f"\n\nGate: {'passed' if gate['passed'] else 'failed'}; promoted: {registered['promoted']}\n\n"
            f"| metric | value |\n|---|---|\n{rows}\n"
        ),
        description="What this run registered",
    )
    create_link_artifact(
        key="mlflow-run",
        link=registered["run_url"],
        link_text=f"MLflow run {registered['run_id']}",
        description="The MLflow run of the registered version",
    )


@flow(name="retrain", log_prints=True)
def retrain(
    workspace: str = ".",
    app: str | None = None,
    corpus: str | None = None,
    profile: str | None = None,
    overrides: list[str] | None = None,
    prepare: bool = True,
) -> dict:
    """Pick up new data, run the application's DVC stages, gate the evaluated model, register it, push the artifacts.

    `app` names the application (its section of params.yaml and its stages in dvc.yaml); None means the
    only one params.yaml has. With `prepare` (the default) the flow checks its inputs, takes the workspace lock and
    writes the profile and overrides itself; the command line does that before a Prefect server starts and runs
    the flow with prepare=False, under its lock.
    """
    if not prepare:
        ws = check_workspace(workspace)
        params = load_application_params(ws / PARAMS_FILE, app)
        return run_pipeline(ws, params.application, params)
    with prepared(workspace, app, corpus, profile, overrides or []) as (ws, app, params):
        return run_pipeline(ws, app, params)


def run_pipeline(ws: Path, app: str, params) -> dict:
    """The flow's body, inside its lock with params.yaml written: the stages in DVC's order, gate, register, accept
    the data, push, publish."""
    unit, kind = application(app, ws / PARAMS_FILE), application_kind(ws / PARAMS_FILE, app)
    o = params.orchestrate
    # Tasks that talk to MLflow or a DVC remote retry with exponential backoff; their retry
    # conditions keep deterministic failures (a failed gate, a corrupt cache) from retrying.
    backoff = {"retries": o.retries, "retry_delay_seconds": [o.retry_delay_s * 4**i for i in range(o.retries)]}
    sources = update_sources_task.with_options(**backoff)(str(ws)) if o.update_imports else []
    stages, started_from = {}, None
    based_on = base_model_task.with_options(**backoff)(str(ws), app) if isinstance(kind, FineTunes) else None
    needed = set(unit.stages) | dvc.stages_needed(ws, unit.stages[-1])  # and the stages it reads from others
    for stage in dvc.stage_order(ws):  # DVC's order
        if stage not in needed:
            continue
        if isinstance(kind, WarmStarts) and stage == unit.stage(unit.train_step):
            started_from = warm_start_task.with_options(**backoff)(str(ws), app)
        stages[stage] = run_stage.with_options(name=f"dvc repro {stage}")(str(ws), stage)
    gate = gate_task.with_options(**backoff)(str(ws), app)
    registered = register_task.with_options(**backoff)(str(ws), app, gate)
    if isinstance(kind, AcceptsData):
        accept_data_task(str(ws), app)
        # The reference is a dependency of the check stage: re-check now, so dvc.lock records the new
        # reference and a `dvc repro` right after this run has nothing to do (only the check report changes).
        check = unit.stage("check")
        run_stage.with_options(name=f"dvc repro {check} (accepted reference)")(str(ws), check)
    pushed = push_task.with_options(**backoff)(str(ws)) if o.push else "off"
    publish_summary(ws, app, registered, gate)
    return {
        "application": app,
        "stages": stages,
        "sources": sources,
        "warm_start": started_from,
        "base_model": based_on,
        "gate": gate,
        "registered": registered,
        "pushed": pushed,
    }


def describe_failure(err: Exception) -> str:
    """One line for an unexpected failure; an unreachable MLflow says so, and what to do."""
    from mlflow.exceptions import MlflowException

    text = f"{type(err).__name__}: {err}"
    if isinstance(err, PushFailed):
        return (
            f"the model was registered, but pushing its data and weights to the DVC remote failed after retries; "
            f"run `dvc push` once the remote is reachable. Cause: {err}"
        )
    if isinstance(err, MlflowException) and (line := describe_server_error(err)):  # refused, or unreachable
        return (
            f"{line}: nothing was registered and the champion is unchanged; rerun when that is fixed (DVC skips "
            f"the finished stages)"
        )
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workspace", default=".", help="project root holding dvc.yaml (default: .)")
    parser.add_argument(
        "--app",
        help="the application to retrain, e.g. sentences or conditional (default: orchestrate.default_application)",
    )
    parser.add_argument("--corpus", help="text file (one sentence per line) or CSV/TSV/JSONL/Parquet to train on")
    parser.add_argument(
        "--profile", help="preset from params.yaml's profiles (tiny, gpu), or default: the committed values"
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one parameter, e.g. train.epochs=3 (repeatable)",
    )
    args = parser.parse_args(argv)
    log_file = None
    try:
        check_prefect_access()
        # Bad input is answered, and params.yaml written under the workspace lock (held until the flow has pushed),
        # before a Prefect server starts; the flow then runs what was prepared.
        with prepared(args.workspace, args.app, args.corpus, args.profile, args.overrides) as (ws, app, params):
            log_file = ws / application(app, ws / PARAMS_FILE).reports("retrain.log")
            send_tracebacks_to(log_file)
            timeout = params.orchestrate.server_startup_timeout_s
            with temporary_settings(updates={PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS: timeout}):
                try:
                    result = retrain(workspace=str(ws), app=app, prepare=False)
                finally:
                    quiet_console()
    except (StageError, ParamsError, WorkspaceBusy) as err:
        print(error_line("retrain", err), file=sys.stderr)
        return 1
    except Exception as err:  # MLflow unreachable after retries, DVC internals: still one line, not a traceback
        logging.getLogger(__name__).error("retrain failed", exc_info=err)  # the traceback, into the log file
        where = f" (traceback in {log_file})" if log_file else ""
        print(error_line("retrain", f"{describe_failure(err)}{where}"), file=sys.stderr)
        return 1
    reg = result["registered"]
    print(f"registered models:/{reg['name']}@{reg['alias']} (version {reg['version']}, run {reg['run_id']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
