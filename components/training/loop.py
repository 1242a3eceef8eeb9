"""The training loop every family shares: seeded, resumable, data-parallel under torchrun.

The cures for posterior collapse are all driven from params.yaml: a beta schedule (constant,
monotonic or cyclical annealing, schedules.py), free bits per latent dimension (losses.py),
word dropout in the decoder (the model's config), autoencoder pretraining with a decoder reset,
an LR schedule with warm-up, and gradient clipping. The loop keeps the weights with the best
validation ELBO.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from components.core.errors import StageError
from components.core.params import ModelParams, TrainParams
from components.data.batches import TokenArrays, batch_labels, bucketed_batches, length_sorted_batches, pad_batch
from components.models.base import TextModel
from components.models.factory import build_model
from components.training import distributed
from components.training.checkpoints import checkpoint_interval, load_checkpoint, run_fingerprint, save_checkpoint
from components.training.losses import vae_loss
from components.training.schedules import beta_at, lr_factor

log = logging.getLogger(__name__)
LOG_EVERY = 200  # optimiser steps between progress lines



@torch.no_grad()
def validation_elbo(model: TextModel, data: TokenArrays, batch_size: int, max_len: int, device: torch.device) -> dict:
    """Per-sentence negative ELBO (beta = 1, one posterior sample) and its parts on `data`."""
    model.eval()
    rec = kl = 0.0
    for index in length_sorted_batches(data.lengths, batch_size):
        tokens, lengths = pad_batch(data, index, max_len)
        labels = batch_labels(data, index)
        out = model(tokens.to(device), lengths.to(device), sample=True,
                    labels=None if labels is None else labels.to(device))
        rec += out.rec_nll.sum().item()
        kl += out.kl.sum().item()
    n = max(len(data), 1)
    return {"valid_rec": rec / n, "valid_kl": kl / n, "valid_nelbo": (rec + kl) / n}

@dataclass
class TrainResult:
    model: torch.nn.Module
    history: list[dict]
    """One row per epoch; no wall times, so the same run always writes the same file (DVC hashes it)."""
    best_epoch: int
    epoch_seconds: list[float]
    """Wall time of each epoch this process trained (written beside, not into, the DVC outputs)."""

def train_step(forward, optimizer, train: TokenArrays, index: np.ndarray, beta: float, p: TrainParams,
               device: torch.device, ctx: distributed.DistContext, autocast) -> tuple[float, dict[str, float]]:
    """Gradients of one optimiser step's batch `index`, accumulated over this rank's micro-batches.

    Rank r takes rows r, r+W, ... of the batch and splits them into train.grad_accum micro-batches;
    each loss is weighted by its rows * W / batch rows, so after DistributedDataParallel averages
    over the W ranks the gradient is that of the mean over the whole batch, as in one process.
    Returns the batch's mean loss and its parts, summed over ranks (the same on every rank).
    """
    optimizer.zero_grad(set_to_none=True)
    shard = index[ctx.rank::ctx.world]
    micro = [m for m in np.array_split(shard, p.grad_accum) if len(m)]
    # On the training device: NCCL (torchrun on GPUs) reduces CUDA tensors only. float64 for exact sums.
    totals = torch.zeros(3, dtype=torch.float64, device=device)
    for i, part in enumerate(micro):
        tokens, lens = pad_batch(train, part, p.max_len)
        labels = batch_labels(train, part)
        weight = len(part) * ctx.world / len(index)
        # Only the last micro-batch's backward all-reduces the accumulated gradients.
        sync = forward.no_sync() if ctx.active and i < len(micro) - 1 else contextlib.nullcontext()
        with sync:
            with autocast:
                out = forward(tokens.to(device), lens.to(device), labels=None if labels is None else labels.to(device))
                loss, parts = vae_loss(out, beta, p.free_bits)
            if not torch.isfinite(loss):  # stop before the optimiser sees it (under torchrun the others stop too)
                return loss.item(), parts
            (loss * weight if weight != 1.0 else loss).backward()
        totals += torch.tensor([loss.item(), parts["rec"], parts["kl"]], dtype=torch.float64,
                               device=device) * (weight / ctx.world)
    totals = distributed.all_reduce_sum(totals)
    return float(totals[0]), {"rec": float(totals[1]), "kl": float(totals[2])}

def train_model(train: TokenArrays, valid: TokenArrays, vocab_size: int, mp: ModelParams, p: TrainParams,
                device: torch.device, checkpoint: Path | None = None,
                init_state: dict[str, torch.Tensor] | None = None, num_labels: int = 0) -> TrainResult:
    """Train and return the model at its best validation ELBO, with one history row per epoch.

    With `checkpoint`, the full training state (model, optimiser, scheduler, RNGs, position in the
    epoch, running sums, best weights) is saved every few steps (checkpoint_interval) and at each epoch
    end; a run killed part-way resumes from it and ends with the same weights as an uninterrupted run.
    `init_state` (warm start) replaces the random initial weights. A conditional model (model.conditional)
    is built for `num_labels` labels and reads each split's labels.
    """
    ctx = distributed.current()
    torch.manual_seed(p.seed)
    rng = np.random.default_rng(p.seed)  # the batch order: the same on every rank
    model = build_model(vocab_size, mp, num_labels).to(device)
    if mp.conditional and (train.labels is None or valid.labels is None):
        raise StageError("model.conditional is true but the token arrays carry no labels (rerun the tokenize stage)")
    if init_state:
        try:
            model.load_state_dict(init_state, strict=True)
        except RuntimeError as err:
            raise StageError(f"warm-start weights do not fit model {mp}: {err}") from err
    net = model
    if ctx.active:
        torch.manual_seed(p.seed + ctx.rank)  # word dropout and z noise differ across ranks' rows
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda"
                                                        else None)
    forward = torch.compile(net) if p.compile else net
    autocast = torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=p.precision == "bf16")
    optimizer = torch.optim.Adam(model.parameters(), lr=p.lr)
    pretrain = p.pretrain_epochs if model.decoder_modules() else 0  # only families with a decoder to reset
    epochs = pretrain + p.epochs
    steps_per_epoch = math.ceil(len(train) / p.batch_size)
    total = steps_per_epoch * epochs if p.max_steps == 0 else min(p.max_steps, steps_per_epoch * epochs)
    pre_steps = min(steps_per_epoch * pretrain, total)
    if mp.family == "vqvae" and mp.codebook_warmup >= total * p.grad_accum:
        raise StageError(f"model.codebook_warmup is {mp.codebook_warmup} batches but this run trains only {total} "
                         f"steps x {p.grad_accum} micro-batches: the codebook would never start")

    def beta_now(at_step: int) -> float:
        """0 while pretraining as an autoencoder; then the schedule, over the VAE phase's steps."""
        return 0.0 if at_step < pre_steps else beta_at(at_step - pre_steps, max(total - pre_steps, 1), p)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, total, p))
    lengths = train.lengths
    fingerprint = run_fingerprint(vocab_size, train, mp, p, init_state)
    every = checkpoint_interval(total, p)
    history: list[dict] = []
    epoch_seconds: list[float] = []
    best, best_state, best_epoch, step = math.inf, None, 0, 0
    first_epoch, skip, sums, count = 1, 0, {"loss": 0.0, "rec": 0.0, "kl": 0.0}, 0
    resumed = load_checkpoint(checkpoint, fingerprint) if checkpoint else None
    if resumed:
        model.load_state_dict(resumed["model"])
        optimizer.load_state_dict(resumed["optimizer"])
        scheduler.load_state_dict(resumed["scheduler"])
        history, best, best_epoch, step = resumed["history"], resumed["best"], resumed["best_epoch"], resumed["step"]
        best_state = resumed["best_state"] or None
        first_epoch, skip, sums, count = resumed["epoch"], resumed["batch_in_epoch"], resumed["sums"], resumed["count"]
        rng.bit_generator.state = json.loads(resumed["epoch_rng"])
        log.info("resuming from %s at step %d (epoch %d, batch %d)", checkpoint, step, first_epoch, skip)

    def snapshot(epoch: int, batch_in_epoch: int, epoch_rng: str) -> None:
        if not ctx.is_main:
            return
        save_checkpoint(checkpoint, {
            "fingerprint": fingerprint, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(), "torch_rng": torch.get_rng_state(), "epoch_rng": epoch_rng,
            "history": history, "best": best, "best_epoch": best_epoch, "best_state": best_state or {},
            "step": step, "epoch": epoch, "batch_in_epoch": batch_in_epoch, "sums": sums, "count": count})

    for epoch in range(first_epoch, epochs + 1):
        model.train()
        epoch_rng = json.dumps(rng.bit_generator.state)  # the epoch's batch order can be rebuilt from this
        batches = bucketed_batches(lengths, p.batch_size, rng)
        if resumed and epoch == first_epoch:
            torch.set_rng_state(resumed["torch_rng"])
        else:
            skip, sums, count = 0, {"loss": 0.0, "rec": 0.0, "kl": 0.0}, 0
        if pretrain and epoch == pretrain + 1 and skip == 0:  # (resumed mid-epoch: the reset already happened)
            model.reset_decoder()
            for module in model.decoder_modules():
                for param in module.parameters():
                    optimizer.state.pop(param, None)  # no stale Adam moments from the autoencoder phase
                distributed.broadcast_tensors(module.parameters())
            log.info("autoencoder pretraining done after %d epochs: decoder reset, VAE training starts", pretrain)
        started = time.perf_counter()
        for batch_in_epoch, index in enumerate(batches[skip:], start=skip):
            if step >= total:
                break
            if len(index) < ctx.world * p.grad_accum:
                continue  # a tail batch too small to give every rank and micro-batch a row (same on all ranks)
            beta = beta_now(step)
            loss, parts = train_step(forward, optimizer, train, index, beta, p, device, ctx, autocast)
            if not math.isfinite(loss):
                raise StageError(f"loss became {loss} at step {step} (epoch {epoch}); "
                                 f"try a lower train.lr or train.grad_clip")
            torch.nn.utils.clip_grad_norm_(model.parameters(), p.grad_clip)
            optimizer.step()
            scheduler.step()
            step += 1
            count += 1
            sums["loss"] += loss
            sums["rec"] += parts["rec"]
            sums["kl"] += parts["kl"]
            if step % LOG_EVERY == 0:
                log.info("step %d/%d loss %.2f rec %.2f kl %.2f beta %.2f", step, total, loss,
                         parts["rec"], parts["kl"], beta)
            if checkpoint and every and step % every == 0:
                snapshot(epoch, batch_in_epoch + 1, epoch_rng)
        if count == 0:
            break
        epoch_seconds.append(time.perf_counter() - started)
        row = {"epoch": epoch, "step": step, "beta": beta_now(step - 1), "lr": scheduler.get_last_lr()[0],
               **{f"train_{k}": v / count for k, v in sums.items()},
               # rank 0 validates; every rank gets its numbers, so all take the same early-stopping decision
               **distributed.broadcast(validation_elbo(model, valid, p.batch_size * 2, p.max_len, device)
                                       if ctx.is_main else None)}
        history.append(row)
        log.info("epoch %d step %d (%.1f s): %s", epoch, step, epoch_seconds[-1],
                 {k: round(v, 3) for k, v in row.items()})
        if epoch > pretrain and row["valid_nelbo"] < best:  # the autoencoder phase is not a model to keep
            best, best_epoch = row["valid_nelbo"], epoch
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        sums, count = {"loss": 0.0, "rec": 0.0, "kl": 0.0}, 0
        if checkpoint:
            snapshot(epoch + 1, 0, json.dumps(rng.bit_generator.state))
        if p.patience and epoch > pretrain and epoch - max(best_epoch, pretrain) >= p.patience:
            log.info("early stop: validation -ELBO has not improved for %d epochs", p.patience)
            break
    if best_state is None:
        raise StageError("no training step ran: the train split or train.max_steps is empty")
    model.load_state_dict(best_state)
    return TrainResult(model=model.eval(), history=history, best_epoch=best_epoch, epoch_seconds=epoch_seconds)
