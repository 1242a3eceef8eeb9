"""Scoring a registered text model on a new data set: the evaluate stage's held-out metrics on every row of a file.

The file is read as the application's ingest stage reads its corpus (its format from its name; data.text_column,
data.label_column), rows the reader marks as errors or empty are left out and counted, the text is tokenized with
the model's own tokenizer, and a conditional model is scored given each row's label (a label it does not know is
an error naming it). There is no train split here, so no unigram baseline: these are the model's scores alone.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from components.core.errors import StageError
from components.data.batches import TokenArrays
from components.data.text_files import ReadOptions, ingest
from components.data.tokenizer import encode
from components.kinds.text.data.labels import label_ids
from components.kinds.text.evaluation.metrics import evaluate_model


def read_scored_rows(path: Path, params) -> tuple[pd.DataFrame, int]:
    """The rows of `path` that can be scored (text present, no reading error), and how many were left out."""
    d = params.data
    frame = ingest(
        ReadOptions(
            corpus=str(path),
            format="auto",
            text_column=d.text_column,
            label_column=d.label_column,
            require_label=False,
            dictd_unit=d.dictd_unit,
        )
    )
    usable = frame["error"].isna() & frame["text"].fillna("").str.strip().ne("")
    return frame[usable].reset_index(drop=True), int((~usable).sum())


def score_text(served, params, path: Path) -> tuple[dict, pd.DataFrame]:
    """(metrics, the scored rows) of the served model (the pyfunc: its generator holds model, tokenizer, labels)."""
    generator = served.generator
    rows, skipped = read_scored_rows(path, params)
    if rows.empty:
        raise StageError(f"{path}: no row with text to score ({skipped} unreadable or empty)")
    labels = None
    if generator.labels:
        if "label" not in rows.columns or rows["label"].isna().any():
            raise StageError(
                f"{path}: a conditional model is scored given each row's label: "
                f"column {params.data.label_column!r} needs a value in every row"
            )
        try:
            labels = np.asarray(label_ids(rows["label"].tolist(), generator.labels), dtype=np.int64)
        except ValueError as err:
            raise StageError(f"{path}: {err}") from None
    ids, offsets = encode(generator.tokenizer, rows["text"].tolist())
    data = TokenArrays(ids=ids, offsets=offsets, labels=labels)
    evaluate = dataclasses.replace(params.evaluate, max_sentences=0)  # every row of the file
    metrics = evaluate_model(generator.model, data, evaluate, params.train.max_len, generator.labels or None)
    metrics = {k: v for k, v in metrics.items() if not isinstance(v, (list, dict))}
    metrics["rows_skipped"] = skipped
    return metrics, rows[["text", *(["label"] if "label" in rows.columns else [])]]
