"""Split stage: de-duplicate, then hash-assign train/valid/test (components/data/split.py)."""

from __future__ import annotations

import logging

import pandas as pd

from components.core import atomic
from components.core.entrypoint import stage_main, stage_parser
from components.data.split import assign_splits
from components.kinds.text.params import load_params

log = logging.getLogger(__name__)


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    parser.add_argument("--validated", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--metrics", required=True)

    def run(args):
        p = load_params(args.params, args.app).split
        splits, summary = assign_splits(pd.read_parquet(args.validated), p)
        atomic.write_parquet(args.out, splits)
        atomic.write_json(args.metrics, summary)
        log.info("split %s", summary)

    stage_main("split", run, parser)


if __name__ == "__main__":
    main()
