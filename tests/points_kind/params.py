"""The toy kind's params: its own sections declared in the schema's terms, the shared split/register/orchestrate
sections and the engine's train knobs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from components.core.params import ApplicationParams, EngineParams, SplitParams, kind_params_from_dict
from components.core.schema import Fraction, NonNegative, Positive, PositiveFloat, Section

KIND_NAME = "points_kind.kind"  # what params.yaml's `kind:` says


@dataclass(frozen=True)
class PointsDataParams(Section):
    corpus: str


@dataclass(frozen=True)
class PointsValidateParams(Section):
    max_abs: PositiveFloat
    max_quarantine_fraction: Fraction


@dataclass(frozen=True)
class PointsModelParams(Section):
    family: Literal["vae"]
    hidden: Positive
    latent_dim: Positive


@dataclass(frozen=True)
class PointsEvaluateParams(Section):
    iw_samples: Positive


@dataclass(frozen=True)
class PointsGateParams(Section):
    max_nll: NonNegative | None
    """nats per point (0 or null: off); the model must beat one Gaussian fitted to the train points anyway."""


@dataclass(frozen=True)
class PointsParams(ApplicationParams):
    data: PointsDataParams
    validate: PointsValidateParams
    split: SplitParams
    model: PointsModelParams
    train: EngineParams
    evaluate: PointsEvaluateParams
    gate: PointsGateParams


def points_params_from_dict(raw: dict[str, Any], app: str | None = None) -> PointsParams:
    return kind_params_from_dict(raw, app, PointsParams, KIND_NAME)
