"""Image validate stage: the image contracts split the images into kept and quarantined (with a reason each).

The contracts: components/data/images.py (image_violations; validate.on_other_size resizes first when asked).
"""

from __future__ import annotations

import logging

import pandas as pd

from components.core import atomic
from components.core.entrypoint import stage_main, stage_parser
from components.core.errors import StageError
from components.core.image_params import load_image_params
from components.data.images import conform, image_violations

log = logging.getLogger(__name__)


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    for flag in ("--corpus", "--out", "--quarantine", "--metrics"):
        parser.add_argument(flag, required=True)

    def run(args):
        params = load_image_params(args.params, args.app)
        p = params.validate
        frame = conform(pd.read_parquet(args.corpus), p)
        reasons = image_violations(frame, p)
        quarantined = frame[reasons.notna()].assign(reason=reasons[reasons.notna()].astype("string"))
        kept = frame[reasons.isna()]
        summary = {"images_in": len(frame), "images_kept": len(kept), "images_quarantined": len(quarantined),
                   "quarantined_by_check": quarantined["reason"].str.split(":").str[0].value_counts().to_dict()}
        atomic.write_parquet(args.quarantine, quarantined.drop(columns="pixels"))
        atomic.write_json(args.metrics, summary)
        log.info("images in %d = kept %d + quarantined %d %s", len(frame), len(kept), len(quarantined),
                 summary["quarantined_by_check"])
        fraction = len(quarantined) / max(len(frame), 1)
        if fraction > p.max_quarantine_fraction:
            raise StageError(f"{params.data.corpus}: {len(quarantined)} of {len(frame)} images ({fraction:.1%}) "
                             f"quarantined, above validate.max_quarantine_fraction={p.max_quarantine_fraction}; "
                             f"reasons {summary['quarantined_by_check']}; list in {args.quarantine}")
        atomic.write_parquet(args.out, kept)

    stage_main("validate", run, parser)


if __name__ == "__main__":
    main()
