"""The translation application: reading pairs, the pair contracts, splits, dataset checks, both families
(training, greedy/beam/latent decoding, saving), and BLEU, on real Multi30k pairs shipped with the repo."""

from __future__ import annotations

import dataclasses
import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from components.applications.kind import application_params
from components.core.errors import StageError
from components.core.params import ParamsError
from components.data.batches import TokenArrays, pad_batch
from components.kinds.text.params import load_params
from components.kinds.translation.data.checks import dataset_report, failed_checks
from components.kinds.translation.data.parallel import assign_pair_splits, pair_violations, read_pairs
from components.kinds.translation.evaluation.metrics import bleu_scores
from components.kinds.translation.models.base import save_translator
from components.kinds.translation.models.factory import build_translator, load_translation_model
from components.kinds.translation.params import load_translation_params, translation_params_from_dict
from components.kinds.translation.training.loop import ParallelArrays, inverse_sqrt, train_translator
from tests.imports import ROOT

MULTI30K = ROOT / "data" / "raw" / "multi30k"
PARAMS = load_translation_params(ROOT / "params.yaml", "translation")


def multi30k(stem: str, lang: str, n: int) -> list[str]:
    with gzip.open(MULTI30K / f"{stem}.{lang}.gz", "rt", encoding="utf-8") as fh:
        return [next(fh).rstrip("\n") for _ in range(n)]


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def data_params(corpus, **overrides):
    return dataclasses.replace(PARAMS.data, corpus=str(corpus), **overrides)


# --- params ---------------------------------------------------------------------------------
def test_translation_params_load_and_are_refused_as_a_text_applications():
    assert PARAMS.data.source_lang == "de" and PARAMS.data.target_lang == "en"
    assert PARAMS.model_name == "translation-transformer"
    with pytest.raises(ParamsError, match="translation is a translation application"):
        load_params(ROOT / "params.yaml", "translation")
    assert type(application_params(yaml.safe_load((ROOT / "params.yaml").read_text()), "translation")) is type(PARAMS)


def test_absurd_translation_params_name_their_key():
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["translation"]["model"]["heads"] = 3
    with pytest.raises(ParamsError, match=r"translation\.model\.d_model \(256\) must be a multiple of model\.heads"):
        translation_params_from_dict(raw, "translation")
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["translation"]["data"]["target_lang"] = "de"
    with pytest.raises(ParamsError, match="source_lang and data.target_lang are both 'de'"):
        translation_params_from_dict(raw, "translation")
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["translation"]["profiles"]["tiny"]["model"]["heads"] = "two"
    with pytest.raises(ParamsError, match="profiles.tiny.*model.heads"):
        translation_params_from_dict(raw, "translation")


# --- reading pairs --------------------------------------------------------------------------
def test_the_shipped_corpus_reads_with_its_provided_splits():
    frame = read_pairs(PARAMS.data)
    assert frame["split"].value_counts().to_dict() == {"train": 29000, "valid": 1014, "test": 1000}
    first = frame.iloc[0]
    assert first["source"].startswith("Zwei junge weiße Männer") and first["target"].startswith(
        "Two young, White males"
    )


def test_english_to_german_is_a_parameter(tmp_path):
    frame = read_pairs(data_params(MULTI30K, source_lang="en", target_lang="de"))
    assert frame.iloc[0]["source"].startswith("Two young") and frame.iloc[0]["target"].startswith("Zwei junge")


def test_aligned_files_with_different_line_counts_are_one_error_naming_both(tmp_path):
    de = write_lines(tmp_path / "a.de", multi30k("train", "de", 5))
    en = write_lines(tmp_path / "a.en", multi30k("train", "en", 4))
    with pytest.raises(StageError, match=r"a\.de has 5 lines but .*a\.en has 4"):
        read_pairs(data_params(f"{de},{en}"))


def test_a_table_with_language_columns_reads_and_a_missing_column_is_named(tmp_path):
    table = pd.DataFrame({"de": multi30k("train", "de", 6), "en": multi30k("train", "en", 6)})
    table.to_csv(tmp_path / "pairs.tsv", sep="\t", index=False)
    frame = read_pairs(data_params(tmp_path / "pairs.tsv"))
    assert len(frame) == 6 and frame["split"].isna().all()
    table.drop(columns="en").to_csv(tmp_path / "bad.tsv", sep="\t", index=False)
    with pytest.raises(StageError, match="no column 'en'"):
        read_pairs(data_params(tmp_path / "bad.tsv"))


def test_a_directory_missing_one_side_of_a_split_is_named(tmp_path):
    write_lines(tmp_path / "train.de", multi30k("train", "de", 3))
    with pytest.raises(StageError, match=r"has train\.de but no train\.en"):
        read_pairs(data_params(tmp_path))


# --- contracts, splits, checks --------------------------------------------------------------
def test_each_pair_contract_quarantines_with_its_reason(tmp_path):
    de, en = multi30k("train", "de", 3), multi30k("train", "en", 3)
    src = de + ["", "Ein\x07Hund", "eins zwei drei vier fünf sechs sieben acht neun zehn", en[0], "ok"]
    tgt = en + ["A dog.", "A dog.", "one", en[0], None]
    (tmp_path / "p.de").write_bytes(("\n".join(src) + "\n").encode() + b"\xff\xfe broken\n")
    (tmp_path / "p.en").write_bytes(("\n".join(t or "" for t in tgt) + "\n").encode() + b"fine\n")
    frame = read_pairs(data_params(f"{tmp_path / 'p.de'},{tmp_path / 'p.en'}"))
    reasons = pair_violations(frame, PARAMS.validate).tolist()
    assert reasons[:3] == [None, None, None]
    assert reasons[3:] == [
        "source:present",
        "source:no_control_characters",
        "pair:length_ratio",
        "pair:target_is_copy",
        "target:present",
        reasons[-1],
    ]
    assert reasons[-1].startswith("utf8: source: invalid UTF-8")


def test_hash_splits_keep_a_source_sentence_in_one_split_and_honour_provided_ones():
    de, en = multi30k("train", "de", 400), multi30k("train", "en", 400)
    frame = pd.DataFrame(
        {
            "source": de + de[:50],
            "target": en + [e + " again" for e in en[:50]],
            "split": pd.Series([None] * 440 + ["test"] * 10, dtype="string"),
        }
    )
    out = assign_pair_splits(frame, 0.1, 0.1, "salt")
    by_source = out.iloc[:440].groupby("source")["split"].nunique()
    assert (by_source == 1).all()
    assert (out.iloc[440:]["split"] == "test").all()
    assert out.iloc[:400]["split"].tolist() == assign_pair_splits(frame.iloc[:400], 0.1, 0.1, "salt")["split"].tolist()


def test_dataset_checks_see_leaks_duplicates_and_oov():
    de, en = multi30k("train", "de", 200), multi30k("train", "en", 200)
    frame = pd.DataFrame(
        {
            "source": de + de[:10] + ["Völlig unbekannte Wörter hier."],
            "target": en + en[:10] + ["Completely unseen words here."],
            "split": ["train"] * 190 + ["valid"] * 10 + ["train"] * 10 + ["test"],
        }
    )
    report = dataset_report(frame)
    assert report["valid_leak_rate"] == 0 and report["duplicate_rate"] == pytest.approx(10 / 200)
    assert report["test_source_oov_rate"] > 0.5
    failures = failed_checks(report, dataclasses.replace(PARAMS.dataset, min_rows=10, max_oov_rate=0.15))
    assert any("duplicate pair rate" in f for f in failures) and any("test source OOV" in f for f in failures)
    assert any("dataset.max_oov_rate=0.15" in f for f in failures)
    frame.loc[200, "split"] = "valid"  # a train source now also in valid
    assert dataset_report(frame)["valid_leak_rate"] > 0


def test_a_fair_split_passes_the_balance_checks_and_a_split_of_other_captions_or_long_ones_fails():
    de, en = multi30k("train", "de", 1200), multi30k("train", "en", 1200)
    frame = assign_pair_splits(
        pd.DataFrame({"source": de, "target": en, "split": pd.Series([None] * 1200, dtype="string")}), 0.1, 0.1, "salt"
    )
    fair = dataset_report(frame)
    assert min(fair[f"{s}_length_shift_p"] for s in ("valid", "test")) > 0.01
    assert min(fair[f"{s}_{side}_oov_shift_p"] for s in ("valid", "test") for side in ("source", "target")) > 0.01
    assert not failed_checks(fair, PARAMS.dataset)  # 12% unseen words, as a corpus this small has anyway
    longest = frame.assign(split="train")
    longest.loc[longest["source"].str.split().str.len().sort_values(kind="stable").index[-120:], "split"] = "test"
    failures = failed_checks(dataset_report(longest), PARAMS.dataset)
    assert any(
        "test's source lengths differ from train's past chance" in f and "dataset.length_shift_p=0.001" in f
        for f in failures
    )


# --- models ---------------------------------------------------------------------------------
def toy_pairs(n: int = 48, seed: int = 0) -> ParallelArrays:
    """Targets that are a learnable function of the source: each source id + 10, in reverse order."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(2, 7, size=n)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    src = rng.integers(4, 30, size=int(offsets[-1]))
    tgt = np.concatenate([src[a:b][::-1] + 10 for a, b in zip(offsets[:-1], offsets[1:])])
    return ParallelArrays(TokenArrays(ids=src, offsets=offsets), TokenArrays(ids=tgt, offsets=offsets))


def tiny_params(family: str, **model):
    mp = dataclasses.replace(
        PARAMS.model,
        family=family,
        d_model=32,
        ff_dim=64,
        heads=2,
        encoder_layers=1,
        decoder_layers=1,
        prior_layers=1,
        codebook_size=32,
        dropout=0.0,
        compression=2,
        **model,
    )
    tp = dataclasses.replace(
        PARAMS.train,
        min_steps=0,
        seed=0,
        epochs=60,
        batch_size=16,
        lr=3e-3,
        warmup_steps=20,
        label_smoothing=0.0,
        max_steps=0,
        precision="fp32",
    )
    return mp, tp


@pytest.mark.parametrize("family", ["transformer", "latent"])
def test_each_family_learns_a_toy_translation_and_every_decoder_returns_it(family, tmp_path):
    torch.manual_seed(0)
    pairs = toy_pairs()
    mp, tp = tiny_params(family)
    result = train_translator(
        lambda: build_translator(mp, 48, 48, shared=True), pairs, pairs.head(16), tp, 32, torch.device("cpu")
    )
    model = result.model
    assert result.history[-1]["valid_nll_per_token"] < 0.5 * result.history[0]["valid_nll_per_token"]
    src, src_len = pad_batch(pairs.source, np.arange(8), 32)
    refs = [
        (np.asarray(pairs.source.ids[a:b])[::-1] + 10).tolist()
        for a, b in zip(pairs.source.offsets[:8], pairs.source.offsets[1:9])
    ]
    for decoder in model.decoders:
        out = model.translate(src, src_len, decoder, torch.full((8,), 20), beam_size=3)
        assert sum(o == r for o, r in zip(out, refs)) >= 6, (decoder, out, refs)
    if family == "latent":  # from the reference's own codes: the autoencoder alone, no prior
        tgt, tgt_len = pad_batch(pairs.target, np.arange(8), 32)
        assert sum(o == r for o, r in zip(model.decode_reference_codes(src, src_len, tgt, tgt_len), refs)) >= 6
    # weights round-trip through safetensors (tied embeddings stored once) and translate the same
    save_translator(model, tmp_path / "m")
    loaded = load_translation_model(tmp_path / "m")
    assert loaded.translate(src, src_len, model.default_decoder, torch.full((8,), 20)) == model.translate(
        src, src_len, model.default_decoder, torch.full((8,), 20)
    )


def test_outputs_respect_the_length_limit_and_decoders_are_checked():
    torch.manual_seed(0)
    mp, _ = tiny_params("transformer")
    model = build_translator(mp, 48, 48, shared=True).eval()
    src, src_len = torch.randint(4, 48, (3, 6)), torch.tensor([6, 4, 2])
    for decoder in ("greedy", "beam"):
        out = model.translate(src, src_len, decoder, torch.tensor([3, 1, 5]), beam_size=4)
        assert [len(o) <= limit for o, limit in zip(out, [3, 1, 5])] == [True] * 3, (decoder, out)
    with pytest.raises(ValueError, match="decodes with"):
        model.translate(src, src_len, "latent", torch.tensor([3, 3, 3]))


def test_a_diverging_run_stops_with_one_error_naming_the_step():
    mp, tp = tiny_params("transformer")

    def broken():
        model = build_translator(mp, 48, 48, shared=True)
        with torch.no_grad():
            model.out.weight.fill_(float("nan"))
        return model

    with pytest.raises(StageError, match="training diverged: loss is nan at step 0"):
        train_translator(broken, toy_pairs(), toy_pairs(8), tp, 32, torch.device("cpu"))


def test_the_learning_rate_warms_up_then_decays():
    assert inverse_sqrt(50, 100) == pytest.approx(0.5) and inverse_sqrt(100, 100) == 1.0
    assert inverse_sqrt(400, 100) == pytest.approx(0.5)


def test_bleu_is_sacrebleu_with_its_signature_and_lowercased_bleu_ignores_case():
    refs = multi30k("test_2016_flickr", "en", 20)
    perfect = bleu_scores(refs, refs)
    assert perfect["bleu"] == pytest.approx(100.0) and "case:mixed" in perfect["bleu_signature"]
    shouted = bleu_scores([r.upper() for r in refs], refs)
    assert shouted["bleu"] < 10 and shouted["bleu_lowercase"] == pytest.approx(100.0)
    assert "case:lc" in shouted["bleu_lowercase_signature"]


# --- the stages, through DVC ------------------------------------------------------------------
def test_dvc_repro_runs_the_translation_application_on_a_multi30k_slice(workspace):
    import json
    import subprocess
    import sys

    dvc = [str(Path(sys.executable).parent / "dvc")]
    from components.versioning.dvc import dvc_env

    run = subprocess.run(
        [*dvc, "repro", "translation-evaluate"], cwd=workspace, capture_output=True, text=True, env=dvc_env()
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    metrics = json.loads((workspace / "metrics/translation/eval.json").read_text())
    assert metrics["family"] == "transformer" and metrics["test_pairs"] == 40
    assert {"bleu_greedy", "bleu_beam", "chrf_beam", "bleu_lowercase_beam"} <= set(metrics)
    speeds = json.loads((workspace / "reports/translation/timing/evaluate.json").read_text())  # not a DVC output
    assert {"ms_per_sentence_batch1_greedy", "sentences_per_s_batch64_beam"} <= set(speeds)
    assert metrics["bleu_signature"].startswith("nrefs:1|case:mixed") and metrics["bleu"] == metrics["bleu_beam"]
    validate = json.loads((workspace / "metrics/translation/validate.json").read_text())
    assert validate["pairs_in"] == 380 == validate["pairs_kept"] + validate["pairs_quarantined"]
    assert (workspace / "models/translation/transformer/model.safetensors").is_file()
    assert (workspace / "reports/translation/translations.md").read_text().startswith("# Example translations")
    model = load_translation_model(workspace / "models/translation/transformer")
    assert model.config.shared_vocab and model.family == "transformer"


def test_a_stage_given_misaligned_files_says_so_in_one_line(tmp_path):
    import subprocess
    import sys

    de = write_lines(tmp_path / "a.de", multi30k("train", "de", 5))
    en = write_lines(tmp_path / "a.en", multi30k("train", "en", 3))
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["translation"]["data"]["corpus"] = f"{de},{en}"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "components.kinds.translation.stages.ingest",
            "--app",
            "translation",
            "--params",
            str(tmp_path / "params.yaml"),
            "--out",
            str(tmp_path / "out.parquet"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1 and not (tmp_path / "out.parquet").exists()
    assert run.stderr.strip().splitlines()[-1] == (
        f"error: ingest: {de} has 5 lines but {en} has 3: aligned files must have the same number of lines"
    )
    assert "Traceback" not in run.stderr


def test_per_side_tokenizers_are_trained_on_their_own_side(tmp_path):
    import subprocess
    import sys

    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["translation"]["tokenize"].update(joint=False, vocab_size=300)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    frame = pd.DataFrame(
        {
            "source": multi30k("train", "de", 300),
            "target": multi30k("train", "en", 300),
            "split": ["train"] * 260 + ["valid"] * 20 + ["test"] * 20,
        }
    )
    frame.to_parquet(tmp_path / "splits.parquet")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "components.kinds.translation.stages.tokenize",
            "--app",
            "translation",
            "--params",
            str(tmp_path / "params.yaml"),
            "--splits",
            str(tmp_path / "splits.parquet"),
            "--tokenizer-dir",
            str(tmp_path / "tok"),
            "--out-dir",
            str(tmp_path / "tokens"),
            "--metrics",
            str(tmp_path / "m.json"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    from tokenizers import Tokenizer

    de, en = (Tokenizer.from_file(str(tmp_path / "tok" / f"{side}.json")) for side in ("source", "target"))
    assert de.get_vocab() != en.get_vocab() and "▁Ein" in de.get_vocab() and "▁Ein" not in en.get_vocab()
    pairs = ParallelArrays.load(tmp_path / "tokens", "test")
    assert (
        len(pairs) == 20
        and en.decode(list(pairs.target.ids[pairs.target.offsets[0] : pairs.target.offsets[1]])) == frame["target"][280]
    )
