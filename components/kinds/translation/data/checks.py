"""Dataset checks over a split parallel corpus: what a pair contract cannot see, because it needs all pairs.

Length-ratio distribution, duplicate pairs, source sentences of valid/test that also occur in train (a
leak that inflates BLEU), per-side out-of-vocabulary rates against train's words, and split balance judged by
p-values that scale with the number of pairs (components/data/split_balance.py): source lengths, and unseen words
against a same-sized random part of train scored the same way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from components.data.split import normalise
from components.data.split_balance import distribution_shift_p, unseen_excess_p
from components.kinds.translation.params import ParallelDatasetParams


def _words(texts) -> list[list[str]]:
    return [t.casefold().split() for t in texts]


SIDES = ("source", "target")


def accepted_vocab(frame: pd.DataFrame, side: str) -> list[str]:
    """One side's train words as the checks count them: what becomes the next reference for that side."""
    return sorted({w for ws in _words(frame.loc[frame["split"] == "train", side]) for w in ws})


def oov_shift_p(words: list[list[str]], split: np.ndarray, held: str, seed: int = 0) -> float:
    """How likely chance alone makes `held`'s sentences' share of words unseen in train as large as it is: a
    random part of train of the same size is held out too, both are scored against the rest of train (excess_p);
    1.0 when train cannot spare the rows."""

    def unseen_rates(rest_rows: np.ndarray) -> np.ndarray:
        rest = {w for i in np.flatnonzero(rest_rows) for w in words[i]}
        return np.array([sum(w not in rest for w in row) / max(len(row), 1) for row in words])

    return unseen_excess_p(split, held, unseen_rates, np.random.default_rng(seed))


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
        "pairs": len(frame),
        **{f"pairs_{s}": int((frame["split"] == s).sum()) for s in ("train", "valid", "test")},
        "length_ratio": {q: float(np.quantile(ratio, v)) for q, v in (("p01", 0.01), ("p50", 0.5), ("p99", 0.99))}
        if len(ratio)
        else {},
        "mean_source_tokens": float(src_len.mean()) if len(src_len) else 0.0,
        "mean_target_tokens": float(tgt_len.mean()) if len(tgt_len) else 0.0,
        "duplicate_rate": float(train_keys.duplicated().mean()) if len(train_keys) else 0.0,
    }
    vocab = {side: {w for ws in _words(train[side]) for w in ws} for side in ("source", "target")}
    splits = frame["split"].to_numpy(dtype=object)
    side_words = {side: _words(frame[side]) for side in SIDES}
    for split in ("valid", "test"):
        report[f"{split}_length_shift_p"] = distribution_shift_p(src_len[splits == "train"], src_len[splits == split])
        for side in SIDES:
            report[f"{split}_{side}_oov_shift_p"] = oov_shift_p(side_words[side], splits, split)
        rows = frame[frame["split"] == split]
        report[f"{split}_leak_rate"] = (
            float(rows["source"].map(normalise).isin(train_sources).mean()) if len(rows) else 0.0
        )
        for side in ("source", "target"):
            words = [w for ws in _words(rows[side]) for w in ws]
            report[f"{split}_{side}_oov_rate"] = (
                (sum(w not in vocab[side] for w in words) / len(words)) if words else 0.0
            )
    for side in SIDES if reference else ():
        words = [w for ws in _words(frame[side]) for w in ws]
        report[f"{side}_oov_rate_vs_accepted"] = (
            sum(w not in reference[side] for w in words) / len(words) if words else 0.0
        )
    return report


def failed_checks(report: dict, p: ParallelDatasetParams) -> list[str]:
    """Each broken check as one readable line naming its setting and value (empty: the dataset passes)."""
    failures = []
    if report["pairs_train"] < p.min_rows:
        failures.append(f"train has {report['pairs_train']} pairs, fewer than dataset.min_rows={p.min_rows}")
    if report["duplicate_rate"] > p.max_duplicate_rate:
        failures.append(
            f"duplicate pair rate {report['duplicate_rate']:.3f} > dataset.max_duplicate_rate={p.max_duplicate_rate}"
        )
    for split in ("valid", "test"):
        if report[f"{split}_leak_rate"] > p.max_leak_rate:
            failures.append(
                f"{split} sources also in train: {report[f'{split}_leak_rate']:.3f} > "
                f"dataset.max_leak_rate={p.max_leak_rate}"
            )
        shift = report.get(f"{split}_length_shift_p", 1.0)
        if p.length_shift_p and shift < p.length_shift_p:
            failures.append(
                f"{split}'s source lengths differ from train's past chance: p = {shift:.2g} < "
                f"dataset.length_shift_p={p.length_shift_p}"
            )
        for side in SIDES:
            rate, shift = report[f"{split}_{side}_oov_rate"], report.get(f"{split}_{side}_oov_shift_p", 1.0)
            if p.max_oov_rate is not None and rate > p.max_oov_rate:
                failures.append(f"{split} {side} OOV rate {rate:.3f} > dataset.max_oov_rate={p.max_oov_rate}")
            if p.oov_shift_p and shift < p.oov_shift_p:
                failures.append(
                    f"{split} {side} words unseen in train past chance (OOV rate {rate:.3f}, p = "
                    f"{shift:.2g}) < dataset.oov_shift_p={p.oov_shift_p}"
                )
    for side in SIDES:
        rate = report.get(f"{side}_oov_rate_vs_accepted", 0.0)
        if rate > p.max_reference_oov_rate:
            failures.append(
                f"{side} words never seen in the accepted data: {rate:.3f} > "
                f"dataset.max_reference_oov_rate={p.max_reference_oov_rate}"
            )
    return failures
