"""Training an image family on the engine (components/engine/engine.py): shuffled batches of the uint8 train
array (memory-mapped), the beta schedule, the family's own losses (components/kinds/images/models/base.py) and a
validation pass after every epoch. Pure of files: the train stage loads and saves."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from components.core.errors import StageError
from components.engine.engine import EngineSettings, Task, Trained, Update, array_digest, fit
from components.engine.schedules import beta_at
from components.kinds.images.models.base import ImageModel
from components.kinds.images.params import ImageTrainParams

log = logging.getLogger(__name__)


@dataclass
class ImageArrays:
    images: np.ndarray
    """(N, C, H, W) uint8."""
    labels: np.ndarray
    """(N,) class ids, -1 where unknown."""

    @classmethod
    def load(cls, directory, split: str) -> ImageArrays:
        directory = Path(directory)
        return cls(
            np.load(directory / f"{split}.images.npy", mmap_mode="r"), np.load(directory / f"{split}.labels.npy")
        )

    def __len__(self) -> int:
        return len(self.images)

    def head(self, n: int) -> ImageArrays:
        return self if n <= 0 or n >= len(self) else ImageArrays(self.images[:n], self.labels[:n])


def image_batch(arrays: ImageArrays, index: np.ndarray, device: torch.device, conditional: bool):
    """Floats in [-1, 1] (pixel / 127.5 - 1) and the labels a conditional model needs (None otherwise)."""
    x = torch.from_numpy(np.asarray(arrays.images[np.sort(index)], dtype=np.float32)).to(device) / 127.5 - 1
    labels = torch.from_numpy(arrays.labels[np.sort(index)]).to(device) if conditional else None
    return x, labels


class ImageTask(Task):
    """Shuffled batches of the uint8 train array through an image family's losses (one per optimiser: a GAN has
    two) under the beta schedule; the engine keeps the weights with the best validation -ELBO (a likelihood
    family's), or the last epoch's (the GAN's)."""

    divergence_hint = "lower train.lr or set train.grad_clip"

    def __init__(
        self, model: ImageModel, train: ImageArrays, valid: ImageArrays, p: ImageTrainParams, device: torch.device
    ):
        self.conditional = bool(model.config.num_classes)
        if self.conditional and (train.labels < 0).any():
            raise StageError("model.conditional is true but some train images have no label")
        self.model, self.train, self.valid, self.p, self.device = model, train, valid, p, device
        self.monitor = "nelbo" if model.has_likelihood else None

    @property
    def epochs(self) -> int:
        return self.p.epochs

    def steps_per_epoch(self) -> int:
        return math.ceil(len(self.train) / self.p.batch_size)

    def optimizers(self):
        return self.model.configure_optimizers(self.p.lr)

    def batches(self, rng):
        return np.array_split(rng.permutation(len(self.train)), self.steps_per_epoch())

    def updates(self, net, rows, step, total):
        x, labels = image_batch(self.train, rows, self.device, self.conditional)
        for optimizer, loss, figures in self.model.training_losses(
            x, labels, beta_at(step, total, self.p), self.p.free_bits
        ):
            yield Update(optimizer, loss, figures)

    def validate(self) -> dict[str, float]:
        return validation(self.model, self.valid, self.device, self.conditional)

    def fingerprint(self) -> dict:
        return {"model": self.model.config.to_dict(), "data": array_digest(self.train.images, self.train.labels)}


def train_image_model(
    make_model: Callable[[], ImageModel],
    train: ImageArrays,
    valid: ImageArrays,
    p: ImageTrainParams,
    device: torch.device,
    checkpoint: Path | None = None,
) -> Trained:
    """Train the model `make_model` builds (after the engine seeds torch) on the shared engine."""
    return fit(lambda: ImageTask(make_model(), train, valid, p, device), EngineSettings.of(p), device, checkpoint)


@torch.no_grad()
def validation(
    model: ImageModel, valid: ImageArrays, device: torch.device, conditional: bool, batch_size: int = 256
) -> dict[str, float]:
    sums, n = {}, 0
    for start in range(0, len(valid), batch_size):
        index = np.arange(start, min(start + batch_size, len(valid)))
        figures = model.validation_loss(*image_batch(valid, index, device, conditional))
        for key, value in figures.items():
            sums[key] = sums.get(key, 0.0) + value * len(index)
        n += len(index)
    return {k: v / max(n, 1) for k, v in sums.items()}
