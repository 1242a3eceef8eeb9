"""Scoring a registered translation model on a new test set: the evaluate stage's BLEU, chrF and lowercased BLEU
for each decoder the model has, and the BLEU of copying the source (the gate's baseline), on every pair of a file.

The pairs are read as the application's ingest stage reads its corpus (two aligned files `a.de,a.en`, or a table
with one column per language, data.source_lang / data.target_lang); pairs with a reading error or an empty side
are left out and counted.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from components.core.errors import StageError
from components.kinds.translation.data.parallel import read_pairs
from components.kinds.translation.evaluation.metrics import bleu_scores


def score_translation(served, params, path: Path) -> tuple[dict, pd.DataFrame]:
    """(metrics, the scored pairs) of the served model (the pyfunc: its translator holds model and tokenizers)."""
    translator = served.translator
    frame = read_pairs(dataclasses.replace(params.data, corpus=str(path), format="auto"))
    usable = (
        frame["error"].isna()
        & frame["source"].fillna("").str.strip().ne("")
        & frame["target"].fillna("").str.strip().ne("")
    )
    pairs = frame[usable].reset_index(drop=True)
    if pairs.empty:
        raise StageError(f"{path}: no pair with both sides to score ({int((~usable).sum())} unreadable or empty)")
    sources, references = pairs["source"].tolist(), pairs["target"].tolist()
    model = translator.model
    decoders = [d for d in params.evaluate.decoders if d in model.decoders] or [model.default_decoder]
    metrics: dict = {
        "family": model.family,
        "test_pairs": len(pairs),
        "pairs_skipped": int((~usable).sum()),
        "baseline_bleu": bleu_scores(sources, references)["bleu"],
    }
    for decoder in decoders:
        hypotheses, truncated = translator.translate(sources, decoder, params.evaluate.beam_size)
        scores = bleu_scores(hypotheses, references)
        metrics.update({f"{key}_{decoder}": value for key, value in scores.items()})
        metrics[f"sources_truncated_{decoder}"] = len(truncated)
    default = model.default_decoder if model.default_decoder in decoders else decoders[0]
    for key in ("bleu", "chrf", "bleu_lowercase", "bleu_signature"):
        metrics[key] = metrics[f"{key}_{default}"]
    return metrics, pairs[["source", "target"]]
