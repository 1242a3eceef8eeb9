"""The translation kind's gate: better than copying the source, an optional BLEU floor, then no regression
against the champion on the same test set."""

from __future__ import annotations

from components.evaluation.gate import Champion, Check, GateReport, check_metric, metric_value, setting
from components.kinds.translation.params import TranslationGateParams

COMPARABLE_LINEAGE = ("data.splits_md5", "tokenizer.md5")
"""A champion scored on another test set or tokenizer is not compared (its BLEU means something else)."""


def translation_gate_metrics(
    metrics: dict, p: TranslationGateParams, lineage: dict[str, str] | None = None, champion: Champion | None = None
) -> GateReport:
    """A translation model: its default decoder's BLEU at least `min_baseline_margin` points above copying the
    source (`baseline_bleu`), at least `min_bleu` if set, then no regression against the champion on the same
    test set (same splits and tokenizer); `beats_champion_by` is in BLEU points."""
    signature = str(metrics.get("bleu_signature", ""))
    baseline = metric_value(metrics, "baseline_bleu")
    checks = [
        check_metric(
            "better than copying the source",
            metrics,
            "bleu",
            ">=",
            None if p.min_baseline_margin is None else baseline + p.min_baseline_margin,
            f"copying the source: {baseline:.4g} BLEU",
            zero_disables=False,
            key=setting("gate.min_baseline_margin", p.min_baseline_margin),
        ),
        check_metric(
            "translation quality (sacreBLEU)",
            metrics,
            "bleu",
            ">=",
            p.min_bleu,
            signature,
            key=setting("gate.min_bleu", p.min_bleu),
        ),
    ]
    beats_by = None
    if champion is not None:
        same_data = all((lineage or {}).get(k) == champion.lineage.get(k) for k in COMPARABLE_LINEAGE)
        limit = champion.metrics["bleu"] - p.max_bleu_regression
        key = setting("gate.max_bleu_regression", p.max_bleu_regression)
        if same_data:
            checks.append(
                check_metric(
                    "no regression vs champion",
                    metrics,
                    "bleu",
                    ">=",
                    limit,
                    f"champion v{champion.version}",
                    zero_disables=False,
                    key=key,
                )
            )
            beats_by = float(metrics["bleu"]) - champion.metrics["bleu"]
        else:
            checks.append(
                Check(
                    "no regression vs champion",
                    "bleu",
                    float(metrics["bleu"]),
                    ">=",
                    limit,
                    True,
                    f"skipped: champion v{champion.version} was scored on another test set or tokenizer",
                    key=key,
                )
            )
    return GateReport(
        passed=all(c.passed for c in checks),
        checks=checks,
        beats_champion_by=beats_by,
        champion=champion.version if champion else None,
    )
