"""Image validate stage: the image contracts split the images into kept and quarantined (with a reason each).

The contracts: components/kinds/images/data/images.py (image_violations; validate.on_other_size resizes first
when asked).
"""

from __future__ import annotations

import pandas as pd

from components.core.entrypoint import stage_main, stage_parser
from components.data.quarantine import account, publish, separate
from components.kinds.images.data.images import conform, image_violations
from components.kinds.images.params import load_image_params


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    for flag in ("--corpus", "--out", "--quarantine", "--metrics"):
        parser.add_argument(flag, required=True)

    def run(args):
        params = load_image_params(args.params, args.app)
        p = params.validate
        frame = conform(pd.read_parquet(args.corpus), p)
        kept, quarantined = separate(frame, image_violations(frame, p))
        publish(
            account("images", kept, quarantined),
            "images",
            kept,
            quarantined,
            params.data.corpus,
            p.max_quarantine_fraction,
            args.out,
            args.quarantine,
            args.metrics,
            quarantine_drop=("pixels",),
        )

    stage_main("validate", run, parser)


if __name__ == "__main__":
    main()
