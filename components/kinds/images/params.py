"""The images kind's params (`kind: images`): the schema of an image application's sections; split, register,
orchestrate and the engine's knobs are components/core/params.py's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from components.core.params import (
    PARAMS_FILE,
    ApplicationParams,
    EngineParams,
    SplitParams,
    kind_params_from_dict,
    load_with,
)
from components.core.schema import (
    Count,
    Fraction,
    NonNegative,
    ParamsError,
    Positive,
    PositiveFloat,
    Range,
    Rate,
    Section,
)

KIND = "images"


@dataclass(frozen=True)
class ImageDataParams(Section):
    corpus: str
    """A directory of IDX files (train-images-idx3-ubyte.gz ...), a directory of PNG/JPEG files (one subfolder per
    label, optionally), or an .npz with arrays `images` and optionally `labels`."""
    format: Literal["auto", "idx", "folder", "npz"]
    """auto: by what `corpus` is."""
    idx_splits: dict[Literal["train", "test", "none"], str]
    """IDX only: split -> file prefix (train: train, test: t10k); `none: PREFIX` declares a file unsplit (hash-split
    like every other source: one file as the whole data set)."""


@dataclass(frozen=True)
class ImageValidateParams(Section):
    height: Annotated[int, Range(ge=4)]
    """Image height in pixels every image must have (or is resized to)."""
    width: Annotated[int, Range(ge=4)]
    """Image width in pixels."""
    channels: Literal[1, 3]
    """1 (greyscale) or 3 (RGB)."""
    on_other_size: Literal["quarantine", "resize"]
    """quarantine or resize an image of another size."""
    min_pixel_std: NonNegative
    """A (near-)constant image, e.g. all black, is quarantined."""
    max_quarantine_fraction: Fraction
    """Fail the stage instead of training on the rest when more than this is quarantined."""


@dataclass(frozen=True)
class ImageDatasetParams(Section):
    min_rows_per_class: Count
    """Every class needs at least this many train images (0: no check)."""
    max_duplicate_rate: Fraction
    """Share of train images whose pixels repeat an earlier one."""
    max_leak_rate: Fraction
    """Share of valid/test images whose pixels equal a train image's."""
    max_intensity_drift: Fraction
    """Total-variation distance of the pixel-intensity histogram against the last accepted dataset's (0: off)."""
    intensity_shift_p: Fraction
    """Fail when the images' mean intensities in valid (or test) differ from train's more than chance would make them
    with this probability (a two-sample Kolmogorov-Smirnov p-value below it; 0: off)."""
    label_shift_p: Fraction
    """Fail when the classes of valid (or test) are spread unlike train's past chance with this probability (a
    permutation test of the class counts; 0: off; labelled images only)."""


@dataclass(frozen=True)
class ImageModelParams(Section):
    family: Literal["bsvae", "vae", "vqvae", "gan"]
    """bsvae (beta schedule, free bits), vae (the same network, beta 1), vqvae (code grid + prior) or gan."""
    channels: Positive
    """Width of the first convolution (doubled once)."""
    latent_dim: Positive
    """Gaussian latent (bsvae, vae) or the generator's noise (gan)."""
    conditional: bool
    """Condition on the class label (every family)."""
    label_prior: Literal["standard", "learned"]
    """bsvae/vae, conditional: standard N(0, I) or learned N(mu_y, sigma_y), one per class."""
    codebook_size: Positive
    """vqvae: codes of the 7x7 code grid."""
    code_dim: Positive
    """vqvae: width of each code vector."""
    prior_layers: Positive
    """vqvae: layers of the causal Transformer prior over the grid."""
    prior_heads: Positive
    """vqvae: its attention heads; code_dim must be a multiple."""
    commitment: NonNegative
    """vqvae: weight of the commitment loss."""
    ema_decay: Rate
    """vqvae: decay of the codebook's moving averages."""
    dead_code_threshold: NonNegative
    """vqvae: reseed codes whose moving-average use falls below this."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.code_dim % self.prior_heads:
            raise ParamsError(f"code_dim ({self.code_dim}) must be a multiple of model.prior_heads")


@dataclass(frozen=True)
class ImageTrainParams(EngineParams):
    beta_schedule: Literal["constant", "monotonic", "cyclical"]
    """bsvae: constant, monotonic or cyclical (the plain vae always trains at beta 1)."""
    beta_max: PositiveFloat
    """bsvae: largest KL weight beta the schedule reaches."""
    beta_cycles: Positive
    """bsvae, cyclical: annealing cycles over the run."""
    beta_warmup_fraction: Annotated[float, Range(gt=0, le=1)]
    """bsvae: share of each cycle spent raising beta to beta_max."""
    free_bits: NonNegative
    """bsvae: nats per latent dimension below which KL is not penalised."""


@dataclass(frozen=True)
class ImageClassifierParams(Section):
    """The small CNN whose features FID/KID use and whose accuracy judges conditional samples."""

    channels: Positive
    """Width of its first convolution."""
    epochs: Positive
    """Passes over the train images."""
    batch_size: Positive
    """Images per step."""
    lr: PositiveFloat
    """Learning rate (Adam)."""
    seed: int
    """Seeds initialisation and batching."""


@dataclass(frozen=True)
class ImageEvaluateParams(Section):
    iw_samples: Positive
    """Importance samples per test image for the likelihood bound (500 for reported figures)."""
    max_images: Count
    """Test images scored (0: all)."""
    fid_samples: Annotated[int, Range(ge=2)]
    """Generated images compared with as many test images for FID/KID."""
    grid_images: Positive
    """Samples drawn into reports/<app>/samples.png."""
    seed: int
    """Seeds sampling: reruns give the same figures."""


@dataclass(frozen=True)
class ImageGateParams(Section):
    min_baseline_margin: Rate | None
    """The model must be at least this fraction better than independent pixels counted on train, on the same test
    images: bits/dim for a likelihood family, FID for every family (0.05: 5% lower; 0: merely lower; null: off)."""
    max_bpd: NonNegative | None
    """Optional: likelihood models' bits per dimension on test (0 or null: off; its scale depends on the data)."""
    max_fid: NonNegative | None
    """Optional: every family's FID against test, in the pipeline classifier's features (0 or null: off)."""
    max_bpd_regression: NonNegative
    """Likelihood models: how many bits per dimension above the champion's (same test set) a challenger may be."""
    max_fid_regression: NonNegative
    """The GAN: how much above the champion's FID (same test set and classifier) a challenger may be."""


@dataclass(frozen=True)
class ImageParams(ApplicationParams):
    """One image application's parameters plus the shared orchestrate section."""

    data: ImageDataParams
    validate: ImageValidateParams
    split: SplitParams
    dataset: ImageDatasetParams
    model: ImageModelParams
    train: ImageTrainParams
    classifier: ImageClassifierParams
    evaluate: ImageEvaluateParams
    gate: ImageGateParams


def image_params_from_dict(raw: dict[str, Any], app: str | None = None) -> ImageParams:
    """Build and check one images application's params; errors name the key (images.model.family)."""
    return kind_params_from_dict(raw, app, ImageParams, KIND)


def load_image_params(path: str | Path = PARAMS_FILE, app: str | None = None) -> ImageParams:
    return load_with(image_params_from_dict, path, app)
