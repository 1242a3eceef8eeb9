"""The Kolmogorov-Smirnov check of numbers per row (sentence lengths, image intensities) between splits: a fair
hash split passes and a skewed one fails, at every size."""

import numpy as np
import pytest

from components.data.split import hash_unit
from components.data.split_balance import distribution_shift_p


@pytest.mark.parametrize("rows", [300, 3000, 30000])
def test_a_hash_split_passes_and_a_split_of_the_longest_rows_fails_at_every_size(rows):
    rng = np.random.default_rng(rows)
    lengths = rng.poisson(12, rows) + 1  # token counts: many ties
    test = np.array([hash_unit(str(i), "salt") for i in range(rows)]) < 0.1
    assert distribution_shift_p(lengths[~test], lengths[test]) > 0.01  # chance alone
    longest = np.zeros(rows, dtype=bool)
    longest[np.argsort(lengths, kind="stable")[-max(rows // 10, 20) :]] = True  # test made of the longest rows
    assert distribution_shift_p(lengths[~longest], lengths[longest]) <= 0.001


def test_an_empty_split_is_not_a_shift():
    assert distribution_shift_p(np.arange(10), np.array([])) == 1.0
