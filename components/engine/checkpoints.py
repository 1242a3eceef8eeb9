"""Resumable training state: saved atomically, and resumed only by the run it belongs to.

A checkpoint carries a fingerprint of what made it (params, data shape, initial weights, and the
source of the model and training code); a run with another fingerprint starts afresh instead of
resuming someone else's state. Checkpoints hold tensors and plain values only (loaded with
weights_only=True, never unpickled as objects).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict
from pathlib import Path

import torch

from components.core import atomic
from components.core.errors import StageError

log = logging.getLogger(__name__)


def training_code() -> list[Path]:
    """The source files whose change makes an old checkpoint meaningless: the engine, the shared model blocks and
    every kind's models and training code."""
    root = Path(__file__).resolve().parents[1]
    return sorted(
        [
            *(root / "engine").glob("*.py"),
            *(root / "models").glob("*.py"),
            *(root / "kinds").glob("*/models/*.py"),
            *(root / "kinds").glob("*/training/*.py"),
        ]
    )


def code_digest() -> list[str]:
    return [hashlib.sha256(path.read_bytes()).hexdigest() for path in training_code()]


def checkpoint_interval(total_steps: int, checkpoint_every: int, min_checkpoints: int) -> int:
    """Optimiser steps between checkpoints: train.checkpoint_every, shortened so that a run saves at least
    train.min_checkpoints times; 0 (epoch ends only) when checkpoint_every is 0."""
    if not checkpoint_every:
        return 0
    if not min_checkpoints:
        return checkpoint_every
    return max(1, min(checkpoint_every, total_steps // min_checkpoints))


def run_params(
    p, ignore: tuple[str, ...] = ("device", "threads", "checkpoint_every", "min_checkpoints", "launcher")
) -> dict:
    """A train section's values that change what a run computes (not where or how often it saves)."""
    return {k: v for k, v in asdict(p).items() if k not in ignore}


def save_checkpoint(path: Path, state: dict) -> None:
    """Atomic: a crash or a write error (disk full) while saving leaves the previous checkpoint intact."""
    try:
        with atomic.atomic_path(path) as tmp:
            torch.save(state, tmp)
    except (OSError, RuntimeError) as err:  # torch reports some write failures as RuntimeError
        raise StageError(
            f"could not save checkpoint {path} at step {state.get('step')}: {err}; "
            "the previous checkpoint is intact, free space and rerun to resume from it"
        ) from err


def load_checkpoint(path: Path, fingerprint: str) -> dict | None:
    """The checkpoint at `path` if it belongs to this run; tensors and plain values only (weights_only)."""
    if not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # a torn or foreign file: say so, then start afresh rather than crash
        log.warning("ignoring unreadable checkpoint %s: %s", path, err)
        return None
    if state.get("fingerprint") != fingerprint:
        log.info("checkpoint %s belongs to other params or data; starting afresh", path)
        return None
    return state
