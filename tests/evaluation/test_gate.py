import dataclasses

import pytest

from components.evaluation.gate import Champion, GateFailed, GateReport, enforce
from components.kinds.text.gate import gate_metrics
from tests.conftest import ROOT, params_for

GOOD = {
    "nll": 40.0,
    "ppl": 100.0,
    "kl": 5.0,
    "mutual_information": 3.0,
    "active_units": 16,
    "recon_bleu": 20.0,
    "baseline_nll": 60.0,
}
STRICT = params_for(
    "gate", max_nll=50, max_ppl=200, min_kl=1, min_mi=1, min_active_units=8, min_recon_bleu=5, max_nll_regression=0.5
)
LINEAGE = {"data.splits_md5": "d1", "tokenizer.md5": "t1"}


def test_passing_model_passes_every_check():
    report = gate_metrics(GOOD, STRICT)
    assert report.passed and all(c.passed for c in report.checks)
    assert "PASSED" in report.to_markdown()
    assert GateReport.from_dict(report.to_dict()) == report


@pytest.mark.parametrize(
    "metric,value",
    [
        ("nll", 60.0),
        ("kl", 0.01),
        ("mutual_information", 0.1),
        ("active_units", 0),
        ("recon_bleu", 1.0),
        ("nll", float("nan")),
    ],
)
def test_each_threshold_can_fail_the_gate(metric, value):
    report = gate_metrics({**GOOD, metric: value}, STRICT)
    assert not report.passed
    assert "**FAIL**" in report.to_markdown()
    with pytest.raises(GateFailed, match=metric):
        enforce(report)


def test_the_default_gate_asks_for_a_margin_over_the_unigram_baseline_and_no_absolute_bound():
    shipped = params_for("gate")  # min_baseline_margin 0.05, max_nll and max_ppl null
    assert shipped.max_nll is None and shipped.max_ppl is None
    long_sentences = {**GOOD, "nll": 140.0, "ppl": 700.0, "baseline_nll": 160.0}  # another corpus, another scale
    assert gate_metrics(long_sentences, shipped).passed
    no_better = gate_metrics({**long_sentences, "nll": 155.0}, shipped)  # 3% below the unigram LM's: not enough
    assert not no_better.passed
    with pytest.raises(GateFailed) as failed:
        enforce(no_better)
    message = str(failed.value)
    assert "gate.min_baseline_margin=0.05" in message and "nll 155" in message and "152" in message
    assert "unigram LM on the same test sentences: 160" in no_better.to_markdown()
    off = gate_metrics({**long_sentences, "nll": 170.0}, params_for("gate", min_baseline_margin=None))
    assert off.passed and off.checks[0].disabled


def test_every_check_names_the_setting_that_governs_it():
    report = gate_metrics(
        GOOD, STRICT, lineage=LINEAGE, champion=Champion(version="3", metrics={"nll": 39.0}, lineage=LINEAGE)
    )
    assert all(c.key.startswith("gate.") and "=" in c.key for c in report.checks)
    assert "gate.max_nll=50.0" in {c.key for c in report.checks}  # an int where a float belongs is widened
    with pytest.raises(GateFailed, match=r"nll 60 \(needs <= 50, gate.max_nll=50.0\)"):
        enforce(gate_metrics({**GOOD, "nll": 60.0}, STRICT))


def test_a_regression_against_the_champion_on_the_same_data_fails():
    champion = Champion(version="3", metrics={"nll": 39.0}, lineage=LINEAGE)
    worse = gate_metrics({**GOOD, "nll": 39.6}, STRICT, lineage=LINEAGE, champion=champion)
    assert not worse.passed and worse.champion == "3"
    within = gate_metrics({**GOOD, "nll": 39.4}, STRICT, lineage=LINEAGE, champion=champion)
    assert within.passed and within.beats_champion_by == pytest.approx(-0.4)


def test_a_champion_on_other_data_is_compared_only_when_params_say_so():
    champion = Champion(version="3", metrics={"nll": 10.0}, lineage={**LINEAGE, "tokenizer.md5": "t2"})
    skipped = gate_metrics(GOOD, STRICT, lineage=LINEAGE, champion=champion)
    assert skipped.passed and skipped.beats_champion_by is None
    assert "skipped" in skipped.checks[-1].note
    forced = gate_metrics(
        GOOD, params_for("gate", **{**STRICT.__dict__, "compare_across_data": True}), lineage=LINEAGE, champion=champion
    )
    assert not forced.passed


@pytest.mark.parametrize("off", [0, None])
def test_a_threshold_of_zero_or_null_switches_its_check_off_and_the_report_says_so(off):
    lenient = params_for("gate", max_nll=50, max_ppl=off, min_kl=1, min_mi=off, min_active_units=8, min_recon_bleu=5)
    noisy = {**GOOD, "mutual_information": -0.0856, "ppl": 1e9}  # an MI estimate just below zero, by noise
    report = gate_metrics(noisy, lenient)
    assert report.passed
    disabled = {c.metric for c in report.checks if c.disabled}
    assert disabled == {"mutual_information", "ppl"}
    assert "Disabled (threshold 0 or null in params.yaml): ppl, mutual_information." in report.to_markdown()
    assert GateReport.from_dict(report.to_dict()) == report


def test_a_zero_regression_margin_still_compares_with_the_champion():
    champion = Champion(version="3", metrics={"nll": 39.0}, lineage=LINEAGE)
    strict = params_for(
        "gate", max_nll=50, max_ppl=200, min_kl=1, min_mi=1, min_active_units=8, min_recon_bleu=5, max_nll_regression=0
    )
    assert not gate_metrics({**GOOD, "nll": 39.01}, strict, lineage=LINEAGE, champion=champion).passed
    off = params_for(
        "gate",
        max_nll=50,
        max_ppl=200,
        min_kl=1,
        min_mi=1,
        min_active_units=8,
        min_recon_bleu=5,
        max_nll_regression=None,
    )
    report = gate_metrics({**GOOD, "nll": 45.0}, off, lineage=LINEAGE, champion=champion)
    assert report.passed and report.beats_champion_by is None


# --- translation models -------------------------------------------------------------------------
def test_a_translation_model_must_beat_copying_the_source_and_its_champion_on_the_same_test_set():
    from components.kinds.translation.gate import translation_gate_metrics
    from components.kinds.translation.params import load_translation_params

    p = load_translation_params(ROOT / "params.yaml", "translation").gate  # 1 BLEU over copying; max regression 1
    assert p.min_bleu is None
    metrics = {
        "bleu": 30.0,
        "baseline_bleu": 0.5,
        "bleu_signature": "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0",
    }
    report = translation_gate_metrics(metrics, p)
    assert report.passed and [c.metric for c in report.checks] == ["bleu", "bleu"] and report.checks[1].disabled
    close_languages = translation_gate_metrics({**metrics, "bleu": 40.0, "baseline_bleu": 39.5}, p)
    assert not close_languages.passed and "gate.min_baseline_margin=1.0" in str(GateFailed(close_languages))
    assert not translation_gate_metrics({**metrics, "bleu": float("nan")}, p).passed
    floor = translation_gate_metrics({**metrics, "bleu": 12.0}, dataclasses.replace(p, min_bleu=20.0))
    assert not floor.passed and "gate.min_bleu=20.0" in str(GateFailed(floor))
    lineage = {"data.splits_md5": "a", "tokenizer.md5": "b"}
    champion = Champion(version="3", metrics={"bleu": 31.5}, lineage=lineage)
    worse = translation_gate_metrics(metrics, p, lineage, champion)
    assert not worse.passed and worse.beats_champion_by == pytest.approx(-1.5)
    assert translation_gate_metrics({**metrics, "bleu": 30.6}, p, lineage, champion).passed
    other = translation_gate_metrics(metrics, p, {**lineage, "tokenizer.md5": "c"}, champion)
    assert other.passed and "skipped" in other.checks[-1].note and other.beats_champion_by is None


def test_an_image_model_must_beat_independent_pixels_in_bits_per_dimension_and_fid_and_a_gan_in_fid():
    from components.kinds.images.gate import image_gate_metrics
    from components.kinds.images.params import load_image_params

    p = load_image_params(ROOT / "params.yaml", "images").gate  # 5% over the baseline; regressions 0.02 / 5
    assert p.max_bpd is None and p.max_fid is None
    vae = {"bpd": 3.6, "fid": 150.0, "baseline_bpd": 4.6, "baseline_fid": 300.0, "iw_samples": 100, "fid_samples": 2000}
    assert image_gate_metrics(vae, p).passed
    assert [c.metric for c in image_gate_metrics(vae, p).checks] == ["bpd", "bpd", "fid", "fid"]
    blurry = image_gate_metrics({**vae, "bpd": 4.5}, p)
    assert not blurry.passed and "gate.min_baseline_margin=0.05" in str(GateFailed(blurry))
    assert not image_gate_metrics({**vae, "fid": 290.0}, p).passed
    lineage = {"data.splits_md5": "s", "classifier.md5": "c"}
    champion = Champion(version="2", metrics={"bpd": 3.55, "fid": 120.0}, lineage=lineage)
    worse = image_gate_metrics(vae, p, lineage, champion)
    assert not worse.passed and worse.beats_champion_by == pytest.approx(-0.05)
    gan = {"fid": 123.0, "baseline_fid": 300.0, "fid_samples": 2000}
    report = image_gate_metrics(gan, p, lineage, champion)
    assert report.passed and [c.metric for c in report.checks] == ["fid", "fid", "fid"]
    assert report.beats_champion_by == -3.0
    assert not image_gate_metrics({**gan, "fid": 130.0}, p, lineage, champion).passed
    other = image_gate_metrics(vae, p, {**lineage, "classifier.md5": "x"}, champion)
    assert other.passed and "skipped" in other.checks[-1].note


def test_control_is_judged_against_what_the_classifier_reaches_on_real_text():
    conditional = params_for("gate", "conditional")  # min_control_ratio 0.5, no absolute floor
    assert conditional.min_control_accuracy is None
    eleven_labels = {**GOOD, "control_accuracy": 0.386, "classifier_test_accuracy": 0.41}  # 94% of the ceiling
    assert gate_metrics(eleven_labels, conditional).passed
    ignores_labels = gate_metrics({**eleven_labels, "control_accuracy": 0.15}, conditional)
    assert not ignores_labels.passed and "gate.min_control_ratio=0.5" in str(GateFailed(ignores_labels))
    floor = gate_metrics(eleven_labels, dataclasses.replace(conditional, min_control_accuracy=0.5))
    assert not floor.passed and "gate.min_control_accuracy=0.5" in str(GateFailed(floor))
