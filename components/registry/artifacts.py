"""Registered weights brought back to disk (warm start, base models, reproduce), every file of the version
checked against its `files.sha256` record first (components/registry/model_files.py)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from components.models.store import CONFIG_FILE, WEIGHTS_FILE
from components.registry.model_files import download_verified


def download_weights(name: str, version: str, directory: Path, extra: tuple[str, ...] = ()) -> Path:
    """Copy a registered version's weights and config into `directory`, after checking all its files; also each
    file named in `extra` that the version's artifacts hold (a text model's tokenizer.json)."""
    import mlflow

    model_version = mlflow.MlflowClient().get_model_version(name, version)
    with tempfile.TemporaryDirectory() as tmp:
        local = download_verified(model_version, Path(tmp))
        weights = next(local.rglob(WEIGHTS_FILE))
        directory.mkdir(parents=True, exist_ok=True)
        shutil.copy2(weights, directory / WEIGHTS_FILE)
        shutil.copy2(weights.parent / CONFIG_FILE, directory / CONFIG_FILE)
        for wanted in extra:
            found = sorted(local.rglob(wanted))
            if found:
                shutil.copy2(found[0], directory / wanted)
    return directory
