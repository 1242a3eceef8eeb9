"""Classifier stage: train the label classifier that judges conditional generation, on the train split only.

Its accuracy on the real test split is the ceiling control accuracy is read against
(components/kinds/text/evaluation/label_classifier.py).
"""

from __future__ import annotations

import logging

import pandas as pd

from components.core import atomic
from components.core.entrypoint import stage_main, stage_parser
from components.core.errors import StageError
from components.kinds.text.data.labels import read_labels
from components.kinds.text.evaluation.label_classifier import save_classifier, train_classifier
from components.kinds.text.params import load_params

log = logging.getLogger(__name__)


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    parser.add_argument("--splits", required=True)
    parser.add_argument("--labels", required=True, help="label vocabulary (the tokenize stage's labels.json)")
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--metrics", required=True)

    def run(args):
        params = load_params(args.params, args.app)
        if params.classifier is None:
            raise StageError(f"{params.application} has no classifier section in params.yaml")
        vocabulary = read_labels(args.labels)
        frame = pd.read_parquet(args.splits)
        frame = frame[frame["label"].isin(vocabulary)]  # a label train never saw cannot be predicted
        train = frame[frame["split"] == "train"]
        model = train_classifier(train["text"].tolist(), train["label"].tolist(), vocabulary, params.classifier)
        metrics = {"labels": len(vocabulary), "train_rows": len(train)}
        for split in ("valid", "test"):
            rows = frame[frame["split"] == split]
            metrics[f"{split}_accuracy"] = model.accuracy(rows["text"].tolist(), rows["label"].tolist())
        save_classifier(model, args.out_dir)
        atomic.write_json(args.metrics, metrics)
        log.info("label classifier: %s", metrics)

    stage_main("classifier", run, parser)


if __name__ == "__main__":
    main()
