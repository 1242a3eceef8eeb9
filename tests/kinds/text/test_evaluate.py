import math

import pytest
import torch

from components.kinds.text.evaluation.latent import active_units, mutual_information
from components.kinds.text.evaluation.likelihood import importance_weighted_nll
from components.kinds.text.evaluation.metrics import evaluate_model
from tests.conftest import params_for, tiny_model, toy_arrays


def test_more_importance_samples_tighten_the_bound():
    torch.manual_seed(0)
    model = tiny_model().eval()
    tokens, lengths = torch.randint(4, 50, (8, 6)), torch.full((8,), 6)
    one = torch.stack([importance_weighted_nll(model, tokens, lengths, 1) for _ in range(20)]).mean(0)
    many = importance_weighted_nll(model, tokens, lengths, 200)
    assert (many <= one + 0.05).all()


def test_mutual_information_is_zero_for_identical_posteriors_and_positive_for_separated_ones():
    g = torch.Generator().manual_seed(0)
    same = mutual_information(torch.zeros(200, 4), torch.zeros(200, 4), g)
    apart = mutual_information(torch.randn(200, 4, generator=g) * 5, torch.full((200, 4), -4.0), g)
    assert abs(same) < 0.1
    assert apart > 2.0
    assert apart <= math.log(200) + 1e-4  # MI over N sentences cannot exceed log N


def test_active_units_count_dimensions_whose_mean_moves():
    mu = torch.zeros(100, 3)
    mu[:, 1] = torch.linspace(-1, 1, 100)
    assert active_units(mu)[0] == 1


def test_evaluate_model_reports_consistent_metrics():
    data = toy_arrays(40)
    metrics = evaluate_model(tiny_model(), data, params_for("evaluate", iw_samples=3, batch_size=16), max_len=16)
    assert metrics["sentences"] == 40
    assert metrics["tokens"] == int(data.lengths.sum()) + 40  # the end token counts
    assert metrics["ppl"] == pytest.approx(math.exp(metrics["nll"] * 40 / metrics["tokens"]))
    assert 0 <= metrics["active_units"] <= metrics["latent_units"] == 4
