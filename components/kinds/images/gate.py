"""The images kind's gate: better than independent pixels on the same test images (bits per dimension and FID),
optional absolute bounds, then no regression against the champion."""

from __future__ import annotations

from components.evaluation.gate import (
    Champion,
    GateReport,
    beats_baseline,
    check_metric,
    gate_report,
    setting,
    versus_champion,
)
from components.kinds.images.params import ImageGateParams

IMAGE_COMPARABLE_LINEAGE = ("data.splits_md5", "classifier.md5")


def image_gate_metrics(
    metrics: dict, p: ImageGateParams, lineage: dict[str, str] | None = None, champion: Champion | None = None
) -> GateReport:
    """An image model: bits per dimension (likelihood families) and FID in the pipeline classifier's features
    (every family) at least `min_baseline_margin` below independent pixels', within the optional absolute bounds,
    then no regression against the champion on the same test set and classifier: in bits per dimension for a
    likelihood model, in FID for the GAN; `beats_champion_by` is in those units."""
    likelihood = "bpd" in metrics
    checks = []
    if likelihood:
        checks += [
            beats_baseline(
                "likelihood better than independent pixels",
                metrics,
                "bpd",
                "baseline_bpd",
                p.min_baseline_margin,
                "independent pixels, bits/dim",
            ),
            check_metric(
                "held-out likelihood (bits/dim)",
                metrics,
                "bpd",
                "<=",
                p.max_bpd,
                f"K={int(metrics.get('iw_samples', 0))}",
                key=setting("gate.max_bpd", p.max_bpd),
            ),
        ]
    checks += [
        beats_baseline(
            "samples better than independent pixels",
            metrics,
            "fid",
            "baseline_fid",
            p.min_baseline_margin,
            "independent pixels' samples, FID",
        ),
        check_metric(
            "sample quality (FID, pipeline classifier)",
            metrics,
            "fid",
            "<=",
            p.max_fid,
            f"{int(metrics.get('fid_samples', 0))} samples",
            key=setting("gate.max_fid", p.max_fid),
        ),
    ]
    beats_by = None
    if champion is not None:  # in bits/dim for a likelihood model, in FID for the GAN
        metric, slack, name = (
            ("bpd", p.max_bpd_regression, "max_bpd_regression")
            if likelihood
            else ("fid", p.max_fid_regression, "max_fid_regression")
        )
        key = setting(f"gate.{name}", slack)
        check, beats_by = versus_champion(
            metrics, champion, lineage, IMAGE_COMPARABLE_LINEAGE, metric, "<=", slack, key
        )
        checks.append(check)
    return gate_report(checks, champion, beats_by)
