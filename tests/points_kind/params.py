"""The toy kind's params: its own sections' dataclasses, the shared split/register/orchestrate ones, the shared
checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.core.params import (
    ApplicationNames,
    OrchestrateParams,
    ParamsError,
    RegisterParams,
    SplitParams,
    check_engine_fields,
    kind_params_from_dict,
)

KIND_NAME = "points_kind.kind"  # what params.yaml's `kind:` says


@dataclass(frozen=True)
class PointsDataParams:
    corpus: str


@dataclass(frozen=True)
class PointsValidateParams:
    max_abs: float
    max_quarantine_fraction: float

    def check(self) -> None:
        if self.max_abs <= 0:
            raise ParamsError("validate.max_abs must be positive")


@dataclass(frozen=True)
class PointsModelParams:
    family: str
    hidden: int
    latent_dim: int

    def check(self) -> None:
        if self.family != "vae":
            raise ParamsError(f"model.family must be vae, got {self.family!r}")


@dataclass(frozen=True)
class PointsTrainParams:
    seed: int
    epochs: int
    max_steps: int
    min_steps: int
    """Train at least this many optimiser steps, repeating epochs when the data is small (0: epochs decide); the
    best weights on valid are kept, so the extra epochs cannot leave a worse model."""
    batch_size: int
    lr: float
    grad_clip: float
    grad_accum: int
    compile: bool
    patience: int
    checkpoint_every: int
    min_checkpoints: int
    device: str
    precision: str
    threads: int
    launcher: str

    def check(self) -> None:
        check_engine_fields(self)


@dataclass(frozen=True)
class PointsEvaluateParams:
    iw_samples: int


@dataclass(frozen=True)
class PointsGateParams:
    max_nll: float | None
    """nats per point (0 or null: off); the model must beat one Gaussian fitted to the train points anyway."""


@dataclass(frozen=True)
class PointsParams(ApplicationNames):
    application: str
    kind: str
    data: PointsDataParams
    validate: PointsValidateParams
    split: SplitParams
    model: PointsModelParams
    train: PointsTrainParams
    evaluate: PointsEvaluateParams
    gate: PointsGateParams
    register: RegisterParams
    orchestrate: OrchestrateParams
    profiles: dict[str, dict[str, Any]]


def points_params_from_dict(raw: dict[str, Any], app: str | None = None) -> PointsParams:
    return kind_params_from_dict(raw, app, PointsParams, KIND_NAME)
