"""Image generation: a convolutional BS-VAE beside a plain VAE (its reference), an image VQ-VAE with an
autoregressive prior over its code grid, and a DCGAN.

Data: IDX files (Fashion-MNIST out of the box), a folder of PNG/JPEG (a subfolder per label) or an .npz;
image contracts with quarantine reasons; the provided test split kept, valid carved from train by a hash of
the pixels; dataset checks (per-class counts, intensity, duplicates, leaks, drift of the intensity histogram).
Preprocessing writes memory-mapped uint8 arrays. A classifier stage trains the CNN whose features FID/KID use.
Evaluation: importance-weighted NLL and bits per dimension, FID/KID, conditional sample accuracy, pictures.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from components.applications.base import Application


@dataclass(frozen=True)
class ImageApplication(Application):
    def histogram_reference(self, workspace: str | Path) -> Path:
        """The last accepted data's intensity histogram (tracked in git; the flow rewrites it)."""
        return Path(workspace) / self.output(workspace, "check", "--reference")

    def lineage_flags(self) -> dict[str, tuple[str, str]]:
        return {
            **super().lineage_flags(),
            "data.arrays_md5": ("preprocess", "--out-dir"),
            "classifier.md5": ("classifier", "--out-dir"),
        }


IMAGES = ImageApplication(
    name="images",
    description="image generation: convolutional BS-VAE, plain VAE, VQ-VAE with a prior, DCGAN",
    steps=("ingest", "validate", "split", "check", "preprocess", "classifier", "train", "evaluate"),
    families=("bsvae", "vae", "vqvae", "gan"),
)
