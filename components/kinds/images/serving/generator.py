"""Generate and reconstruct images with a trained image model directory (weights, config, classes.json).

What the served model, the generate command and tests call. A class name the model was not trained on is one
error listing the known ones; a request image that does not decode, or has the wrong size or channels, is one
error naming the row.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
import torch

from components.kinds.images.models.base import ImageModel
from components.kinds.images.models.factory import load_image_family


class ImageGenerator:
    def __init__(self, model: ImageModel, classes: list[str], device: torch.device):
        self.model, self.classes, self.device = model, classes, device

    @classmethod
    def from_dir(cls, model_dir: str | Path, device: str = "cpu") -> ImageGenerator:
        model_dir = Path(model_dir)
        classes = json.loads((model_dir / "classes.json").read_text(encoding="utf-8"))
        return cls(load_image_family(model_dir, device), classes, torch.device(device))

    def label_ids(self, labels: list[str | None], n: int) -> torch.Tensor | None:
        if not self.model.config.num_classes:
            if any(label is not None for label in labels):
                raise ValueError(f"this {self.model.family} model is unconditional: it takes no label")
            return None
        if len(labels) != n or any(label is None for label in labels):
            raise ValueError(
                f"this {self.model.family} model is conditional: it needs a label (--label), one of {self.classes}"
            )
        unknown = sorted({label for label in labels if label not in self.classes})
        if unknown:
            raise ValueError(f"unknown label(s) {unknown}: this model knows {self.classes}")
        return torch.tensor([self.classes.index(label) for label in labels], device=self.device)

    def sample(self, n: int, label: str | None = None, seed: int | None = None) -> np.ndarray:
        """(n, C, H, W) uint8 images from the model's prior (or generator), of one class when conditional."""
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        labels = self.label_ids([label] * n, n) if (label is not None or self.model.config.num_classes) else None
        return self.model.sample(n, labels, generator).cpu().numpy()

    def reconstruct(self, images: np.ndarray, label: str | None = None) -> np.ndarray:
        if not hasattr(self.model, "encode") and not hasattr(self.model, "codes_of"):
            raise ValueError(f"a {self.model.family} model has no encoder: it cannot reconstruct an image")
        x = torch.from_numpy(images.astype(np.float32)).to(self.device) / 127.5 - 1
        labels = self.label_ids([label] * len(images), len(images)) if self.model.config.num_classes else None
        return self.model.reconstruct(x, labels).cpu().numpy()

    def decode_request_image(self, text: str, row: int) -> np.ndarray:
        """A base64 PNG/JPEG from a request -> (C, H, W) uint8 of the model's size and channels, or one error."""
        from PIL import Image, UnidentifiedImageError

        c = self.model.config
        try:
            with Image.open(io.BytesIO(base64.b64decode(text, validate=True))) as im:
                im.load()
                array = np.asarray(im)
        except (UnidentifiedImageError, OSError, ValueError) as err:
            raise ValueError(f"row {row}: image does not decode as base64 PNG/JPEG: {err}") from err
        array = array[:, :, None] if array.ndim == 2 else array
        if array.shape != (c.height, c.width, c.channels_in):
            raise ValueError(
                f"row {row}: image is {array.shape[0]}x{array.shape[1]} with {array.shape[2]} channel(s); "
                f"this model takes {c.height}x{c.width} with {c.channels_in}"
            )
        return array.transpose(2, 0, 1)


def png_base64(image: np.ndarray) -> str:
    from components.kinds.images.data.images import encode_png

    return base64.b64encode(encode_png(image)).decode("ascii")
