"""The Transformer LM baseline: causal, exact likelihood through the shared evaluation, trains and round-trips."""

import dataclasses

import pytest
import torch

from components.core.params import ParamsError
from components.kinds.text.evaluation.likelihood import importance_weighted_nll
from components.kinds.text.evaluation.metrics import evaluate_model
from components.kinds.text.models.base import with_bos_eos
from components.kinds.text.models.factory import build_model, load_model, save_model
from components.kinds.text.models.transformer_lm import TransformerLM
from components.kinds.text.training.loop import train_model, validation_elbo
from tests.conftest import counting_arrays, params_for, toy_arrays


def tiny() -> TransformerLM:
    torch.manual_seed(0)
    return build_model(
        50, params_for("model", family="transformer_lm", embed_dim=16, hidden_dim=32, layers=2, heads=2)
    ).eval()


def test_a_position_never_sees_the_tokens_after_it():
    model = tiny()
    a = torch.tensor([[1, 5, 6, 7, 8]])
    b = torch.tensor([[1, 5, 6, 30, 31]])
    logits_a, logits_b = model.decode_logits(None, a)[0], model.decode_logits(None, b)[0]
    torch.testing.assert_close(logits_a[:, :3], logits_b[:, :3])
    assert not torch.allclose(logits_a[:, 3:], logits_b[:, 3:])


def test_step_by_step_decoding_matches_the_whole_sequence():
    model = tiny()
    seq = torch.tensor([[1, 5, 6, 7]])
    whole = model.decode_logits(None, seq)[0]
    state, steps = None, []
    for t in range(seq.shape[1]):
        logits, state = model.decode_logits(None, seq[:, t : t + 1], state)
        steps.append(logits)
    torch.testing.assert_close(torch.cat(steps, dim=1), whole)


def test_importance_weighting_is_exact_and_evaluation_runs():
    model = tiny()
    tokens, lengths = torch.randint(4, 50, (3, 6)), torch.tensor([6, 4, 1])
    inputs, targets = with_bos_eos(tokens, lengths)
    exact = -model.log_likelihood(None, inputs, targets)
    torch.testing.assert_close(importance_weighted_nll(model, tokens, lengths, 3), exact, atol=1e-5, rtol=1e-5)
    metrics = evaluate_model(model, toy_arrays(20), params_for("evaluate", iw_samples=2, batch_size=8), max_len=16)
    assert metrics["latent_units"] == 0 and metrics["kl"] == 0


def test_trains_saves_loads_and_samples(tmp_path):
    mp = params_for("model", family="transformer_lm", embed_dim=16, hidden_dim=32, layers=1, heads=2)
    p = params_for("train", epochs=2, batch_size=16, warmup_steps=1)
    valid = counting_arrays(64, seed=1)
    torch.manual_seed(p.seed)
    untrained = validation_elbo(build_model(50, mp), valid, 32, p.max_len, torch.device("cpu"))["valid_nelbo"]
    result = train_model(counting_arrays(), valid, 50, mp, p, torch.device("cpu"))
    assert isinstance(result.model, TransformerLM)
    bounds = [row["valid_nelbo"] for row in result.history]
    assert bounds[1] < bounds[0] < untrained - 1.0, (untrained, bounds)
    save_model(result.model, tmp_path)
    rows = load_model(tmp_path).generate(torch.zeros(2, 0), max_len=6, generator=torch.Generator().manual_seed(0))
    assert len(rows) == 2 and all(len(r) <= 6 for r in rows)


def test_width_must_divide_into_heads():
    from components.kinds.text.models.families import check_families
    from tests.conftest import shipped_params

    params = dataclasses.replace(
        shipped_params(), model=params_for("model", family="transformer_lm", embed_dim=30, heads=4)
    )
    with pytest.raises(ParamsError, match="sentences.model.embed_dim 30 must be a multiple of model.heads"):
        check_families(params)
