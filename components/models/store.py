"""Save and load trained models as safetensors weights plus a JSON config: no pickle anywhere."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_model as load_into
from safetensors.torch import save_file

from components.core import atomic
from components.core.errors import StageError

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"


class ModelFileError(StageError):
    """A model directory is missing files or holds files that do not fit together."""


def verified_weights(directory: str | Path, expected_sha256: str | None) -> Path:
    """`directory`, once its weights file is there and, when a digest was recorded at logging, has that SHA-256:
    what every served model checks before it loads, so swapped or damaged weights are refused."""
    weights = Path(directory) / WEIGHTS_FILE
    if not weights.is_file():
        raise ModelFileError(f"{weights}: model weights missing from the logged model")
    if expected_sha256 and atomic.file_digest(weights) != expected_sha256:
        raise ModelFileError(f"{weights}: SHA-256 differs from the one recorded at logging; refusing tampered weights")
    return Path(directory)


def untied_state(model: torch.nn.Module) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """The state dict with each tied tensor once, under its first name in sorted order, and {other name: kept name}.

    safetensors' own save_model stores tied weights once too, but records them as several metadata entries whose
    order in the file changes from one process to the next (a hash map's order): the same weights would hash
    differently and no rebuild would match. One sorted entry keeps the bytes a function of the weights."""
    state = model.state_dict()
    kept: dict[tuple, str] = {}
    tied: dict[str, str] = {}
    for name in sorted(state):
        t = state[name]
        key = (t.untyped_storage().data_ptr(), t.storage_offset(), tuple(t.shape), tuple(t.stride()), t.dtype)
        if t.numel() and key in kept:
            tied[name] = kept[key]
        else:
            kept.setdefault(key, name)
    return {k: v.detach().cpu().contiguous() for k, v in state.items() if k not in tied}, tied


def save_model_dir(model: torch.nn.Module, directory: str | Path) -> None:
    """Weights (tied weights stored once, loaded back by safetensors' load_model) and `model.config.to_dict()` as
    config.json; the same weights always give the same bytes."""
    directory = Path(directory)
    state, tied = untied_state(model)
    with atomic.atomic_path(directory / WEIGHTS_FILE) as tmp:
        save_file(state, str(tmp), metadata={"tied": json.dumps(tied, sort_keys=True)} if tied else None)
    atomic.write_json(directory / CONFIG_FILE, model.config.to_dict())


def load_model_dir(directory: str | Path, build, device: str | torch.device = "cpu") -> torch.nn.Module:
    """`build(config dict)` -> a fresh model, then its weights; a missing, foreign or tampered file is a
    ModelFileError naming it."""
    directory = Path(directory)
    config_path, weights_path = directory / CONFIG_FILE, directory / WEIGHTS_FILE
    for path in (config_path, weights_path):
        if not path.is_file():
            raise ModelFileError(f"{path}: model file not found")
    try:
        model = build(json.loads(config_path.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError) as err:
        raise ModelFileError(f"{config_path}: not a model config this code understands: {err}") from err
    try:
        load_into(model, str(weights_path), strict=True)
    except (SafetensorError, RuntimeError, OSError) as err:
        raise ModelFileError(f"{weights_path}: weights do not load into {type(model).__name__}: {err}") from err
    return model.to(device).eval()
