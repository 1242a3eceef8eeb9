"""Gate: decide from the evaluation metrics whether a model may be registered.

Each check compares one metric with a threshold from params.yaml; a threshold of 0 or null
switches that check off, and the report says so. Thresholds that must hold on any data are relative: every
kind's evaluate stage scores a trivial baseline on the same test split (a unigram LM, independent pixels,
copying the source), and the model must beat it by `gate.min_baseline_margin`; absolute thresholds tuned on one
corpus are optional. The report is written both for machines (JSON) and for people (Markdown), pass or fail, so
a refused model always comes with the reason it was refused and the params.yaml key that refused it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

from components.core import atomic
from components.core.errors import StageError


@dataclass(frozen=True)
class Check:
    name: str
    metric: str
    value: float
    op: str  # "<=" or ">="
    threshold: float | None
    passed: bool
    note: str = ""
    disabled: bool = False
    """Its threshold is 0 or null: listed in the report, never failing."""
    key: str = ""
    """The params.yaml setting that governs it, with its value (e.g. `gate.max_nll=80.0`)."""


@dataclass(frozen=True)
class Champion:
    """The model holding the `champion` alias, as the gate needs to see it."""

    version: str
    metrics: dict[str, float]
    lineage: dict[str, str]


@dataclass(frozen=True)
class GateReport:
    passed: bool
    checks: list[Check]
    beats_champion_by: float | None = None
    """Champion NLL minus candidate NLL (nats) when they were compared; None otherwise."""
    champion: str | None = None
    """Version holding @champion when the gate ran; None if there was none."""

    def to_dict(self) -> dict:
        return {
            "passed": self.passed,
            "beats_champion_by": self.beats_champion_by,
            "champion": self.champion,
            "checks": [asdict(c) for c in self.checks],
        }

    @classmethod
    def from_dict(cls, data: dict) -> GateReport:
        return cls(
            passed=data["passed"],
            checks=[Check(**c) for c in data["checks"]],
            beats_champion_by=data.get("beats_champion_by"),
            champion=data.get("champion"),
        )

    def to_markdown(self) -> str:
        lines = [
            f"# Gate: {'PASSED' if self.passed else 'FAILED'}",
            "",
            "| check | metric | value | threshold | setting | result | note |",
            "|---|---|---|---|---|---|---|",
        ]
        for c in self.checks:
            threshold = "-" if c.threshold is None else f"{c.op} {c.threshold:.4g}"
            result = "disabled" if c.disabled else "pass" if c.passed else "**FAIL**"
            lines.append(f"| {c.name} | {c.metric} | {c.value:.4g} | {threshold} | {c.key} | {result} | {c.note} |")
        disabled = [c.metric for c in self.checks if c.disabled]
        if disabled:
            lines += ["", f"Disabled (threshold 0 or null in params.yaml): {', '.join(disabled)}."]
        return "\n".join(lines) + "\n"


class GateFailed(StageError):
    def __init__(self, report: GateReport):
        failed = "; ".join(
            f"{c.name}: {c.metric} {c.value:.4g} (needs {c.op} {c.threshold:.4g}"
            + (f", {c.key}" if c.key else "")
            + ")"
            for c in report.checks
            if not c.passed and c.threshold is not None
        )
        super().__init__(f"gate failed: {failed}")
        self.report = report


def metric_value(metrics: dict, metric: str) -> float:
    if metric not in metrics:
        raise StageError(f"gate: metric {metric!r} missing from the evaluation metrics (rerun the evaluate stage)")
    return float(metrics[metric])


def check_metric(
    name: str,
    metrics: dict,
    metric: str,
    op: str,
    threshold: float | None,
    note: str = "",
    zero_disables: bool = True,
    key: str = "",
) -> Check:
    value = metric_value(metrics, metric)
    if threshold is None or (zero_disables and threshold == 0):
        return Check(
            name=name,
            metric=metric,
            value=value,
            op=op,
            threshold=threshold,
            passed=True,
            note=note,
            disabled=True,
            key=key,
        )
    ok = math.isfinite(value) and (value <= threshold if op == "<=" else value >= threshold)
    return Check(name=name, metric=metric, value=value, op=op, threshold=threshold, passed=ok, note=note, key=key)


def setting(section_key: str, value) -> str:
    """`gate.max_nll=80.0`: how a check names the setting that governs it."""
    return f"{section_key}={'null' if value is None else value}"


def beats_baseline(name: str, metrics: dict, metric: str, baseline: str, margin: float | None, what: str) -> Check:
    """A lower-is-better metric (NLL, bits/dim, FID) at least `margin` (a fraction) below the trivial baseline's
    on the same test split: value <= baseline x (1 - margin). Null switches it off; 0 asks only to beat it."""
    key = setting("gate.min_baseline_margin", margin)
    if margin is None and baseline not in metrics:  # switched off: metrics from before baselines still gate
        return check_metric(name, metrics, metric, "<=", None, f"{what}: not scored", key=key)
    reference = metric_value(metrics, baseline)
    threshold = None if margin is None else reference * (1 - margin)
    return check_metric(
        name, metrics, metric, "<=", threshold, f"{what}: {reference:.4g}", zero_disables=False, key=key
    )


def versus_champion(
    metrics: dict,
    champion: Champion,
    lineage: dict[str, str] | None,
    comparable: tuple[str, ...],
    metric: str,
    op: str,
    slack: float,
    key: str,
    across_data: bool = False,
) -> tuple[Check, float | None]:
    """The no-regression check against the champion, the same for every kind: `metric` (lower is better for "<=",
    higher for ">=") within `slack` of the champion's, when both were scored on the same data (the `comparable`
    lineage tags agree: same splits and tokenizer or classifier) or `across_data` says compare anyway; a skipped,
    passing check otherwise. With it, by how much the candidate beats the champion (None when not compared)."""
    same_data = all((lineage or {}).get(k) == champion.lineage.get(k) for k in comparable)
    scored = metric in champion.metrics
    limit = None
    if scored:
        limit = champion.metrics[metric] + slack if op == "<=" else champion.metrics[metric] - slack
    if scored and (same_data or across_data):
        note = f"champion v{champion.version}" + ("" if same_data else " (scored on other data)")
        check = check_metric(
            "no regression vs champion", metrics, metric, op, limit, note, zero_disables=False, key=key
        )
        value, best = float(metrics[metric]), champion.metrics[metric]
        return check, (best - value if op == "<=" else value - best)
    skipped = Check(
        "no regression vs champion",
        metric,
        metric_value(metrics, metric),
        op,
        limit,
        True,
        f"skipped: champion v{champion.version} was scored on other data ({', '.join(comparable)}) "
        + ("" if scored else f"or has no {metric}"),
        key=key,
    )
    return skipped, None


def gate_report(checks: list[Check], champion: Champion | None = None, beats_champion_by: float | None = None):
    """Every kind's report: passed when every check did, with the champion it was held against."""
    return GateReport(
        passed=all(c.passed for c in checks),
        checks=checks,
        beats_champion_by=beats_champion_by,
        champion=champion.version if champion else None,
    )


def enforce(report: GateReport) -> GateReport:
    """The report if it passed; GateFailed naming every failed check otherwise (nothing may be registered)."""
    if not report.passed:
        raise GateFailed(report)
    return report


def write_report(report: GateReport, out_dir: str | Path) -> None:
    atomic.write_json(Path(out_dir) / "gate.json", report.to_dict())
    atomic.write_text(Path(out_dir) / "gate.md", report.to_markdown())
