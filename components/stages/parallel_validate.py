"""Parallel validate stage: the pair contracts split the pairs into kept and quarantined (with a reason each).

The contracts: components/data/parallel.py (pair_violations).
"""

from __future__ import annotations

import logging

import pandas as pd

from components.core import atomic
from components.core.entrypoint import stage_main, stage_parser
from components.core.errors import StageError
from components.core.translation_params import load_translation_params
from components.data.parallel import pair_violations

log = logging.getLogger(__name__)


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    for flag in ("--corpus", "--out", "--quarantine", "--metrics"):
        parser.add_argument(flag, required=True)

    def run(args):
        params = load_translation_params(args.params, args.app)
        p = params.validate
        frame = pd.read_parquet(args.corpus)
        reasons = pair_violations(frame, p)
        quarantined = frame[reasons.notna()].assign(reason=reasons[reasons.notna()].astype("string"))
        kept = frame[reasons.isna()]
        summary = {"pairs_in": len(frame), "pairs_kept": len(kept), "pairs_quarantined": len(quarantined),
                   "quarantined_by_check": quarantined["reason"].str.split(":").str[0:2].str.join(":")
                   .value_counts().to_dict(),
                   "quarantined_by_split": quarantined["split"].fillna("unsplit").value_counts().to_dict()}
        atomic.write_parquet(args.quarantine, quarantined)
        atomic.write_json(args.metrics, summary)
        log.info("pairs in %d = kept %d + quarantined %d %s", len(frame), len(kept), len(quarantined),
                 summary["quarantined_by_check"])
        fraction = len(quarantined) / max(len(frame), 1)
        if fraction > p.max_quarantine_fraction:
            raise StageError(f"{params.data.corpus}: {len(quarantined)} of {len(frame)} pairs ({fraction:.1%}) "
                             f"quarantined, above validate.max_quarantine_fraction={p.max_quarantine_fraction}; "
                             f"reasons {summary['quarantined_by_check']}; pairs in {args.quarantine}")
        atomic.write_parquet(args.out, kept)

    stage_main("validate", run, parser)


if __name__ == "__main__":
    main()
