"""Split stage: de-duplicate, then assign train/valid/test by a hash of each normalised sentence.

A hash of the sentence itself (not its row position or a random draw) decides its split,
so adding data never moves an old sentence to another split, and duplicates, which hash
alike, can never straddle two splits.
"""

from __future__ import annotations

import hashlib
import logging
import re

import numpy as np
import pandas as pd

from components.core.errors import StageError
from components.core.params import SplitParams

log = logging.getLogger(__name__)

SPLITS = ("train", "valid", "test")
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """The form two sentences must share to count as duplicates: case and spacing ignored."""
    return _SPACE.sub(" ", text).strip().casefold()


def hash_unit(key: str, salt: str) -> float:
    """A stable number in [0, 1) for `key`, the same on every machine and Python."""
    digest = hashlib.blake2b(f"{salt}\x00{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def assign_splits(frame: pd.DataFrame, p: SplitParams) -> tuple[pd.DataFrame, dict]:
    """Return de-duplicated rows (id, text, split, label) and counts; an existing split column is honoured.

    Labels need no split logic of their own: every label's rows go through the same hash thresholds, so each
    label is split in the same proportions in expectation (stratified) and stays hash-stable. Exact per-label
    quotas would move old rows whenever data is added; the check stage bounds the shift instead
    (dataset.label_shift_p: a permutation test, so it holds at any number of rows)."""
    norm = frame["text"].map(normalise)
    first = ~norm.duplicated(keep="first")
    exact_dupes = int(frame["text"].duplicated().sum())
    columns = ["id", "text", "split"] + (["label"] if "label" in frame.columns else [])
    kept = frame.loc[first, columns].reset_index(drop=True)
    units = np.array([hash_unit(k, p.salt) for k in norm[first]])
    hashed = np.where(
        units < p.test_fraction, "test", np.where(units < p.test_fraction + p.valid_fraction, "valid", "train")
    )
    given = kept["split"]
    bad = given.notna() & ~given.isin(SPLITS)
    if bad.any():
        raise StageError(f"split column has values other than {list(SPLITS)}: {sorted(set(given[bad]))[:5]}")
    kept["split"] = given.where(given.notna(), pd.Series(hashed)).astype("string")
    counts = {s: int((kept["split"] == s).sum()) for s in SPLITS}
    if counts["train"] == 0 or counts["valid"] == 0 or counts["test"] == 0:
        raise StageError(f"too few sentences for three splits: {counts}; add data or raise the fractions")
    summary = {
        "rows_in": len(frame),
        "exact_duplicates": exact_dupes,
        "normalised_duplicates": int(len(frame) - len(kept)),
        **{f"rows_{s}": n for s, n in counts.items()},
    }
    return kept, summary


def held_out_sentences(splits: list[pd.DataFrame]) -> set[str]:
    """The normalised valid and test sentences of other applications' split tables (what pretraining must never
    see: a model fine-tuned from it would be scored on sentences it was trained on)."""
    return {normalise(t) for frame in splits for t in frame.loc[frame["split"].isin(["valid", "test"]), "text"]}


def drop_held_out(frame: pd.DataFrame, held_out: set[str]) -> tuple[pd.DataFrame, int]:
    """`frame` without its rows whose normalised text is held out elsewhere, and how many were dropped."""
    if not held_out:
        return frame, 0
    hit = frame["text"].map(normalise).isin(held_out)
    return frame.loc[~hit].reset_index(drop=True), int(hit.sum())
