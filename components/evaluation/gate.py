"""Gate: decide from the evaluation metrics whether a model may be registered.

Each check compares one metric with a threshold from params.yaml; a threshold of 0 or null
switches that check off, and the report says so. The report is written
both for machines (JSON) and for people (Markdown), pass or fail, so a refused model
always comes with the reason it was refused.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

from components.core import atomic
from components.core.errors import StageError
from components.core.image_params import ImageGateParams
from components.core.params import GateParams
from components.core.translation_params import TranslationGateParams


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
        return {"passed": self.passed, "beats_champion_by": self.beats_champion_by, "champion": self.champion,
                "checks": [asdict(c) for c in self.checks]}

    @classmethod
    def from_dict(cls, data: dict) -> "GateReport":
        return cls(passed=data["passed"], checks=[Check(**c) for c in data["checks"]],
                   beats_champion_by=data.get("beats_champion_by"), champion=data.get("champion"))

    def to_markdown(self) -> str:
        lines = [f"# Gate: {'PASSED' if self.passed else 'FAILED'}", "",
                 "| check | metric | value | threshold | result | note |", "|---|---|---|---|---|---|"]
        for c in self.checks:
            threshold = "-" if c.threshold is None else f"{c.op} {c.threshold:.4g}"
            result = "disabled" if c.disabled else "pass" if c.passed else "**FAIL**"
            lines.append(f"| {c.name} | {c.metric} | {c.value:.4g} | {threshold} | {result} | {c.note} |")
        disabled = [c.metric for c in self.checks if c.disabled]
        if disabled:
            lines += ["", f"Disabled (threshold 0 or null in params.yaml): {', '.join(disabled)}."]
        return "\n".join(lines) + "\n"


class GateFailed(StageError):
    def __init__(self, report: GateReport):
        failed = ", ".join(f"{c.metric}={c.value:.4g} (needs {c.op} {c.threshold:.4g})"
                           for c in report.checks if not c.passed and c.threshold is not None)
        super().__init__(f"gate failed: {failed}")
        self.report = report


def _check(name: str, metrics: dict, metric: str, op: str, threshold: float | None, note: str = "",
           zero_disables: bool = True) -> Check:
    if metric not in metrics:
        raise StageError(f"gate: metric {metric!r} missing from the evaluation metrics")
    value = float(metrics[metric])
    if threshold is None or (zero_disables and threshold == 0):
        return Check(name=name, metric=metric, value=value, op=op, threshold=threshold, passed=True, note=note,
                     disabled=True)
    ok = math.isfinite(value) and (value <= threshold if op == "<=" else value >= threshold)
    return Check(name=name, metric=metric, value=value, op=op, threshold=threshold, passed=ok, note=note)


COMPARABLE_LINEAGE = ("data.splits_md5", "tokenizer.md5")


def gate_metrics(metrics: dict, p: GateParams, lineage: dict[str, str] | None = None,
                 champion: Champion | None = None) -> GateReport:
    """Apply every threshold, then the no-regression check against the champion; NaN fails its check."""
    checks = [
        _check("held-out likelihood", metrics, "nll", "<=", p.max_nll),
        _check("held-out perplexity", metrics, "ppl", "<=", p.max_ppl),
    ]
    if metrics.get("latent_units", 1) > 0:  # the LM baseline has no latent to collapse or reconstruct from
        checks += [
            _check("latent in use (KL)", metrics, "kl", ">=", p.min_kl),
            _check("latent in use (mutual information)", metrics, "mutual_information", ">=", p.min_mi),
            _check("latent in use (active units)", metrics, "active_units", ">=", p.min_active_units),
            _check("reconstruction", metrics, "recon_bleu", ">=", p.min_recon_bleu),
        ]
    if "codebook_perplexity" in metrics:  # a VQ model: its codes must not collapse onto a few entries
        checks.append(_check("codebook in use (perplexity)", metrics, "codebook_perplexity", ">=",
                             p.min_codebook_perplexity, f"of {int(metrics.get('codebook_size', 0))} codes"))
    if "control_accuracy" in metrics:  # a conditional model: its text must meet the condition asked for
        checks.append(_check("meets the condition (control accuracy)", metrics, "control_accuracy", ">=",
                             p.min_control_accuracy,
                             f"classifier on real test text: {float(metrics.get('classifier_test_accuracy', 0)):.3g}"))
    beats_by = None
    if champion is not None and p.max_nll_regression is not None:
        same_data = all((lineage or {}).get(k) == champion.lineage.get(k) for k in COMPARABLE_LINEAGE)
        limit = champion.metrics["nll"] + p.max_nll_regression
        if same_data or p.compare_across_data:
            note = f"champion v{champion.version}" + ("" if same_data else " (other data/tokenizer)")
            checks.append(_check("no regression vs champion", metrics, "nll", "<=", limit, note, zero_disables=False))
            beats_by = champion.metrics["nll"] - float(metrics["nll"])
        else:
            checks.append(Check("no regression vs champion", "nll", float(metrics["nll"]), "<=", limit, True,
                                f"skipped: champion v{champion.version} was scored on other data or tokenizer"))
    return GateReport(passed=all(c.passed for c in checks), checks=checks, beats_champion_by=beats_by,
                      champion=champion.version if champion else None)


def translation_gate_metrics(metrics: dict, p: TranslationGateParams, lineage: dict[str, str] | None = None,
                             champion: Champion | None = None) -> GateReport:
    """A translation model: minimum BLEU of its default decoder, then no regression against the champion on the
    same test set (same splits and tokenizer); `beats_champion_by` is in BLEU points."""
    signature = str(metrics.get("bleu_signature", ""))
    checks = [_check("translation quality (sacreBLEU)", metrics, "bleu", ">=", p.min_bleu, signature)]
    beats_by = None
    if champion is not None:
        same_data = all((lineage or {}).get(k) == champion.lineage.get(k) for k in COMPARABLE_LINEAGE)
        limit = champion.metrics["bleu"] - p.max_bleu_regression
        if same_data:
            checks.append(_check("no regression vs champion", metrics, "bleu", ">=", limit,
                                 f"champion v{champion.version}", zero_disables=False))
            beats_by = float(metrics["bleu"]) - champion.metrics["bleu"]
        else:
            checks.append(Check("no regression vs champion", "bleu", float(metrics["bleu"]), ">=", limit, True,
                                f"skipped: champion v{champion.version} was scored on another test set or tokenizer"))
    return GateReport(passed=all(c.passed for c in checks), checks=checks, beats_champion_by=beats_by,
                      champion=champion.version if champion else None)


IMAGE_COMPARABLE_LINEAGE = ("data.splits_md5", "classifier.md5")


def image_gate_metrics(metrics: dict, p: ImageGateParams, lineage: dict[str, str] | None = None,
                       champion: Champion | None = None) -> GateReport:
    """An image model: bits per dimension (likelihood families) and FID in the pipeline classifier's features
    (every family), then no regression against the champion on the same test set and classifier: in bits per
    dimension for a likelihood model, in FID for the GAN; `beats_champion_by` is in those units."""
    likelihood = "bpd" in metrics
    checks = ([_check("held-out likelihood (bits/dim)", metrics, "bpd", "<=", p.max_bpd,
                      f"K={int(metrics.get('iw_samples', 0))}")] if likelihood else [])
    checks.append(_check("sample quality (FID, pipeline classifier)", metrics, "fid", "<=", p.max_fid,
                         f"{int(metrics.get('fid_samples', 0))} samples"))
    beats_by = None
    if champion is not None:
        metric, slack = ("bpd", p.max_bpd_regression) if likelihood else ("fid", p.max_fid_regression)
        same = all((lineage or {}).get(k) == champion.lineage.get(k) for k in IMAGE_COMPARABLE_LINEAGE)
        if same and metric in champion.metrics:
            checks.append(_check("no regression vs champion", metrics, metric, "<=", champion.metrics[metric] + slack,
                                 f"champion v{champion.version}", zero_disables=False))
            beats_by = champion.metrics[metric] - float(metrics[metric])
        else:
            checks.append(Check("no regression vs champion", metric, float(metrics[metric]), "<=", None, True,
                                f"skipped: champion v{champion.version} was scored on another test set, classifier "
                                "or kind of metric"))
    return GateReport(passed=all(c.passed for c in checks), checks=checks, beats_champion_by=beats_by,
                      champion=champion.version if champion else None)


def enforce(report: GateReport) -> GateReport:
    """The report if it passed; GateFailed naming every failed check otherwise (nothing may be registered)."""
    if not report.passed:
        raise GateFailed(report)
    return report


def write_report(report: GateReport, out_dir: str | Path) -> None:
    atomic.write_json(Path(out_dir) / "gate.json", report.to_dict())
    atomic.write_text(Path(out_dir) / "gate.md", report.to_markdown())
