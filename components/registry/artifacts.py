"""Registered weights brought back to disk, checked against the SHA-256 recorded when they were logged."""

from __future__ import annotations

from pathlib import Path

import yaml

from components.core.atomic import file_digest
from components.core.errors import StageError
from components.models.store import CONFIG_FILE, WEIGHTS_FILE


def download_weights(name: str, version: str, directory: Path, extra: tuple[str, ...] = ()) -> Path:
    """Copy a registered version's weights and config into `directory`, checking the recorded SHA-256; also each
    file named in `extra` that the version's artifacts hold (a text model's tokenizer.json)."""
    import shutil
    import tempfile

    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{name}/{version}", dst_path=tmp))
        weights = next(local.rglob(WEIGHTS_FILE))
        pyfunc = yaml.safe_load((local / "MLmodel").read_text(encoding="utf-8"))["flavors"]["python_function"]
        if file_digest(weights) != pyfunc["config"]["weights_sha256"]:  # model_config as recorded
            raise StageError(f"{name} v{version}: downloaded weights do not match their recorded SHA-256")
        directory.mkdir(parents=True, exist_ok=True)
        shutil.copy2(weights, directory / WEIGHTS_FILE)
        shutil.copy2(weights.parent / CONFIG_FILE, directory / CONFIG_FILE)
        for wanted in extra:
            found = sorted(local.rglob(wanted))
            if found:
                shutil.copy2(found[0], directory / wanted)
    return directory
