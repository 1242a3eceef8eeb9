"""Image classifier stage: the small CNN whose features FID/KID use, trained on train; its test accuracy is
reported (the ceiling for conditional samples). The network: components/kinds/images/evaluation/classifier.py."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from components.core import atomic
from components.core.entrypoint import stage_main, stage_parser
from components.core.errors import StageError
from components.engine.device import pick_device
from components.kinds.images.evaluation.classifier import predict, save_classifier, train_classifier
from components.kinds.images.params import load_image_params
from components.kinds.images.training.loop import ImageArrays

log = logging.getLogger(__name__)


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    for flag in ("--arrays", "--out-dir", "--metrics"):
        parser.add_argument(flag, required=True)

    def run(args):
        params = load_image_params(args.params, args.app)
        classes = json.loads((Path(args.arrays) / "classes.json").read_text(encoding="utf-8"))
        if len(classes) < 2:
            raise StageError(f"{args.arrays}: the classifier needs at least 2 classes in train, found {classes}")
        device = pick_device(params.train.device)
        train, test = ImageArrays.load(args.arrays, "train"), ImageArrays.load(args.arrays, "test")
        model = train_classifier(np.asarray(train.images), train.labels, len(classes), params.classifier, device)
        known = test.labels >= 0
        preds, _ = predict(model, np.asarray(test.images)[known], device)
        accuracy = float((preds == test.labels[known]).mean()) if known.any() else None
        save_classifier(model, args.out_dir)
        atomic.write_json(args.metrics, {"classifier_test_accuracy": accuracy, "classes": len(classes)})
        log.info("classifier test accuracy %s", accuracy)

    stage_main("classifier", run, parser)


if __name__ == "__main__":
    main()
