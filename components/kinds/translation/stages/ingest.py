"""Parallel ingest stage: read aligned files, a directory of split files or a table into one pair table.

Reading and the canonical pair table: components/kinds/translation/data/parallel.py.
"""

from __future__ import annotations

import logging

from components.core import atomic
from components.core.entrypoint import stage_main, stage_parser
from components.kinds.translation.data.parallel import read_pairs
from components.kinds.translation.params import load_translation_params

log = logging.getLogger(__name__)


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)

    def run(args):
        params = load_translation_params(args.params, args.app)
        frame = read_pairs(params.data)
        atomic.write_parquet(args.out, frame)
        log.info(
            "%d pairs from %s (%s -> %s), provided splits %s",
            len(frame),
            params.data.corpus,
            params.data.source_lang,
            params.data.target_lang,
            frame["split"].value_counts().to_dict(),
        )

    stage_main("ingest", run, parser)


if __name__ == "__main__":
    main()
