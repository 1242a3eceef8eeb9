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
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

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
from components.core.errors import StageError, error_line, redact
from components.core.params import (
    PARAMS_FILE,
    ParamsError,
    application_names,
    choose_application,
    flatten,
    parse_assignment,
    read_params_file,
)
from components.evaluation.gate import enforce, write_report
from components.kinds.registry import application_kind, application_params, load_application_params
from components.registry.tracking import REFUSED, check_server_access, describe_server_error
from components.versioning import dvc
from components.versioning.dvc import DvcFailed, require_dvc_project
from flows.console import quiet_console, send_tracebacks_to
from flows.prefect_access import check_prefect_access
from flows.workspace_lock import WorkspaceBusy, workspace_lock

# --- parameters ------------------------------------------------------------------------
DEFAULT_PROFILE = "default"
"""The profile that is no preset: every knob a profile names at its value in the committed params.yaml."""


def resolve_overrides(
    raw: dict, app: str | None, corpus: str | None, profile: str | None, sets: list[str], defaults: dict | None = None
) -> dict[str, Any]:
    """Dotted keys to write, each under its application (sentences.train.epochs): the profile's knobs, then the
    corpus, then explicit --set (last wins). A --set key is the application's (train.epochs) unless it names a
    top-level section itself (orchestrate.retries, sentences.train.epochs).

    A profile holds only what it changes. Applying one first puts every knob any profile names back to its value in
    `defaults` (the committed params.yaml; `raw` when there is none), so switching between profiles, or back to
    `default`, leaves no knob of the previous one behind."""
    app = choose_application(raw, app)
    changes: dict[str, Any] = {}
    if profile is not None:
        profiles = raw[app].get("profiles") or {}
        if profile != DEFAULT_PROFILE and profile not in profiles:
            raise ParamsError(
                f"{PARAMS_FILE}: {app} has no profile {profile!r} (have {[DEFAULT_PROFILE, *sorted(profiles)]})"
            )
        base = flatten({k: v for k, v in raw[app].items() if k != "profiles"})
        base |= flatten({k: v for k, v in ((defaults or {}).get(app) or {}).items() if k != "profiles"})
        named = {key for knobs in profiles.values() for key in flatten(knobs or {})}
        changes.update({f"{app}.{key}": base[key] for key in sorted(named) if key in base})
        changes.update(flatten(profiles.get(profile) or {}, f"{app}."))
    if corpus is not None:
        changes[f"{app}.data.corpus"] = corpus
    for key, value in (parse_assignment(s) for s in sets):
        changes[key if key.split(".")[0] in raw else f"{app}.{key}"] = value
    return changes


def committed_params(workspace: Path) -> dict | None:
    """params.yaml as the workspace's last git commit holds it (the defaults a profile is applied over); None when
    there is no such commit."""
    result = subprocess.run(
        ["git", "-C", str(workspace), "show", f"HEAD:{PARAMS_FILE}"], capture_output=True, text=True, check=False
    )
    if result.returncode:
        return None
    try:
        committed = yaml.safe_load(result.stdout)
    except yaml.YAMLError:
        return None
    return committed if isinstance(committed, dict) else None


def apply_overrides(params_path: Path, changes: dict[str, Any]) -> None:
    """Write `changes` (full dotted keys) into params.yaml; refuse (file untouched) if any application's params would
    be invalid. Only the changed values' text changes: every other byte (comments, quotes, nulls, wrapped flow
    mappings) stays as it was, so `git diff params.yaml` shows what a run changed and nothing else."""
    if not changes:
        return
    text = params_path.read_text(encoding="utf-8")
    plain = yaml.safe_load(text)
    changed = {}
    for key, value in changes.items():
        *parents, leaf = key.split(".")
        node = plain
        for part in parents:
            if not isinstance(node.get(part), dict):
                raise ParamsError(f"{params_path}: unknown parameter {key!r}")
            node = node[part]
        if leaf not in node:
            raise ParamsError(f"{params_path}: unknown parameter {key!r}")
        if node[leaf] != value or type(node[leaf]) is not type(value):
            node[leaf] = changed[key] = value
    for app in application_names(plain):  # raises with the offending key before anything is written
        application_params(plain, app)
    from components.core.atomic import write_text

    if changed:
        write_text(params_path, set_values(text, changed, params_path))


def set_values(text: str, changes: dict[str, Any], where: Path) -> str:
    """`text` with the value of each dotted key replaced in place (a scalar or a one-line list)."""
    from ruamel.yaml import YAML  # DVC's own YAML library: it knows where each value sits in the file

    doc = YAML().load(text)
    lines = text.split("\n")
    for key, value in changes.items():
        *parents, leaf = key.split(".")
        node = doc
        for part in parents:
            node = node[part]
        if isinstance(node[leaf], dict):
            raise ParamsError(f"{where}: {key} is a section, not a value")
        line, column = node.lc.value(leaf)
        rest = lines[line][column:]
        after = rest[value_end(rest, where, key) :]
        head = lines[line][:column] + yaml_scalar(value)
        if after.strip().startswith("#"):  # keep the comment where it was when the value leaves room
            comment_at = len(lines[line]) - len(after.lstrip())
            after = " " * max(comment_at - len(head), 1) + after.lstrip()
        lines[line] = head + after
    return "\n".join(lines)


def value_end(rest: str, where: Path, key: str) -> int:
    """Where the value that starts `rest` ends: its closing quote or bracket, or the comment after it."""
    if rest[:1] in ("'", '"'):
        close = rest.find(rest[0], 1)
        while close > 0 and rest[0] == "'" and rest[close + 1 : close + 2] == "'":  # '' inside a single-quoted string
            close = rest.find("'", close + 2)
        if close > 0:
            return close + 1
    elif rest[:1] in ("[", "{"):
        close = rest.find("]" if rest[0] == "[" else "}")
        if close > 0:
            return close + 1
    else:
        comment = rest.find(" #")
        return len(rest[:comment].rstrip()) if comment >= 0 else len(rest.rstrip())
    raise ParamsError(f"{where}: {key}'s value runs over several lines; edit it by hand")


def yaml_scalar(value: Any) -> str:
    """One value as YAML writes it on one line (strings quoted only where they must be, lists in flow style)."""
    dumped = yaml.safe_dump(value, default_flow_style=True, width=10**6, allow_unicode=True)
    return dumped.removesuffix("\n").removesuffix("\n...").strip()


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


def prepare_workspace(
    workspace: str, app: str | None, corpus: str | None, profile: str | None, overrides: list[str]
) -> tuple[Path, str]:
    """Check the inputs and write profile, corpus and overrides into params.yaml; errors name what is wrong.
    Returns the workspace and the application's name."""
    ws = check_workspace(workspace)
    params_path = ws / PARAMS_FILE
    if corpus is not None:
        corpus_path = Path(corpus).resolve()
        if not corpus_path.exists():
            raise StageError(f"{corpus}: corpus not found (a file or a directory of files)")
        corpus = str(corpus_path.relative_to(ws)) if corpus_path.is_relative_to(ws) else str(corpus_path)
    raw = read_params_file(params_path)
    app = application(choose_application(raw, app), params_path).name  # one in params.yaml and one the code knows
    defaults = committed_params(ws) if profile is not None else None
    apply_overrides(params_path, resolve_overrides(raw, app, corpus, profile, overrides, defaults))
    load_application_params(params_path, app)
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
    return ws, app


def profile_in_force(raw: dict, app: str) -> str | None:
    """The profile whose every knob params.yaml's section now holds (None when none does)."""
    section = raw.get(app) or {}
    values = flatten({k: v for k, v in section.items() if k != "profiles"})
    for name, knobs in (section.get("profiles") or {}).items():
        knobs = flatten(knobs or {})
        if knobs and all(values.get(key) == value for key, value in knobs.items()):
            return name
    return None


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
) -> dict:
    """Pick up new data, run the application's DVC stages, gate the evaluated model, register it, push the artifacts.

    `app` names the application (its section of params.yaml and its stages in dvc.yaml); None means the
    only one params.yaml has.

    The whole run holds the workspace lock: a second run on the same workspace waits
    orchestrate.lock_timeout_s for it, then is refused with WorkspaceBusy.
    """
    ws = check_workspace(workspace)
    check_server_access(ws)  # refused credentials or no server: before anything runs or changes
    if load_application_params(ws / PARAMS_FILE, app).orchestrate.push:
        dvc.check_remote(ws)
    with workspace_lock(ws, load_application_params(ws / PARAMS_FILE, app).orchestrate.lock_timeout_s):
        ws, app = prepare_workspace(workspace, app, corpus, profile, overrides or [])
        unit, kind = application(app, ws / PARAMS_FILE), application_kind(ws / PARAMS_FILE, app)
        o = load_application_params(ws / PARAMS_FILE, app).orchestrate
        # Tasks that talk to MLflow or a DVC remote retry with exponential backoff; their retry
        # conditions keep deterministic failures (a failed gate, a corrupt cache) from retrying.
        backoff = {"retries": o.retries, "retry_delay_seconds": [o.retry_delay_s * 4**i for i in range(o.retries)]}
        sources = update_sources_task.with_options(**backoff)(str(ws)) if o.update_imports else []
        stages, started_from = {}, None
        based_on = base_model_task.with_options(**backoff)(str(ws), app) if kind.prepare_base else None
        needed = set(unit.stages) | dvc.stages_needed(ws, unit.stages[-1])  # and the stages it reads from others
        for stage in dvc.stage_order(ws):  # DVC's order
            if stage not in needed:
                continue
            if kind.prepare_warm_start and stage == unit.stage(unit.train_step):
                started_from = warm_start_task.with_options(**backoff)(str(ws), app)
            stages[stage] = run_stage.with_options(name=f"dvc repro {stage}")(str(ws), stage)
        gate = gate_task.with_options(**backoff)(str(ws), app)
        registered = register_task.with_options(**backoff)(str(ws), app, gate)
        if kind.accept_data is not None:
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
        ws = check_workspace(args.workspace)
        check_prefect_access()
        check_server_access(ws)
        params = load_application_params(ws / PARAMS_FILE, args.app)
        if params.orchestrate.push:
            dvc.check_remote(ws)
        orchestrate = params.orchestrate
        # The lock is held from before params.yaml is touched until the flow has pushed: a second run is
        # refused (or waits) before it changes anything. Bad input is answered before a Prefect server starts.
        with workspace_lock(ws, orchestrate.lock_timeout_s):
            log_file = ws / application(params.application, ws / PARAMS_FILE).reports("retrain.log")
            send_tracebacks_to(log_file)
            prepare_workspace(args.workspace, args.app, args.corpus, args.profile, args.overrides)
            with temporary_settings(
                updates={PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS: orchestrate.server_startup_timeout_s}
            ):
                try:
                    result = retrain(
                        workspace=args.workspace,
                        app=args.app,
                        corpus=args.corpus,
                        profile=args.profile,
                        overrides=args.overrides,
                    )
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
