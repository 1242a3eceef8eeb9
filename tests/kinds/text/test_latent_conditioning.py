"""Conditioning through the latent space: a BS-VAE whose networks never see the label trains on every row, then
p(z|y) is fitted to the posteriors of the labelled rows, the unlabelled ones joining by EM."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from components.data.batches import TokenArrays
from components.kinds.text.models.bsvae import fit_label_prior
from components.kinds.text.models.factory import build_model, load_model, save_model
from components.kinds.text.serving.generator import TextGenerator  # noqa: F401 (the served path reads the prior)
from components.kinds.text.training.loop import train_model
from tests.conftest import params_for

CPU = torch.device("cpu")


def test_the_fitted_prior_is_each_label_s_aggregate_posterior():
    """Labelled rows alone: the label's mean and the variance of its rows' posteriors (mixture moments)."""
    mus = torch.tensor([[1.0, 0.0], [3.0, 0.0], [-2.0, 1.0], [-2.0, 3.0]])
    logvars = torch.log(torch.full((4, 2), 0.5))
    mu, logvar, _ = fit_label_prior(mus, logvars, torch.tensor([0, 0, 1, 1]), 3)
    assert torch.allclose(mu, torch.tensor([[2.0, 0.0], [-2.0, 2.0], [0.0, 0.0]]))
    # var = mean(0.5 + mu^2) - m^2: the rows' spread plus their own variance; an unseen label keeps N(0, I)
    assert torch.allclose(logvar.exp(), torch.tensor([[1.5, 0.5], [0.5, 1.5], [1.0, 1.0]]))


def test_unlabelled_rows_join_the_label_whose_rows_they_sit_among():
    """Two clusters, one labelled row each: EM hands each unlabelled row to its cluster's label, so the fitted
    means move to the clusters' centres (from the single anchors' positions)."""
    rng = np.random.default_rng(0)
    a = torch.tensor(rng.normal([4.0, 0.0], 0.3, (200, 2)), dtype=torch.float32)
    b = torch.tensor(rng.normal([-4.0, 0.0], 0.3, (200, 2)), dtype=torch.float32)
    mus = torch.cat([a, b])
    labels = torch.full((400,), -1)
    labels[0], labels[200] = 0, 1  # one anchor each, away from the centre
    mus[0], mus[200] = torch.tensor([5.0, 0.5]), torch.tensor([-5.0, -0.5])
    alone, _, _ = fit_label_prior(mus[[0, 200]], torch.zeros(2, 2) - 5, torch.tensor([0, 1]), 2)
    mu, _, figures = fit_label_prior(mus, torch.zeros(400, 2) - 5, labels, 2)
    assert torch.allclose(alone[0], torch.tensor([5.0, 0.5]))
    assert (mu[0] - torch.tensor([4.0, 0.0])).abs().max() < 0.1
    assert (mu[1] - torch.tensor([-4.0, 0.0])).abs().max() < 0.1
    assert figures["labelled_share"] == pytest.approx(2 / 400)


def labelled_counting(n: int, seed: int) -> TokenArrays:
    """Sentences counting up from a start; the label says whether it starts low or high (learnable from z)."""
    rng = np.random.default_rng(seed)
    lengths, starts = rng.integers(3, 8, size=n), rng.integers(4, 40, size=n)
    ids = np.concatenate([np.arange(s, s + n_) for s, n_ in zip(starts, lengths)])
    labels = (starts >= 22).astype(np.int32)
    return TokenArrays(ids=ids.astype(np.uint16), offsets=np.concatenate([[0], np.cumsum(lengths)]), labels=labels)


def test_a_latent_conditioned_bs_vae_has_no_label_weights_and_samples_each_label_from_its_fitted_prior(tmp_path):
    mp = params_for(
        "model", embed_dim=16, hidden_dim=32, latent_dim=4, conditional=True, conditioning="latent", word_dropout=0.3
    )
    p = params_for("train", epochs=4, batch_size=32, warmup_steps=0, seed=5)
    train = labelled_counting(400, 0)
    train.labels[::2] = -1  # half the rows without a label: they train the VAE and join the prior by EM
    result = train_model(train, labelled_counting(64, 1), 50, mp, p, CPU, num_labels=2)
    model = result.model
    assert model.label_embed is None and not any("label" in name for name, _ in model.named_parameters())
    assert model.fitted_mu.abs().sum() > 0  # fitted after training
    # each label's samples come from its own Gaussian: the two labels' prior means are apart
    z0 = model.sample_latent(200, torch.Generator().manual_seed(0), labels=torch.zeros(200, dtype=torch.long))
    z1 = model.sample_latent(200, torch.Generator().manual_seed(0), labels=torch.ones(200, dtype=torch.long))
    assert torch.allclose(z0.mean(0), model.fitted_mu[0], atol=0.5) and not torch.allclose(z0, z1)
    save_model(model, tmp_path)
    loaded = load_model(tmp_path)  # the fitted prior travels with the weights
    assert torch.equal(loaded.fitted_mu, model.fitted_mu) and torch.equal(loaded.fitted_logvar, model.fitted_logvar)
    fresh = build_model(50, mp, num_labels=2)
    assert torch.equal(fresh.fitted_mu, torch.zeros(2, 4))  # N(0, I) until fitted
