"""Points split stage: the shared stable hash of each row's key assigns train, valid and test."""

from __future__ import annotations

import numpy as np
import pandas as pd
from points_kind.params import points_params_from_dict

from components.core import atomic
from components.core.entrypoint import stage_main, stage_parser
from components.core.params import load_with
from components.data.split import hash_unit


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--out", required=True)

    def run(args):
        p = load_with(points_params_from_dict, args.params, args.app).split
        frame = pd.read_parquet(args.corpus)
        units = np.array([hash_unit(k, p.salt) for k in frame["key"]])
        split = np.where(
            units < p.test_fraction, "test", np.where(units < p.test_fraction + p.valid_fraction, "valid", "train")
        )
        atomic.write_parquet(args.out, frame.assign(split=split))

    stage_main("split", run, parser)


if __name__ == "__main__":
    main()
