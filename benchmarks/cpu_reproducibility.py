"""CPU GEMM with and without MKL's strict reproducibility mode (MKL_CBWR=AUTO,STRICT, set by components/__init__.py):
time per product, and whether one and two threads give the same bits.

    python benchmarks/cpu_reproducibility.py

Each setting runs in its own process (MKL reads MKL_CBWR once, when it loads). Needs only torch.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

PROBE = r"""
import hashlib, json, time, torch
torch.manual_seed(0)
shapes = {"64x256x1024": (64, 256, 1024), "2048x512x512": (2048, 512, 512), "2048x4096x64": (2048, 4096, 64)}
out = {}
for name, (m, k, n) in shapes.items():
    x, y = torch.randn(m, k), torch.randn(k, n)
    bits = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        bits.append(hashlib.sha256((x @ y).numpy().tobytes()).hexdigest())
    for _ in range(10):
        x @ y
    start, reps = time.perf_counter(), 200
    for _ in range(reps):
        x @ y
    out[name] = {"us": (time.perf_counter() - start) / reps * 1e6, "same_bits": bits[0] == bits[1]}
print(json.dumps(out))
"""


def run(cbwr: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "MKL_CBWR"} | {"MKL_DYNAMIC": "FALSE", "OMP_DYNAMIC": "FALSE"}
    if cbwr:
        env["MKL_CBWR"] = cbwr
    return json.loads(
        subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True).stdout
    )


def main() -> None:
    rows = [(label, run(cbwr)) for label, cbwr in (("MKL default", None), ("MKL_CBWR=AUTO,STRICT", "AUTO,STRICT"))]
    print("| setting | product (m x k x n) | us per product (2 threads) | 1 and 2 threads same bits |")
    print("|---|---|---|---|")
    for label, result in rows:
        for name, r in result.items():
            print(f"| {label} | {name} | {r['us']:.0f} | {'yes' if r['same_bits'] else 'no'} |")


if __name__ == "__main__":
    main()
