"""Who may decide what `models:/NAME@champion` serves on a shared MLflow server: the rules MLflow's basic-auth app
lacks.

MLflow's basic-auth app lets any user with EDIT on a registered model set any alias, rename the model and set its
tags, and it gives whoever creates a registered model MANAGE on it. The pipeline's identity needs EDIT (it
registers versions and sets @challenger), so with those defaults it could also decide what is served. This module
is the app's documented extension point, its `authorization_function` (deploy/mlflow-auth.ini), and adds, on top
of the app's own checks (admins pass them all):

- **One reading of a request.** A mutating REST request (POST, PATCH, PUT, DELETE under `/mlflow/`) is decided on
  exactly what MLflow's handler acts on: its JSON body. A body that is not a JSON object (MLflow's handler would
  decode a JSON *string* a second time), a content type other than JSON, or any query string (the handler ignores
  it; a permission check might read it) is refused, so no check can read one model's name while the handler acts
  on another's.
- **What is served is a manager's.** Moving or deleting any alias but `challenger` (the pipeline's), renaming a
  registered model, setting or deleting a reserved `mlflow.*` tag (`mlflow.prompt.is_prompt` hides a model from
  the client) or a version's `files.sha256` record (the digest of its files every loader checks, written when the
  version is created), and stage transitions need MANAGE on the registered model.
- **A registered version's files are immutable.** Once a version is registered from a logged model (made by a
  run, or by hand with no run) or from a run, uploading, overwriting or deleting files under that logged model or
  run through the server's artifact proxy is an admin's alone: the pipeline cannot swap the weights, the `MLmodel`
  that records their SHA-256, or the model's code behind a version a manager promoted.
- **Only admins create registered models** (`python -m components.commands.access` does it, with the grants), so
  no pipeline identity ends up holding MANAGE on a model because it registered first. Creating a name that exists
  is let through to the store, which answers RESOURCE_ALREADY_EXISTS (what `mlflow.register_model` expects); the
  name is the body's, the one the store reads.

Users, passwords, permissions and the 401 for no credentials are basic-auth's own. It runs inside the MLflow
server process and imports only MLflow and Flask.
"""

from __future__ import annotations

import json
import re

from flask import Response, g, make_response, request

PIPELINE_ALIASES = frozenset({"challenger"})
"""Aliases an EDIT grant may move (the pipeline registers a version as the challenger); any other needs MANAGE."""
MUTATING = frozenset({"POST", "PATCH", "PUT", "DELETE"})
OWN_FORMS = ("/mlflow/users/", "/permissions/")
"""basic-auth's own user and permission routes: they take forms too, and are admin-only by the app itself."""
MANAGER_ROUTES = {
    "/mlflow/registered-models/rename": "rename a registered model",
    "/mlflow/model-versions/transition-stage": "move a version between stages",
}
TAG_ROUTES = (
    "/mlflow/registered-models/set-tag",
    "/mlflow/registered-models/delete-tag",
    "/mlflow/model-versions/set-tag",
    "/mlflow/model-versions/delete-tag",
)
VERSION_TAG_ROUTES = ("/mlflow/model-versions/set-tag", "/mlflow/model-versions/delete-tag")
RECORD_TAGS = frozenset({"files.sha256"})
"""Version tags that record what a version is (components/registry/model_files.py: the digest of its files, which
every loader checks). Written when the version is created; changing or deleting one needs MANAGE."""
ALIAS_ROUTE = "/mlflow/registered-models/alias"
CREATE_MODEL_ROUTE = "/mlflow/registered-models/create"


class Refused(Exception):
    """A request this module refuses, with the reason it gives."""


def _refuse(message: str) -> Response:
    response = make_response({"error_code": "PERMISSION_DENIED", "message": message})
    response.status_code = 403
    return response


def _is_rest_mutation() -> bool:
    path = request.path
    return (
        request.method in MUTATING
        and "/mlflow/" in path
        and "/mlflow-artifacts/" not in path
        and not any(part in path for part in OWN_FORMS)
    )


def request_body() -> dict:
    """The JSON object MLflow's handler will act on; Refused for any other shape of request."""
    if request.args:
        raise Refused(
            f"a {request.method} request carries its fields in its JSON body only, not in the query "
            f"string ({', '.join(sorted(request.args))})"
        )
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    if request.mimetype != "application/json":
        raise Refused(f"a {request.method} request's body must be application/json, not {request.mimetype or 'none'}")
    try:
        body = json.loads(raw)
    except ValueError:
        raise Refused("the request body is not JSON") from None
    if not isinstance(body, dict):
        raise Refused("the request body must be a JSON object")
    return body


ARTIFACT_WRITES = ("/mlflow-artifacts/artifacts/", "/mlflow-artifacts/mpu/")
ARTIFACT_ID = re.compile(r"^[A-Za-z0-9-]+$")


def artifact_owner(path: str) -> tuple[str | None, str | None]:
    """(run id, logged model id) an artifact-proxy path writes under: `.../artifacts/<exp>/<run>/artifacts/...`,
    `.../artifacts/<exp>/models/<model>/artifacts/...`, or the same after `mpu/<action>/`; (None, None) otherwise."""
    rest = path.split("/mlflow-artifacts/", 1)[-1].split("/")
    parts = rest[1:] if rest[0] == "artifacts" else rest[2:]
    if len(parts) >= 3 and parts[1] == "models" and ARTIFACT_ID.match(parts[2]):
        return None, parts[2]
    if len(parts) >= 2 and ARTIFACT_ID.match(parts[1]):
        return parts[1], None
    return None, None


def registered_behind(run_id: str | None, model_id: str | None) -> str | None:
    """`NAME vN` of a model version whose files live here, else None: one registered from this logged model,
    whatever created it (a run, or a manager's `create_logged_model` with no run), or from this run or the logged
    model's run."""
    from mlflow.exceptions import MlflowException
    from mlflow.server.handlers import _get_model_registry_store, _get_tracking_store

    searches = []
    if model_id:
        # A version registered from a logged model names it in its source: `models:/<id>`, or the model's
        # artifact location (`.../models/<id>/artifacts`). Searched first: a run-less model has no run to find.
        searches += [f"source_path = 'models:/{model_id}'", f"source_path LIKE '%/models/{model_id}/artifacts%'"]
        try:
            run_id = _get_tracking_store().get_logged_model(model_id).source_run_id
        except MlflowException:
            run_id = None
    if run_id:
        searches.append(f"run_id = '{run_id}'")
    for search in searches:
        versions = _get_model_registry_store().search_model_versions(filter_string=search, max_results=1)
        if versions:
            return f"{versions[0].name} v{versions[0].version}"
    return None


def _model_exists(name: str) -> bool:
    from mlflow.exceptions import MlflowException
    from mlflow.server.handlers import _get_model_registry_store

    try:
        _get_model_registry_store().get_registered_model(name)
    except MlflowException:
        return False
    return True


def _needs_manage(username: str, name: str, what: str) -> Response | None:
    from mlflow.server import auth

    if auth._get_registered_model_permission(name).can_manage:
        return None
    return _refuse(
        f"user {username!r} may not {what} of {name!r}: that needs MANAGE permission on the registered "
        f"model (a release manager's)"
    )


def _rule_violated(username: str) -> Response | None:
    """A 403 when this request breaks one of the rules, else None. Admins pass all of them."""
    from mlflow.server import auth

    if request.method in MUTATING and any(route in request.path for route in ARTIFACT_WRITES):
        if auth.sender_is_admin():
            return None
        version = registered_behind(*artifact_owner(request.path))
        return (
            None
            if version is None
            else _refuse(
                f"user {username!r} may not change the files of {version}: a registered version's files are immutable"
            )
        )
    if not _is_rest_mutation() or auth.sender_is_admin():
        return None
    try:
        body = request_body()
    except Refused as err:
        return _refuse(f"user {username!r}: {err}")
    path, name = request.path, str(body.get("name", ""))
    if path.endswith(CREATE_MODEL_ROUTE):
        if _model_exists(name):
            return None  # the store answers RESOURCE_ALREADY_EXISTS, which mlflow.register_model expects
        return _refuse(
            f"user {username!r} may not create registered models on this server: an admin creates them "
            f"with the grants (python -m components.commands.access)"
        )
    if path.endswith(ALIAS_ROUTE):
        alias = str(body.get("alias", "")).lower()
        return None if alias in PIPELINE_ALIASES else _needs_manage(username, name, f"move @{alias}")
    for route, what in MANAGER_ROUTES.items():
        if path.endswith(route):
            return _needs_manage(username, name, what)
    key = str(body.get("key", ""))
    if path.endswith(TAG_ROUTES) and (
        key.startswith("mlflow.") or (path.endswith(VERSION_TAG_ROUTES) and key in RECORD_TAGS)
    ):
        return _needs_manage(username, name, f"set or delete the reserved tag {key!r}")
    return None


def authenticate():
    """Basic auth (MLflow's own function), then the rules, checked once per request.

    MLflow calls this for every request and again inside its permission checks, which themselves
    call it for the user name: the flag in `g` keeps the nested calls from re-checking (and recursing).
    """
    from mlflow.server.auth import authenticate_request_basic_auth

    authorization = authenticate_request_basic_auth()
    if isinstance(authorization, Response) or g.get("_latent_rules_checked"):
        return authorization
    g._latent_rules_checked = True
    return _rule_violated(authorization.username) or authorization
