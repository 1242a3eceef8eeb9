"""Importing the pipeline's code fixes MKL's reproducibility settings before torch loads: a GEMM whose partial sums
MKL would otherwise split by thread count gives the same bits on one and two threads. It holds where torch's CPU
GEMM is MKL's (the x86 wheels, Intel and AMD alike: MKL's conditional numerical reproducibility picks one code path
for the processor and keeps it); a torch built on another BLAS skips it with the reason."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from tests.conftest import ROOT

PROBE = """
import components, hashlib, torch
torch.manual_seed(0)
x, y = torch.randn(2048, 4096), torch.randn(4096, 64)
bits = []
for threads in (1, 2):
    torch.set_num_threads(threads)
    bits.append(hashlib.sha256((x @ y).numpy().tobytes()).hexdigest())
print(bits[0] == bits[1])
"""


@pytest.mark.skipif(not torch.backends.mkl.is_available(), reason="torch's CPU GEMM is not MKL's on this build")
def test_gemm_bits_do_not_depend_on_the_thread_count():
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}  # no MKL_* inherited from the caller
    proc = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "True"
