"""Gate: decide from the evaluation metrics whether a model may be registered.

Each check compares one metric with a threshold from params.yaml. The report is written
both for machines (JSON) and for people (Markdown), pass or fail, so a refused model
always comes with the reason it was refused.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

from components import atomic
from components.cli import StageError, stage_main, stage_parser
from components.params import GateParams, load_params


@dataclass(frozen=True)
class Check:
    name: str
    metric: str
    value: float
    op: str  # "<=" or ">="
    threshold: float
    passed: bool


@dataclass(frozen=True)
class GateReport:
    passed: bool
    checks: list[Check]

    def to_dict(self) -> dict:
        return {"passed": self.passed, "checks": [asdict(c) for c in self.checks]}

    def to_markdown(self) -> str:
        lines = [f"# Gate: {'PASSED' if self.passed else 'FAILED'}", "",
                 "| check | metric | value | threshold | result |", "|---|---|---|---|---|"]
        for c in self.checks:
            lines.append(f"| {c.name} | {c.metric} | {c.value:.4g} | {c.op} {c.threshold:.4g} | "
                         f"{'pass' if c.passed else '**FAIL**'} |")
        return "\n".join(lines) + "\n"


class GateFailed(StageError):
    def __init__(self, report: GateReport):
        failed = ", ".join(f"{c.metric}={c.value:.4g} (needs {c.op} {c.threshold:.4g})"
                           for c in report.checks if not c.passed)
        super().__init__(f"gate failed: {failed}")
        self.report = report


def _check(name: str, metrics: dict, metric: str, op: str, threshold: float) -> Check:
    if metric not in metrics:
        raise StageError(f"gate: metric {metric!r} missing from the evaluation metrics")
    value = float(metrics[metric])
    ok = math.isfinite(value) and (value <= threshold if op == "<=" else value >= threshold)
    return Check(name=name, metric=metric, value=value, op=op, threshold=threshold, passed=ok)


def gate_metrics(metrics: dict, p: GateParams) -> GateReport:
    """Apply every threshold; a NaN or infinite metric fails its check."""
    checks = [
        _check("held-out likelihood", metrics, "nll", "<=", p.max_nll),
        _check("held-out perplexity", metrics, "ppl", "<=", p.max_ppl),
        _check("latent in use (KL)", metrics, "kl", ">=", p.min_kl),
        _check("latent in use (active units)", metrics, "active_units", ">=", p.min_active_units),
    ]
    return GateReport(passed=all(c.passed for c in checks), checks=checks)


def write_report(report: GateReport, out_dir: str | Path) -> None:
    atomic.write_json(Path(out_dir) / "gate.json", report.to_dict())
    atomic.write_text(Path(out_dir) / "gate.md", report.to_markdown())


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    parser.add_argument("--metrics", default="metrics/eval.json")
    parser.add_argument("--out-dir", default="reports")

    def run(args):
        p = load_params(args.params).gate
        path = Path(args.metrics)
        if not path.is_file():
            raise StageError(f"{path}: evaluation metrics not found (run the evaluate stage)")
        report = gate_metrics(json.loads(path.read_text(encoding="utf-8")), p)
        write_report(report, args.out_dir)
        print(report.to_markdown())
        if not report.passed:
            raise GateFailed(report)

    stage_main("gate", run, parser)


if __name__ == "__main__":
    main()
