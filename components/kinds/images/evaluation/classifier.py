"""The image application's own classifier: a small CNN trained on the train split. Its penultimate features
are what FID and KID compare (so those figures compare within this project only: they are not Inception FID),
and its accuracy on test is the ceiling conditional samples are judged against."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_model, save_model
from torch import nn

from components.core import atomic
from components.kinds.images.params import ImageClassifierParams
from components.models.store import ModelFileError

FEATURES = 128


@dataclasses.dataclass
class ClassifierConfig:
    channels_in: int
    height: int
    width: int
    num_classes: int
    channels: int


class ImageClassifier(nn.Module):
    def __init__(self, config: ClassifierConfig):
        super().__init__()
        c = config
        self.config = config
        self.body = nn.Sequential(
            nn.Conv2d(c.channels_in, c.channels, 3, 1, 1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(c.channels, 2 * c.channels, 3, 1, 1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(2 * c.channels * (c.height // 4) * (c.width // 4), FEATURES),
            nn.ReLU(),
        )
        self.out = nn.Linear(FEATURES, c.num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.features(x))


def to_input(images: np.ndarray | torch.Tensor, device: torch.device) -> torch.Tensor:
    x = torch.as_tensor(np.array(images) if isinstance(images, np.ndarray) else images, device=device)
    return x.float() / 127.5 - 1


def train_classifier(
    images: np.ndarray, labels: np.ndarray, num_classes: int, p: ImageClassifierParams, device: torch.device
) -> ImageClassifier:
    torch.manual_seed(p.seed)
    rng = np.random.default_rng(p.seed)
    _, c, h, w = images.shape
    model = ImageClassifier(ClassifierConfig(c, h, w, num_classes, p.channels)).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=p.lr)
    keep = np.flatnonzero(labels >= 0)
    for _ in range(p.epochs):
        for index in np.array_split(rng.permutation(keep), max(len(keep) // p.batch_size, 1)):
            index = np.sort(index)
            loss = F.cross_entropy(
                model(to_input(images[index], device)), torch.as_tensor(labels[index], device=device)
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return model.eval()


@torch.no_grad()
def predict(
    model: ImageClassifier, images, device: torch.device, batch_size: int = 512
) -> tuple[np.ndarray, np.ndarray]:
    """(predicted class ids, penultimate features) for uint8 images (N, C, H, W)."""
    preds, feats = [], []
    for start in range(0, len(images), batch_size):
        f = model.features(to_input(images[start : start + batch_size], device))
        feats.append(f.cpu().numpy())
        preds.append(model.out(f).argmax(1).cpu().numpy())
    return np.concatenate(preds), np.concatenate(feats).astype(np.float64)


def save_classifier(model: ImageClassifier, directory: str | Path) -> None:
    directory = Path(directory)
    with atomic.atomic_path(directory / "classifier.safetensors") as tmp:
        save_model(model, str(tmp))
    atomic.write_json(directory / "classifier.json", dataclasses.asdict(model.config))


def load_classifier(directory: str | Path, device: torch.device) -> ImageClassifier:
    directory = Path(directory)
    try:
        model = ImageClassifier(ClassifierConfig(**json.loads((directory / "classifier.json").read_text())))
        load_model(model, str(directory / "classifier.safetensors"))
    except (OSError, TypeError, ValueError, RuntimeError) as err:
        raise ModelFileError(f"{directory}: image classifier does not load: {err}") from err
    return model.to(device).eval()
