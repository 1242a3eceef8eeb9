"""train.precision bf16 trains in bf16 where the hardware runs the model's ops in it, in fp32 with one warning line
elsewhere: never a kernel error in the middle of training (an AMD EPYC without AVX-512 has no bf16 LSTM)."""

from __future__ import annotations

import logging

import pytest
import torch
from torch import nn

from components.engine import precision
from components.engine.precision import bf16_failure, effective_precision
from components.kinds.text.training.loop import train_model
from tests.conftest import counting_arrays, params_for

CPU = torch.device("cpu")


class Unsupported(nn.Module):
    """A module class whose bf16 kernel the probe is told is missing (forcing the probe's answer)."""

    def __init__(self):
        super().__init__()
        self.inner = nn.Linear(4, 4)

    def forward(self, x):
        return self.inner(x)


def missing_kernel():
    raise RuntimeError("could not create a primitive descriptor for the Unsupported forward propagation primitive")


@pytest.fixture
def forced_failure(monkeypatch):
    monkeypatch.setitem(precision.PROBES, Unsupported, missing_kernel)
    precision.cpu_bf16_failure.cache_clear()
    yield
    precision.cpu_bf16_failure.cache_clear()


def test_a_model_with_a_module_that_has_no_bf16_kernel_trains_in_fp32_with_one_warning(forced_failure, caplog):
    model = nn.Sequential(nn.Linear(4, 4), Unsupported())
    with caplog.at_level(logging.WARNING, logger="components.engine.precision"):
        assert effective_precision("bf16", model, CPU) == "fp32"
    [record] = caplog.records
    assert "Unsupported" in record.getMessage() and "training in fp32" in record.getMessage()


def test_a_model_whose_modules_all_run_in_bf16_keeps_bf16(forced_failure, caplog):
    # Linear's bf16 has a CPU kernel everywhere torch runs (oneDNN's, or the reference GEMM)
    with caplog.at_level(logging.WARNING):
        assert effective_precision("bf16", nn.Sequential(nn.Linear(4, 4), nn.ReLU()), CPU) == "bf16"
    assert not caplog.records


def test_fp32_asks_nothing(forced_failure):
    assert effective_precision("fp32", Unsupported(), CPU) == "fp32"


def test_the_probe_asks_once_per_module_class(forced_failure, monkeypatch):
    calls = []
    monkeypatch.setitem(precision.PROBES, Unsupported, lambda: calls.append(1))
    precision.cpu_bf16_failure.cache_clear()
    for _ in range(3):
        assert bf16_failure(nn.Sequential(Unsupported(), Unsupported()), CPU) is None
    assert calls == [1]


@pytest.mark.parametrize("forced", [False, True], ids=["this machine", "forced: no bf16 LSTM"])
def test_the_gpu_profile_s_bf16_trains_an_lstm_bs_vae_on_this_cpu(forced, monkeypatch, caplog):
    """The gpu profile's precision on a CPU-only machine trains: in bf16 where this processor has the LSTM's kernel,
    in fp32 with the warning where it has not (this machine's answer, and the answer forced)."""
    if forced:
        monkeypatch.setitem(precision.PROBES, nn.LSTM, missing_kernel)
    precision.cpu_bf16_failure.cache_clear()
    p = params_for("train", epochs=1, batch_size=16, precision="bf16", warmup_steps=0)
    mp = params_for("model", family="bsvae", embed_dim=8, hidden_dim=16, latent_dim=4, encoder="lstm", decoder="lstm")
    with caplog.at_level(logging.WARNING, logger="components.engine.precision"):
        result = train_model(counting_arrays(64), counting_arrays(16, seed=1), 50, mp, p, CPU)
    precision.cpu_bf16_failure.cache_clear()
    expected = "fp32" if forced or bf16_failure(result.model, CPU) else "bf16"
    assert result.precision == expected
    assert len(caplog.records) == (expected == "fp32")
    assert all(torch.isfinite(torch.tensor(v)) for v in result.history[-1].values() if isinstance(v, float))
