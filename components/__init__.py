"""The pipeline's code: shared packages, and one package per kind of application under kinds/."""

import os

# MKL, torch's CPU BLAS, by default adjusts how many threads it uses to the machine's load (MKL_DYNAMIC): the same
# training on a busy machine then sums floats in another order and ends with other bits. Fixed here, before any
# stage imports torch, so that a run on CPU is a function of its params, data, code and thread count only.
os.environ.setdefault("MKL_DYNAMIC", "FALSE")
os.environ.setdefault("OMP_DYNAMIC", "FALSE")
# MKL's conditional numerical reproducibility, strict mode: without it MKL may schedule a GEMM's partial sums
# dynamically, so even a fixed thread count gives run-to-run differences in the last bits under load (seen in CI: a
# rebuilt label classifier differed from the registered one). Strict mode also makes GEMM independent of the thread
# count; measured at no cost here (benchmarks/README.md).
os.environ.setdefault("MKL_CBWR", "AUTO,STRICT")
