"""Training a text family on the engine: the text kind's task (components/engine/engine.py does the rest).

The cures for posterior collapse are all driven from params.yaml: a beta schedule (constant,
monotonic or cyclical annealing, schedules.py), free bits per latent dimension (losses.py),
word dropout in the decoder (the model's config), autoencoder pretraining with a decoder reset,
an LR schedule with warm-up, and gradient clipping. The engine keeps the weights with the best
validation ELBO.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from components.core.errors import StageError
from components.data.batches import TokenArrays, batch_labels, bucketed_batches, length_sorted_batches, pad_batch
from components.engine import distributed
from components.engine.engine import EngineSettings, Task, Trained, Update, array_digest, fit, state_digest
from components.engine.schedules import beta_at, lr_factor
from components.kinds.text.base_model import merge_base
from components.kinds.text.models.base import TextModel
from components.kinds.text.models.factory import build_model
from components.kinds.text.params import ModelParams, TrainParams
from components.kinds.text.training.losses import vae_loss

log = logging.getLogger(__name__)


@torch.no_grad()
def validation_elbo(model: TextModel, data: TokenArrays, batch_size: int, max_len: int, device: torch.device) -> dict:
    """Per-sentence negative ELBO (beta = 1, one posterior sample) and its parts on `data`."""
    model.eval()
    rec = kl = 0.0
    for index in length_sorted_batches(data.lengths, batch_size):
        tokens, lengths = pad_batch(data, index, max_len)
        labels = batch_labels(data, index)
        out = model(
            tokens.to(device), lengths.to(device), sample=True, labels=None if labels is None else labels.to(device)
        )
        rec += out.rec_nll.sum().item()
        kl += out.kl.sum().item()
    n = max(len(data), 1)
    return {"valid_rec": rec / n, "valid_kl": kl / n, "valid_nelbo": (rec + kl) / n}


def text_fingerprint(
    vocab_size: int,
    train: TokenArrays,
    mp: ModelParams,
    p: TrainParams,
    init_state: dict[str, torch.Tensor] | None = None,
) -> dict:
    """The text task's part of a checkpoint's fingerprint: model, vocabulary, data, start weights (the engine adds
    the train section and the code)."""
    return {
        "model": asdict(mp),
        "vocab": vocab_size,
        "data": array_digest(train.ids, train.offsets, train.labels),
        "init": state_digest(init_state),
    }


class TextTask(Task):
    """Sentences (and their labels, for a conditional model) through a text family's forward pass and the
    beta-weighted VAE loss; an optional autoencoder phase (beta 0) ends with a decoder reset."""

    monitor = "nelbo"
    divergence_hint = "try a lower train.lr or train.grad_clip"

    def __init__(
        self,
        train: TokenArrays,
        valid: TokenArrays,
        vocab_size: int,
        mp: ModelParams,
        p: TrainParams,
        device: torch.device,
        init_state: dict[str, torch.Tensor] | None,
        num_labels: int,
        base_state: dict[str, torch.Tensor] | None = None,
    ):
        if mp.conditional and (train.labels is None or valid.labels is None):
            raise StageError(
                "model.conditional is true but the token arrays carry no labels (rerun the tokenize stage)"
            )
        self.model = build_model(vocab_size, mp, num_labels)
        self.loaded: set[str] = set()  # the parameters a base model started (fine-tuning), on their own rate
        if base_state is not None:  # fine-tuning: shared tensors from the base, the rest as just initialised
            init_state, fresh = merge_base(self.model.state_dict(), base_state, "train.init_from")
            log.info("base model: %d tensors loaded, %d fresh %s", len(init_state) - len(fresh), len(fresh), fresh)
            self.loaded = set(init_state) - set(fresh)
        if init_state:
            try:
                self.model.load_state_dict(init_state, strict=True)
            except RuntimeError as err:
                raise StageError(f"warm-start weights do not fit model {mp}: {err}") from err
        self.train, self.valid, self.p, self.mp, self.device = train, valid, p, mp, device
        self.pretrain = p.pretrain_epochs if self.model.decoder_modules() else 0  # only families with a decoder
        self.kept_from = self.pretrain + 1  # the autoencoder phase is not a model to keep
        self._fingerprint = text_fingerprint(vocab_size, train, mp, p, init_state)
        total = self.steps_per_epoch() * self.epochs
        total = total if p.max_steps == 0 else min(p.max_steps, total)
        self.model.check_budget(total, p.grad_accum)

    @property
    def epochs(self) -> int:
        return self.pretrain + self.p.epochs

    def steps_per_epoch(self) -> int:
        return math.ceil(len(self.train) / self.p.batch_size)

    def optimizers(self):
        """Adam at train.lr; when fine-tuning, the weights the base model started at train.base_lr_scale of it."""
        named = list(self.model.named_parameters())
        loaded = [p for name, p in named if name in self.loaded]
        if not loaded or self.p.base_lr_scale == 1.0:
            return [torch.optim.Adam(self.model.parameters(), lr=self.p.lr)]
        fresh = [p for name, p in named if name not in self.loaded]
        groups = [{"params": loaded, "lr": self.p.lr * self.p.base_lr_scale}, {"params": fresh, "lr": self.p.lr}]
        return [torch.optim.Adam([g for g in groups if g["params"]], lr=self.p.lr)]

    def lr_factor(self, step: int, total: int) -> float:
        return lr_factor(step, total, self.p)

    def beta(self, step: int, total: int) -> float:
        """0 while pretraining as an autoencoder; then the schedule, over the VAE phase's steps."""
        pre_steps = min(self.steps_per_epoch() * self.pretrain, total)
        return 0.0 if step < pre_steps else beta_at(step - pre_steps, max(total - pre_steps, 1), self.p)

    def step_figures(self, step: int, total: int) -> dict[str, float]:
        return {"beta": self.beta(step, total)}

    def batches(self, rng: np.random.Generator) -> list[np.ndarray]:
        return bucketed_batches(self.train.lengths, self.p.batch_size, rng)

    def updates(self, net, rows, step, total):
        tokens, lens = pad_batch(self.train, rows, self.p.max_len)
        labels = batch_labels(self.train, rows)
        out = net(
            tokens.to(self.device), lens.to(self.device), labels=None if labels is None else labels.to(self.device)
        )
        loss, parts = vae_loss(out, self.beta(step, total), self.p.free_bits)
        yield Update(0, loss, {"loss": loss.detach(), **parts})

    def validate(self) -> dict[str, float]:
        figures = validation_elbo(self.model, self.valid, self.p.batch_size * 2, self.p.max_len, self.device)
        return {k.removeprefix("valid_"): v for k, v in figures.items()}

    def start_epoch(self, epoch, optimizers) -> None:
        if self.pretrain and epoch == self.pretrain + 1:
            self.model.reset_decoder()
            for module in self.model.decoder_modules():
                for param in module.parameters():
                    optimizers[0].state.pop(param, None)  # no stale Adam moments from the autoencoder phase
                distributed.broadcast_tensors(module.parameters())
            log.info("autoencoder pretraining done after %d epochs: decoder reset, VAE training starts", self.pretrain)

    def fingerprint(self) -> dict:
        return self._fingerprint


def train_model(
    train: TokenArrays,
    valid: TokenArrays,
    vocab_size: int,
    mp: ModelParams,
    p: TrainParams,
    device: torch.device,
    checkpoint: Path | None = None,
    init_state: dict[str, torch.Tensor] | None = None,
    num_labels: int = 0,
    base_state: dict[str, torch.Tensor] | None = None,
) -> Trained:
    """Train and return the model at its best validation ELBO, with one history row per epoch.

    `checkpoint`: resumable training state (the engine's). `init_state` (warm start) replaces the random initial
    weights. A conditional model (model.conditional) is built for `num_labels` labels and reads each split's labels.
    `base_state` (train.init_from) starts every tensor the model shares with it; the rest start fresh. What the
    family fits once trained (a latent-conditioned BS-VAE's p(z|y)) is fitted on the train split at the kept epoch.
    """
    trained = fit(
        lambda: TextTask(train, valid, vocab_size, mp, p, device, init_state, num_labels, base_state),
        EngineSettings.of(p),
        device,
        checkpoint,
    )
    fitted = trained.model.after_training(train, p.batch_size * 2, p.max_len, device)  # at the kept epoch
    if fitted:
        log.info("fitted after training: %s", fitted)
    trained.model.eval()
    return trained
