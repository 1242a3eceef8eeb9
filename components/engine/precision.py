"""Which precision a run really trains in: train.precision asks for bf16, the hardware decides whether it can.

bf16 autocast needs a bf16 kernel for every op the model runs. CUDA GPUs from Ampere on have them all; a CPU has
them only where oneDNN does (AVX-512 BF16, AMX). Elsewhere most ops fall back to slow reference code, and some have
no kernel at all: on an AMD EPYC without AVX-512 the LSTM forward raises "could not create a primitive descriptor"
in the middle of the first step. So the engine asks once, at the start, before any step: each kind of module the
model holds (LSTM, convolution, attention ...) runs a forward and backward on a few numbers under bf16 autocast.
If one fails, the run trains in fp32 and says so in one warning line: `train.precision: bf16` means "bf16 where
the hardware has it" (the `gpu` profile sets it for every application, and a CPU-only machine must still be able
to run that profile). The precision a run actually used is written beside its timings.
"""

from __future__ import annotations

import functools
import logging
import platform
from collections.abc import Callable

import torch
from torch import nn

log = logging.getLogger(__name__)


def _recurrent(cls: type[nn.RNNBase]) -> Callable[[], None]:
    return lambda: _step(cls(4, 4, batch_first=True), torch.randn(2, 3, 4))


def _attention() -> None:
    layer = nn.MultiheadAttention(4, 2, batch_first=True)
    x = torch.randn(2, 3, 4, requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out, _ = layer(x, x, x)
    out.float().sum().backward()


PROBES: dict[type[nn.Module], Callable[[], None]] = {
    nn.LSTM: _recurrent(nn.LSTM),
    nn.GRU: _recurrent(nn.GRU),
    nn.RNN: _recurrent(nn.RNN),
    nn.Linear: lambda: _step(nn.Linear(4, 4), torch.randn(2, 4)),
    nn.Conv1d: lambda: _step(nn.Conv1d(2, 2, 3), torch.randn(2, 2, 5)),
    nn.Conv2d: lambda: _step(nn.Conv2d(2, 2, 3), torch.randn(2, 2, 5, 5)),
    nn.ConvTranspose2d: lambda: _step(nn.ConvTranspose2d(2, 2, 3), torch.randn(2, 2, 5, 5)),
    nn.MultiheadAttention: _attention,
}
"""A probe per kind of module whose CPU kernel may be missing in bf16: a tiny instance's forward and backward under
autocast (a millisecond or two each). A module of another class counts as working: its parts are probed if they
are among these."""


def _step(module: nn.Module, x: torch.Tensor) -> None:
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = module(x.requires_grad_())
    (out[0] if isinstance(out, tuple) else out).float().sum().backward()


@functools.cache
def cpu_bf16_failure(cls: type[nn.Module]) -> str | None:
    """Why a module of class `cls` cannot run under bf16 autocast on this CPU (None: it can). Asked once per class
    and process."""
    probe = PROBES.get(cls)
    if probe is None:
        return None
    try:
        probe()
    except RuntimeError as err:
        return f"{cls.__name__}: {str(err).splitlines()[0] if str(err) else type(err).__name__}"
    return None


def bf16_failure(model: nn.Module, device: torch.device) -> str | None:
    """Why `model` cannot train under bf16 autocast on `device`, in words (None: it can)."""
    if device.type == "cuda":
        return None if torch.cuda.is_bf16_supported() else f"{torch.cuda.get_device_name(device)} has no bf16"
    if device.type != "cpu":
        return f"no bf16 autocast probe for {device.type}"
    for cls in sorted({type(m) for m in model.modules()}, key=lambda c: c.__name__):
        reason = cpu_bf16_failure(cls)
        if reason:
            return f"{reason} ({cpu_name()})"
    return None


def effective_precision(requested: str, model: nn.Module, device: torch.device) -> str:
    """The precision to train in: `requested`, or fp32 with one warning line when bf16 cannot run here."""
    if requested != "bf16":
        return requested
    reason = bf16_failure(model, device)
    if reason is None:
        return "bf16"
    log.warning("train.precision bf16 cannot run on this machine (%s): training in fp32", reason)
    return "fp32"


def cpu_name() -> str:
    """The processor's model name (Linux's /proc/cpuinfo; the platform's word elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
