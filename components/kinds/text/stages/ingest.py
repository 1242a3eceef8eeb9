"""Ingest stage: read the raw corpus (data.corpus) into one canonical Parquet table (components/data/text_files.py)."""

from __future__ import annotations

import logging

from components.core import atomic
from components.core.entrypoint import stage_main, stage_parser
from components.data.text_files import ingest
from components.kinds.text.params import load_params

log = logging.getLogger(__name__)


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)

    def run(args):
        params = load_params(args.params, args.app).data
        frame = ingest(params)
        atomic.write_parquet(args.out, frame)
        log.info(
            "ingested %d rows from %s (%d undecodable) -> %s",
            len(frame),
            params.corpus,
            int(frame["error"].notna().sum()),
            args.out,
        )

    stage_main("ingest", run, parser)


if __name__ == "__main__":
    main()
