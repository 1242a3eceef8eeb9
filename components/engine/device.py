"""Which device a run uses: train.device (auto | cpu | cuda), checked, for every application's stages."""

from __future__ import annotations

import torch

from components.core.errors import StageError


def pick_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise StageError("train.device is cuda but no CUDA device is available")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)
