"""Image check stage: per-class counts, intensity, duplicates, leaks across splits, drift of the intensity
histogram against the last accepted dataset (data/<app>/reference/histogram.json). A failed check stops here."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from components.core import atomic
from components.core.entrypoint import stage_main, stage_parser
from components.core.errors import StageError
from components.kinds.images.data.images import failed_image_checks, image_dataset_report
from components.kinds.images.params import load_image_params

log = logging.getLogger(__name__)
REFERENCE_FIGURES = ("intensity_drift",)
"""Figures measured against the accepted data (data/<app>/reference/): in the report, not in the metrics."""


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    for flag in ("--splits", "--metrics", "--report", "--reference"):
        parser.add_argument(flag, required=True)

    def run(args):
        params = load_image_params(args.params, args.app)
        reference = Path(args.reference)
        histogram = json.loads(reference.read_text(encoding="utf-8")) if reference.is_file() else None
        report = image_dataset_report(pd.read_parquet(args.splits), histogram or None)
        failures = failed_image_checks(report, params.dataset)
        atomic.write_json(args.report, {**report, "failures": failures})
        if failures:
            raise StageError(
                f"{params.data.corpus}: dataset checks failed: {'; '.join(failures)} (report: {args.report})"
            )
        # The observed statistics only: drift against the accepted histogram is in the report, so the stages that
        # read these figures rerun when the data changes, not when a registration accepts it.
        atomic.write_json(
            args.metrics,
            {k: v for k, v in report.items() if not isinstance(v, (dict, list)) and k not in REFERENCE_FIGURES},
        )
        for split, classes in report["classes_missing"].items():  # small data: a rare class can miss a split
            if classes:
                log.warning("class(es) with train images but none in %s: %s", split, classes)
        log.info("dataset checks passed: %s", {k: v for k, v in report.items() if k != "intensity_histogram"})

    stage_main("check", run, parser)


if __name__ == "__main__":
    main()
