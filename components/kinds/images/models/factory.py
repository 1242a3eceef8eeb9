"""The image families by name, built from params.yaml's model section or loaded from a model directory."""

from __future__ import annotations

from pathlib import Path

import torch

from components.kinds.images.models.base import ImageModel, image_config, load_image_model
from components.kinds.images.models.conv_vae import ConvVAE, PlainVAE
from components.kinds.images.models.dcgan import DCGAN
from components.kinds.images.models.vqvae import ImageVQVAE
from components.kinds.images.params import ImageModelParams

IMAGE_FAMILIES: dict[str, type[ImageModel]] = {cls.family: cls for cls in (ConvVAE, PlainVAE, ImageVQVAE, DCGAN)}


def build_image_model(mp: ImageModelParams, channels_in: int, height: int, width: int, num_classes: int) -> ImageModel:
    return IMAGE_FAMILIES[mp.family](image_config(mp, channels_in, height, width, num_classes))


def load_image_family(directory: str | Path, device: str | torch.device = "cpu") -> ImageModel:
    return load_image_model(directory, IMAGE_FAMILIES, device)
