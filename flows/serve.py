"""Scheduled retraining: the retrain flow as a Prefect deployment on the cron schedule in params.yaml.

    prefect server start                          # once, in another terminal (UI on http://127.0.0.1:4200)
    prefect config set PREFECT_API_URL=http://127.0.0.1:4200/api
    python -m flows.serve --app sentences          # serve: this process runs each scheduled retrain

    prefect work-pool create retrain-pool --type process
    python -m flows.serve --app sentences --work-pool retrain-pool   # deploy to a pool instead; then, on any machine
    prefect worker start --pool retrain-pool          # with this checkout, a worker runs the runs

The schedule (orchestrate.cron, orchestrate.timezone) and the deployment's name (one per
application, orchestrate.deployment) come from params.yaml, so changing when retraining happens is a reviewed
change like any other.
A deployment runs one flow at a time (concurrency limit 1); the workspace lock in the flow
refuses overlaps that reach the same checkout by other routes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from prefect.schedules import Cron

from components.applications.kind import load_application_params
from components.core.errors import StageError, error_line
from components.core.params import PARAMS_FILE, ParamsError
from flows.prefect_access import check_prefect_access
from flows.retrain import check_workspace, retrain


def schedule(workspace: Path, app: str | None = None) -> Cron:
    o = load_application_params(workspace / PARAMS_FILE, app).orchestrate
    try:
        return Cron(o.cron, timezone=o.timezone)
    except (ValueError, KeyError) as err:  # Prefect checks the cron syntax and the time zone name
        raise ParamsError(
            f"{workspace / PARAMS_FILE}: orchestrate.cron {o.cron!r} / timezone {o.timezone!r}: {err}"
        ) from err


def deployment_args(workspace: Path, app: str | None, profile: str | None) -> dict:
    """What both routes (serve, work pool) give Prefect: name, schedule, parameters, one run at a time."""
    params = load_application_params(workspace / PARAMS_FILE, app)
    o = params.orchestrate
    parameters = {"workspace": str(workspace), "app": params.application} | ({"profile": profile} if profile else {})
    return dict(
        name=params.deployment_name,
        schedules=[schedule(workspace, app)],
        parameters=parameters,
        concurrency_limit=1,
        tags=["retrain", params.application],
        description=f"Retrain, gate and register {params.application} from {workspace} ({o.cron} {o.timezone})",
    )


def build_deployment(workspace: Path, app: str | None = None, profile: str | None = None):
    """The RunnerDeployment `serve` runs in this process."""
    return retrain.to_deployment(**deployment_args(workspace, app, profile))


def deploy_to_pool(workspace: Path, work_pool: str, app: str | None = None, profile: str | None = None):
    """Register the deployment with a work pool; its workers load the flow from this checkout."""
    source = retrain.from_source(source=str(workspace), entrypoint="flows/retrain.py:retrain")
    return source.deploy(work_pool_name=work_pool, **deployment_args(workspace, app, profile), print_next_steps=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workspace", default=".", help="project root holding dvc.yaml and params.yaml")
    parser.add_argument(
        "--app", help="the application to retrain on schedule (default: orchestrate.default_application)"
    )
    parser.add_argument("--profile", help="size preset each scheduled run applies (default: params as they are)")
    parser.add_argument("--work-pool", help="deploy to this Prefect work pool instead of serving in this process")
    args = parser.parse_args(argv)
    try:
        workspace = check_workspace(args.workspace)
        check_prefect_access()
        if args.work_pool:
            deployment_id = deploy_to_pool(workspace, args.work_pool, args.app, args.profile)
            print(
                f"deployed {deployment_id} to work pool {args.work_pool!r}; start a worker with "
                f"`prefect worker start --pool {args.work_pool}`"
            )
            return 0
        from prefect import serve

        serve(build_deployment(workspace, args.app, args.profile))
    except (StageError, ParamsError) as err:  # bad workspace or params: the message says what and where
        print(error_line("serve", err), file=sys.stderr)
        return 1
    except Exception as err:  # no Prefect server, an unknown pool: still one line, not a traceback
        print(error_line("serve", f"{type(err).__name__}: {err}"), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
