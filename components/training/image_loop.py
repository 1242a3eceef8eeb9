"""Training an image family: shuffled batches of the uint8 train array (memory-mapped), the beta schedule,
the family's own step (components/models/image_base.py), a validation pass after every epoch, and a stop with
one clear error when a loss turns NaN or infinite. Pure of files: the train stage loads and saves."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from components.core.errors import StageError
from components.core.image_params import ImageTrainParams
from components.models.image_base import ImageModel
from components.training.schedules import beta_at

log = logging.getLogger(__name__)


@dataclass
class ImageArrays:
    images: np.ndarray
    """(N, C, H, W) uint8."""
    labels: np.ndarray
    """(N,) class ids, -1 where unknown."""

    @classmethod
    def load(cls, directory, split: str) -> "ImageArrays":
        from pathlib import Path

        directory = Path(directory)
        return cls(np.load(directory / f"{split}.images.npy", mmap_mode="r"), np.load(directory / f"{split}.labels.npy"))

    def __len__(self) -> int:
        return len(self.images)

    def head(self, n: int) -> "ImageArrays":
        return self if n <= 0 or n >= len(self) else ImageArrays(self.images[:n], self.labels[:n])


def image_batch(arrays: ImageArrays, index: np.ndarray, device: torch.device, conditional: bool):
    """Floats in [-1, 1] (pixel / 127.5 - 1) and the labels a conditional model needs (None otherwise)."""
    x = torch.from_numpy(np.asarray(arrays.images[np.sort(index)], dtype=np.float32)).to(device) / 127.5 - 1
    labels = torch.from_numpy(arrays.labels[np.sort(index)]).to(device) if conditional else None
    return x, labels


@dataclass
class ImageTrainResult:
    model: ImageModel
    history: list[dict] = field(default_factory=list)
    seconds: float = 0.0


def train_image_model(model: ImageModel, train: ImageArrays, valid: ImageArrays, p: ImageTrainParams,
                      device: torch.device) -> ImageTrainResult:
    conditional = bool(model.config.num_classes)
    if conditional and (train.labels < 0).any():
        raise StageError("model.conditional is true but some train images have no label")
    torch.manual_seed(p.seed)
    rng = np.random.default_rng(p.seed)
    model.to(device).train()
    optimizers = model.configure_optimizers(p.lr)
    autocast = torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=p.precision == "bf16")
    per_epoch = math.ceil(len(train) / p.batch_size)
    total = min(p.epochs * per_epoch, p.max_steps) if p.max_steps else p.epochs * per_epoch
    result, step, started = ImageTrainResult(model), 0, time.perf_counter()
    for epoch in range(1, p.epochs + 1):
        sums: dict[str, float] = {}
        epoch_started, batches = time.perf_counter(), 0
        for index in np.array_split(rng.permutation(len(train)), per_epoch):
            x, labels = image_batch(train, index, device, conditional)
            with autocast:
                figures = model.train_step(x, labels, optimizers, beta_at(step, total, p), p.free_bits)
            if not all(math.isfinite(v) for v in figures.values()):
                raise StageError(f"training diverged: {figures} at step {step} (epoch {epoch}); lower train.lr")
            for key, value in figures.items():
                sums[key] = sums.get(key, 0.0) + value
            step, batches = step + 1, batches + 1
            if step >= total:
                break
        model.eval()
        valid_figures = validation(model, valid, device, conditional)
        model.train()
        row = {"epoch": epoch, "step": step, "seconds": time.perf_counter() - epoch_started,
               **{f"train_{k}": v / batches for k, v in sums.items()}, **{f"valid_{k}": v for k, v in valid_figures.items()}}
        result.history.append(row)
        log.info("epoch %d step %d (%.1f s): %s", epoch, step, row["seconds"],
                 {k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()})
        if step >= total:
            break
    result.seconds = time.perf_counter() - started
    model.eval()
    return result


@torch.no_grad()
def validation(model: ImageModel, valid: ImageArrays, device: torch.device, conditional: bool,
               batch_size: int = 256) -> dict[str, float]:
    sums, n = {}, 0
    for start in range(0, len(valid), batch_size):
        index = np.arange(start, min(start + batch_size, len(valid)))
        figures = model.validation_loss(*image_batch(valid, index, device, conditional))
        for key, value in figures.items():
            sums[key] = sums.get(key, 0.0) + value * len(index)
        n += len(index)
    return {k: v / max(n, 1) for k, v in sums.items()}
