"""VQVAE-LM: discrete codes, a prior that never trains the encoder, an honest bound, and the shared interface."""

import pytest
import torch

from components.core.errors import StageError
from components.core.params import ParamsError
from components.engine.precision import bf16_failure
from components.kinds.text.evaluation.metrics import evaluate_model
from components.kinds.text.gate import gate_metrics
from components.kinds.text.models.factory import build_model, load_model, save_model
from components.kinds.text.models.families import family_params
from components.kinds.text.models.vqvae import VQVAE
from components.kinds.text.serving.generator import TextGenerator
from components.kinds.text.training.loop import train_model
from components.kinds.text.training.losses import vae_loss
from tests.conftest import params_for, toy_arrays


def tiny(**overrides) -> VQVAE:
    """A small VQ-VAE quantising from the first batch (no warm-up), Euclidean, unless overridden."""
    torch.manual_seed(0)
    sizes = dict(
        family="vqvae",
        embed_dim=16,
        hidden_dim=16,
        codes=4,
        codebook_size=8,
        code_dim=8,
        layers=1,
        heads=2,
        codebook_warmup=0,
        codebook_metric="euclidean",
        codebook_levels=1,
    )
    return build_model(50, params_for("model", **{**sizes, **overrides}))


def batch():
    torch.manual_seed(1)
    return torch.randint(4, 50, (6, 7)), torch.tensor([7, 5, 3, 2, 1, 6])


def test_forward_gives_codes_reconstruction_prior_nll_and_commitment():
    model = tiny().train()
    out = model(*batch())
    assert out.codes.shape == (6, 4) and out.rec_nll.shape == (6,) and out.kl.shape == (6, 1)
    assert (out.kl > 0).all() and out.aux_loss.item() >= 0 and not out.kl_is_scheduled
    loss, parts = vae_loss(out, beta=0.0, free_bits=5.0)  # beta and free bits do not touch the prior's NLL
    expected = out.rec_nll.mean() + out.kl.mean() + out.aux_loss
    torch.testing.assert_close(loss, expected)


def test_the_prior_loss_does_not_reach_the_encoder_but_reconstruction_does():
    model = tiny().train()
    out = model(*batch())
    out.kl.sum().backward()
    assert model.encoder.weight_ih_l0.grad is None or model.encoder.weight_ih_l0.grad.abs().sum() == 0
    assert model.prior.out.weight.grad.abs().sum() > 0
    model.zero_grad()
    out = model(*batch())
    out.rec_nll.sum().backward()
    assert model.encoder.weight_ih_l0.grad.abs().sum() > 0  # straight through the quantiser
    assert model.prior.out.weight.grad is None or model.prior.out.weight.grad.abs().sum() == 0


def test_generation_quantises_so_encoding_then_decoding_uses_the_codes():
    model = tiny().train()
    model(*batch())  # initialises the codebook from data
    model.eval()
    z, _ = model.encode(*batch())
    snapped = model.codes_to_z(model.quantise(z))
    g = torch.Generator().manual_seed(0)
    assert model.generate(z, 6, greedy=True) == model.generate(snapped, 6, greedy=True)
    sampled = model.sample_latent(3, g)
    assert sampled.shape == (3, 4 * 8)
    torch.testing.assert_close(model.codes_to_z(model.quantise(sampled)), sampled)  # prior samples are codes


def test_prior_is_causal_over_codes():
    model = tiny().eval()
    a, b = torch.tensor([[1, 2, 3, 4]]), torch.tensor([[1, 2, 7, 0]])
    pa, pb = model.prior.position_nll(a), model.prior.position_nll(b)
    torch.testing.assert_close(pa[:, :2], pb[:, :2])


@pytest.mark.parametrize("levels", [1, 2])
def test_trains_evaluates_gates_and_round_trips(tmp_path, levels):
    mp = params_for(
        "model",
        family="vqvae",
        embed_dim=16,
        hidden_dim=32,
        codes=4,
        codebook_size=16,
        code_dim=8,
        layers=1,
        heads=2,
        word_dropout=0.0,
        codebook_levels=levels,
        codebook_warmup=0,
        codebook_metric="euclidean",
    )
    result = train_model(
        toy_arrays(),
        toy_arrays(),
        50,
        mp,
        params_for("train", epochs=3, batch_size=16, warmup_steps=1),
        torch.device("cpu"),
    )
    assert isinstance(result.model, VQVAE) and result.history[-1]["valid_kl"] > 0
    metrics = evaluate_model(
        result.model, toy_arrays(40, seed=3), params_for("evaluate", iw_samples=2, batch_size=8), 16
    )
    assert metrics["nll"] == pytest.approx(metrics["reconstruction_nll"] + metrics["kl"], rel=1e-5)
    assert metrics["codebook_size"] == 16 * levels  # each level's codebook counts as entries of its own
    assert 1.0 <= metrics["codebook_perplexity"] <= 16 * levels and 0 < metrics["codebook_usage"] <= 1
    assert 0 < metrics["reconstruction_token_accuracy"] <= 1 and metrics["latent_units"] == 4 * levels
    assert len(metrics["kl_per_dim"]) == 4 * levels
    report = gate_metrics(
        {**metrics, "recon_bleu": 50.0},
        params_for("gate", min_baseline_margin=None, max_nll=1e6, max_ppl=1e9, min_codebook_perplexity=1e3),
    )
    check = next(c for c in report.checks if c.metric == "codebook_perplexity")
    assert not check.passed and not report.passed  # index collapse below the threshold refuses the model
    save_model(result.model, tmp_path)
    loaded = load_model(tmp_path)
    for mine, theirs in zip(loaded.codebook.levels, result.model.codebook.levels, strict=True):
        torch.testing.assert_close(mine.vectors, theirs.vectors)
    assert bool(loaded.codebook.levels[0].initialised)
    again = evaluate_model(loaded, toy_arrays(40, seed=3), params_for("evaluate", iw_samples=2, batch_size=8), 16)
    assert again["nll"] == pytest.approx(metrics["nll"], rel=1e-5)


def test_text_generator_samples_from_the_prior(tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {t: i for i, t in enumerate(["<pad>", "<unk>", "<bos>", "<eos>"] + [f"w{i}" for i in range(46)])}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    model = tiny().train()
    model(*batch())
    generator = TextGenerator(model, tokenizer, max_len=6)
    samples = generator.sample(4, seed=0)
    assert len(samples) == 4 and samples == generator.sample(4, seed=0)
    assert len(generator.interpolate("w1 w2 w3", "w9 w8", steps=3)) == 3


def test_params_are_checked():
    with pytest.raises(ParamsError, match="^model.vqvae.codebook_size: must be"):
        family_params(params_for("model", family="vqvae", codebook_size=1))
    with pytest.raises(ParamsError, match="^model.vqvae.ema_decay: must be"):
        family_params(params_for("model", family="vqvae", ema_decay=1.0))
    with pytest.raises(ParamsError, match="^model.vqvae.codebook_init: must be"):
        family_params(params_for("model", family="vqvae", codebook_init="random"))
    with pytest.raises(ParamsError, match="^model.vqvae.codebook_metric: must be"):
        family_params(params_for("model", family="vqvae", codebook_metric="manhattan"))
    with pytest.raises(ParamsError, match="^model.vqvae.codebook_warmup: must be"):
        family_params(params_for("model", family="vqvae", codebook_warmup=-1))
    with pytest.raises(ParamsError, match="^model.vqvae.codebook_levels: must be"):
        family_params(params_for("model", family="vqvae", codebook_levels=0))


def test_residual_levels_give_each_position_a_code_per_level_in_the_priors_order():
    model = tiny(codebook_levels=3).train()
    out = model(*batch())
    assert out.codes.shape == (6, 4 * 3) and out.kl.shape == (6, 1) and (out.kl > 0).all()
    model.eval()
    z, _ = model.encode(*batch())
    codes = model.quantise(z)
    torch.testing.assert_close(
        codes.view(6, 4, 3)[:, :, 0], model.codebook.levels[0].nearest(z.view(-1, 8)).view(6, 4)
    )  # the first level of each position is its plain nearest code
    snapped = model.codes_to_z(codes)
    assert model.generate(z, 6, greedy=True) == model.generate(snapped, 6, greedy=True)
    sampled = model.sample_latent(2, torch.Generator().manual_seed(0))
    assert sampled.shape == (2, 4 * 8)


def test_weights_saved_with_a_single_codebook_still_load():
    """Before residual levels the codebook's buffers sat at codebook.*; they are level 0's now."""
    model = tiny().train()
    model(*batch())
    state = {k.replace("codebook.levels.0.", "codebook."): v for k, v in model.state_dict().items()}
    fresh = tiny()
    fresh.load_state_dict(state, strict=True)
    torch.testing.assert_close(fresh.codebook.levels[0].vectors, model.codebook.levels[0].vectors)


@pytest.mark.parametrize(
    "device",
    [
        "cpu",
        pytest.param(
            "cuda", marks=[pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]
        ),
    ],
)
def test_bf16_autocast_keeps_the_codebook_in_fp32(device):
    model = tiny().to(device).train()
    reason = bf16_failure(model, torch.device(device))
    if reason:
        pytest.skip(f"no bf16 on this machine: {reason}")
    tokens, lengths = (t.to(device) for t in batch())
    with torch.autocast(device_type=device, dtype=torch.bfloat16):
        out = model(tokens, lengths)
        loss, _ = vae_loss(out, beta=1.0, free_bits=0.0)
    loss.backward()
    assert torch.isfinite(loss) and model.codebook.levels[0].vectors.dtype == torch.float32
    assert model.to_code.weight.grad is not None and torch.isfinite(model.to_code.weight.grad).all()


def test_during_the_codebook_warm_up_the_decoder_reads_continuous_vectors_and_the_prior_rests():
    model = tiny(codebook_warmup=2, codebook_metric="cosine").train()
    for _ in range(2):
        out = model(*batch())
        assert float(out.kl.abs().sum()) == 0.0 and not bool(model.codebook.levels[0].initialised)
    out = model(*batch())
    assert bool(model.codebook.levels[0].initialised) and (out.kl > 0).all()


def test_a_warm_up_longer_than_the_run_is_refused():
    mp = params_for(
        "model",
        family="vqvae",
        embed_dim=16,
        hidden_dim=16,
        codes=2,
        codebook_size=8,
        code_dim=4,
        layers=1,
        heads=2,
        codebook_warmup=10,
    )
    with pytest.raises(StageError, match="model.vqvae.codebook_warmup is 10 batches but this run trains only 4 steps"):
        train_model(
            toy_arrays(),
            toy_arrays(seed=1),
            50,
            mp,
            params_for("train", max_steps=4, batch_size=4, warmup_steps=1),
            torch.device("cpu"),
        )
