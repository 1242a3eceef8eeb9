"""Parallel check stage: dataset checks over all pairs (length ratios, duplicates, leaks, OOV per side).

The checks: components/data/parallel_checks.py. A failed check stops the pipeline before tokenization.
"""

from __future__ import annotations

import logging

import pandas as pd

from components.core import atomic
from components.core.entrypoint import stage_main, stage_parser
from components.core.errors import StageError
from components.core.translation_params import load_translation_params
from components.data.parallel_checks import dataset_report, failed_checks

log = logging.getLogger(__name__)


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    for flag in ("--splits", "--metrics", "--report"):
        parser.add_argument(flag, required=True)

    def run(args):
        params = load_translation_params(args.params, args.app)
        report = dataset_report(pd.read_parquet(args.splits))
        failures = failed_checks(report, params.dataset)
        atomic.write_json(args.report, {**report, "failures": failures})
        if failures:
            raise StageError(f"{params.data.corpus}: dataset checks failed: {'; '.join(failures)} (report: {args.report})")
        atomic.write_json(args.metrics, {k: v for k, v in report.items() if not isinstance(v, dict)})
        log.info("dataset checks passed: %s", report)

    stage_main("check", run, parser)


if __name__ == "__main__":
    main()
