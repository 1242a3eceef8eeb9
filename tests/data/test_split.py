import pandas as pd
import pytest

from components.core.errors import StageError
from components.data.split import assign_splits
from tests.conftest import glosses, params_for


def table(texts, split=None):
    return pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(len(texts))],
            "text": texts,
            "split": pd.Series([split] * len(texts), dtype="string"),
        }
    )


def test_splits_are_deterministic_and_stable_when_data_is_added():
    p = params_for("split", valid_fraction=0.1, test_fraction=0.1)
    small, _ = assign_splits(table(glosses(1000)), p)
    large, summary = assign_splits(table(glosses(2000)), p)
    merged = small.merge(large, on="text", suffixes=("_small", "_large"))
    assert len(merged) == len(small)
    assert (merged["split_small"] == merged["split_large"]).all()
    assert summary["rows_test"] > 100 and summary["rows_valid"] > 100


def test_duplicates_are_removed_and_never_straddle_splits():
    texts = glosses(400)
    noisy = texts + [t.upper() for t in texts[:50]] + ["  " + t + "  " for t in texts[50:80]]
    out, summary = assign_splits(table(noisy), params_for("split", valid_fraction=0.2, test_fraction=0.2))
    assert len(out) == len(set(texts))
    assert summary["normalised_duplicates"] == len(noisy) - len(out)


def test_a_split_column_is_honoured_and_checked():
    frame = table(glosses(300))
    frame["split"] = pd.Series(["train"] * 100 + ["valid"] * 100 + ["test"] * 100, dtype="string")
    out, _ = assign_splits(frame, params_for("split"))
    assert out["split"].tolist() == frame["split"].tolist()
    frame.loc[0, "split"] = "dev"
    with pytest.raises(StageError, match="split column"):
        assign_splits(frame, params_for("split"))


def test_too_little_data_for_three_splits_is_an_error():
    with pytest.raises(StageError, match="too few"):
        assign_splits(table(glosses(3)), params_for("split"))
