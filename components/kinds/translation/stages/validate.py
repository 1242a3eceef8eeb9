"""Parallel validate stage: the pair contracts split the pairs into kept and quarantined (with a reason each).

The contracts: components/kinds/translation/data/parallel.py (pair_violations).
"""

from __future__ import annotations

import pandas as pd

from components.core.entrypoint import stage_main, stage_parser
from components.data.quarantine import account, publish, separate
from components.kinds.translation.data.parallel import pair_violations
from components.kinds.translation.params import load_translation_params


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    for flag in ("--corpus", "--out", "--quarantine", "--metrics"):
        parser.add_argument(flag, required=True)

    def run(args):
        params = load_translation_params(args.params, args.app)
        p = params.validate
        frame = pd.read_parquet(args.corpus)
        kept, quarantined = separate(frame, pair_violations(frame, p))
        summary = {
            **account("pairs", kept, quarantined, checks_of=lambda r: [":".join(r.split(":")[0:2])]),
            "quarantined_by_split": quarantined["split"].fillna("unsplit").value_counts().to_dict(),
        }
        publish(
            summary,
            "pairs",
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
