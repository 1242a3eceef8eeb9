"""The label vocabulary of a conditional application: which labels exist, and their ids.

It is made by the tokenize stage from the train split alone (sorted, so the same labels always get the
same ids), versioned with the tokenizer (data/<app>/tokenizer/labels.json) and copied beside the model's
weights, so a served model knows the labels it was trained on and can name them when asked for another.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from components.core import atomic
from components.core.errors import StageError

LABELS_FILE = "labels.json"
UNSEEN = -1
"""The id of a label the vocabulary lacks (a valid/test label never seen in train)."""
UNLABELLED = -2
"""The id of a row without a label (data.require_label false): it trains a conditional model's unconditional part."""


def label_vocabulary(train_labels: list[str]) -> list[str]:
    labels = sorted({label for label in train_labels if isinstance(label, str)})
    if not labels:
        raise StageError("the train split has no labels: a conditional application needs data.label_column")
    return labels


def encode_labels(labels: list[str], vocabulary: list[str]) -> np.ndarray:
    index = {label: i for i, label in enumerate(vocabulary)}
    return np.array(
        [index.get(label, UNSEEN) if isinstance(label, str) else UNLABELLED for label in labels], dtype=np.int32
    )


def write_labels(path: str | Path, vocabulary: list[str]) -> None:
    atomic.write_json(path, {"labels": vocabulary})


def read_labels(path: str | Path) -> list[str]:
    path = Path(path)
    try:
        labels = json.loads(path.read_text(encoding="utf-8"))["labels"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise StageError(f"{path}: not a label vocabulary ({err})") from err
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        raise StageError(f"{path}: labels must be a list of strings")
    return labels


def label_ids(requested: list[str], vocabulary: list[str]) -> list[int]:
    """Ids of the requested labels; one error listing the known labels for any other (never a silent
    unconditional sample)."""
    unknown = sorted({label for label in requested if label not in vocabulary})
    if unknown:
        raise ValueError(f"unknown label(s) {unknown}; this model knows {vocabulary}")
    return [vocabulary.index(label) for label in requested]
