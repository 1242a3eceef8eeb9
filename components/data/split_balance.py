"""Whether a split differs from train more than chance would make it: p-values that scale with the sample.

A fixed threshold on a distance (total variation, a mean difference) is noise on a few hundred rows and too lax
on a million; the probability that chance alone gives a difference this large is the same question at any size.
Labels: a permutation test of the label counts. Numbers per row (sentence lengths, image intensities): the
two-sample Kolmogorov-Smirnov test. Out-of-vocabulary rates: a held-out split against a random part of train of
its size, both scored against the rest of train (a corpus of 3,000 rows has far more unseen words than one of
100,000, and that is no fault of its split).
"""

from __future__ import annotations

import numpy as np

PERMUTATIONS = 1999
"""Label shuffles a shift test compares against: the smallest p-value it can give is 1/2000."""


def shift_p_value(train: np.ndarray, other: np.ndarray, seed: int = 0) -> float:
    """How likely chance alone makes `other`'s label distribution differ from `train`'s as much as it does: the
    chi-square statistic of the two label-count rows against the same statistic with the rows' labels shuffled
    between them (a permutation test: exact at any sample size, where the chi-square approximation is not for
    small counts). `train`, `other`: label codes."""
    if len(other) == 0 or len(train) == 0:
        return 1.0
    pooled = np.concatenate([train, other])
    labels = int(pooled.max()) + 1
    totals = np.bincount(pooled, minlength=labels).astype(float)
    expected = totals * len(other) / len(pooled)  # the other split's expected counts (train's follow from them)
    scale = 1.0 / expected + 1.0 / (totals - expected).clip(min=1e-12)

    def statistic(other_counts: np.ndarray) -> float:
        return float((((other_counts - expected) ** 2) * scale).sum())

    observed = statistic(np.bincount(other, minlength=labels))
    rng = np.random.default_rng(seed)
    exceed = sum(
        statistic(np.bincount(rng.choice(pooled, len(other), replace=False), minlength=labels)) >= observed
        for _ in range(PERMUTATIONS)
    )
    return (exceed + 1) / (PERMUTATIONS + 1)


def distribution_shift_p(train: np.ndarray, other: np.ndarray) -> float:
    """The two-sample Kolmogorov-Smirnov p-value of `other` against `train` (1.0 when either is empty): small when
    their distributions differ more than samples of one distribution would. With ties (token counts) the test is
    conservative: it errs towards passing a split, never towards failing a fair one."""
    if len(train) == 0 or len(other) == 0:
        return 1.0
    from scipy.stats import ks_2samp

    return float(ks_2samp(np.asarray(train, dtype=float), np.asarray(other, dtype=float)).pvalue)


def unseen_excess_p(split: np.ndarray, held: str, unseen_rates, rng: np.random.Generator) -> float:
    """How likely chance alone makes the rows of split `held` hold as many words unseen in train as they do: a random
    part of train of the same size is held out too, `unseen_rates(rest)` gives every row's share of words absent
    from the rows `rest` marks (the rest of train), and the two held-out parts are compared (excess_p). 1.0 when
    `held` is empty or train cannot spare the rows. What a word is (tokens, whitespace words) is the caller's."""
    is_held, train_rows = split == held, np.flatnonzero(split == "train")
    if not is_held.any() or len(train_rows) < 2 * is_held.sum():
        return 1.0
    pseudo = np.zeros(len(split), dtype=bool)
    pseudo[rng.choice(train_rows, int(is_held.sum()), replace=False)] = True
    rates = np.asarray(unseen_rates((split == "train") & ~pseudo), dtype=float)
    return excess_p(rates[is_held], rates[pseudo])


def excess_p(held_out: np.ndarray, pseudo: np.ndarray) -> float:
    """One-sided Mann-Whitney p-value that per-row values of a held-out split (e.g. its out-of-vocabulary rates)
    are larger than those of a same-sized random part of train scored the same way (1.0 when either is empty):
    the two are exchangeable when the split is fair, so chance alone sets how far apart they may be."""
    if len(held_out) == 0 or len(pseudo) == 0:
        return 1.0
    from scipy.stats import mannwhitneyu

    return float(
        mannwhitneyu(np.asarray(held_out, dtype=float), np.asarray(pseudo, dtype=float), alternative="greater").pvalue
    )
