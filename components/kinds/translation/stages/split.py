"""Parallel split stage: provided splits kept, the other pairs split by a hash of their source sentence."""

from __future__ import annotations

import logging

import pandas as pd

from components.core import atomic
from components.core.entrypoint import stage_main, stage_parser
from components.kinds.translation.data.parallel import assign_pair_splits
from components.kinds.translation.params import load_translation_params

log = logging.getLogger(__name__)


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    for flag in ("--validated", "--out", "--metrics"):
        parser.add_argument(flag, required=True)

    def run(args):
        p = load_translation_params(args.params, args.app).split
        frame = pd.read_parquet(args.validated)
        provided = int(frame["split"].notna().sum())
        frame = assign_pair_splits(frame, p.valid_fraction, p.test_fraction, p.salt)
        summary = {
            "pairs_provided_split": provided,
            "pairs_hash_split": len(frame) - provided,
            **{f"pairs_{s}": int((frame["split"] == s).sum()) for s in ("train", "valid", "test")},
        }
        atomic.write_parquet(args.out, frame)
        atomic.write_json(args.metrics, summary)
        log.info("splits %s", summary)

    stage_main("split", run, parser)


if __name__ == "__main__":
    main()
