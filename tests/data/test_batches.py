"""Batching: every sentence exactly once per pass, with little padding."""

import numpy as np

from components.data.batches import bucketed_batches, length_sorted_batches


def lengths_of(n=1000, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(1, 48, n)


def padding(lengths: np.ndarray, batches: list[np.ndarray]) -> int:
    return sum(int(lengths[b].max()) * len(b) - int(lengths[b].sum()) for b in batches)


def test_bucketed_batches_cover_every_sentence_once_with_less_padding_than_random_order():
    lengths = lengths_of()
    batches = bucketed_batches(lengths, 32, np.random.default_rng(1))
    assert sorted(np.concatenate(batches).tolist()) == list(range(len(lengths)))
    random_order = np.array_split(np.random.default_rng(1).permutation(len(lengths)), len(batches))
    assert padding(lengths, batches) < padding(lengths, random_order) / 4


def test_length_sorted_batches_cover_every_sentence_once_in_length_order():
    lengths = lengths_of()
    batches = length_sorted_batches(lengths, 64)
    order = np.concatenate(batches)
    assert sorted(order.tolist()) == list(range(len(lengths)))
    assert (np.diff(lengths[order]) >= 0).all() and all(len(b) <= 64 for b in batches)
