"""Parallel check stage: dataset checks over all pairs (length ratios, duplicates, leaks, OOV per side).

The checks: components/kinds/translation/data/checks.py. A failed check stops the pipeline before tokenization.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from components.core import atomic
from components.core.entrypoint import stage_main, stage_parser
from components.core.errors import StageError
from components.kinds.translation.data.checks import SIDES, dataset_report, failed_checks
from components.kinds.translation.params import load_translation_params

log = logging.getLogger(__name__)


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    for flag in ("--splits", "--metrics", "--report"):
        parser.add_argument(flag, required=True)
    parser.add_argument(
        "--reference-dir",
        required=True,
        help="the last accepted data's vocabulary per side (vocab.source.txt, vocab.target.txt; "
        "empty files: none accepted yet)",
    )

    def run(args):
        params = load_translation_params(args.params, args.app)
        report = dataset_report(pd.read_parquet(args.splits), read_reference(Path(args.reference_dir)))
        failures = failed_checks(report, params.dataset)
        atomic.write_json(args.report, {**report, "failures": failures})
        if failures:
            raise StageError(
                f"{params.data.corpus}: dataset checks failed: {'; '.join(failures)} (report: {args.report})"
            )
        # The observed statistics only: drift against the accepted data is in the report, so downstream stages rerun
        # when the data changes, not when a registration accepts it.
        atomic.write_json(
            args.metrics,
            {k: v for k, v in report.items() if not isinstance(v, dict) and not k.endswith("_vs_accepted")},
        )
        log.info("dataset checks passed: %s", report)

    stage_main("check", run, parser)


def read_reference(directory: Path) -> dict[str, set[str]] | None:
    """The accepted vocabulary per side, or None while nothing has been accepted (empty or missing files)."""
    vocab = {}
    for side in SIDES:
        path = directory / f"vocab.{side}.txt"
        words = path.read_text(encoding="utf-8").split() if path.is_file() else []
        vocab[side] = set(words)
    return vocab if all(vocab.values()) else None


if __name__ == "__main__":
    main()
