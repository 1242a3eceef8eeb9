"""Users and grants on a shared MLflow server (basic-auth), as an admin: who registers, who promotes.

    export MLFLOW_TRACKING_URI=http://mlflow-host:5000
    export MLFLOW_TRACKING_USERNAME=admin MLFLOW_TRACKING_PASSWORD=...      # an admin of that server
    MLFLOW_NEW_USER_PASSWORD=... python -m components.commands.access --user pipeline --role pipeline
    MLFLOW_NEW_USER_PASSWORD=... python -m components.commands.access --user alice --role manager --app sentences

Roles, per application (its registered model and its experiment, both created here if missing,
since on this server only admins create registered models: components/registry/server_auth.py):
- pipeline: EDIT on the model and the experiment: log runs, register versions, set @challenger;
- manager: MANAGE on the model: move @champion (promote, rollback, the UI), and READ on the experiment;
- reader: READ on both.
A user that does not exist yet is created, with the password in MLFLOW_NEW_USER_PASSWORD, never one
from the command line (it would land in the shell history and the process list); an existing user's
password is left alone. Without --app, the role covers every application in params.yaml.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from components.applications.kind import load_application_params
from components.core.errors import error_line
from components.core.params import PARAMS_FILE, ParamsError, application_names, read_params_file

ROLES = {"pipeline": ("EDIT", "EDIT"), "manager": ("MANAGE", "READ"), "reader": ("READ", "READ")}
"""Role -> (permission on the registered model, permission on the experiment)."""
PASSWORD_VARIABLE = "MLFLOW_NEW_USER_PASSWORD"


class AccessError(RuntimeError):
    """A request the command cannot carry out; the message says what to change."""


def server_uri() -> str:
    uri = os.environ.get("MLFLOW_TRACKING_URI", "")
    if not uri.startswith(("http://", "https://")):
        raise AccessError(
            f"MLFLOW_TRACKING_URI is {uri!r}: users and grants live on an MLflow server "
            f"(http://host:port) started with --app-name basic-auth"
        )
    return uri


def ensure_user(auth_client, username: str) -> str:
    """Create `username` with the password in MLFLOW_NEW_USER_PASSWORD unless it exists (then left as it is)."""
    from mlflow.exceptions import MlflowException

    try:
        auth_client.get_user(username)
        return f"user {username} exists (its password unchanged: rotate it with MLflow's update-password API)"
    except MlflowException as err:
        if err.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
    password = os.environ.get(PASSWORD_VARIABLE, "")
    if len(password) < 12:
        raise AccessError(
            f"user {username} does not exist: set {PASSWORD_VARIABLE} to its password "
            f"(12 characters or more) to create it"
        )
    auth_client.create_user(username, password)
    return f"created user {username}"


def targets(workspace: Path, apps: list[str]) -> list[tuple[str, str]]:
    """(registered model, experiment) of each named application, or of every application in params.yaml."""
    params_file = workspace / PARAMS_FILE
    names = apps or application_names(read_params_file(params_file))
    found = []
    for name in names:
        params = load_application_params(params_file, name)
        found.append((params.model_name, params.experiment_name))
    return found


def grant(client, auth_client, username: str, role: str, model: str, experiment: str) -> str:
    """Create the model and experiment if missing (as the admin), then give `username` the role's permissions."""
    from mlflow.exceptions import MlflowException

    model_permission, experiment_permission = ROLES[role]
    try:
        client.get_registered_model(model)
    except MlflowException as err:
        if err.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
        client.create_registered_model(model, description="Created by components.commands.access (team setup)")
    found = client.get_experiment_by_name(experiment)
    experiment_id = found.experiment_id if found else client.create_experiment(experiment)
    auth_client.grant_user_permission(username, "registered_model", model, model_permission)
    auth_client.grant_user_permission(username, "experiment", experiment_id, experiment_permission)
    return f"{username}: {model_permission} on model {model}, {experiment_permission} on experiment {experiment}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--user", required=True, help=f"the user (created if missing, password from {PASSWORD_VARIABLE})"
    )
    parser.add_argument("--role", required=True, choices=sorted(ROLES), help="what the user may do")
    parser.add_argument("--app", action="append", default=[], help="an application (repeatable; default: all)")
    parser.add_argument("--workspace", default=".", help="project root whose params.yaml names the models")
    args = parser.parse_args(argv)
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")  # an unreachable server: seconds, not minutes
    import mlflow
    from mlflow.exceptions import MlflowException
    from mlflow.server import get_app_client

    from components.registry.tracking import describe_server_error

    try:
        uri = server_uri()
        found = targets(Path(args.workspace), args.app)  # bad params: answered before the server is touched
        auth_client = get_app_client("basic-auth", tracking_uri=uri)
        print(ensure_user(auth_client, args.user))
        client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
        for model, experiment in found:
            print(grant(client, auth_client, args.user, args.role, model, experiment))
    except (AccessError, ParamsError, FileNotFoundError) as err:
        print(error_line("access", err), file=sys.stderr)
        return 1
    except MlflowException as err:
        print(error_line("access", describe_server_error(err) or err.message), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
