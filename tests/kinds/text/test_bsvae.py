import pytest
import torch

from components.data.batches import EOS_ID
from components.engine.schedules import beta_at, lr_factor
from components.kinds.text.models.base import with_bos_eos
from components.kinds.text.models.bsvae import BSVAE
from components.kinds.text.models.factory import build_model, load_model, save_model
from components.kinds.text.training.loop import train_model, validation_elbo
from components.kinds.text.training.losses import vae_loss
from components.models.store import ModelFileError
from tests.conftest import counting_arrays, params_for, tiny_model, toy_arrays


def test_targets_end_with_eos_after_each_sentence():
    tokens = torch.tensor([[5, 6, 7], [8, 0, 0]])
    inputs, targets = with_bos_eos(tokens, torch.tensor([3, 1]))
    assert inputs[:, 0].tolist() == [2, 2]
    assert targets.tolist() == [[5, 6, 7, EOS_ID], [8, EOS_ID, 0, 0]]


def test_forward_gives_per_sentence_nll_and_per_dimension_kl():
    model = tiny_model()
    out = model(torch.randint(4, 50, (3, 6)), torch.tensor([6, 4, 2]))
    assert out.rec_nll.shape == (3,) and out.kl.shape == (3, 4)
    assert (out.kl >= 0).all()
    loss, parts = vae_loss(out, beta=0.5, free_bits=0.1)
    assert torch.isfinite(loss) and parts["kl"] >= 0


def test_free_bits_floor_each_dimension():
    model = tiny_model()
    out = model(torch.randint(4, 50, (3, 6)), torch.tensor([6, 4, 2]))
    out.kl = torch.zeros_like(out.kl)
    loss, _ = vae_loss(out, beta=1.0, free_bits=0.5)
    assert loss.item() == pytest.approx(out.rec_nll.mean().item() + 4 * 0.5, rel=1e-5)


@pytest.mark.parametrize(
    "schedule,expected",
    [
        ("constant", [1.0, 1.0, 1.0, 1.0]),
        ("monotonic", [0.0, 0.5, 1.0, 1.0]),
        ("cyclical", [0.0, 1.0, 0.0, 1.0]),
    ],
)
def test_beta_schedules(schedule, expected):
    p = params_for("train", beta_schedule=schedule, beta_cycles=2, beta_warmup_fraction=0.5)
    assert [beta_at(s, 100, p) for s in (0, 25, 50, 75)] == pytest.approx(expected)


def test_lr_warms_up_then_decays():
    p = params_for("train", warmup_steps=10, lr_schedule="cosine")
    assert lr_factor(0, 100, p) == pytest.approx(0.1)
    assert lr_factor(9, 100, p) == pytest.approx(1.0)
    assert lr_factor(100, 100, p) == pytest.approx(0.1)


def test_training_lowers_the_validation_bound_and_is_seeded():
    p = params_for("train", epochs=3, batch_size=16, warmup_steps=2, beta_schedule="monotonic", seed=3)
    mp = params_for("model", embed_dim=8, hidden_dim=16, latent_dim=4)
    data, valid = counting_arrays(), counting_arrays(64, seed=1)
    torch.manual_seed(p.seed)
    untrained = validation_elbo(build_model(50, mp), valid, 32, p.max_len, torch.device("cpu"))["valid_nelbo"]
    first = train_model(data, valid, 50, mp, p, torch.device("cpu"))
    second = train_model(data, valid, 50, mp, p, torch.device("cpu"))
    bounds = [row["valid_nelbo"] for row in first.history]
    assert bounds == sorted(bounds, reverse=True) and bounds[-1] < untrained - 1.0, (untrained, bounds)
    assert first.history == second.history  # no wall times in the history: DVC outputs are deterministic


def test_nan_loss_stops_with_the_step(monkeypatch):
    from components.core.errors import StageError

    p = params_for("train", epochs=1, batch_size=16, lr=1.0)
    monkeypatch.setattr(
        "components.kinds.text.training.loop.vae_loss", lambda out, beta, fb: (out.rec_nll.mean() * float("nan"), {})
    )
    with pytest.raises(StageError, match="at step 0"):
        train_model(
            toy_arrays(),
            toy_arrays(),
            50,
            params_for("model", embed_dim=8, hidden_dim=16, latent_dim=4),
            p,
            torch.device("cpu"),
        )


def test_generate_stops_at_eos_and_respects_max_len():
    model = tiny_model()
    rows = model.generate(torch.zeros(4, 4), max_len=5, generator=torch.Generator().manual_seed(0))
    assert len(rows) == 4 and all(len(r) <= 5 for r in rows)
    assert all(EOS_ID not in r and 0 not in r for r in rows)


def test_save_and_load_round_trip_and_reject_tampering(tmp_path):
    model = tiny_model()
    save_model(model, tmp_path)
    loaded = load_model(tmp_path)
    for (k, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), k
    (tmp_path / "model.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(ModelFileError, match="model.safetensors"):
        load_model(tmp_path)
    (tmp_path / "config.json").unlink()
    with pytest.raises(ModelFileError, match="not found"):
        load_model(tmp_path)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_forward_on_cuda():
    model = tiny_model().cuda()
    out = model(torch.randint(4, 50, (3, 6), device="cuda"), torch.tensor([6, 4, 2], device="cuda"))
    assert out.rec_nll.is_cuda and torch.isfinite(out.rec_nll).all()


def test_a_killed_run_resumes_from_its_checkpoint_to_the_same_weights(tmp_path, monkeypatch):
    import components.kinds.text.training.loop as train_module

    p = params_for(
        "train", epochs=3, batch_size=16, warmup_steps=2, beta_schedule="cyclical", seed=11, checkpoint_every=3
    )
    mp = params_for("model", embed_dim=8, hidden_dim=16, latent_dim=4)
    data, valid = toy_arrays(70), toy_arrays(20, seed=1)
    straight = train_model(data, valid, 50, mp, p, torch.device("cpu"))

    real_loss, calls = train_module.vae_loss, {"n": 0}

    def dies_at_step_7(*args):
        calls["n"] += 1
        if calls["n"] == 8:
            raise KeyboardInterrupt("killed")  # mid-epoch 2 (5 batches an epoch), after the step-6 checkpoint
        return real_loss(*args)

    checkpoint = tmp_path / "train.pt"
    monkeypatch.setattr(train_module, "vae_loss", dies_at_step_7)
    with pytest.raises(KeyboardInterrupt):
        train_model(data, valid, 50, mp, p, torch.device("cpu"), checkpoint)
    assert checkpoint.is_file()
    monkeypatch.setattr(train_module, "vae_loss", real_loss)
    resumed = train_model(data, valid, 50, mp, p, torch.device("cpu"), checkpoint)

    for (name, a), (_, b) in zip(straight.model.state_dict().items(), resumed.model.state_dict().items()):
        assert torch.equal(a, b), name
    assert resumed.history == straight.history


def test_a_checkpoint_of_other_params_is_not_resumed(tmp_path):
    p = params_for("train", epochs=1, batch_size=16, checkpoint_every=2)
    mp = params_for("model", embed_dim=8, hidden_dim=16, latent_dim=4)
    checkpoint = tmp_path / "train.pt"
    train_model(toy_arrays(), toy_arrays(), 50, mp, p, torch.device("cpu"), checkpoint)
    from components.engine.checkpoints import load_checkpoint
    from components.engine.engine import EngineSettings, run_fingerprint
    from components.kinds.text.training.loop import text_fingerprint

    def fingerprint(train_params):
        return run_fingerprint(EngineSettings.of(train_params), text_fingerprint(50, toy_arrays(), mp, train_params), 1)

    other = params_for("train", epochs=1, batch_size=16, checkpoint_every=2, lr=0.01)
    assert load_checkpoint(checkpoint, fingerprint(other)) is None
    assert load_checkpoint(checkpoint, fingerprint(p)) is not None
    checkpoint.write_bytes(b"torn")
    assert load_checkpoint(checkpoint, fingerprint(p)) is None


def test_early_stopping_keeps_the_best_epoch(monkeypatch):
    import components.kinds.text.training.loop as train_module

    scores = iter([10.0, 9.0, 9.5, 9.7, 8.0])  # gets worse twice after epoch 2
    monkeypatch.setattr(
        train_module, "validation_elbo", lambda *a: {"valid_rec": 0.0, "valid_kl": 0.0, "valid_nelbo": next(scores)}
    )
    p = params_for("train", epochs=5, batch_size=16, patience=2)
    result = train_model(
        toy_arrays(),
        toy_arrays(),
        50,
        params_for("model", embed_dim=8, hidden_dim=16, latent_dim=4),
        p,
        torch.device("cpu"),
    )
    assert len(result.history) == 4 and result.best_epoch == 2


def test_autoencoder_pretraining_then_one_decoder_reset(monkeypatch):
    resets = []
    original = BSVAE.reset_decoder
    monkeypatch.setattr(BSVAE, "reset_decoder", lambda self: (resets.append(1), original(self)))
    p = params_for("train", epochs=2, pretrain_epochs=1, batch_size=16, warmup_steps=1, beta_schedule="constant")
    result = train_model(
        toy_arrays(),
        toy_arrays(),
        50,
        params_for("model", embed_dim=8, hidden_dim=16, latent_dim=4),
        p,
        torch.device("cpu"),
    )
    assert len(resets) == 1
    assert [row["beta"] for row in result.history] == [0.0, 1.0, 1.0]
    assert result.best_epoch in (2, 3)  # the autoencoder epoch is never the kept model


@pytest.mark.parametrize(
    "encoder,decoder", [("transformer", "lstm"), ("lstm", "transformer"), ("transformer", "transformer")]
)
def test_transformer_variants_train_round_trip_and_decode(tmp_path, encoder, decoder):
    mp = params_for(
        "model", embed_dim=16, hidden_dim=32, latent_dim=4, layers=1, heads=2, encoder=encoder, decoder=decoder
    )
    result = train_model(
        toy_arrays(),
        toy_arrays(),
        50,
        mp,
        params_for("train", epochs=1, batch_size=16, warmup_steps=1),
        torch.device("cpu"),
    )
    model = result.model
    assert (model.config.encoder, model.config.decoder) == (encoder, decoder)
    save_model(model, tmp_path)
    loaded = load_model(tmp_path)
    tokens, lengths = torch.randint(4, 50, (3, 6)), torch.tensor([6, 4, 2])
    torch.testing.assert_close(loaded.encode(tokens, lengths)[0], model.encode(tokens, lengths)[0])
    z = loaded.sample_latent(2, torch.Generator().manual_seed(0))
    assert len(loaded.generate(z, max_len=5, greedy=True)) == 2


def test_transformer_encoder_ignores_padding():
    torch.manual_seed(0)
    model = tiny_model(embed_dim=16, hidden_dim=32, encoder="transformer", layers=1, heads=2).eval()
    short = torch.tensor([[5, 6, 7]])
    padded = torch.tensor([[5, 6, 7, 0, 0, 0]])
    torch.testing.assert_close(model.encode(short, torch.tensor([3]))[0], model.encode(padded, torch.tensor([3]))[0])


def test_transformer_decoder_is_causal_and_decodes_step_by_step():
    torch.manual_seed(0)
    model = tiny_model(embed_dim=16, hidden_dim=32, decoder="transformer", layers=1, heads=2).eval()
    z, seq = torch.randn(1, 4), torch.tensor([[2, 5, 6, 7]])
    whole = model.decode_logits(z, seq)[0]
    changed = model.decode_logits(z, torch.tensor([[2, 5, 30, 31]]))[0]
    torch.testing.assert_close(whole[:, :2], changed[:, :2])
    state, steps = None, []
    for t in range(seq.shape[1]):
        logits, state = model.decode_logits(z, seq[:, t : t + 1], state)
        steps.append(logits)
    torch.testing.assert_close(torch.cat(steps, dim=1), whole)


def test_every_run_checkpoints_often_enough_to_resume():
    from components.engine.checkpoints import checkpoint_interval

    shipped = params_for("train")
    every, least = shipped.checkpoint_every, shipped.min_checkpoints
    assert checkpoint_interval(150, every, least) == 150 // least  # the tiny profile's run
    assert checkpoint_interval(100_000, every, least) == every
    assert checkpoint_interval(5, 500, 10) == 1
    assert checkpoint_interval(1000, 0, least) == 0
