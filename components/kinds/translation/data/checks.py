"""Dataset checks over a split parallel corpus: what a pair contract cannot see, because it needs all pairs.

Length-ratio distribution, duplicate pairs, source sentences of valid/test that also occur in train (a
leak that inflates BLEU), and per-side out-of-vocabulary rates against train's words.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from components.data.split import normalise
from components.kinds.translation.params import ParallelDatasetParams


def _words(texts) -> list[list[str]]:
    return [t.casefold().split() for t in texts]


SIDES = ("source", "target")


def accepted_vocab(frame: pd.DataFrame, side: str) -> list[str]:
    """One side's train words as the checks count them: what becomes the next reference for that side."""
    return sorted({w for ws in _words(frame.loc[frame["split"] == "train", side]) for w in ws})


def dataset_report(frame: pd.DataFrame, reference: dict[str, set[str]] | None = None) -> dict:
    """The figures the checks and the report use (pure: the frame's columns source, target, split); with the
    accepted data's vocabulary per side (`reference`), the share of each side's words it never saw."""
    train = frame[frame["split"] == "train"]
    src_len = frame["source"].str.split().str.len().to_numpy(dtype=float)
    tgt_len = frame["target"].str.split().str.len().to_numpy(dtype=float)
    ratio = tgt_len / np.maximum(src_len, 1)
    pair_keys = frame["source"].map(normalise) + "\x00" + frame["target"].map(normalise)
    train_keys = pair_keys[frame["split"] == "train"]
    train_sources = set(train["source"].map(normalise))
    report = {
        "pairs": len(frame), **{f"pairs_{s}": int((frame["split"] == s).sum()) for s in ("train", "valid", "test")},
        "length_ratio": {q: float(np.quantile(ratio, v)) for q, v in
                         (("p01", 0.01), ("p50", 0.5), ("p99", 0.99))} if len(ratio) else {},
        "mean_source_tokens": float(src_len.mean()) if len(src_len) else 0.0,
        "mean_target_tokens": float(tgt_len.mean()) if len(tgt_len) else 0.0,
        "duplicate_rate": float(train_keys.duplicated().mean()) if len(train_keys) else 0.0,
    }
    vocab = {side: {w for ws in _words(train[side]) for w in ws} for side in ("source", "target")}
    for split in ("valid", "test"):
        rows = frame[frame["split"] == split]
        report[f"{split}_leak_rate"] = float(rows["source"].map(normalise).isin(train_sources).mean()) if len(rows) else 0.0
        for side in ("source", "target"):
            words = [w for ws in _words(rows[side]) for w in ws]
            report[f"{split}_{side}_oov_rate"] = (sum(w not in vocab[side] for w in words) / len(words)) if words else 0.0
    for side in SIDES if reference else ():
        words = [w for ws in _words(frame[side]) for w in ws]
        report[f"{side}_oov_rate_vs_accepted"] = (sum(w not in reference[side] for w in words) / len(words)
                                                  if words else 0.0)
    return report


def failed_checks(report: dict, p: ParallelDatasetParams) -> list[str]:
    """Each broken threshold as one readable line (empty: the dataset passes)."""
    failures = []
    if report["pairs_train"] < p.min_rows:
        failures.append(f"train has {report['pairs_train']} pairs, fewer than dataset.min_rows={p.min_rows}")
    if report["duplicate_rate"] > p.max_duplicate_rate:
        failures.append(f"duplicate pair rate {report['duplicate_rate']:.3f} > dataset.max_duplicate_rate")
    for split in ("valid", "test"):
        if report[f"{split}_leak_rate"] > p.max_leak_rate:
            failures.append(f"{split} sources also in train: {report[f'{split}_leak_rate']:.3f} > dataset.max_leak_rate")
        for side in ("source", "target"):
            rate = report[f"{split}_{side}_oov_rate"]
            if rate > p.max_oov_rate:
                failures.append(f"{split} {side} OOV rate {rate:.3f} > dataset.max_oov_rate")
    for side in SIDES:
        rate = report.get(f"{side}_oov_rate_vs_accepted", 0.0)
        if rate > p.max_reference_oov_rate:
            failures.append(f"{side} words never seen in the accepted data: {rate:.3f} > dataset.max_reference_oov_rate")
    return failures
