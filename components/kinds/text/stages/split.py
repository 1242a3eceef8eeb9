"""Split stage: de-duplicate, then hash-assign train/valid/test (components/data/split.py).

With --held-out (pretraining), rows that are a valid or test sentence of another application are dropped first.
"""

from __future__ import annotations

import logging

import pandas as pd

from components.core import atomic
from components.core.entrypoint import stage_main, stage_parser
from components.data.split import assign_splits, drop_held_out, held_out_sentences
from components.kinds.text.params import load_params

log = logging.getLogger(__name__)


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    parser.add_argument("--validated", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--metrics", required=True)
    parser.add_argument(
        "--held-out",
        action="append",
        default=[],
        help="another application's splits table whose valid and test sentences must not be here",
    )

    def run(args):
        p = load_params(args.params, args.app).split
        held_out = held_out_sentences([pd.read_parquet(path) for path in args.held_out])
        frame, dropped = drop_held_out(pd.read_parquet(args.validated), held_out)
        splits, summary = assign_splits(frame, p)
        summary = {**summary, "held_out_overlap_dropped": dropped} if args.held_out else summary
        atomic.write_parquet(args.out, splits)
        atomic.write_json(args.metrics, summary)
        log.info("split %s", summary)

    stage_main("split", run, parser)


if __name__ == "__main__":
    main()
