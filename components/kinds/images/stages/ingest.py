"""Image ingest stage: IDX files, a folder of PNG/JPEG or an .npz into one canonical image table.

Reading and the table: components/kinds/images/data/images.py.
"""

from __future__ import annotations

import logging

from components.core import atomic
from components.core.entrypoint import stage_main, stage_parser
from components.kinds.images.data.images import read_images
from components.kinds.images.params import load_image_params

log = logging.getLogger(__name__)


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)

    def run(args):
        params = load_image_params(args.params, args.app)
        frame = read_images(params.data)
        atomic.write_parquet(args.out, frame)
        log.info(
            "%d images from %s, undecodable %d, provided splits %s",
            len(frame),
            params.data.corpus,
            int(frame["error"].notna().sum()),
            frame["split"].value_counts().to_dict(),
        )

    stage_main("ingest", run, parser)


if __name__ == "__main__":
    main()
