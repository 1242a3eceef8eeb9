"""Training a translation family: length-bucketed batches of pairs, Adam with warm-up then inverse-square-root
decay (Vaswani et al. 2017), label smoothing, bf16 autocast on a GPU, a validation pass after every epoch.

Pure of files: the train stage loads the token arrays and saves what this returns.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from components.core.errors import StageError
from components.core.translation_params import TranslationTrainParams
from components.data.batches import TokenArrays, bucketed_batches, length_sorted_batches, pad_batch
from components.models.translation_base import TranslationLoss, TranslationModel

log = logging.getLogger(__name__)


@dataclass
class ParallelArrays:
    """One split's sources and targets, row i of one the translation of row i of the other."""

    source: TokenArrays
    target: TokenArrays

    @classmethod
    def load(cls, directory, split: str) -> "ParallelArrays":
        pair = cls(TokenArrays.load(directory, f"{split}.source"), TokenArrays.load(directory, f"{split}.target"))
        if len(pair.source) != len(pair.target):
            raise StageError(f"{directory}: {split} has {len(pair.source)} sources but {len(pair.target)} targets")
        return pair

    def __len__(self) -> int:
        return len(self.source)

    def head(self, n: int) -> "ParallelArrays":
        return self if n <= 0 or n >= len(self) else ParallelArrays(self.source.head(n), self.target.head(n))


@dataclass
class TrainResult:
    model: TranslationModel
    history: list[dict] = field(default_factory=list)
    seconds: float = 0.0


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


def train_translator(model: TranslationModel, train: ParallelArrays, valid: ParallelArrays,
                     p: TranslationTrainParams, max_len: int, device: torch.device,
                     on_epoch: Callable[[TranslationModel], dict] | None = None,
                     time_limit_s: float | None = None) -> TrainResult:
    """Train for train.epochs (or train.max_steps); `on_epoch` adds its figures to each epoch's history row
    (a benchmark's BLEU-against-time curve), `time_limit_s` stops after the epoch that reaches it."""
    torch.manual_seed(p.seed)
    rng = np.random.default_rng(p.seed)
    model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=p.lr, betas=(0.9, 0.98), eps=1e-9)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: inverse_sqrt(step + 1, p.warmup_steps))
    autocast = torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=p.precision == "bf16")
    lengths = np.maximum(train.source.lengths, train.target.lengths)
    result, step, started = TrainResult(model), 0, time.perf_counter()
    for epoch in range(1, p.epochs + 1):
        model.train()
        sums = {"loss": 0.0, "rec": 0.0, "prior": 0.0, "tokens": 0}
        epoch_started = time.perf_counter()
        for index in bucketed_batches(lengths, p.batch_size, rng):
            with autocast:
                out = model(*pair_batch(train, index, max_len, device), smoothing=p.label_smoothing)
                loss = total_loss(out)
            if not torch.isfinite(loss):
                raise StageError(f"training diverged: loss is {float(loss)} at step {step} (epoch {epoch}); "
                                 "lower train.lr or raise train.warmup_steps")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), p.grad_clip)
            optimizer.step()
            scheduler.step()
            step += 1
            sums["loss"] += float(loss.detach()) * out.tokens
            sums["rec"] += float(out.rec.detach().sum())
            sums["prior"] += float(out.prior.detach().sum()) if out.prior is not None else 0.0
            sums["tokens"] += out.tokens
            if p.max_steps and step >= p.max_steps:
                break
        row = {"epoch": epoch, "step": step, "seconds": time.perf_counter() - epoch_started,
               "lr": optimizer.param_groups[0]["lr"], "train_loss": sums["loss"] / max(sums["tokens"], 1),
               **validation_loss(model, valid, max_len, device, autocast)}
        row["elapsed_s"] = time.perf_counter() - started
        if on_epoch is not None:
            row.update(on_epoch(model))
            model.train()
        result.history.append(row)
        log.info("epoch %d step %d (%.1f s): %s", epoch, step, row["seconds"],
                 {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()})
        if (p.max_steps and step >= p.max_steps) or (time_limit_s and row["elapsed_s"] >= time_limit_s):
            break
    result.seconds = time.perf_counter() - started
    model.eval()
    return result


@torch.no_grad()
def validation_loss(model: TranslationModel, valid: ParallelArrays, max_len: int, device: torch.device,
                    autocast, batch_size: int = 128) -> dict[str, float]:
    """Target NLL per token without label smoothing (and the prior's code NLL per token for the latent family)."""
    model.eval()
    rec = prior = 0.0
    tokens = 0
    for index in length_sorted_batches(valid.target.lengths, batch_size):
        with autocast:
            out = model(*pair_batch(valid, index, max_len, device), smoothing=0.0)
        rec += float(out.rec.sum())
        prior += float(out.prior.sum()) if out.prior is not None else 0.0
        tokens += out.tokens
    model.train()
    row = {"valid_nll_per_token": rec / max(tokens, 1)}
    if prior:
        row["valid_prior_nll_per_token"] = prior / max(tokens, 1)
    return row


@torch.no_grad()
def distilled_targets(teacher: TranslationModel, sources: TokenArrays, max_len: int, device: torch.device,
                      batch_size: int = 256) -> TokenArrays:
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
