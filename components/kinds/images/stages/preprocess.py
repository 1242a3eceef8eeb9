"""Image preprocess stage (the image application's "tokenize"): each split as memory-mappable uint8 arrays
`<split>.images.npy` (N x C x H x W) and `<split>.labels.npy`, and the class vocabulary `classes.json` (from
train only)."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from components.core import atomic
from components.core.entrypoint import stage_main, stage_parser
from components.kinds.images.data.images import to_arrays
from components.kinds.images.params import load_image_params

log = logging.getLogger(__name__)


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    for flag in ("--splits", "--out-dir", "--metrics"):
        parser.add_argument(flag, required=True)

    def run(args):
        load_image_params(args.params, args.app)  # checks the params even though none is read here
        frame = pd.read_parquet(args.splits)
        classes = sorted(frame.loc[(frame["split"] == "train") & frame["label"].notna(), "label"].unique().tolist())
        out = Path(args.out_dir)
        atomic.write_json(out / "classes.json", classes)
        summary = {"classes": len(classes)}
        for split in ("train", "valid", "test"):
            images, labels = to_arrays(frame[frame["split"] == split], classes)
            atomic.write_npy(out / f"{split}.images.npy", images)
            atomic.write_npy(out / f"{split}.labels.npy", labels)
            summary[f"{split}_images"] = len(images)
        atomic.write_json(args.metrics, summary)
        log.info("arrays: %s", summary)

    stage_main("preprocess", run, parser)


if __name__ == "__main__":
    main()
