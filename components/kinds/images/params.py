"""Typed, strict views of an image application's section of params.yaml (`kind: images`).

As for the other kinds, these dataclasses hold types and checks, never values: every key must be set in
params.yaml; split, register and orchestrate are the text applications' own types.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.core.params import (
    PARAMS_FILE,
    ApplicationNames,
    OrchestrateParams,
    ParamsError,
    RegisterParams,
    SplitParams,
    _at_least,
    _fraction,
    _one_of,
    _positive,
    check_engine_fields,
    kind_params_from_dict,
    load_with,
)

KIND = "images"


@dataclass(frozen=True)
class ImageDataParams:
    corpus: str
    """A directory of IDX files (train-images-idx3-ubyte.gz ...), a directory of PNG/JPEG files (one subfolder per
    label, optionally), or an .npz with arrays `images` and optionally `labels`."""
    format: str
    """auto, idx, folder or npz."""
    idx_splits: dict[str, str]
    """IDX only: split -> file prefix (train: train, test: t10k); `none: PREFIX` declares a file unsplit (hash-split
    like every other source: one file as the whole data set)."""

    def check(self) -> None:
        _one_of("data.format", self.format, ("auto", "idx", "folder", "npz"))
        for split in self.idx_splits:
            _one_of("data.idx_splits (a key)", split, ("train", "test", "none"))


@dataclass(frozen=True)
class ImageValidateParams:
    height: int
    width: int
    channels: int
    on_other_size: str
    """quarantine or resize an image of another size."""
    min_pixel_std: float
    """A (near-)constant image, e.g. all black, is quarantined."""
    max_quarantine_fraction: float

    def check(self) -> None:
        for key in ("height", "width"):
            _at_least(f"validate.{key}", getattr(self, key), 4)
        _one_of("validate.channels", self.channels, (1, 3))
        _one_of("validate.on_other_size", self.on_other_size, ("quarantine", "resize"))
        _at_least("validate.min_pixel_std", self.min_pixel_std, 0)
        _fraction("validate.max_quarantine_fraction", self.max_quarantine_fraction)


@dataclass(frozen=True)
class ImageDatasetParams:
    min_rows_per_class: int
    max_duplicate_rate: float
    max_leak_rate: float
    """Share of valid/test images whose pixels equal a train image's."""
    max_intensity_drift: float
    """Total-variation distance of the pixel-intensity histogram against the last accepted dataset's (0: off)."""
    intensity_shift_p: float
    """Fail when the images' mean intensities in valid (or test) differ from train's more than chance would make
    them with this probability (a two-sample Kolmogorov-Smirnov p-value below it; 0: off)."""
    label_shift_p: float
    """Fail when the classes of valid (or test) are spread unlike train's past chance with this probability (a
    permutation test of the class counts; 0: off; labelled images only)."""

    def check(self) -> None:
        _at_least("dataset.min_rows_per_class", self.min_rows_per_class, 0)
        for key in ("max_duplicate_rate", "max_leak_rate", "max_intensity_drift", "intensity_shift_p", "label_shift_p"):
            _fraction(f"dataset.{key}", getattr(self, key))


@dataclass(frozen=True)
class ImageModelParams:
    family: str
    """bsvae (beta schedule, free bits), vae (the same network, beta 1), vqvae (code grid + prior) or gan."""
    channels: int
    """Width of the first convolution (doubled once)."""
    latent_dim: int
    """Gaussian latent (bsvae, vae) or the generator's noise (gan)."""
    conditional: bool
    """Condition on the class label (every family)."""
    label_prior: str
    """bsvae/vae, conditional: standard N(0, I) or learned N(mu_y, sigma_y), one per class."""
    codebook_size: int
    code_dim: int
    prior_layers: int
    prior_heads: int
    commitment: float
    ema_decay: float
    dead_code_threshold: float

    def check(self) -> None:
        _one_of("model.family", self.family, ("bsvae", "vae", "vqvae", "gan"))
        _one_of("model.label_prior", self.label_prior, ("standard", "learned"))
        for key in ("channels", "latent_dim", "codebook_size", "code_dim", "prior_layers", "prior_heads"):
            _positive(f"model.{key}", getattr(self, key))
        if self.code_dim % self.prior_heads:
            raise ParamsError(f"model.code_dim ({self.code_dim}) must be a multiple of model.prior_heads")
        _fraction("model.ema_decay", self.ema_decay, closed_one=False)
        _at_least("model.commitment", self.commitment, 0)
        _at_least("model.dead_code_threshold", self.dead_code_threshold, 0)


@dataclass(frozen=True)
class ImageTrainParams:
    seed: int
    epochs: int
    max_steps: int
    min_steps: int
    """Train at least this many optimiser steps, repeating epochs when the data is small (0: epochs decide); the
    best weights on valid are kept, so the extra epochs cannot leave a worse model."""
    batch_size: int
    lr: float
    beta_schedule: str
    """bsvae: constant, monotonic or cyclical (the plain vae always trains at beta 1)."""
    beta_max: float
    beta_cycles: int
    beta_warmup_fraction: float
    free_bits: float
    """bsvae: nats per latent dimension below which KL is not penalised."""
    device: str
    precision: str
    threads: int
    grad_clip: float
    """Largest gradient norm (0: no clipping)."""
    launcher: str
    """How dvc.yaml starts the train stage: python3, or e.g. `torchrun --standalone --nproc-per-node 8`."""
    grad_accum: int
    """Micro-batches per optimiser step: batch_size rows are split so that fewer sit in memory at once."""
    compile: bool
    """torch.compile the model (GPU)."""
    patience: int
    """Stop when the validation figure the engine watches has not improved for this many epochs (0: never)."""
    checkpoint_every: int
    """Save the resumable training state at most this many optimiser steps apart (and at each epoch end)."""
    min_checkpoints: int
    """... and at least this many times a run, so that short runs resume too (0: no such floor)."""

    def check(self) -> None:
        _at_least("train.epochs", self.epochs, 1)
        _positive("train.batch_size", self.batch_size)
        _positive("train.lr", self.lr)
        _one_of("train.beta_schedule", self.beta_schedule, ("constant", "monotonic", "cyclical"))
        _positive("train.beta_max", self.beta_max)
        _at_least("train.beta_cycles", self.beta_cycles, 1)
        _fraction("train.beta_warmup_fraction", self.beta_warmup_fraction, open_zero=True)
        _at_least("train.free_bits", self.free_bits, 0)
        check_engine_fields(self)


@dataclass(frozen=True)
class ImageClassifierParams:
    """The small CNN whose features FID/KID use and whose accuracy judges conditional samples."""

    channels: int
    epochs: int
    batch_size: int
    lr: float
    seed: int

    def check(self) -> None:
        _positive("classifier.channels", self.channels)
        _at_least("classifier.epochs", self.epochs, 1)
        _positive("classifier.batch_size", self.batch_size)
        _positive("classifier.lr", self.lr)


@dataclass(frozen=True)
class ImageEvaluateParams:
    iw_samples: int
    max_images: int
    """Test images scored (0: all)."""
    fid_samples: int
    """Generated images compared with as many test images for FID/KID."""
    grid_images: int
    seed: int

    def check(self) -> None:
        _at_least("evaluate.iw_samples", self.iw_samples, 1)
        _at_least("evaluate.max_images", self.max_images, 0)
        _at_least("evaluate.fid_samples", self.fid_samples, 2)
        _at_least("evaluate.grid_images", self.grid_images, 1)


@dataclass(frozen=True)
class ImageGateParams:
    min_baseline_margin: float | None
    """The model must be at least this fraction better than independent pixels counted on train, on the same test
    images: bits/dim for a likelihood family, FID for every family (0.05: 5% lower; 0: merely lower; null: off)."""
    max_bpd: float | None
    """Optional: likelihood models' bits per dimension on test (0 or null: off; its scale depends on the data)."""
    max_fid: float | None
    """Optional: every family's FID against test, in the pipeline classifier's features (0 or null: off)."""
    max_bpd_regression: float
    """Likelihood models: how many bits per dimension above the champion's (same test set) a challenger may be."""
    max_fid_regression: float
    """The GAN: how much above the champion's FID (same test set and classifier) a challenger may be."""

    def check(self) -> None:
        if self.min_baseline_margin is not None and not 0 <= self.min_baseline_margin < 1:
            raise ParamsError(f"gate.min_baseline_margin={self.min_baseline_margin}: a fraction in [0, 1) or null")
        _at_least("gate.max_bpd_regression", self.max_bpd_regression, 0)
        _at_least("gate.max_fid_regression", self.max_fid_regression, 0)


@dataclass(frozen=True)
class ImageParams(ApplicationNames):
    application: str
    kind: str
    data: ImageDataParams
    validate: ImageValidateParams
    split: SplitParams
    dataset: ImageDatasetParams
    model: ImageModelParams
    train: ImageTrainParams
    classifier: ImageClassifierParams
    evaluate: ImageEvaluateParams
    gate: ImageGateParams
    register: RegisterParams
    orchestrate: OrchestrateParams
    profiles: dict[str, dict[str, Any]]


def image_params_from_dict(raw: dict[str, Any], app: str | None = None) -> ImageParams:
    """Build and check one images application's params; errors name the key (images.model.family)."""
    return kind_params_from_dict(raw, app, ImageParams, KIND)


def load_image_params(path: str | Path = PARAMS_FILE, app: str | None = None) -> ImageParams:
    return load_with(image_params_from_dict, path, app)
