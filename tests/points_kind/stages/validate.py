"""Points validate stage: a point that is not finite or lies beyond validate.max_abs is quarantined with its
reason, through the shared accounting (rows in = kept + quarantined)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from points_kind.params import points_params_from_dict

from components.core.entrypoint import stage_main, stage_parser
from components.core.params import load_with
from components.data.quarantine import account, publish, separate


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    for flag in ("--corpus", "--out", "--quarantine", "--metrics"):
        parser.add_argument(flag, required=True)

    def run(args):
        params = load_with(points_params_from_dict, args.params, args.app)
        frame = pd.read_parquet(args.corpus)
        xy = frame[["x", "y"]].to_numpy(dtype=float)
        reasons = pd.Series(
            np.where(
                ~np.isfinite(xy).all(axis=1),
                "finite:not a number",
                np.where(np.abs(xy).max(axis=1) > params.validate.max_abs, "range:too far", None),
            )
        )
        kept, quarantined = separate(frame, reasons.where(reasons.notna(), None))
        publish(
            account("points", kept, quarantined),
            "points",
            kept,
            quarantined,
            params.data.corpus,
            params.validate.max_quarantine_fraction,
            args.out,
            args.quarantine,
            args.metrics,
        )

    stage_main("validate", run, parser)


if __name__ == "__main__":
    main()
