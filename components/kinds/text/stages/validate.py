"""Validate stage: the pandera row contract splits the corpus into kept and quarantined rows.

The contract and its quarantine reasons: components/kinds/text/data/validate.py.
"""

from __future__ import annotations

import pandas as pd

from components.core.entrypoint import stage_main, stage_parser
from components.data.quarantine import publish
from components.kinds.text.data.validate import quarantine_rows, summarize
from components.kinds.text.params import load_params


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
        publish(
            summarize(kept, quarantined),
            "rows",
            kept,
            quarantined,
            params.data.corpus,
            p.max_quarantine_fraction,
            args.out,
            args.quarantine,
            args.metrics,
        )

    stage_main("validate", run, parser)


if __name__ == "__main__":
    main()
