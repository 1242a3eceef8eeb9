"""The weights a run starts from when train.warm_start is champion (the flow puts them in warm_start/)."""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from components.kinds.text.models.factory import load_model
from components.kinds.text.params import TrainParams
from components.models.store import WEIGHTS_FILE

log = logging.getLogger(__name__)


def warm_start_state(directory: Path, p: TrainParams) -> dict[str, torch.Tensor] | None:
    """The weights the flow put in `directory` (the champion's) when train.warm_start asks for them."""
    if p.warm_start != "champion":
        return None
    if not (directory / WEIGHTS_FILE).is_file():
        log.info(
            "train.warm_start is champion but %s holds no weights (no champion, or another tokenizer or "
            "architecture): training from scratch",
            directory,
        )
        return None
    log.info("warm start from %s", directory)
    return load_model(directory).state_dict()
