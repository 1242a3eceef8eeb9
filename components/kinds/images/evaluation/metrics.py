"""FID and KID between two sets of feature vectors (the pipeline classifier's), and picture grids.

FID (Heusel et al. 2017): |mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a^1/2 S_b S_a^1/2)^1/2), the matrix square roots
from symmetric eigen-decompositions (no scipy needed). KID (Binkowski et al. 2018): the unbiased MMD^2 with the
cubic polynomial kernel, averaged over subsets. Both use this project's classifier, not Inception: they compare
models of this project with each other, not with published figures.
"""

from __future__ import annotations

import numpy as np


def _sqrtm_psd(m: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh((m + m.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def fid(a: np.ndarray, b: np.ndarray) -> float:
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root_a = _sqrtm_psd(cov_a)
    cross = _sqrtm_psd(root_a @ cov_b @ root_a)
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(cross))


def kid(a: np.ndarray, b: np.ndarray, subsets: int = 10, subset_size: int = 500, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    d = a.shape[1]
    m = min(subset_size, len(a), len(b))
    total = 0.0
    for _ in range(subsets):
        x, y = a[rng.choice(len(a), m, replace=False)], b[rng.choice(len(b), m, replace=False)]
        kxx, kyy, kxy = (x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3, (x @ y.T / d + 1) ** 3
        total += ((kxx.sum() - np.trace(kxx)) + (kyy.sum() - np.trace(kyy))) / (m * (m - 1)) - 2 * kxy.mean()
    return float(total / subsets)


def grid(images: np.ndarray, columns: int = 8) -> np.ndarray:
    """(N, C, H, W) uint8 -> one (rows*H, columns*W[, C]) uint8 picture, with a 1-pixel gap."""
    n, c, h, w = images.shape
    rows = -(-n // columns)
    out = np.full((rows * (h + 1) + 1, columns * (w + 1) + 1, c), 255, dtype=np.uint8)
    for i, img in enumerate(images):
        r, k = divmod(i, columns)
        out[1 + r * (h + 1) : 1 + r * (h + 1) + h, 1 + k * (w + 1) : 1 + k * (w + 1) + w] = img.transpose(1, 2, 0)
    return out[:, :, 0] if c == 1 else out
