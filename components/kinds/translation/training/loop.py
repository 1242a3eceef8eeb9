"""Training a translation family on the engine (components/engine/engine.py): length-bucketed batches of pairs,
Adam with warm-up then inverse-square-root decay (Vaswani et al. 2017), label smoothing, a validation pass after
every epoch. Resume, torchrun, accumulation, bf16 and the NaN stop are the engine's.

Pure of files: the train stage loads the token arrays and saves what this returns.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from components.core.errors import StageError
from components.data.batches import TokenArrays, bucketed_batches, length_sorted_batches, pad_batch
from components.engine.engine import EngineSettings, Task, Trained, Update, array_digest, fit
from components.kinds.translation.models.base import TranslationLoss, TranslationModel
from components.kinds.translation.params import TranslationTrainParams

log = logging.getLogger(__name__)


@dataclass
class ParallelArrays:
    """One split's sources and targets, row i of one the translation of row i of the other."""

    source: TokenArrays
    target: TokenArrays

    @classmethod
    def load(cls, directory, split: str) -> ParallelArrays:
        pair = cls(TokenArrays.load(directory, f"{split}.source"), TokenArrays.load(directory, f"{split}.target"))
        if len(pair.source) != len(pair.target):
            raise StageError(f"{directory}: {split} has {len(pair.source)} sources but {len(pair.target)} targets")
        return pair

    def __len__(self) -> int:
        return len(self.source)

    def head(self, n: int) -> ParallelArrays:
        return self if n <= 0 or n >= len(self) else ParallelArrays(self.source.head(n), self.target.head(n))


def pair_batch(pairs: ParallelArrays, index: np.ndarray, max_len: int, device: torch.device):
    src, src_len = pad_batch(pairs.source, index, max_len)
    tgt, tgt_len = pad_batch(pairs.target, index, max_len)
    return src.to(device), src_len.to(device), tgt.to(device), tgt_len.to(device)


def total_loss(out: TranslationLoss) -> torch.Tensor:
    loss = out.rec.sum() + (out.prior.sum() if out.prior is not None else 0.0)
    return loss / max(out.tokens, 1) + (out.aux if out.aux is not None else 0.0)


def inverse_sqrt(step: int, warmup: int) -> float:
    """Learning-rate factor: linear warm-up to 1, then 1/sqrt(step/warmup)."""
    if warmup <= 0:
        return 1.0
    return min(step / warmup, math.sqrt(warmup / max(step, 1)))


class TranslationTask(Task):
    """Length-bucketed batches of pairs through a translation family's loss (label-smoothed target NLL, and the
    code prior's NLL for the latent family); the engine keeps the weights with the best validation NLL."""

    monitor = "nll_per_token"
    divergence_hint = "lower train.lr or raise train.warmup_steps"
    validate_in_autocast = True

    def __init__(
        self,
        model: TranslationModel,
        train: ParallelArrays,
        valid: ParallelArrays,
        p: TranslationTrainParams,
        max_len: int,
        device: torch.device,
        on_epoch: Callable[[TranslationModel], dict] | None = None,
        time_limit_s: float | None = None,
    ):
        self.model, self.train, self.valid, self.p, self.max_len, self.device = model, train, valid, p, max_len, device
        self.lengths = np.maximum(train.source.lengths, train.target.lengths)
        self.on_epoch, self.time_limit_s, self.started = on_epoch, time_limit_s, time.perf_counter()

    @property
    def epochs(self) -> int:
        return self.p.epochs

    def steps_per_epoch(self) -> int:
        return math.ceil(len(self.train) / self.p.batch_size)

    def optimizers(self):
        return [torch.optim.Adam(self.model.parameters(), lr=self.p.lr, betas=(0.9, 0.98), eps=1e-9)]

    def lr_factor(self, step: int, total: int) -> float:
        return inverse_sqrt(step + 1, self.p.warmup_steps)

    def batches(self, rng):
        return bucketed_batches(self.lengths, self.p.batch_size, rng)

    def weight(self, rows) -> float:
        """The loss is a mean over target tokens (each target and its end token, as the model counts them)."""
        return float((np.minimum(self.train.target.lengths[rows], self.max_len) + 1).sum())

    def updates(self, net, rows, step, total):
        out = net(*pair_batch(self.train, rows, self.max_len, self.device), smoothing=self.p.label_smoothing)
        loss = total_loss(out)
        yield Update(0, loss, {"loss": loss.detach()})

    def validate(self) -> dict[str, float]:
        return validation_loss(self.model, self.valid, self.max_len, self.device)

    def end_epoch(self, row: dict) -> bool:
        if self.on_epoch is not None:
            row.update(self.on_epoch(self.model))
            self.model.train()
        return bool(self.time_limit_s) and time.perf_counter() - self.started >= self.time_limit_s

    def fingerprint(self) -> dict:
        return {
            "model": self.model.config.to_dict(),
            "max_len": self.max_len,
            "data": array_digest(
                self.train.source.ids, self.train.source.offsets, self.train.target.ids, self.train.target.offsets
            ),
        }


def train_translator(
    make_model: Callable[[], TranslationModel],
    train: ParallelArrays,
    valid: ParallelArrays,
    p: TranslationTrainParams,
    max_len: int,
    device: torch.device,
    checkpoint: Path | None = None,
    on_epoch: Callable[[TranslationModel], dict] | None = None,
    time_limit_s: float | None = None,
) -> Trained:
    """Train the model `make_model` builds (after the engine seeds torch) for train.epochs (or train.max_steps);
    `on_epoch` adds its figures to each epoch's history row (a benchmark's BLEU-against-time curve), `time_limit_s`
    stops after the epoch that reaches it."""
    return fit(
        lambda: TranslationTask(make_model(), train, valid, p, max_len, device, on_epoch, time_limit_s),
        EngineSettings.of(p),
        device,
        checkpoint,
    )


@torch.no_grad()
def validation_loss(
    model: TranslationModel, valid: ParallelArrays, max_len: int, device: torch.device, batch_size: int = 128
) -> dict[str, float]:
    """Target NLL per token without label smoothing (and the prior's code NLL per token for the latent family)."""
    model.eval()
    rec = prior = 0.0
    tokens = 0
    for index in length_sorted_batches(valid.target.lengths, batch_size):
        out = model(*pair_batch(valid, index, max_len, device), smoothing=0.0)
        rec += float(out.rec.sum())
        prior += float(out.prior.sum()) if out.prior is not None else 0.0
        tokens += out.tokens
    row = {"nll_per_token": rec / max(tokens, 1)}
    if prior:
        row["prior_nll_per_token"] = prior / max(tokens, 1)
    return row


@torch.no_grad()
def distilled_targets(
    teacher: TranslationModel, sources: TokenArrays, max_len: int, device: torch.device, batch_size: int = 256
) -> TokenArrays:
    """The teacher's greedy translations of `sources` as new target arrays (sequence-level knowledge
    distillation, Kim & Rush 2016): simpler, more deterministic targets are what lets a non-autoregressive
    decoder come close to its autoregressive teacher (Gu et al. 2018; Roy et al. 2018)."""
    teacher.to(device).eval()
    rows: list[list[int] | None] = [None] * len(sources)
    for index in length_sorted_batches(sources.lengths, batch_size):
        src, src_len = pad_batch(sources, index, max_len)
        limit = torch.clamp(src_len * 2 + 10, max=max_len).to(device)
        for i, row in zip(index, teacher.translate(src.to(device), src_len.to(device), "greedy", limit)):
            rows[i] = row
    lengths = np.array([len(r) for r in rows], dtype=np.int64)
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    ids = np.fromiter((t for r in rows for t in r), dtype=np.int64, count=int(lengths.sum()))
    return TokenArrays(ids=ids, offsets=offsets)
