"""Resumable training state: saved atomically, and resumed only by the run it belongs to.

A checkpoint carries a fingerprint of what made it (params, data shape, initial weights, and the
source of the model and training code); a run with another fingerprint starts afresh instead of
resuming someone else's state. Checkpoints hold tensors and plain values only (loaded with
weights_only=True, never unpickled as objects).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict
from pathlib import Path

import torch

from components.core import atomic
from components.core.errors import StageError
from components.core.params import ModelParams, TrainParams
from components.data.batches import TokenArrays
from components.training import distributed

log = logging.getLogger(__name__)


def training_code() -> list[Path]:
    """The source files whose change makes an old checkpoint meaningless: the models and the training code."""
    root = Path(__file__).resolve().parents[1]
    return sorted(path for package in ("models", "training") for path in (root / package).glob("*.py"))


def checkpoint_interval(total_steps: int, p: TrainParams) -> int:
    """Optimiser steps between checkpoints: train.checkpoint_every, shortened so that a run saves at least
    train.min_checkpoints times; 0 (epoch ends only) when checkpoint_every is 0."""
    if not p.checkpoint_every:
        return 0
    if not p.min_checkpoints:
        return p.checkpoint_every
    return max(1, min(p.checkpoint_every, total_steps // p.min_checkpoints))


def run_fingerprint(vocab_size: int, train: TokenArrays, mp: ModelParams, p: TrainParams,
                    init_state: dict[str, torch.Tensor] | None = None) -> str:
    """What a checkpoint must match to be resumed: same model, same optimisation, same data shape, same start."""
    relevant = {k: v for k, v in asdict(p).items() if k not in ("device", "threads", "checkpoint_every", "min_checkpoints", "launcher")}
    relevant["world"] = distributed.current().world
    if init_state:
        start = hashlib.sha256()
        for name in sorted(init_state):
            start.update(name.encode())
            start.update(init_state[name].detach().cpu().contiguous().numpy().tobytes())
        relevant["init"] = start.hexdigest()
    code = [path.read_bytes() for path in training_code()]
    blob = json.dumps({"model": asdict(mp), "train": relevant, "vocab": vocab_size, "sentences": len(train),
                       "tokens": int(train.offsets[-1]), "code": [hashlib.sha256(c).hexdigest() for c in code]},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def save_checkpoint(path: Path, state: dict) -> None:
    """Atomic: a crash or a write error (disk full) while saving leaves the previous checkpoint intact."""
    try:
        with atomic.atomic_path(path) as tmp:
            torch.save(state, tmp)
    except (OSError, RuntimeError) as err:  # torch reports some write failures as RuntimeError
        raise StageError(f"could not save checkpoint {path} at step {state.get('step')}: {err}; "
                         "the previous checkpoint is intact, free space and rerun to resume from it") from err


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
