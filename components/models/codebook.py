"""Vector quantiser with an EMA-updated codebook (van den Oord et al. 2017; Razavi et al. 2019).

The codebook is not trained by gradients: each code moves to the running mean of the encoder
outputs assigned to it (exponential moving averages of counts and sums, Laplace-smoothed),
which is more stable than the codebook loss. Two things keep codes from dying, the usual
failure of VQ models ("index collapse"): the codebook starts from encoder outputs (random
rows, or k-means over the first batch), and a code whose running count falls below
`dead_code_threshold` times a uniform code's share is restarted at a random encoder output.

Two options address the other failure, slow learning through the quantiser. `metric="cosine"`
l2-normalises inputs and codes (Yu et al. 2022, "Vector-quantized image modeling with improved
VQGAN"), so the nearest code is the one with the closest direction, the codes live on a sphere
the encoder cannot outgrow, and usage is more even. `warmup` passes the inputs through
unquantised for that many training batches (a continuous autoencoder) and only then starts the
codebook from the encoder outputs of the next batch: codes initialised from a trained encoder's
outputs, instead of a random one's, are spread over what the sentences need.

`ResidualCodebook` stacks several such codebooks (residual quantisation: Zeghidour et al. 2021,
"SoundStream"; Lee et al. 2022, "RQ-VAE"): the first quantises the input, each next one what the
levels before it missed, and the vector is the sum of the levels' codes. L levels of K codes name
K^L vectors for the cost of L lookups, so the quantisation error, which is what stops a VQ text
autoencoder from reconstructing its input, falls with every level. Under the cosine metric only
the first level works on the sphere; the residuals are small offsets and are quantised Euclidean.

All state lives in buffers, so it is saved in the safetensors weights. Under torchrun the
counts and sums are all-reduced, so every rank's rows move the codes and the updates agree;
initialisation and restarts draw from rank 0's rows and are broadcast, so the codebooks stay
identical across ranks.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass
class Quantized:
    codes: torch.Tensor
    """Index of the nearest code for each input vector, shape (...,)."""
    quantized: torch.Tensor
    """The codes' vectors with a straight-through gradient to the inputs, shape (..., D)."""
    commitment: torch.Tensor
    """Squared distance of inputs to their (fixed) codes, summed over D, shape (...,)."""
    bypassed: bool = False
    """True during the warm-up: `quantized` is the input itself and `codes` mean nothing yet."""


class EMACodebook(nn.Module):
    def __init__(
        self,
        size: int,
        dim: int,
        decay: float = 0.99,
        dead_code_threshold: float = 0.01,
        init: str = "kmeans",
        metric: str = "euclidean",
        warmup: int = 0,
        eps: float = 1e-5,
    ):
        super().__init__()
        if init not in ("kmeans", "data"):
            raise ValueError(f"codebook init must be kmeans or data, got {init!r}")
        if metric not in ("euclidean", "cosine"):
            raise ValueError(f"codebook metric must be euclidean or cosine, got {metric!r}")
        self.size, self.dim, self.decay, self.eps = size, dim, decay, eps
        self.dead_code_threshold, self.init, self.metric = dead_code_threshold, init, metric
        self.register_buffer("vectors", self._project(torch.randn(size, dim) * 0.1))
        self.register_buffer("warmup_left", torch.tensor(warmup, dtype=torch.long))
        """Training batches still to pass through unquantised (saved, so a resumed run continues the count)."""
        self.register_buffer("cluster_size", torch.zeros(size))
        self.register_buffer("vector_sum", torch.zeros(size, dim))
        self.register_buffer("initialised", torch.zeros((), dtype=torch.bool))
        self.register_buffer("restarts", torch.zeros((), dtype=torch.long))
        """Codes restarted so far (a diagnostic, saved with the weights)."""

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # Weights saved before the warm-up existed have no counter: their warm-up, if any, is long over.
        state_dict.setdefault(prefix + "warmup_left", torch.zeros((), dtype=torch.long))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def _project(self, vectors: torch.Tensor) -> torch.Tensor:
        """Onto the unit sphere under the cosine metric; unchanged under the Euclidean one."""
        return nn.functional.normalize(vectors, dim=-1) if self.metric == "cosine" else vectors

    def nearest(self, flat: torch.Tensor) -> torch.Tensor:
        """Index of the closest code for each row of `flat` (N, D). Under the cosine metric the codes have
        unit norm, so the Euclidean argmin is the cosine argmax whatever the norm of `flat`."""
        distances = (
            flat.pow(2).sum(1, keepdim=True) - 2 * flat @ self.vectors.t() + self.vectors.pow(2).sum(1).unsqueeze(0)
        )
        return distances.argmin(dim=1)

    def lookup(self, codes: torch.Tensor) -> torch.Tensor:
        return self.vectors[codes]

    def forward(self, inputs: torch.Tensor) -> Quantized:
        inputs = self._project(inputs)
        flat = inputs.reshape(-1, self.dim).float()  # distances and averages in fp32, also under bf16 autocast
        if self.training and int(self.warmup_left) > 0:
            self.warmup_left -= 1
            return Quantized(
                codes=torch.zeros(inputs.shape[:-1], dtype=torch.long, device=inputs.device),
                quantized=inputs,
                commitment=torch.zeros(inputs.shape[:-1], device=inputs.device),
                bypassed=True,
            )
        if self.training:
            with torch.no_grad():
                if not bool(self.initialised):
                    self._initialise(flat)
        codes = self.nearest(flat.detach())
        if self.training:
            with torch.no_grad():
                self._ema_update(flat, codes)
        vectors = self.vectors[codes].view(inputs.shape).to(inputs.dtype)
        commitment = (inputs - vectors.detach()).pow(2).sum(-1)
        quantized = inputs + (vectors - inputs).detach()  # straight-through estimator
        return Quantized(codes=codes.view(inputs.shape[:-1]), quantized=quantized, commitment=commitment)

    def _initialise(self, flat: torch.Tensor) -> None:
        vectors = _random_rows(flat, self.size)
        if self.init == "kmeans":
            vectors = kmeans(flat, vectors, spherical=self.metric == "cosine")
        vectors = self._project(vectors)
        share = flat.shape[0] / self.size
        self.vectors.copy_(vectors)
        self.cluster_size.fill_(share)
        self.vector_sum.copy_(vectors * share)
        self.initialised.fill_(True)
        _broadcast(self.vectors, self.vector_sum)

    def _ema_update(self, flat: torch.Tensor, codes: torch.Tensor) -> None:
        onehot = torch.zeros(flat.shape[0], self.size, device=flat.device)
        onehot.scatter_(1, codes.unsqueeze(1), 1.0)
        counts, sums = onehot.sum(0), onehot.t() @ flat
        if _distributed():
            dist.all_reduce(counts)
            dist.all_reduce(sums)
        self.cluster_size.mul_(self.decay).add_(counts, alpha=1 - self.decay)
        self.vector_sum.mul_(self.decay).add_(sums, alpha=1 - self.decay)
        total = self.cluster_size.sum()
        smoothed = (self.cluster_size + self.eps) / (total + self.size * self.eps) * total
        self.vectors.copy_(self._project(self.vector_sum / smoothed.unsqueeze(1)))
        share = counts.sum() / self.size
        dead = self.cluster_size < self.dead_code_threshold * share
        n_dead = int(dead.sum())
        if n_dead:
            fresh = self._project(_random_rows(flat, n_dead))
            self.vectors[dead] = fresh
            self.cluster_size[dead] = share
            self.vector_sum[dead] = fresh * share
            self.restarts += n_dead
            _broadcast(self.vectors, self.vector_sum)  # every rank saw the same dead codes (all-reduced counts)


class ResidualCodebook(nn.Module):
    """`levels` EMA codebooks in sequence, each quantising the residual of the ones before it.

    Codes come out with a trailing level axis, shape (..., levels); with one level this quantises exactly
    as a single EMACodebook. All levels share the warm-up, so they start together, each from the residuals of the
    (then initialised) levels before it.
    """

    def __init__(
        self,
        levels: int,
        size: int,
        dim: int,
        decay: float = 0.99,
        dead_code_threshold: float = 0.01,
        init: str = "kmeans",
        metric: str = "euclidean",
        warmup: int = 0,
    ):
        super().__init__()
        if levels < 1:
            raise ValueError(f"codebook levels must be at least 1, got {levels}")
        self.levels = nn.ModuleList(
            EMACodebook(size, dim, decay, dead_code_threshold, init, metric if level == 0 else "euclidean", warmup)
            for level in range(levels)
        )

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # Weights saved when the VQ-VAE had a single EMACodebook hold its buffers directly under the prefix.
        for key in [k for k in state_dict if k.startswith(prefix) and not k.startswith(prefix + "levels.")]:
            state_dict[prefix + "levels.0." + key[len(prefix) :]] = state_dict.pop(key)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    @property
    def restarts(self) -> int:
        return sum(int(level.restarts) for level in self.levels)

    def forward(self, inputs: torch.Tensor) -> Quantized:
        inputs = self.levels[0]._project(inputs)
        residual, total, codes, bypassed = inputs, torch.zeros_like(inputs), [], False
        for level in self.levels:
            q = level(residual)
            vectors = q.quantized.detach()  # forward value: the codes' vectors (or, bypassed, the input itself)
            total, residual = total + vectors, residual - vectors
            codes.append(q.codes)
            bypassed = q.bypassed
        commitment = (inputs - total).pow(2).sum(-1)
        return Quantized(
            codes=torch.stack(codes, dim=-1),
            quantized=inputs + (total - inputs).detach(),
            commitment=commitment,
            bypassed=bypassed,
        )

    def nearest(self, flat: torch.Tensor) -> torch.Tensor:
        """Codes (N, levels) for the rows of `flat` (N, D), level by level on the residuals."""
        residual, codes = self.levels[0]._project(flat), []
        for level in self.levels:
            codes.append(level.nearest(residual))
            residual = residual - level.lookup(codes[-1])
        return torch.stack(codes, dim=-1)

    def lookup(self, codes: torch.Tensor) -> torch.Tensor:
        """The vectors named by `codes` (..., levels): the sum of each level's code."""
        return sum(level.lookup(codes[..., i]) for i, level in enumerate(self.levels))


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


def _broadcast(*tensors: torch.Tensor) -> None:
    if _distributed():
        for tensor in tensors:
            dist.broadcast(tensor, src=0)


def _random_rows(flat: torch.Tensor, n: int) -> torch.Tensor:
    """n rows of `flat`, without replacement when there are enough, jittered so that repeats differ."""
    index = (
        torch.randperm(flat.shape[0], device=flat.device)[:n]
        if flat.shape[0] >= n
        else torch.randint(flat.shape[0], (n,), device=flat.device)
    )
    rows = flat[index]
    return rows + torch.randn_like(rows) * 0.01 * (rows.std() + 1e-6)


def kmeans(
    points: torch.Tensor, centroids: torch.Tensor, iterations: int = 10, spherical: bool = False
) -> torch.Tensor:
    """Lloyd's algorithm from `centroids`; a centroid left without points keeps its place. `spherical`:
    centroids renormalised to unit length after each step (points assumed on the unit sphere)."""
    centroids = centroids.clone()
    for _ in range(iterations):
        distances = torch.cdist(points, centroids)
        assign = distances.argmin(dim=1)
        sums = torch.zeros_like(centroids).index_add_(0, assign, points)
        counts = torch.bincount(assign, minlength=centroids.shape[0]).unsqueeze(1).to(points.dtype)
        centroids = torch.where(counts > 0, sums / counts.clamp(min=1), centroids)
        if spherical:
            centroids = nn.functional.normalize(centroids, dim=-1)
    return centroids


def usage_statistics(codes: torch.Tensor, size: int) -> dict[str, float]:
    """How evenly `codes` use the codebook: the share of codes used and the perplexity exp(H) of their
    frequencies (1 = one code for everything, `size` = perfectly even use)."""
    counts = torch.bincount(codes.reshape(-1).cpu(), minlength=size).double()
    probs = counts / counts.sum().clamp(min=1)
    entropy = -(probs[probs > 0] * probs[probs > 0].log()).sum()
    return {"codebook_usage": float((counts > 0).double().mean()), "codebook_perplexity": float(entropy.exp())}
