"""The one contract every image family implements, the shared convolutional networks, the pixel likelihood,
and saving/loading (safetensors + JSON).

A family owns its update (a GAN's two optimisers are not a VAE's one), so the contract yields one loss per
optimiser in update order: `training_losses(x, labels, beta, free_bits)` yields (optimiser index, loss, figures);
the training engine takes each backward pass and step before it asks for the next (a GAN's generator sees the
discriminator after its step). Everything else the engine, the evaluation and the served model use:
- `configure_optimizers(lr)`; `validation_loss(x, labels)`;
- `sample(n, labels, generator)` -> uint8 images (n, C, H, W);
- `reconstruct(x, labels)` -> uint8 images, or None (the GAN has no encoder);
- `log_likelihood(x, labels, k)` -> log p(x) per image in nats (importance-weighted for a Gaussian latent, the
  code bound for the VQ-VAE), or None (the GAN defines no likelihood);
- `interpolate(x_a, x_b, steps, labels)` -> a strip of images between two latents (the GAN: between two noises).
Images enter as floats in [-1, 1] (uint8 / 127.5 - 1). No family imports another.

The likelihood is a discretised logistic per pixel (Salimans et al. 2017, PixelCNN++, one component): pixels
are 8-bit, so a model must give probabilities to 256 levels for its NLL (and bits per dimension) to mean
anything; a Bernoulli on grey levels is not a distribution over them, and a Gaussian is a density.
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from components.kinds.images.params import ImageModelParams
from components.models.store import load_model_dir, save_model_dir


@dataclass
class ImageConfig:
    family: str
    channels_in: int
    height: int
    width: int
    num_classes: int
    """0: unconditional."""
    channels: int
    latent_dim: int
    label_prior: str
    """standard | learned: the Gaussian latent's prior when conditional (conv_vae.py)."""
    codebook_size: int
    code_dim: int
    prior_layers: int
    prior_heads: int
    commitment: float
    ema_decay: float
    dead_code_threshold: float

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def image_config(mp: ImageModelParams, channels_in: int, height: int, width: int, num_classes: int) -> ImageConfig:
    values = {
        f.name: getattr(mp, f.name)
        for f in dataclasses.fields(ImageConfig)
        if f.name not in ("channels_in", "height", "width", "num_classes")
    }
    return ImageConfig(
        channels_in=channels_in, height=height, width=width, num_classes=num_classes if mp.conditional else 0, **values
    )


class ImageModel(nn.Module, ABC):
    family: ClassVar[str]
    has_likelihood: ClassVar[bool]

    def __init__(self, config: ImageConfig):
        super().__init__()
        if config.height % 4 or config.width % 4:
            raise ValueError(f"image size {config.height}x{config.width}: both sides must be multiples of 4")
        self.config = config
        self.label_embed = nn.Embedding(config.num_classes, 16) if config.num_classes else None

    @property
    def dims(self) -> int:
        return self.config.channels_in * self.config.height * self.config.width

    def check_labels(self, labels: torch.Tensor | None, batch: int) -> None:
        if self.config.num_classes and labels is None:
            raise ValueError(
                f"this {self.family} model is conditional ({self.config.num_classes} classes): give labels"
            )
        if not self.config.num_classes and labels is not None:
            raise ValueError(f"this {self.family} model is unconditional: it takes no labels")
        if labels is not None and (
            labels.shape != (batch,) or int(labels.min()) < 0 or int(labels.max()) >= self.config.num_classes
        ):
            raise ValueError(f"labels must be {batch} class ids in [0, {self.config.num_classes})")

    def label_vector(self, labels: torch.Tensor | None, batch: int) -> torch.Tensor | None:
        self.check_labels(labels, batch)
        return None if labels is None else self.label_embed(labels)

    @abstractmethod
    def configure_optimizers(self, lr: float) -> list[torch.optim.Optimizer]: ...

    @abstractmethod
    def training_losses(
        self, x: torch.Tensor, labels: torch.Tensor | None, beta: float, free_bits: float
    ) -> Iterator[tuple[int, torch.Tensor, dict[str, torch.Tensor | float]]]:
        """(optimiser index into configure_optimizers, loss, figures), one per update, in update order."""

    @abstractmethod
    def validation_loss(self, x: torch.Tensor, labels: torch.Tensor | None) -> dict[str, float]: ...

    @abstractmethod
    def sample(
        self, n: int, labels: torch.Tensor | None = None, generator: torch.Generator | None = None
    ) -> torch.Tensor: ...

    def reconstruct(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor | None:
        return None

    def log_likelihood(self, x: torch.Tensor, labels: torch.Tensor | None, k: int) -> torch.Tensor | None:
        return None

    def interpolate(
        self, x_a: torch.Tensor, x_b: torch.Tensor, steps: int, labels: torch.Tensor | None = None
    ) -> torch.Tensor:
        """A strip of `steps` uint8 images walking from image a's latent to image b's (one pair: x (1, C, H, W))."""
        raise NotImplementedError(f"a {self.family} model has no latent walk")


# --- shared networks ---------------------------------------------------------------------------
class ConvEncoder(nn.Module):
    """(B, C_in [+1 label plane], H, W) -> (B, out_channels, H/4, W/4): two stride-2 convolutions."""

    def __init__(self, channels_in: int, channels: int, out_channels: int):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels_in, channels, 4, 2, 1),
            nn.SiLU(),
            nn.Conv2d(channels, 2 * channels, 4, 2, 1),
            nn.SiLU(),
            nn.Conv2d(2 * channels, out_channels, 3, 1, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class ConvDecoder(nn.Module):
    """(B, in_channels, H/4, W/4) -> (B, out_channels, H, W): two stride-2 transposed convolutions.

    With `cond_dim` > 0 every hidden layer is modulated by the condition (FiLM, Perez et al. 2018: a scale and
    a shift per channel from the label's vector), so the label reaches each layer instead of only the input,
    where a latent that already carries the class can drown it out."""

    def __init__(self, in_channels: int, channels: int, out_channels: int, cond_dim: int = 0):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, 2 * channels, 3, 1, 1)
        self.up1 = nn.ConvTranspose2d(2 * channels, channels, 4, 2, 1)
        self.up2 = nn.ConvTranspose2d(channels, out_channels, 4, 2, 1)
        self.widths = (2 * channels, channels)
        self.film = nn.Linear(cond_dim, 2 * sum(self.widths)) if cond_dim else None

    def forward(self, h: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        films = (
            self.film(cond).split([w for w in self.widths for _ in (0, 1)], dim=1)
            if self.film is not None and cond is not None
            else None
        )
        h = self.conv(h)
        if films:
            h = h * (1 + films[0][:, :, None, None]) + films[1][:, :, None, None]
        h = self.up1(nn.functional.silu(h))
        if films:
            h = h * (1 + films[2][:, :, None, None]) + films[3][:, :, None, None]
        return self.up2(nn.functional.silu(h))


def label_plane(vector: torch.Tensor | None, x: torch.Tensor) -> torch.Tensor:
    """x with one more input channel carrying the label (its embedding's mean, broadcast), or x unchanged."""
    if vector is None:
        return x
    return torch.cat([x, vector.mean(dim=1)[:, None, None, None].expand(-1, 1, *x.shape[2:])], dim=1)


# --- pixel likelihood --------------------------------------------------------------------------
def logistic_log_prob(x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
    """log p(x) per image (nats) under a discretised logistic per pixel; x in [-1, 1] on the 256-level grid,
    params (B, 2C, H, W): means and log-scales."""
    mean, log_scale = params.float().chunk(2, dim=1)
    mean, log_scale = torch.tanh(mean), log_scale.clamp(min=-7.0)
    centered, inv = x - mean, torch.exp(-log_scale)
    plus, minus = inv * (centered + 1 / 255), inv * (centered - 1 / 255)
    log_cdf_plus = plus - F.softplus(plus)
    log_one_minus_cdf_minus = -F.softplus(minus)
    delta = torch.sigmoid(plus) - torch.sigmoid(minus)
    mid = inv * centered
    log_pdf_mid = mid - log_scale - 2 * F.softplus(mid)
    inner = torch.where(delta > 1e-5, torch.log(delta.clamp(min=1e-12)), log_pdf_mid - math.log(127.5))
    logp = torch.where(x < -0.999, log_cdf_plus, torch.where(x > 0.999, log_one_minus_cdf_minus, inner))
    return logp.flatten(1).sum(dim=1)


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] -> uint8 0..255 (rounded to the pixel grid)."""
    return ((x.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


def logistic_mean_image(params: torch.Tensor) -> torch.Tensor:
    """The likelihood's per-pixel mean as uint8: what samples and reconstructions show (the per-pixel noise
    of the logistic would only add grain)."""
    return to_uint8(torch.tanh(params.float().chunk(2, dim=1)[0]))


# --- saving ----------------------------------------------------------------------------------
def save_image_model(model: ImageModel, directory: str | Path) -> None:
    save_model_dir(model, directory)


def load_image_model(
    directory: str | Path, families: dict[str, type[ImageModel]], device: str | torch.device = "cpu"
) -> ImageModel:
    """Rebuild an image model from `directory`; a missing, foreign or tampered file is a ModelFileError."""

    def build(raw: dict) -> ImageModel:
        config = ImageConfig(**raw)
        return families[config.family](config)

    return load_model_dir(directory, build, device)
