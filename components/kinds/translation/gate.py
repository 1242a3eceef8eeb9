"""The translation kind's gate: better than copying the source, an optional BLEU floor, then no regression
against the champion on the same test set."""

from __future__ import annotations

from components.evaluation.gate import (
    Champion,
    GateReport,
    check_metric,
    gate_report,
    metric_value,
    setting,
    versus_champion,
)
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
        key = setting("gate.max_bleu_regression", p.max_bleu_regression)
        check, beats_by = versus_champion(
            metrics, champion, lineage, COMPARABLE_LINEAGE, "bleu", ">=", p.max_bleu_regression, key
        )
        checks.append(check)
    return gate_report(checks, champion, beats_by)
