"""Where MLflow lives: the embedded SQLite store under mlruns/ by default, a server when MLFLOW_TRACKING_URI says so.

MLflow is imported inside the functions, so the training code runs on machines without it.
"""

from __future__ import annotations

import os
from pathlib import Path

from components.core.errors import StageError, redact


def tracking_uri(workspace: Path) -> str:
    """MLFLOW_TRACKING_URI when set, else the embedded SQLite store in <workspace>/mlruns."""
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return os.environ["MLFLOW_TRACKING_URI"]
    home = workspace.resolve() / "mlruns"
    home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{home / 'mlflow.db'}"


def connect(workspace: Path):
    """An MlflowClient on the workspace's store (and the fluent API pointed at it)."""
    import mlflow

    uri = tracking_uri(workspace)
    # A tracking server that proxies S3 artifacts offers clients presigned URLs into its bucket, reached at the
    # endpoint the server knows (http://minio:9000 inside Compose). Streaming through the server instead means a
    # pipeline machine needs no route to, and no URL signed for, the artifact bucket (docs/team-setup.md).
    os.environ.setdefault("MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD", "false")
    # Loaders download a version's files before checking them: one progress bar per download on the console of a
    # command (or in a flow's log) says nothing its own lines do not.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    # The registry lives on the tracking server; set both so a URI left over in this process cannot win.
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)


REFUSED = ("UNAUTHENTICATED", "PERMISSION_DENIED")
"""MLflow's error codes for a server that refused the credentials (401) or the user (403): retrying cannot help."""


def describe_server_error(err: Exception) -> str | None:
    """One line for an MLflow server that refused a request for its credentials (401) or permissions (403),
    or could not be reached, naming the server, the user and what to check; None for any other error."""
    uri = redact(os.environ.get("MLFLOW_TRACKING_URI", ""))
    code, text = getattr(err, "error_code", None), redact(getattr(err, "message", err))
    if code == "UNAUTHENTICATED":
        return (
            f"MLflow server {uri} refused the credentials (401): set MLFLOW_TRACKING_USERNAME and "
            f"MLFLOW_TRACKING_PASSWORD (or ~/.mlflow/credentials) to a user of that server"
        )
    if code == "PERMISSION_DENIED":
        reason = (
            text.split("Response body:", 1)[-1].strip(" '")
            if "Response body:" in text
            else text.removeprefix("PERMISSION_DENIED: ")
        )
        user = os.environ.get("MLFLOW_TRACKING_USERNAME", "(from ~/.mlflow/credentials)")
        return f"MLflow server {uri} refused user {user} (403): {reason}"
    if "Max retries exceeded" in text or "Connection refused" in text:
        return f"MLflow tracking server {uri} is unreachable (retried, then gave up): check that it runs and the URI"
    return None


def check_server_access(workspace: Path) -> None:
    """Fail before any work is done when MLFLOW_TRACKING_URI names a server that refuses these credentials or
    cannot be reached: a StageError with describe_server_error's line. The embedded store needs no check."""
    uri = tracking_uri(workspace)
    if not uri.startswith(("http://", "https://")):
        return
    from mlflow.exceptions import MlflowException

    try:
        connect(workspace).search_experiments(max_results=1)
    except MlflowException as err:
        line = describe_server_error(err)
        if line is None:
            raise
        raise StageError(f"{line}; nothing was run") from err
