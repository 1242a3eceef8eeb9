"""Image train stage: train model.family on the preprocessed arrays; save safetensors weights, the config and
the class vocabulary in one model directory. The loop: components/training/image_loop.py."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from components.core import atomic
from components.core.entrypoint import stage_main, stage_parser
from components.core.image_params import load_image_params
from components.models.image_base import save_image_model
from components.models.image_factory import build_image_model
from components.training.device import pick_device
from components.training.image_loop import ImageArrays, train_image_model

log = logging.getLogger(__name__)


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    for flag in ("--arrays", "--out-dir", "--metrics", "--history"):
        parser.add_argument(flag, required=True)

    def run(args):
        params = load_image_params(args.params, args.app)
        if params.train.threads:
            import torch

            torch.set_num_threads(params.train.threads)
        arrays = Path(args.arrays)
        classes = json.loads((arrays / "classes.json").read_text(encoding="utf-8"))
        train, valid = ImageArrays.load(arrays, "train"), ImageArrays.load(arrays, "valid")
        _, channels, height, width = train.images.shape
        model = build_image_model(params.model, channels, height, width, len(classes))
        device = pick_device(params.train.device)
        log.info("%s: %.2f M parameters on %s", params.model.family, sum(x.numel() for x in model.parameters()) / 1e6,
                 device)
        result = train_image_model(model, train, valid, params.train, device)
        out = Path(args.out_dir)
        save_image_model(result.model, out)
        shutil.copyfile(arrays / "classes.json", out / "classes.json")
        last = result.history[-1]
        atomic.write_json(args.metrics, {"train_seconds": result.seconds, **{k: v for k, v in last.items()}})
        atomic.write_json(args.history, result.history)

    stage_main("train", run, parser)


if __name__ == "__main__":
    main()
