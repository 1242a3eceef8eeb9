"""The text kind's gate: better than a unigram LM on the same test sentences, a latent in use, a codebook in use,
the condition met, and no regression against the champion on the same data and tokenizer. Absolute NLL and
perplexity bounds are optional (they depend on the corpus's sentence length)."""

from __future__ import annotations

from components.evaluation.gate import (
    Champion,
    Check,
    GateReport,
    beats_baseline,
    check_metric,
    gate_report,
    setting,
    versus_champion,
)
from components.kinds.text.params import GateParams

COMPARABLE_LINEAGE = ("data.splits_md5", "tokenizer.md5")


def gate_metrics(
    metrics: dict, p: GateParams, lineage: dict[str, str] | None = None, champion: Champion | None = None
) -> GateReport:
    """Apply every threshold, then the no-regression check against the champion; NaN fails its check."""

    def bound(name: str, metric: str, op: str, key: str, note: str = "") -> Check:
        value = getattr(p, key)
        return check_metric(name, metrics, metric, op, value, note, key=setting(f"gate.{key}", value))

    checks = [
        beats_baseline(
            "better than a unigram LM",
            metrics,
            "nll",
            "baseline_nll",
            p.min_baseline_margin,
            "unigram LM on the same test sentences",
        ),
        bound("held-out likelihood", "nll", "<=", "max_nll"),
        bound("held-out perplexity", "ppl", "<=", "max_ppl"),
    ]
    if metrics.get("latent_units", 1) > 0:  # the LM baseline has no latent to collapse or reconstruct from
        checks += [
            bound("latent in use (KL)", "kl", ">=", "min_kl"),
            bound("latent in use (mutual information)", "mutual_information", ">=", "min_mi"),
            bound("latent in use (active units)", "active_units", ">=", "min_active_units"),
            bound("reconstruction", "recon_bleu", ">=", "min_recon_bleu"),
        ]
    if "codebook_perplexity" in metrics:  # a VQ model: its codes must not collapse onto a few entries
        checks.append(
            bound(
                "codebook in use (perplexity)",
                "codebook_perplexity",
                ">=",
                "min_codebook_perplexity",
                f"of {int(metrics.get('codebook_size', 0))} codes",
            )
        )
    if "control_accuracy" in metrics:  # a conditional model: its text must meet the condition asked for
        ceiling = float(metrics.get("classifier_test_accuracy", 0))
        note = f"classifier on real test text: {ceiling:.3g}"
        checks += [
            check_metric(
                "meets the condition (vs the classifier on real text)",
                metrics,
                "control_accuracy",
                ">=",
                None if p.min_control_ratio is None else p.min_control_ratio * ceiling,
                note,
                zero_disables=False,
                key=setting("gate.min_control_ratio", p.min_control_ratio),
            ),
            bound("meets the condition (control accuracy)", "control_accuracy", ">=", "min_control_accuracy", note),
        ]
    beats_by = None
    if champion is not None and p.max_nll_regression is not None:
        key = setting("gate.max_nll_regression", p.max_nll_regression)
        check, beats_by = versus_champion(
            metrics,
            champion,
            lineage,
            COMPARABLE_LINEAGE,
            "nll",
            "<=",
            p.max_nll_regression,
            key,
            p.compare_across_data,
        )
        checks.append(check)
    return gate_report(checks, champion, beats_by)
