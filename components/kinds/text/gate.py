"""The text kind's gate: held-out likelihood, a latent in use, a codebook in use, the condition met, and no
regression against the champion on the same data and tokenizer."""

from __future__ import annotations

from components.evaluation.gate import Champion, Check, GateReport, check_metric
from components.kinds.text.params import GateParams

COMPARABLE_LINEAGE = ("data.splits_md5", "tokenizer.md5")


def gate_metrics(metrics: dict, p: GateParams, lineage: dict[str, str] | None = None,
                 champion: Champion | None = None) -> GateReport:
    """Apply every threshold, then the no-regression check against the champion; NaN fails its check."""
    checks = [
        check_metric("held-out likelihood", metrics, "nll", "<=", p.max_nll),
        check_metric("held-out perplexity", metrics, "ppl", "<=", p.max_ppl),
    ]
    if metrics.get("latent_units", 1) > 0:  # the LM baseline has no latent to collapse or reconstruct from
        checks += [
            check_metric("latent in use (KL)", metrics, "kl", ">=", p.min_kl),
            check_metric("latent in use (mutual information)", metrics, "mutual_information", ">=", p.min_mi),
            check_metric("latent in use (active units)", metrics, "active_units", ">=", p.min_active_units),
            check_metric("reconstruction", metrics, "recon_bleu", ">=", p.min_recon_bleu),
        ]
    if "codebook_perplexity" in metrics:  # a VQ model: its codes must not collapse onto a few entries
        checks.append(check_metric("codebook in use (perplexity)", metrics, "codebook_perplexity", ">=",
                             p.min_codebook_perplexity, f"of {int(metrics.get('codebook_size', 0))} codes"))
    if "control_accuracy" in metrics:  # a conditional model: its text must meet the condition asked for
        checks.append(check_metric("meets the condition (control accuracy)", metrics, "control_accuracy", ">=",
                             p.min_control_accuracy,
                             f"classifier on real test text: {float(metrics.get('classifier_test_accuracy', 0)):.3g}"))
    beats_by = None
    if champion is not None and p.max_nll_regression is not None:
        same_data = all((lineage or {}).get(k) == champion.lineage.get(k) for k in COMPARABLE_LINEAGE)
        limit = champion.metrics["nll"] + p.max_nll_regression
        if same_data or p.compare_across_data:
            note = f"champion v{champion.version}" + ("" if same_data else " (other data/tokenizer)")
            checks.append(check_metric("no regression vs champion", metrics, "nll", "<=", limit, note, zero_disables=False))
            beats_by = champion.metrics["nll"] - float(metrics["nll"])
        else:
            checks.append(Check("no regression vs champion", "nll", float(metrics["nll"]), "<=", limit, True,
                                f"skipped: champion v{champion.version} was scored on other data or tokenizer"))
    return GateReport(passed=all(c.passed for c in checks), checks=checks, beats_champion_by=beats_by,
                      champion=champion.version if champion else None)
