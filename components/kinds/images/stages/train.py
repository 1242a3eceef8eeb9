"""Image train stage: train model.family on the preprocessed arrays; save safetensors weights, the config and
the class vocabulary in one model directory. The task: components/kinds/images/training/loop.py, on the shared engine
(resume, torchrun, accumulation)."""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path

from components.core import atomic
from components.core.entrypoint import stage_main, stage_parser
from components.engine.engine import finish_run, training_session
from components.kinds.images.models.base import save_image_model
from components.kinds.images.models.factory import build_image_model
from components.kinds.images.params import load_image_params
from components.kinds.images.training.loop import ImageArrays, train_image_model

log = logging.getLogger(__name__)


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    for flag in ("--arrays", "--out-dir", "--metrics", "--history"):
        parser.add_argument(flag, required=True)
    parser.add_argument(
        "--checkpoint", required=True, help="resumable training state; removed once training has finished"
    )
    parser.add_argument(
        "--timing", required=True, help="wall times of this run (not a DVC output; logged to MLflow at registration)"
    )

    def run(args):
        params = load_image_params(args.params, args.app)
        with training_session(params.train, params.train.device) as (ctx, device):
            train_and_save(args, params, ctx, device)

    stage_main("train", run, parser)


def train_and_save(args, params, ctx, device) -> None:
    started = time.perf_counter()
    arrays = Path(args.arrays)
    classes = json.loads((arrays / "classes.json").read_text(encoding="utf-8"))
    train, valid = ImageArrays.load(arrays, "train"), ImageArrays.load(arrays, "valid")
    _, channels, height, width = train.images.shape

    def build():
        model = build_image_model(params.model, channels, height, width, len(classes))
        log.info(
            "%s: %.2f M parameters on %s", params.model.family, sum(x.numel() for x in model.parameters()) / 1e6, device
        )
        return model

    checkpoint = Path(args.checkpoint)
    result = train_image_model(build, train, valid, params.train, device, checkpoint)
    if not ctx.is_main:
        return
    out = Path(args.out_dir)
    save_image_model(result.model, out)
    shutil.copyfile(arrays / "classes.json", out / "classes.json")
    kept = result.history[result.best_epoch - 1]
    atomic.write_json(
        args.metrics,
        {**kept, "best_epoch": result.best_epoch, "epochs": result.history[-1]["epoch"], "processes": ctx.world},
    )
    finish_run(result, args.history, args.timing, checkpoint, started, device)


if __name__ == "__main__":
    main()
