"""Train stage: fit model.family on the train split, keeping the weights with the best validation ELBO."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import torch
from safetensors.torch import load_file

from components.core import atomic
from components.core.entrypoint import stage_main, stage_parser
from components.core.errors import StageError
from components.data.batches import TokenArrays
from components.engine import distributed
from components.engine.engine import finish_run, training_session
from components.kinds.text.base_model import check_base
from components.kinds.text.data.labels import LABELS_FILE, read_labels, write_labels
from components.kinds.text.models.factory import save_model
from components.kinds.text.models.families import check_families
from components.kinds.text.params import load_params
from components.kinds.text.training.loop import train_model
from components.kinds.text.training.warm_start import warm_start_state
from components.models.store import WEIGHTS_FILE

log = logging.getLogger(__name__)


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    parser.add_argument("--tokens", required=True)
    parser.add_argument("--tokenizer", required=True)
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--metrics", required=True)
    parser.add_argument("--history", required=True)
    parser.add_argument(
        "--checkpoint", required=True, help="resumable training state; removed once training has finished"
    )
    parser.add_argument(
        "--timing", required=True, help="wall times of this run (not a DVC output; logged to MLflow at registration)"
    )
    parser.add_argument("--labels", help="label vocabulary (conditional applications); copied beside the weights")
    parser.add_argument("--base", help="base/<application>: the registered model train.init_from names")
    parser.add_argument(
        "--warm-start", required=True, help="directory with the weights to start from when train.warm_start is champion"
    )

    def run(args):
        params = load_params(args.params, args.app)
        check_families(params)  # the family this stage builds: its own section and rules
        with training_session(params.train, params.train.device) as (ctx, device):  # torchrun: one of several
            train_and_save(args, params, ctx, device)

    stage_main("train", run, parser)


def train_and_save(args, params, ctx: distributed.DistContext, device: torch.device) -> None:
    from tokenizers import Tokenizer  # only to read the vocabulary size the arrays were made with

    p = params.train
    vocab_size = Tokenizer.from_file(args.tokenizer).get_vocab_size()
    if params.model.conditional and not args.labels:
        raise StageError("model.conditional is true: pass --labels (the tokenize stage's labels.json)")
    labels = read_labels(args.labels) if params.model.conditional else None
    train, valid = TokenArrays.load(args.tokens, "train"), TokenArrays.load(args.tokens, "valid")
    started = time.perf_counter()
    checkpoint = Path(args.checkpoint)
    init_state = warm_start_state(Path(args.warm_start), p)
    base = check_base(Path(args.base), p.init_from) if args.base else None
    base_state = load_file(str(Path(args.base) / WEIGHTS_FILE)) if base else None
    result = train_model(
        train,
        valid,
        vocab_size,
        params.model,
        p,
        device,
        checkpoint,
        init_state,
        num_labels=len(labels) if labels else 0,
        base_state=base_state,
    )
    if not ctx.is_main:
        return
    best = result.history[result.best_epoch - 1]
    summary = {
        "best_epoch": result.best_epoch,
        "epochs_run": len(result.history),
        "steps": result.history[-1]["step"],
        "device": device.type,
        "processes": ctx.world,
        "warm_start": init_state is not None,
        "base_model": f"{base['name']} v{base['version']}" if base else "",
        **{k: best[k] for k in ("valid_nelbo", "valid_rec", "valid_kl")},
    }
    save_model(result.model, args.out_dir)
    if labels:  # the label vocabulary travels with the weights (registry, serving)
        write_labels(Path(args.out_dir) / LABELS_FILE, labels)
    atomic.write_json(args.metrics, summary)
    finish_run(result, args.history, args.timing, checkpoint, started, device)
    log.info("trained: %s", summary)


if __name__ == "__main__":
    main()
