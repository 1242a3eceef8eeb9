"""The LM baseline: same interface as the BS-VAE with an empty latent, so its IW-NLL is its exact NLL."""

import math

import pytest
import torch

from components.kinds.text.evaluation.likelihood import importance_weighted_nll
from components.kinds.text.evaluation.metrics import evaluate_model
from components.kinds.text.gate import gate_metrics
from components.kinds.text.models.base import with_bos_eos
from components.kinds.text.models.factory import build_model, load_model, save_model
from components.kinds.text.models.lstm_lm import LSTMLM, LSTMLMConfig
from components.kinds.text.training.loop import train_model
from tests.conftest import params_for, toy_arrays


def tiny_lm() -> LSTMLM:
    torch.manual_seed(0)
    return LSTMLM(LSTMLMConfig(vocab_size=50, embed_dim=8, hidden_dim=16, num_labels=0))


def test_importance_weighting_is_exact_for_a_model_without_latent():
    model = tiny_lm().eval()
    tokens, lengths = torch.randint(4, 50, (4, 6)), torch.tensor([6, 5, 3, 1])
    inputs, targets = with_bos_eos(tokens, lengths)
    exact = -model.log_likelihood(model.encode(tokens, lengths)[0], inputs, targets)
    for k in (1, 7):
        assert torch.allclose(importance_weighted_nll(model, tokens, lengths, k), exact, atol=1e-5)


def test_evaluation_reports_no_latent_and_the_gate_skips_latent_checks():
    metrics = evaluate_model(tiny_lm(), toy_arrays(30), params_for("evaluate", iw_samples=2, batch_size=8), max_len=16)
    assert metrics["latent_units"] == 0 and metrics["kl"] == 0 and metrics["active_units"] == 0
    assert abs(metrics["mutual_information"]) < 1e-6
    report = gate_metrics(metrics, params_for("gate", min_baseline_margin=None, max_nll=1e6, max_ppl=1e9, min_kl=1.0))
    assert report.passed and [c.metric for c in report.checks] == ["nll", "nll", "ppl"]  # margin (off), bounds
    assert math.isfinite(metrics["nll"])


def test_lm_family_trains_saves_loads_and_samples(tmp_path):
    p = params_for("train", epochs=2, batch_size=16, warmup_steps=1)
    result = train_model(
        toy_arrays(),
        toy_arrays(),
        50,
        params_for("model", family="lm", embed_dim=8, hidden_dim=16),
        p,
        torch.device("cpu"),
    )
    assert isinstance(result.model, LSTMLM)
    assert all(r["valid_kl"] == 0 for r in result.history)
    save_model(result.model, tmp_path)
    loaded = load_model(tmp_path)
    rows = loaded.generate(torch.zeros(3, 0), max_len=5, generator=torch.Generator().manual_seed(0))
    assert len(rows) == 3 and all(len(r) <= 5 for r in rows)


@pytest.mark.parametrize("family", ["bsvae", "vqvae", "lm", "transformer_lm"])
def test_the_factory_builds_every_family_from_the_shipped_params(family):
    mp = params_for("model", family=family)  # checked as it is built
    model = build_model(50, mp)
    assert model.family == family and model.config.to_dict()["family"] == family
    assert model.config.embed_dim == mp.embed_dim and model.config.hidden_dim == mp.hidden_dim
