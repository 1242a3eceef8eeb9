"""Where MLflow lives: the embedded SQLite store under mlruns/ by default, a server when MLFLOW_TRACKING_URI says so.

MLflow is imported inside the functions, so the training code runs on machines without it.
"""

from __future__ import annotations

import os
from pathlib import Path


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
    # The registry lives on the tracking server; set both so a URI left over in this process cannot win.
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
