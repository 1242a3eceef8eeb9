"""Small data: a run shorter than its warm-up says so (the engine asks the task's own schedule)."""

from __future__ import annotations

import logging

import numpy as np
import torch

from components.data.batches import TokenArrays
from components.engine.engine import warn_if_still_warming_up
from components.kinds.text.training.loop import TextTask
from tests.conftest import params_for


def tiny_task(**train) -> TextTask:
    ids = np.arange(4, 40, dtype=np.int32)
    arrays = TokenArrays(ids=ids, offsets=np.arange(0, 37, 6, dtype=np.int64))
    model = params_for("model", embed_dim=8, hidden_dim=8, latent_dim=2)
    return TextTask(arrays, arrays, 40, model, params_for("train", **train), torch.device("cpu"), None, 0)


def test_a_run_shorter_than_its_warm_up_is_named_and_a_long_enough_one_is_not(caplog):
    with caplog.at_level(logging.WARNING, logger="components.engine.engine"):
        warn_if_still_warming_up(tiny_task(warmup_steps=200), 90)
    assert (
        "still warming up at this run's last step (90 optimiser steps; 45% of train.lr): lower "
        "train.warmup_steps below 90" in caplog.text
    )
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="components.engine.engine"):
        warn_if_still_warming_up(tiny_task(warmup_steps=20), 90)
    assert caplog.text == ""
