"""Who may move @champion on a shared MLflow server: the one rule MLflow's basic-auth app lacks.

MLflow's basic-auth app lets any user with EDIT on a registered model set any alias, and it gives
whoever creates a registered model MANAGE on it. The pipeline's identity needs EDIT (it registers
versions and sets @challenger), so with those defaults it could also move @champion, the alias that
gets deployed. This module is the app's documented extension point, its `authorization_function`
(deploy/mlflow-auth.ini), and adds two rules on top of the app's own checks:

- setting or deleting @champion or @previous-champion needs MANAGE on the registered model
  (admins pass), so promotion and rollback (`components.commands.promote`, the UI) are a release
  manager's;
- only admins create registered models (`python -m components.commands.access` does it, with the
  grants), so no pipeline identity ends up holding MANAGE on a model because it registered first.

Everything else (users, passwords, permissions, the 401 for no credentials) is basic-auth's own.
It runs inside the MLflow server process and imports only MLflow and Flask.
"""

from __future__ import annotations

from flask import Response, g, make_response, request

PROTECTED_ALIASES = frozenset({"champion", "previous-champion"})
ALIAS_ROUTE = "/mlflow/registered-models/alias"
CREATE_MODEL_ROUTE = "/mlflow/registered-models/create"


def _request_field(name: str) -> str:
    """A field of the request, from the query string (GET, DELETE) or the JSON body (POST, PATCH, DELETE)."""
    body = request.get_json(silent=True) if request.is_json else None
    if isinstance(body, dict) and name in body:
        return str(body[name])
    return request.args.get(name, "")


def _refuse(message: str) -> Response:
    response = make_response({"error_code": "PERMISSION_DENIED", "message": message})
    response.status_code = 403
    return response


def _model_exists(name: str) -> bool:
    from mlflow.exceptions import MlflowException
    from mlflow.server.handlers import _get_model_registry_store

    try:
        _get_model_registry_store().get_registered_model(name)
    except MlflowException:
        return False
    return True


def _rule_violated(username: str) -> Response | None:
    """A 403 when this request breaks one of the two rules, else None. Admins pass both."""
    from mlflow.server import auth

    path = request.path
    moves_alias = path.endswith(ALIAS_ROUTE) and request.method in ("POST", "DELETE")
    creates_model = path.endswith(CREATE_MODEL_ROUTE) and request.method == "POST"
    if not (moves_alias or creates_model) or auth.sender_is_admin():
        return None
    if creates_model and _model_exists(_request_field("name")):
        return None  # the store answers RESOURCE_ALREADY_EXISTS, which mlflow.register_model expects
    if creates_model:
        return _refuse(f"user {username!r} may not create registered models on this server: an admin creates them "
                       f"with the grants (python -m components.commands.access)")
    alias, name = _request_field("alias").lower(), _request_field("name")
    if alias in PROTECTED_ALIASES and not auth._get_registered_model_permission(name).can_manage:
        return _refuse(f"user {username!r} may not move @{alias} of {name!r}: that needs MANAGE permission on the "
                       f"registered model (a release manager's)")
    return None


def authenticate():
    """Basic auth (MLflow's own function), then the two rules, checked once per request.

    MLflow calls this for every request and again inside its permission checks, which themselves
    call it for the user name: the flag in `g` keeps the nested calls from re-checking (and recursing).
    """
    from mlflow.server.auth import authenticate_request_basic_auth

    authorization = authenticate_request_basic_auth()
    if isinstance(authorization, Response) or g.get("_latent_rules_checked"):
        return authorization
    g._latent_rules_checked = True
    return _rule_violated(authorization.username) or authorization
