"""The Great Expectations suite over the whole dataset, on a real file-backed context in a temp dir."""

import pandas as pd

from components.data.split import assign_splits
from components.kinds.text.data.dataset_checks import (
    accepted_vocab,
    dataset_features,
    read_reference_vocab,
    run_suite,
    summary_metrics,
)
from tests.conftest import glosses, params_for


def tables(texts, split=None):
    validated = pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(len(texts))],
            "text": texts,
            "split": pd.Series([split] * len(texts), dtype="string"),
        }
    )
    splits, _ = assign_splits(validated, params_for("split", valid_fraction=0.1, test_fraction=0.1))
    return validated, splits


def test_real_glosses_pass_and_data_docs_are_built(tmp_path):
    features = dataset_features(*tables(glosses(3000)))
    outcome = run_suite(features, params_for("dataset", max_oov_rate=0.5), "sentences", tmp_path)
    assert outcome["success"], outcome["checks"]
    assert len(outcome["checks"]) == 11  # max_oov_rate set here; null (off) by default
    assert min(features.attrs["oov_shift_p"].values()) > 0.01  # a hash split: unseen words as chance makes them
    assert (tmp_path / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html").is_file()
    assert (tmp_path / "gx" / "great_expectations.yml").is_file()
    metrics = summary_metrics(features)
    assert metrics["sentences_in_several_splits"] == 0 and 0 < metrics["oov_rate_test"] < 0.5


def test_a_leaky_split_column_and_too_many_duplicates_fail(tmp_path):
    texts = glosses(400)
    validated = pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(500)],
            "text": texts + texts[:100],
            "split": pd.Series(["train"] * 400 + ["test"] * 100, dtype="string"),
        }
    )
    splits = validated[["id", "text", "split"]]  # as if de-duplication had been skipped
    outcome = run_suite(
        dataset_features(validated, splits), params_for("dataset", max_oov_rate=1.0), "sentences", tmp_path
    )
    failed = {(c["expectation"], c["column"]) for c in outcome["checks"] if not c["success"]}
    assert ("expect_column_max_to_be_between", "splits_per_sentence") in failed
    assert ("expect_column_max_to_be_between", "duplicate_rate") in failed
    assert not outcome["success"]


def test_a_test_split_of_the_longest_sentences_fails_the_length_shift_check_naming_its_setting(tmp_path):
    texts = sorted(glosses(2000), key=lambda t: len(t.split()))
    validated = pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(2000)],
            "text": texts,
            "split": pd.Series(["train"] * 1800 + ["valid"] * 100 + ["test"] * 100, dtype="string"),
        }
    )
    features = dataset_features(validated, validated[["id", "text", "split"]])
    assert features.attrs["length_shift_p"]["test"] < 1e-6
    outcome = run_suite(features, params_for("dataset", max_oov_rate=1.0), "sentences", tmp_path)
    failed = [c for c in outcome["checks"] if not c["success"]]
    assert [c["column"] for c in failed] == ["length_shift_p"] and failed[0][
        "setting"
    ] == "dataset.length_shift_p=0.001"


def test_a_test_split_from_another_corpus_fails_the_oov_check_whatever_the_corpus_size(tmp_path):
    """Small corpora have many words unseen in train: that alone passes (the yardstick is a random part of train);
    a test split of newswire beside dictionary glosses does not."""
    from tests.conftest import PTB_SLICE

    news = [line.strip() for line in PTB_SLICE.read_text(encoding="utf-8").splitlines() if line.strip()]
    for n in (300, 3000):
        validated, splits = tables(glosses(n))
        test = (splits["split"] == "test").to_numpy()
        splits.loc[test, "text"] = news[: int(test.sum())]  # the test split swapped for newswire
        features = dataset_features(validated, splits)
        assert features.attrs["oov_shift_p"]["valid"] > 0.01 and features.attrs["oov_shift_p"]["test"] < 0.001
    outcome = run_suite(features, params_for("dataset"), "sentences", tmp_path)
    failed = {c["column"]: c["setting"] for c in outcome["checks"] if not c["success"]}
    assert failed.get("oov_shift_p") == "dataset.oov_shift_p=0.001"


def test_too_few_rows_fail(tmp_path):
    outcome = run_suite(
        dataset_features(*tables(glosses(60))),
        params_for("dataset", min_rows=1000, max_oov_rate=1.0),
        "sentences",
        tmp_path,
    )
    assert not outcome["success"]
    assert any(
        c["expectation"] == "expect_table_row_count_to_be_between" and not c["success"] for c in outcome["checks"]
    )


def test_drift_against_the_last_accepted_dataset(tmp_path):
    old = tables(glosses(2000))[1]
    reference = tmp_path / "vocab.txt"
    reference.write_text("")
    assert read_reference_vocab(reference) is None  # nothing accepted yet: the check passes trivially
    reference.write_text("\n".join(accepted_vocab(old)) + "\n")
    vocab = read_reference_vocab(reference)
    same = dataset_features(*tables(glosses(2000)), vocab)["reference_oov_rate"].mean()
    drifted = dataset_features(*tables(["zyx qwv " + t for t in glosses(300)]), vocab)["reference_oov_rate"].mean()
    assert same < 0.05 and drifted > 0.1
    outcome = run_suite(
        dataset_features(*tables(["zyx qwv " + t for t in glosses(300)]), vocab),
        params_for("dataset", max_oov_rate=1.0, max_reference_oov_rate=0.05),
        "sentences",
        tmp_path,
    )
    assert any(c["column"] == "reference_oov_rate" and not c["success"] for c in outcome["checks"])


def test_the_stage_fails_with_a_summary_of_what_failed(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    import yaml

    root = Path(__file__).resolve().parents[3]
    validated, splits = tables(glosses(300))
    validated.to_parquet(tmp_path / "validated.parquet")
    splits.to_parquet(tmp_path / "splits.parquet")
    (tmp_path / "vocab.txt").write_text("")
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["sentences"]["dataset"]["min_rows"] = 100_000
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "components.kinds.text.stages.check",
            "--params",
            str(tmp_path / "params.yaml"),
            "--app",
            "sentences",
            "--validated",
            str(tmp_path / "validated.parquet"),
            "--splits",
            str(tmp_path / "splits.parquet"),
            "--reference",
            str(tmp_path / "vocab.txt"),
            "--metrics",
            str(tmp_path / "m.json"),
            "--report",
            str(tmp_path / "r.json"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "error: check: dataset expectations failed: row count 300 outside "
        "dataset.min_rows=100000, dataset.max_rows=0 (expect_table_row_count_to_be_between)"
    ), last
    assert "Data Docs" in last and not (tmp_path / "m.json").exists()
