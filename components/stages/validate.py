"""Validate stage: the pandera row contract splits the corpus into kept and quarantined rows.

The contract and its quarantine reasons: components/data/validate.py.
"""

from __future__ import annotations

import logging

import pandas as pd

from components.core import atomic
from components.core.entrypoint import stage_main, stage_parser
from components.core.errors import StageError
from components.core.params import load_params
from components.data.validate import quarantine_rows, summarize

log = logging.getLogger(__name__)


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--quarantine", required=True)
    parser.add_argument("--metrics", required=True)

    def run(args):
        params = load_params(args.params, args.app)
        p = params.validate
        frame = pd.read_parquet(args.corpus)
        kept, quarantined = quarantine_rows(frame, p, params.data.require_label)
        summary = summarize(kept, quarantined)
        atomic.write_parquet(args.quarantine, quarantined)
        atomic.write_json(args.metrics, summary)
        log.info("rows in %d = kept %d + quarantined %d %s", summary["rows_in"], summary["rows_kept"],
                 summary["rows_quarantined"], summary["quarantined_by_check"])
        fraction = len(quarantined) / len(frame)
        if fraction > p.max_quarantine_fraction:
            # Named after the user's corpus (data.corpus), not this stage's intermediate table.
            raise StageError(f"{params.data.corpus}: {len(quarantined)} of {len(frame)} rows ({fraction:.1%}) "
                             "quarantined, "
                             f"above validate.max_quarantine_fraction={p.max_quarantine_fraction}; "
                             f"reasons {summary['quarantined_by_check']}; rows in {args.quarantine}")
        atomic.write_parquet(args.out, kept)

    stage_main("validate", run, parser)


if __name__ == "__main__":
    main()
