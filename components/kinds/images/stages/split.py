"""Image split stage: the provided test split kept, valid carved from train by a hash of the pixels."""

from __future__ import annotations

import logging

import pandas as pd

from components.core import atomic
from components.core.entrypoint import stage_main, stage_parser
from components.kinds.images.data.images import assign_image_splits
from components.kinds.images.params import load_image_params

log = logging.getLogger(__name__)


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    for flag in ("--validated", "--out", "--metrics"):
        parser.add_argument(flag, required=True)

    def run(args):
        params = load_image_params(args.params, args.app)
        p = params.split
        idx_splits = params.data.idx_splits if params.data.format in ("idx", "auto") else None
        frame = assign_image_splits(
            pd.read_parquet(args.validated), p.valid_fraction, p.test_fraction, p.salt, idx_splits
        )
        summary = {f"images_{s}": int((frame["split"] == s).sum()) for s in ("train", "valid", "test")}
        atomic.write_parquet(args.out, frame)
        atomic.write_json(args.metrics, summary)
        log.info("splits %s", summary)

    stage_main("split", run, parser)


if __name__ == "__main__":
    main()
