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

from components.applications.base import Application


@dataclass(frozen=True)
class ImageApplication(Application):
    @property
    def arrays(self) -> str:
        return self.data("arrays")

    @property
    def histogram_reference(self) -> str:
        return self.data("reference/histogram.json")

    def lineage_outputs(self, family: str) -> dict[str, tuple[str, str]]:
        return {
            "data.corpus_md5": (self.stage("ingest"), self.data("interim/corpus.parquet")),
            "data.splits_md5": (self.stage("split"), self.data("processed/splits.parquet")),
            "data.arrays_md5": (self.stage("preprocess"), self.arrays),
            "classifier.md5": (self.stage("classifier"), self.model_dir("classifier")),
            "model.md5": (self.stage("train"), self.model_dir(family)),
        }


IMAGES = ImageApplication(
    name="images",
    description="image generation: convolutional BS-VAE, plain VAE, VQ-VAE with a prior, DCGAN",
    steps=("ingest", "validate", "split", "check", "preprocess", "classifier", "train", "evaluate"),
    families=("bsvae", "vae", "vqvae", "gan"),
)
