"""The conditional application's parts on real labelled glosses: labels through ingest, validation, checks and
tokenization; every family conditioned on them; prefixes continued; <unk> never generated; the label classifier
and control accuracy; the served generator's answers to bad requests."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from components.core.errors import StageError
from components.data.batches import UNK_ID, TokenArrays, batch_labels, pad_batch
from components.data.text_files import ingest
from components.data.tokenizer import encode, train_tokenizer
from components.kinds.text.data.dataset_checks import label_features
from components.kinds.text.data.labels import UNLABELLED, UNSEEN, encode_labels, label_ids, label_vocabulary
from components.kinds.text.data.validate import quarantine_rows
from components.kinds.text.evaluation.control import control_metrics
from components.kinds.text.evaluation.label_classifier import load_classifier, save_classifier, train_classifier
from components.kinds.text.evaluation.likelihood import importance_weighted_nll
from components.kinds.text.models.factory import FAMILIES, build_model
from components.kinds.text.serving.generator import TextGenerator
from tests.conftest import LEXNAMES, params_for


def labelled_glosses(per_label: int = 40, labels: int = 6) -> pd.DataFrame:
    """The first `per_label` glosses of the first `labels` categories of the shipped labelled corpus."""
    frame = pd.read_csv(LEXNAMES, sep="\t", quoting=3, keep_default_na=False)
    chosen = sorted(frame["label"].unique())[:labels]
    return frame[frame["label"].isin(chosen)].groupby("label").head(per_label).reset_index(drop=True)


def tiny_conditional(family: str, vocab: int = 60, labels: int = 3, **overrides):
    torch.manual_seed(0)
    mp = params_for(
        "model",
        family=family,
        conditional=True,
        embed_dim=16,
        hidden_dim=16,
        latent_dim=4,
        codes=2,
        codebook_size=8,
        code_dim=8,
        codebook_warmup=0,
        layers=1,
        heads=2,
        **overrides,
    )
    return build_model(vocab, mp, num_labels=labels)


# --- data --------------------------------------------------------------------------------------
def test_a_labelled_table_is_ingested_with_its_label_column_and_unlabelled_rows_are_quarantined(tmp_path):
    rows = labelled_glosses(5, 2).rename(columns={"label": "category"})
    rows.loc[3, "category"] = ""
    corpus = tmp_path / "glosses.tsv"
    rows.to_csv(corpus, sep="\t", index=False)
    p = params_for("data", corpus=str(corpus), label_column="category", require_label=True)
    frame = ingest(p)
    assert frame["label"].notna().sum() == len(rows) - 1
    kept, quarantined = quarantine_rows(frame, params_for("validate"), require_label=True)
    assert len(kept) + len(quarantined) == len(rows)
    assert quarantined["reason"].tolist() == ["label:has_label"]
    # An unconditional application keeps the same row: it does not train on labels.
    assert len(quarantine_rows(frame, params_for("validate"), require_label=False)[1]) == 0


def test_a_conditional_corpus_without_its_label_column_is_refused_naming_the_column(tmp_path):
    corpus = tmp_path / "glosses.tsv"
    labelled_glosses(5, 2)[["text"]].to_csv(corpus, sep="\t", index=False)
    with pytest.raises(StageError, match="no label column 'label'"):
        ingest(params_for("data", corpus=str(corpus), require_label=True))


def test_label_checks_measure_rows_per_label_shift_and_labels_unseen_in_train():
    splits = pd.DataFrame(
        {
            "text": list("abcdefghij"),
            "label": ["x"] * 6 + ["y", "y", "x", "z"],
            "split": ["train"] * 7 + ["valid", "test", "test"],
        }
    )
    train_rows, stats = label_features(splits)
    assert train_rows.tolist() == [6] * 6 + [1, 1, 6, 0]
    assert stats["labels_unseen_in_train"] == ["z"]
    assert stats["labels_missing"] == {"valid": ["x"], "test": ["y"]}  # named, split by split
    assert stats["min_train_rows_per_label"] == 1
    # valid is all y (1/7 of train): total-variation distance 6/7
    assert stats["label_shift_valid"] == pytest.approx(6 / 7)
    assert 0 < stats["label_shift_p_valid"] <= 1


@pytest.mark.parametrize("rows", [1000, 10000, 100000])
def test_the_label_shift_test_passes_a_hash_split_and_refuses_a_skewed_one_at_every_size(rows):
    from components.data.split import hash_unit
    from components.data.split_balance import shift_p_value

    rng = np.random.default_rng(rows)
    labels = rng.integers(0, 8, rows)
    unit = np.array([hash_unit(str(i), "salt") for i in range(rows)])
    valid = unit < 0.1
    assert shift_p_value(labels[~valid], labels[valid]) > 0.01  # chance alone
    skewed = valid & (labels < 2)  # valid made of two of the eight labels only
    assert shift_p_value(labels[~skewed], labels[skewed]) <= 0.001


def test_the_label_vocabulary_is_sorted_and_unknown_labels_are_one_error_listing_the_known_ones():
    vocabulary = label_vocabulary(["noun.food", "noun.animal", "noun.food", None])
    assert vocabulary == ["noun.animal", "noun.food"]
    assert encode_labels(["noun.food", "verb.motion"], vocabulary).tolist() == [1, UNSEEN]
    with pytest.raises(ValueError, match=r"unknown label\(s\) \['noun.plant'\]; this model knows \['noun.animal'"):
        label_ids(["noun.plant"], vocabulary)
    with pytest.raises(StageError, match="no labels"):
        label_vocabulary([None])


def test_spread_takes_rows_from_the_whole_split_with_their_labels():
    lengths = np.arange(1, 11)
    arrays = TokenArrays(
        ids=np.arange(lengths.sum()), offsets=np.concatenate([[0], np.cumsum(lengths)]), labels=np.arange(10)
    )
    picked = arrays.spread(4)
    assert picked.labels.tolist() == [0, 3, 6, 9]
    assert picked.lengths.tolist() == [1, 4, 7, 10]
    assert np.asarray(picked.ids[picked.offsets[1] : picked.offsets[2]]).tolist() == list(range(6, 10))


# --- models ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_family_is_conditioned_on_the_label_and_refuses_to_run_without_it(family):
    model = tiny_conditional(family).eval()
    tokens = torch.randint(4, 60, (4, 6))
    lengths = torch.tensor([6, 4, 3, 2])
    a = model(tokens, lengths, sample=False, labels=torch.zeros(4, dtype=torch.long)).rec_nll
    b = model(tokens, lengths, sample=False, labels=torch.full((4,), 2, dtype=torch.long)).rec_nll
    assert not torch.allclose(a, b)  # the label changes p(x | ..., y)
    with pytest.raises(ValueError, match="conditional"):
        model(tokens, lengths)
    unconditional = build_model(
        60,
        params_for(
            "model",
            family=family,
            embed_dim=16,
            hidden_dim=16,
            latent_dim=4,
            codes=2,
            codebook_size=8,
            code_dim=8,
            layers=1,
            heads=2,
        ),
    )
    with pytest.raises(ValueError, match="unconditional"):
        unconditional(tokens, lengths, labels=torch.zeros(4, dtype=torch.long))


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_family_continues_a_prefix_and_never_generates_unk(family):
    model = tiny_conditional(family).eval()
    with torch.no_grad():
        model.out.bias[UNK_ID] = 1e4  # <unk> would win every step if it could be chosen
    labels = torch.tensor([0, 1, 2])
    z = model.sample_latent(3, torch.Generator().manual_seed(0), labels=labels)
    for greedy in (False, True):
        rows = model.generate(
            z, 12, generator=torch.Generator().manual_seed(1), greedy=greedy, labels=labels, prefix=[7, 8]
        )
        assert all(row[:2] == [7, 8] and UNK_ID not in row and len(row) <= 12 for row in rows), rows


def test_the_learned_label_prior_starts_as_the_standard_normal_and_scores_against_its_label():
    model = tiny_conditional("bsvae", label_prior="learned").eval()
    standard = tiny_conditional("bsvae", label_prior="standard").eval()
    standard.load_state_dict({k: v for k, v in model.state_dict().items() if not k.startswith("prior_")})
    tokens, lengths, labels = torch.randint(4, 60, (3, 5)), torch.tensor([5, 3, 2]), torch.tensor([0, 1, 2])
    assert torch.allclose(
        model(tokens, lengths, False, labels).kl, standard(tokens, lengths, False, labels).kl, atol=1e-6
    )
    with torch.no_grad():
        model.prior_mu.weight[1] = 3.0
    assert model.sample_latent(
        500, torch.Generator().manual_seed(0), labels=torch.ones(500, dtype=torch.long)
    ).mean().item() == pytest.approx(3.0, abs=0.2)
    torch.manual_seed(0)
    shifted = importance_weighted_nll(model, tokens, lengths, 4, labels=labels)
    torch.manual_seed(0)
    assert not torch.allclose(shifted, importance_weighted_nll(standard, tokens, lengths, 4, labels=labels))


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_a_row_without_a_label_trains_the_unconditional_part_and_leaves_the_label_tables_alone(family):
    model = tiny_conditional(family, label_prior="learned").train()
    tokens, lengths = torch.randint(4, 60, (2, 6)), torch.tensor([6, 4])
    out = model(tokens, lengths, sample=False, labels=torch.full((2,), UNLABELLED, dtype=torch.long))
    (out.rec_nll.sum() + out.kl.sum()).backward()
    label_tables = [p for name, p in model.named_parameters() if "label" in name or name.startswith("prior_")]
    assert label_tables and all(p.grad is None or not p.grad.any() for p in label_tables)
    assert any(p.grad is not None and p.grad.any() for name, p in model.named_parameters() if "label" not in name)


def run_data_stages(tmp_path, frame) -> tuple[dict[str, str], subprocess.CompletedProcess]:
    """The conditional application's data stages, ingest to tokenize, over `frame` (rows without a label allowed);
    the outputs' paths and the last stage's process (the first that failed, if one did)."""
    import yaml

    from tests.conftest import ROOT

    corpus = tmp_path / "corpus.tsv"
    frame.to_csv(corpus, sep="\t", index=False)
    raw = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    raw["conditional"]["data"].update(corpus=str(corpus), require_label=False)
    raw["conditional"]["split"].update(valid_fraction=0.2, test_fraction=0.2)
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(raw), encoding="utf-8")
    out = {
        name: str(tmp_path / name)
        for name in ("c.parquet", "v.parquet", "q.parquet", "s.parquet", "tok.json", "labels.json", "tokens", "m.json")
    }
    steps = [
        ["ingest", "--out", out["c.parquet"]],
        ["validate", "--corpus", out["c.parquet"], "--out", out["v.parquet"], "--quarantine", out["q.parquet"]]
        + ["--metrics", out["m.json"]],
        ["split", "--validated", out["v.parquet"], "--out", out["s.parquet"], "--metrics", out["m.json"]],
        ["tokenize", "--splits", out["s.parquet"], "--tokenizer", out["tok.json"], "--out-dir", out["tokens"]]
        + ["--metrics", out["m.json"], "--labels", out["labels.json"]],
    ]
    for step in steps:
        proc = subprocess.run(
            [sys.executable, "-m", f"components.kinds.text.stages.{step[0]}", "--params", str(params)]
            + ["--app", "conditional", *step[1:]],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        if proc.returncode:
            break
    return out, proc


def test_limited_labels_keep_unlabelled_train_rows_and_score_labelled_valid_and_test_rows_only(tmp_path):
    frame = labelled_glosses(per_label=30)
    frame.loc[frame.index % 3 != 0, "label"] = ""  # two rows in three without a label
    out, proc = run_data_stages(tmp_path, frame)
    assert proc.returncode == 0, proc.stderr
    import json

    summary = json.loads(Path(out["m.json"]).read_text())
    train = np.load(Path(out["tokens"]) / "train.labels.npy")
    assert summary["train_rows_unlabelled"] == int((train == UNLABELLED).sum()) > 0
    assert (train >= 0).sum() > 0 and summary["valid_rows_unlabelled"] > 0
    for split in ("valid", "test"):
        assert (np.load(Path(out["tokens"]) / f"{split}.labels.npy") >= 0).all()


def test_a_conditional_corpus_whose_labels_are_all_missing_stops_with_one_line(tmp_path):
    frame = labelled_glosses(per_label=10).assign(label="")
    out, proc = run_data_stages(tmp_path, frame)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert errors == [
        "error: tokenize: the train split has no labels: a conditional application needs data.label_column"
    ]
    assert not Path(out["tokens"]).exists() and not Path(out["labels.json"]).exists()  # nothing half-written


# --- classifier and control --------------------------------------------------------------------------
def test_the_label_classifier_learns_real_categories_and_round_trips_through_safetensors(tmp_path):
    frame = labelled_glosses(60, 4)
    test = frame.groupby("label").tail(10)
    train = frame.drop(test.index)
    vocabulary = sorted(frame["label"].unique())
    p = dataclasses.replace(params_for("classifier", app="conditional"), epochs=30, batch_size=32)
    model = train_classifier(train["text"].tolist(), train["label"].tolist(), vocabulary, p)
    accuracy = model.accuracy(test["text"].tolist(), test["label"].tolist())
    assert accuracy > 0.5  # four categories: chance is 0.25
    save_classifier(model, tmp_path / "classifier")
    again = load_classifier(tmp_path / "classifier")
    assert again.predict(test["text"].tolist()) == model.predict(test["text"].tolist())
    # Real sentences of each label as "samples": control accuracy is then the classifier's own accuracy.
    samples = {label: rows["text"].tolist() for label, rows in test.groupby("label")}
    metrics = control_metrics(model, samples, test["text"].tolist(), test["label"].tolist(), 0.7)
    assert metrics["control_accuracy"] == pytest.approx(accuracy)
    assert metrics["control_ratio"] == pytest.approx(1.0)
    assert set(metrics["control_accuracy_per_label"]) == set(vocabulary)


# --- the served generator ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def generator() -> TextGenerator:
    frame = labelled_glosses(20, 3)
    tokenizer = train_tokenizer(frame["text"].tolist(), params_for("tokenize", kind="word", vocab_size=200))
    model = tiny_conditional("bsvae", vocab=tokenizer.get_vocab_size())
    return TextGenerator(model, tokenizer, max_len=12, labels=sorted(frame["label"].unique()))


def test_samples_follow_the_label_asked_for_and_an_unknown_label_lists_the_known_ones(generator):
    assert len(generator.sample(3, seed=0, label=generator.labels[1])) == 3
    with pytest.raises(ValueError, match="unknown label.*this model knows"):
        generator.sample(2, seed=0, label="noun.nonsense")
    with pytest.raises(ValueError, match="conditional: give a label"):
        generator.sample(2, seed=0)


def test_a_prefix_is_continued_an_empty_one_is_none_and_unseen_words_read_as_typed(generator):
    label = generator.labels[0]
    continued = generator.sample(3, seed=0, label=label, prefix="a small")
    assert all(text.startswith("a small") for text in continued), continued
    assert generator.sample(2, seed=0, label=label, prefix="  ") == generator.sample(2, seed=0, label=label)
    unseen = generator.sample(2, seed=0, label=label, prefix="a zyzzyvaish")
    assert all(text.startswith("a zyzzyvaish") and "<unk>" not in text for text in unseen), unseen
    from_reference = generator.sample(2, seed=0, label=label, reference="a small animal")
    assert len(from_reference) == 2


def test_batches_carry_labels_only_for_a_labelled_split():
    frame = labelled_glosses(5, 2)
    tokenizer = train_tokenizer(frame["text"].tolist(), params_for("tokenize", kind="bpe", vocab_size=120))
    ids, offsets = encode(tokenizer, frame["text"].tolist())
    labels = encode_labels(frame["label"].tolist(), label_vocabulary(frame["label"].tolist()))
    arrays = TokenArrays(ids, offsets, labels)
    index = np.array([0, 7])
    tokens, _ = pad_batch(arrays, index, 20)
    assert batch_labels(arrays, index).tolist() == [0, 1] and tokens.shape[0] == 2
    assert batch_labels(TokenArrays(ids, offsets), index) is None
