"""A fourth kind, defined only here: 2-D points from a Gaussian mixture and a tiny VAE. params.yaml names it
(`kind: points_kind.kind`) and the shared code (engine, quarantine, split, flow, gate, registry, serving) runs it
without an edit to any shared module."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from components.applications.base import Application
from components.applications.kind import Kind
from components.evaluation.gate import GateReport, check_metric

PYFUNC = Path(__file__).resolve().parent / "pyfunc.py"


@dataclass(frozen=True)
class PointsApplication(Application):
    def lineage_flags(self) -> dict[str, tuple[str, str]]:
        return {"data.splits_md5": ("split", "--out"), "model.md5": ("train", "--out-dir")}


class PointsKind(Kind):
    name = "points"

    def params_from_dict(self, raw, app):
        from points_kind.params import points_params_from_dict

        return points_params_from_dict(raw, app)

    def application(self, name: str) -> PointsApplication:
        return PointsApplication(
            name=name,
            description="2-D points",
            steps=("ingest", "validate", "split", "train", "evaluate"),
            families=("vae",),
        )

    def gate(self, metrics, params, lineage=None, champion=None):
        checks = [
            check_metric("held-out likelihood", metrics, "nll", "<=", params.max_nll),
            check_metric(
                "better than one Gaussian", metrics, "nll", "<=", float(metrics["baseline_nll"]), zero_disables=False
            ),
        ]
        return GateReport(
            passed=all(c.passed for c in checks), checks=checks, champion=champion.version if champion else None
        )

    def served_model(self, workspace: Path, app, params, weights_sha256: str) -> dict:
        import pandas as pd
        from mlflow.models import infer_signature

        example = pd.DataFrame({"n": [3]})
        return {
            "python_model": str(PYFUNC),
            "artifacts": {"model_dir": str(app.model_dir(workspace, params.model.family))},
            "model_config": {"weights_sha256": weights_sha256},
            "signature": infer_signature(example, pd.DataFrame({"input": [0], "x": [0.0], "y": [0.0]})),
            "input_example": example,
        }

    def model_card(self, workspace: Path, app, name, params, metrics, lineage, commit) -> str:
        return (
            f"# {name}\n\nA VAE over 2-D points: NLL {metrics['nll']:.3f} nats "
            f"(one Gaussian: {metrics['baseline_nll']:.3f}).\n"
        )


KIND = PointsKind()
