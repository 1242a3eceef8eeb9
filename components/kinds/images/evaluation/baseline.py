"""The images kind's trivial baseline: every pixel independent, with its own histogram counted on the train split.

Bits per dimension and FID have no scale that carries from one data set to another (Fashion-MNIST's bits/dim
mean nothing for handwriting or X-rays), so the gate asks a model to beat this baseline on the same test images
instead of a fixed number. Its likelihood is exact and on the models' 256-level grid, so `baseline_bpd` compares
with a model's `bpd` directly; its samples (each pixel drawn from its own histogram) give `baseline_fid` in the
same classifier's features as the model's `fid`.
"""

from __future__ import annotations

import math

import numpy as np

LEVELS = 256


def pixel_log_probs(train: np.ndarray) -> np.ndarray:
    """log p(value) per pixel position: (D, 256) from uint8 images (N, C, H, W), add-one smoothed (a value a
    position never took in train keeps a finite cost)."""
    flat = np.asarray(train, dtype=np.int64).reshape(len(train), -1)
    positions = flat.shape[1]
    counts = np.bincount((np.arange(positions) * LEVELS + flat).ravel(), minlength=positions * LEVELS)
    counts = counts.reshape(positions, LEVELS).astype(np.float64) + 1
    return np.log(counts / counts.sum(axis=1, keepdims=True))


def baseline_bits_per_dim(log_probs: np.ndarray, test: np.ndarray, chunk: int = 1024) -> float:
    """Mean NLL of the test images under independent pixels, in bits per dimension."""
    positions = np.arange(log_probs.shape[0])
    total = 0.0
    for start in range(0, len(test), chunk):
        flat = np.asarray(test[start : start + chunk], dtype=np.int64).reshape(-1, log_probs.shape[0])
        total -= float(log_probs[positions, flat].sum())
    return total / (max(len(test), 1) * log_probs.shape[0] * math.log(2))


def baseline_samples(log_probs: np.ndarray, shape: tuple[int, ...], n: int, seed: int, chunk: int = 64) -> np.ndarray:
    """n uint8 images (n, *shape), each pixel drawn from its own histogram (inverse CDF, seeded)."""
    cdf = np.cumsum(np.exp(log_probs), axis=1)
    cdf /= cdf[:, -1:]
    rng = np.random.default_rng(seed)
    out = []
    for start in range(0, n, chunk):
        u = rng.random((min(chunk, n - start), cdf.shape[0], 1))
        out.append(np.minimum((u > cdf[None]).sum(axis=-1), LEVELS - 1).astype(np.uint8))
    return np.concatenate(out).reshape(n, *shape) if out else np.zeros((0, *shape), dtype=np.uint8)
