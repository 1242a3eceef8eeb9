"""The one training engine every kind runs on: a kind says what a batch is and what its losses are; the engine
does the rest, the same way for sentences, translation pairs and images.

What the engine owns, once for all kinds:
- **Seeding before the model is built** (so the initial weights are the seed's), deterministic kernels on CPU,
  and a seeded batch order that is the same on every rank.
- **Resume**: the whole training state (weights, every optimiser and LR schedule, RNGs, the position inside the
  epoch, running sums, best weights) is saved atomically every few steps and at each epoch end; a run killed
  part-way (`kill -9`) resumes from it and ends bit-identical to an uninterrupted run. A checkpoint carries a
  fingerprint of what made it (params, data shape, start weights, training code) and is resumed only by its own run.
- **Data parallelism under torchrun** (gloo on CPU, NCCL on GPUs): every rank draws the same batch; rank r takes
  rows r, r+W, ...; the gradients are summed over ranks (one flat all-reduce per optimiser) and each loss is
  weighted by its rows x W / batch rows, so the update is that of the whole batch in one process. The engine
  reduces gradients itself rather than through DistributedDataParallel because a family may own several
  optimisers and reach its networks through methods other than `forward` (a GAN's generator and discriminator),
  which DDP's hooks would not see. Rank 0 alone validates (and broadcasts the figures), checkpoints and saves.
- **Gradient accumulation** (train.grad_accum micro-batches a step), **bf16 autocast**, gradient clipping,
  the LR factor the kind gives, a **stop with the step** when a loss turns NaN or infinite (on every rank at once:
  the check reads the all-reduced figures), **best weights** on the kind's validation figure with **patience**,
  and **progress** a person can read (steps/s and the time left).

A kind supplies a `Task` (components/training/tasks are the kinds' own: text, translation, images).
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import logging
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from components.core.errors import StageError
from components.engine import distributed
from components.engine.checkpoints import (
    checkpoint_interval,
    code_digest,
    load_checkpoint,
    run_params,
    save_checkpoint,
)
from components.engine.precision import effective_precision
from components.engine.progress import Progress

log = logging.getLogger(__name__)
NONFINITE = "__nonfinite"  # a step's count of non-finite losses and gradient norms, summed over ranks


@dataclass(frozen=True)
class Update:
    """One optimiser's part of a training step, for one micro-batch: the loss whose gradient it takes, and
    the figures to report (tensors or floats, means over the micro-batch's rows)."""

    optimizer: int
    loss: torch.Tensor
    figures: dict[str, torch.Tensor | float] = field(default_factory=dict)


@dataclass(frozen=True)
class EngineSettings:
    """The knobs of train: every kind's train section has them (params.yaml), the engine reads them here."""

    seed: int
    max_steps: int
    min_steps: int
    """Epochs are repeated until at least this many optimiser steps (0: the kind's epochs decide)."""
    grad_accum: int
    grad_clip: float
    """0: no clipping."""
    precision: str
    compile: bool
    patience: int
    checkpoint_every: int
    min_checkpoints: int
    train: dict = field(default_factory=dict)
    """The whole train section's values that change what a run computes (lr, batch size, epochs, ...): part of a
    checkpoint's fingerprint, whatever the kind."""

    @classmethod
    def of(cls, p) -> EngineSettings:
        """The engine's part of a kind's train params (a dataclass with at least these fields)."""
        return cls(
            **{name: getattr(p, name) for name in cls.__dataclass_fields__ if name != "train"}, train=run_params(p)
        )


class Task(ABC):
    """What a kind gives the engine: its model, its optimisers, one epoch's batches, the losses of a batch and
    a validation pass. Built after the engine has seeded torch (see `fit`), so its initial weights are the seed's."""

    model: nn.Module
    monitor: str | None = None
    """The validation figure whose minimum picks the weights kept (and patience counts on); None: the last epoch's."""
    kept_from: int = 1
    """The first epoch whose weights may be kept (a BS-VAE's autoencoder pretraining epochs are not a model)."""
    divergence_hint: str = "lower train.lr or raise train.grad_clip"
    validate_in_autocast: bool = False
    """Whether validation runs under bf16 autocast too (when train.precision is bf16); fp32 by default."""

    @property
    @abstractmethod
    def epochs(self) -> int: ...

    @abstractmethod
    def steps_per_epoch(self) -> int: ...

    @abstractmethod
    def optimizers(self) -> list[torch.optim.Optimizer]: ...

    def lr_factor(self, step: int, total: int) -> float:
        """The learning rate at `step` as a factor of train.lr."""
        return 1.0

    def weight(self, rows: np.ndarray) -> float:
        """What a micro-batch's loss is a mean over (rows by default; target tokens for translation): micro-batches
        and ranks are weighted by their share of the whole batch's, so the gradient is the whole batch's."""
        return float(len(rows))

    @abstractmethod
    def batches(self, rng: np.random.Generator) -> list[np.ndarray]:
        """One epoch's batches as row indices, drawn from `rng` only (the same on every rank)."""

    @abstractmethod
    def updates(self, net: nn.Module, rows: np.ndarray, step: int, total: int) -> Iterator[Update]:
        """The updates of one micro-batch (`rows` of the train split), in optimiser order; `net` is the model,
        compiled when train.compile is on. The engine takes each update's backward and optimiser step before it
        asks for the next, so a GAN's generator update sees the discriminator after its step."""

    @abstractmethod
    def validate(self) -> dict[str, float]:
        """Figures on the valid split (names without the `valid_` prefix the history gives them)."""

    def step_figures(self, step: int, total: int) -> dict[str, float]:
        """Schedule values worth a column in the history (a beta schedule's beta)."""
        return {}

    def start_epoch(self, epoch: int, optimizers: list[torch.optim.Optimizer]) -> None:  # noqa: B027 (optional hook)
        """Called at the start of every epoch that starts afresh (not on resuming mid-epoch)."""

    def end_epoch(self, row: dict) -> bool:
        """Called with each epoch's history row before it is kept (a benchmark adds its figures to it);
        True stops training after this epoch."""
        return False

    def fingerprint(self) -> dict:
        """What else ties a checkpoint to this run: the model config, a digest of the data, the start weights."""
        return {}


@dataclass
class Trained:
    model: nn.Module
    """At its kept epoch (see Task.monitor), in eval mode."""
    history: list[dict]
    """One row per epoch; no wall times, so the same run always writes the same file (DVC hashes it)."""
    best_epoch: int
    epoch_seconds: list[float]
    """Wall time of each epoch this process trained (written beside, not into, the DVC outputs)."""
    ctx: distributed.DistContext = field(default_factory=distributed.DistContext)
    precision: str = "fp32"
    """The precision it trained in: train.precision, or fp32 where bf16 cannot run (engine/precision.py)."""


def seed_everything(seed: int, device: torch.device) -> None:
    """The seed for torch (initial weights, dropout, sampling) and, on CPU, deterministic kernels: with the thread
    count recorded beside the run, a rebuild on CPU gives the same bits."""
    torch.manual_seed(seed)
    if device.type == "cpu":
        torch.use_deterministic_algorithms(True, warn_only=True)


def array_digest(*arrays) -> str:
    """SHA-256 of arrays' shapes, types and bytes: a checkpoint resumes only on the data it was trained on."""
    digest = hashlib.sha256()
    for array in arrays:
        if array is None:
            digest.update(b"none")
            continue
        array = np.ascontiguousarray(np.asarray(array))
        digest.update(f"{array.shape}{array.dtype}".encode())
        digest.update(memoryview(array).cast("B"))
    return digest.hexdigest()


def state_digest(state: dict[str, torch.Tensor] | None) -> str | None:
    """SHA-256 of a state dict's names and values (start weights belong in a checkpoint's fingerprint)."""
    if not state:
        return None
    digest = hashlib.sha256()
    for name in sorted(state):
        digest.update(name.encode())
        digest.update(state[name].detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def run_fingerprint(
    settings: EngineSettings, task_fingerprint: dict, world: int, extra_code: tuple[Path, ...] = ()
) -> str:
    """What a checkpoint must match to be resumed: the engine's knobs and the train section (not how often it
    saves), the task's own (model, data digest, start weights), the number of processes and the training code
    (the project's, and the task's and model's files wherever they live: a kind may be defined outside)."""
    engine = {k: v for k, v in vars(settings).items() if k not in ("checkpoint_every", "min_checkpoints")}
    engine["train"] = {k: v for k, v in settings.train.items() if k not in ("checkpoint_every", "min_checkpoints")}
    code = code_digest() + [hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(set(extra_code))]
    blob = json.dumps(
        {"engine": engine, "task": task_fingerprint, "world": world, "code": code}, sort_keys=True, default=str
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def reduce_gradients(parameters: list[nn.Parameter], world: int) -> None:
    """Sum each gradient over the ranks in one flat all-reduce and average. Which parameters have a gradient is
    agreed first (a parameter a rank's rows did not reach counts as zero there, as under DDP; one no rank reached
    keeps no gradient, as in one process), so the flat layouts agree on every rank."""
    device = next((p.device for p in parameters), torch.device("cpu"))
    present = distributed.all_reduce_sum(
        torch.tensor([p.grad is not None for p in parameters], dtype=torch.float32, device=device)
    )
    for p, anywhere in zip(parameters, present.tolist()):
        if anywhere and p.grad is None:
            p.grad = torch.zeros_like(p)
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return
    flat = distributed.all_reduce_sum(torch.cat([g.reshape(-1) for g in grads]))
    flat /= world
    offset = 0
    for g in grads:
        g.copy_(flat[offset : offset + g.numel()].view_as(g))
        offset += g.numel()


@dataclass
class Run:
    """One training run's state: what a checkpoint saves and a resumed run restores."""

    task: Task
    settings: EngineSettings
    device: torch.device
    ctx: distributed.DistContext
    model: nn.Module
    net: nn.Module
    """The model, compiled when train.compile is on."""
    autocast: Any
    precision: str
    optimizers: list[torch.optim.Optimizer]
    schedulers: list[torch.optim.lr_scheduler.LambdaLR]
    epochs: int
    total: int
    """Optimiser steps in all."""
    every: int
    """Steps between checkpoints (0: none but at epoch ends)."""
    fingerprint: str
    checkpoint: Path | None
    rng: np.random.Generator
    """The batch order: the same on every rank."""
    history: list[dict] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    best: float = math.inf
    best_state: dict | None = None
    best_epoch: int = 0
    step: int = 0
    first_epoch: int = 1
    skip: int = 0
    """Batches of the first epoch already trained (resuming mid-epoch)."""
    sums: dict = field(default_factory=dict)
    count: int = 0
    resumed: dict | None = None


def fit(
    make_task: Callable[[], Task], settings: EngineSettings, device: torch.device, checkpoint: Path | None = None
) -> Trained:
    """Seed, build the kind's task, train it and return the model at its kept epoch, with one history row per epoch.

    With `checkpoint`, the full training state is saved every few steps (checkpoint_interval) and at each epoch
    end; a run killed part-way resumes from it and ends with the same weights as an uninterrupted run.
    """
    run = start(make_task, settings, device, checkpoint)
    progress = Progress(run.total, run.step)
    for epoch in range(run.first_epoch, run.epochs + 1):
        if not train_epoch(run, epoch, progress):
            break  # no step left in this run
        if close_epoch(run, epoch):
            break  # patience ran out, or the task asked to stop
    if run.best_state is None:
        raise StageError("no training step ran: the train split or train.max_steps is empty")
    run.model.load_state_dict(run.best_state)
    return Trained(
        model=run.model.eval(),
        history=run.history,
        best_epoch=run.best_epoch,
        epoch_seconds=run.epoch_seconds,
        ctx=run.ctx,
        precision=run.precision,
    )


def start(make_task: Callable[[], Task], s: EngineSettings, device: torch.device, checkpoint: Path | None) -> Run:
    """Seed, build the task (so its initial weights are the seed's), its optimisers and schedules, the step
    budget and the checkpoint fingerprint; then resume from `checkpoint` when it is this run's."""
    ctx = distributed.current()
    seed_everything(s.seed, device)
    task = make_task()
    model = task.model.to(device)
    rng = np.random.default_rng(s.seed)
    if ctx.active:
        torch.manual_seed(s.seed + ctx.rank)  # dropout and sampling noise differ across ranks' rows
        distributed.broadcast_tensors(model.state_dict().values())  # one start, whatever a rank's init drew
    net = torch.compile(model) if s.compile else model
    precision = effective_precision(s.precision, model, device)  # bf16 only where the hardware runs it
    autocast = torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=precision == "bf16")
    optimizers = task.optimizers()
    per_epoch = task.steps_per_epoch()
    epochs = epochs_for(task.epochs, per_epoch, s.min_steps)
    total = per_epoch * epochs if s.max_steps == 0 else min(s.max_steps, per_epoch * epochs)
    schedulers = [
        torch.optim.lr_scheduler.LambdaLR(opt, lambda step: task.lr_factor(step, total)) for opt in optimizers
    ]
    warn_if_still_warming_up(task, total)
    components = Path(__file__).resolve().parents[1]  # its code is in code_digest(); a kind's from elsewhere is added
    outside = tuple(
        path
        for path in (Path(inspect.getfile(type(task))).resolve(), Path(inspect.getfile(type(model))).resolve())
        if components not in path.parents
    )
    run = Run(
        task=task,
        settings=s,
        device=device,
        ctx=ctx,
        model=model,
        net=net,
        autocast=autocast,
        precision=precision,
        optimizers=optimizers,
        schedulers=schedulers,
        epochs=epochs,
        total=total,
        every=checkpoint_interval(total, s.checkpoint_every, s.min_checkpoints),
        fingerprint=run_fingerprint(s, task.fingerprint(), ctx.world, outside),
        checkpoint=checkpoint,
        rng=rng,
    )
    resume(run)
    return run


def resume(run: Run) -> None:
    """Restore the state `run.checkpoint` saved, when it exists and is this run's (its fingerprint matches)."""
    resumed = load_checkpoint(run.checkpoint, run.fingerprint) if run.checkpoint else None
    if not resumed:
        return
    run.model.load_state_dict(resumed["model"])
    for opt, state in zip(run.optimizers, resumed["optimizers"], strict=True):
        opt.load_state_dict(state)
    for sched, state in zip(run.schedulers, resumed["schedulers"], strict=True):
        sched.load_state_dict(state)
    run.history, run.best, run.best_epoch, run.step = (
        resumed["history"],
        resumed["best"],
        resumed["best_epoch"],
        resumed["step"],
    )
    run.best_state = resumed["best_state"] or None
    run.first_epoch, run.skip, run.sums, run.count = (
        resumed["epoch"],
        resumed["batch_in_epoch"],
        resumed["sums"],
        resumed["count"],
    )
    run.rng.bit_generator.state = json.loads(resumed["epoch_rng"])
    run.resumed = resumed
    log.info("resuming from %s at step %d (epoch %d, batch %d)", run.checkpoint, run.step, run.first_epoch, run.skip)


def snapshot(run: Run, epoch: int, batch_in_epoch: int, epoch_rng: str) -> None:
    """Save the whole training state atomically (rank 0; every rank's own RNG state gathered first)."""
    rng_states = distributed.all_gather_object(torch_rng_state(run.device))  # every rank's own noise
    if not run.ctx.is_main:
        return
    save_checkpoint(
        run.checkpoint,
        {
            "fingerprint": run.fingerprint,
            "model": run.model.state_dict(),
            "optimizers": [opt.state_dict() for opt in run.optimizers],
            "schedulers": [sched.state_dict() for sched in run.schedulers],
            "torch_rng": rng_states,
            "epoch_rng": epoch_rng,
            "history": run.history,
            "best": run.best,
            "best_epoch": run.best_epoch,
            "best_state": run.best_state or {},
            "step": run.step,
            "epoch": epoch,
            "batch_in_epoch": batch_in_epoch,
            "sums": run.sums,
            "count": run.count,
        },
    )


def train_epoch(run: Run, epoch: int, progress: Progress) -> bool:
    """One epoch's optimiser steps (from where a resumed run stopped); False when none ran (the budget is spent)."""
    s, task = run.settings, run.task
    run.model.train()
    epoch_rng = json.dumps(run.rng.bit_generator.state)  # the epoch's batch order can be rebuilt from this
    batches = task.batches(run.rng)
    if run.resumed and epoch == run.first_epoch:
        set_torch_rng_state(run.resumed["torch_rng"][run.ctx.rank], run.device)
    else:
        run.skip, run.sums, run.count = 0, {}, 0
    if run.skip == 0:  # an epoch that starts afresh (resuming mid-epoch: its start already happened)
        task.start_epoch(epoch, run.optimizers)
    started = time.perf_counter()
    for batch_in_epoch, index in enumerate(batches[run.skip :], start=run.skip):
        if run.step >= run.total:
            break
        if len(index) < run.ctx.world * s.grad_accum:
            continue  # a tail batch too small to give every rank and micro-batch a row (same on all ranks)
        figures = train_step(
            task, run.net, run.optimizers, index, run.step, run.total, s, run.ctx, run.autocast, run.device
        )
        stop_if_diverged(figures, task, run.step, epoch)
        for sched in run.schedulers:
            sched.step()
        run.step += 1
        run.count += 1
        for key, value in figures.items():
            run.sums[key] = run.sums.get(key, 0.0) + value
        progress.maybe_log(run.step, figures)
        if run.checkpoint and run.every and run.step % run.every == 0:
            snapshot(run, epoch, batch_in_epoch + 1, epoch_rng)
    if run.count == 0:
        return False
    run.epoch_seconds.append(time.perf_counter() - started)
    return True


def stop_if_diverged(figures: dict[str, float], task: Task, step: int, epoch: int) -> None:
    """A StageError naming the step when a loss or gradient norm turned non-finite (on every rank at once: the
    figures are all-reduced), so such weights are never saved."""
    nonfinite = figures.pop(NONFINITE, 0.0)
    if nonfinite or not all(math.isfinite(v) for v in figures.values()):
        loss = figures.get("loss", math.nan)
        grads = ", gradients not finite" if math.isfinite(loss) else ""
        raise StageError(
            f"training diverged: loss is {loss} at step {step} (epoch {epoch}){grads}; {task.divergence_hint}"
        )


def close_epoch(run: Run, epoch: int) -> bool:
    """The epoch's history row (train means, validation on rank 0, broadcast), the best weights so far, patience
    and the epoch-end checkpoint; True when training stops here."""
    s, task = run.settings, run.task
    row = {
        "epoch": epoch,
        "step": run.step,
        **task.step_figures(run.step - 1, run.total),
        "lr": run.schedulers[0].get_last_lr()[0],
        **{f"train_{k}": v / run.count for k, v in run.sums.items()},
        # rank 0 validates; every rank gets its figures, so all take the same early-stopping decision
        **{
            f"valid_{k}": v
            for k, v in (distributed.broadcast(validate(task, run.autocast) if run.ctx.is_main else None)).items()
        },
    }
    # rank 0 decides (a time limit read from each rank's clock could split the ranks)
    row, stop = distributed.broadcast((row, task.end_epoch(row)) if run.ctx.is_main else None)
    run.history.append(row)
    log.info(
        "epoch %d step %d (%.1f s): %s",
        epoch,
        run.step,
        run.epoch_seconds[-1],
        {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()},
    )
    if epoch >= task.kept_from:
        value = row[f"valid_{task.monitor}"] if task.monitor else -float(epoch)
        if value < run.best:
            run.best, run.best_epoch = value, epoch
            run.best_state = {k: v.detach().clone() for k, v in run.model.state_dict().items()}
    run.sums, run.count = {}, 0
    patience_out = (
        s.patience and epoch >= task.kept_from and epoch - max(run.best_epoch, task.kept_from - 1) >= s.patience
    )
    if patience_out:
        log.info("early stop: valid_%s has not improved for %d epochs", task.monitor, s.patience)
    if run.checkpoint:  # a run that stops here is saved as finished: resuming it trains no further epoch
        snapshot(run, run.epochs + 1 if patience_out or stop else epoch + 1, 0, json.dumps(run.rng.bit_generator.state))
    return bool(patience_out or stop)


def train_step(
    task: Task,
    net: nn.Module,
    optimizers: list[torch.optim.Optimizer],
    index: np.ndarray,
    step: int,
    total: int,
    s: EngineSettings,
    ctx: distributed.DistContext,
    autocast,
    device: torch.device,
) -> dict[str, float]:
    """One optimiser step of every optimiser the task uses, over this rank's share of the batch `index`.

    Rank r takes rows r, r+W, ... and splits them into train.grad_accum micro-batches; each loss is weighted by
    its rows x W / batch rows, so once the ranks' gradients are averaged the gradient is that of the mean over the
    whole batch, as in one process. Returns the updates' figures summed over micro-batches and ranks (the same on
    every rank, so a non-finite loss on any rank stops them all).
    """
    shard = index[ctx.rank :: ctx.world]
    micro = [m for m in np.array_split(shard, s.grad_accum) if len(m)]
    units = [task.weight(part) for part in micro]
    whole = (
        sum(units)
        if not ctx.active
        else float(distributed.all_reduce_sum(torch.tensor([sum(units)], dtype=torch.float64, device=device))[0])
    )
    weights = [u * ctx.world / whole for u in units]
    streams = [task.updates(net, part, step, total) for part in micro]
    figures: dict[str, torch.Tensor] = {}
    while True:
        task.model.zero_grad(set_to_none=True)  # a GAN's generator update leaves gradients in the discriminator
        phase = None
        for stream, weight in zip(streams, weights):
            with autocast:
                update = next(stream, None)
            if update is None:
                break
            phase = update.optimizer
            (update.loss * weight if weight != 1.0 else update.loss).backward()
            bad = (~torch.isfinite(update.loss.detach())).to(torch.float64)
            figures[NONFINITE] = figures[NONFINITE] + bad if NONFINITE in figures else bad
            for key, value in update.figures.items():
                term = torch.as_tensor(
                    value.detach() if torch.is_tensor(value) else value, dtype=torch.float64, device=device
                ) * (weight / ctx.world)
                figures[key] = figures[key] + term if key in figures else term
        if phase is None:
            break
        optimizer = optimizers[phase]
        parameters = [p for group in optimizer.param_groups for p in group["params"]]
        if ctx.active:
            reduce_gradients(parameters, ctx.world)
        # The norm of the (already averaged, so on every rank the same) gradients: clipped to train.grad_clip, and a
        # non-finite one counted like a non-finite loss, so the run stops before such weights are saved.
        norm = (
            torch.nn.utils.clip_grad_norm_(parameters, s.grad_clip)
            if s.grad_clip
            else torch.nn.utils.get_total_norm([p.grad for p in parameters if p.grad is not None])
        )
        figures[NONFINITE] = figures[NONFINITE] + (~torch.isfinite(norm)).to(torch.float64).to(device)
        optimizer.step()
    if not figures:
        return {}
    summed = distributed.all_reduce_sum(torch.stack(list(figures.values()))).tolist()
    return dict(zip(figures, summed))


def torch_rng_state(device: torch.device) -> dict:
    """This process's torch generators: CPU, and CUDA's on a GPU."""
    state = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_torch_rng_state(state: dict, device: torch.device) -> None:
    torch.set_rng_state(state["cpu"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


@torch.no_grad()
def validate(task: Task, autocast) -> dict[str, float]:
    task.model.eval()
    with autocast if task.validate_in_autocast else contextlib.nullcontext():
        figures = task.validate()
    task.model.train()
    return figures


@contextlib.contextmanager
def training_session(p, device_name: str):
    """The process side of a training stage, for every kind: torch's thread count (train.threads), the process
    group torchrun describes (one process otherwise), only rank 0 logging, and the group shut down at the end.
    Yields (DistContext, device)."""
    from components.engine.device import pick_device

    if p.threads:
        torch.set_num_threads(p.threads)
    ctx, device = distributed.init_from_env(pick_device(device_name))
    if not ctx.is_main:
        logging.getLogger().setLevel(logging.WARNING)  # rank 0 speaks for all
    if p.batch_size < ctx.world * p.grad_accum:
        distributed.shutdown()
        raise StageError(
            f"train.batch_size {p.batch_size} is smaller than {ctx.world} processes x "
            f"train.grad_accum {p.grad_accum}: some would get no rows"
        )
    try:
        yield ctx, device
    finally:
        distributed.shutdown()


def epochs_for(epochs: int, per_epoch: int, min_steps: int) -> int:
    """The kind's epochs, or as many more as train.min_steps needs (small data: 42 steps an epoch, 2 epochs, would
    leave a model untrained and its learning rate still warming up)."""
    if not min_steps or per_epoch * epochs >= min_steps or per_epoch == 0:
        return epochs
    needed = -(-min_steps // per_epoch)
    log.info(
        "train.min_steps=%d: %d epochs instead of %d (%d optimiser steps an epoch)",
        min_steps,
        needed,
        epochs,
        per_epoch,
    )
    return needed


def warn_if_still_warming_up(task: Task, total: int) -> None:
    """Small data: a warm-up longer than the run leaves the learning rate below train.lr to the end; say so, once,
    rather than train quietly at a fraction of it."""
    last = task.lr_factor(total - 1, total) if total > 1 else 1.0
    if total > 1 and last < 1.0 and last > task.lr_factor(total - 2, total):
        log.warning(
            "the learning rate is still warming up at this run's last step (%d optimiser steps; %.0f%% of "
            "train.lr): lower train.warmup_steps below %d, or train longer",
            total,
            100 * last,
            total,
        )


def finish_run(
    result: Trained,
    history: Path | str,
    timing: Path | str,
    checkpoint: Path | str,
    started: float,
    device: torch.device,
) -> None:
    """What every train stage writes once its model and metrics are saved: the history (a DVC plot); the wall times
    and what they ran on, thread count included, which on CPU also decides the last bits of a float sum (not a DVC
    output: a rebuild must hash the same however fast the machine); and no checkpoint (the outputs are complete, a
    rerun must start afresh)."""
    from components.core import atomic

    atomic.write_json(history, result.history)
    atomic.write_json(
        timing,
        {
            "train_seconds": time.perf_counter() - started,
            "epoch_seconds": result.epoch_seconds,
            "device": device.type,
            "threads": torch.get_num_threads(),
            "processes": result.ctx.world,
            "precision": result.precision,
        },
    )
    Path(checkpoint).unlink(missing_ok=True)
