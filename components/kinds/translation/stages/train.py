"""Translation train stage: train model.family on the tokenized pairs; save safetensors weights, the config and
both tokenizers in one model directory (what evaluation, registration and serving load).

The task: components/kinds/translation/training/loop.py, on the shared engine (resume, torchrun, accumulation);
the families: components/kinds/translation/models/factory.py.
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

from tokenizers import Tokenizer

from components.core import atomic
from components.core.entrypoint import stage_main, stage_parser
from components.core.errors import StageError
from components.engine.engine import finish_run, training_session
from components.kinds.translation.models.base import save_translator
from components.kinds.translation.models.factory import build_translator, load_translation_model
from components.kinds.translation.params import load_translation_params
from components.kinds.translation.training.loop import ParallelArrays, distilled_targets, train_translator

log = logging.getLogger(__name__)


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    for flag in ("--tokens", "--tokenizer-dir", "--out-dir", "--metrics", "--history"):
        parser.add_argument(flag, required=True)
    parser.add_argument(
        "--checkpoint", required=True, help="resumable training state; removed once training has finished"
    )
    parser.add_argument(
        "--timing", required=True, help="wall times of this run (not a DVC output; logged to MLflow at registration)"
    )

    def run(args):
        params = load_translation_params(args.params, args.app)
        with training_session(params.train, params.train.device) as (ctx, device):
            train_and_save(args, params, ctx, device)

    stage_main("train", run, parser)


def train_and_save(args, params, ctx, device) -> None:
    p = params.train
    started = time.perf_counter()
    tokenizer_dir = Path(args.tokenizer_dir)
    vocab = {
        side: Tokenizer.from_file(str(tokenizer_dir / f"{side}.json")).get_vocab_size() for side in ("source", "target")
    }
    train, valid = ParallelArrays.load(args.tokens, "train"), ParallelArrays.load(args.tokens, "valid")
    max_len = params.model.max_positions
    if p.distill_from:
        if params.model.family == "transformer":
            raise StageError("train.distill_from is for the latent family (a transformer learns from references)")
        teacher = load_translation_model(p.distill_from, device)
        train = ParallelArrays(train.source, distilled_targets(teacher, train.source, max_len, device))
        log.info("targets: greedy translations of %s (%d pairs)", p.distill_from, len(train))

    def build():
        model = build_translator(params.model, vocab["source"], vocab["target"], params.tokenize.joint)
        log.info(
            "%s: %.2f M parameters on %s", params.model.family, sum(x.numel() for x in model.parameters()) / 1e6, device
        )
        return model

    checkpoint = Path(args.checkpoint)
    result = train_translator(build, train, valid, p, max_len, device, checkpoint)
    if not ctx.is_main:
        return
    out = Path(args.out_dir)
    save_translator(result.model, out)
    for side in ("source", "target"):
        shutil.copyfile(tokenizer_dir / f"{side}.json", out / f"tokenizer.{side}.json")
    kept, last = result.history[result.best_epoch - 1], result.history[-1]
    atomic.write_json(
        args.metrics,
        {
            "best_epoch": result.best_epoch,
            "epochs": last["epoch"],
            "steps": last["step"],
            "train_loss": kept["train_loss"],
            "processes": ctx.world,
            **{k: v for k, v in kept.items() if k.startswith("valid_")},
            "parameters": sum(x.numel() for x in result.model.parameters()),
            "distilled": bool(p.distill_from),
        },
    )
    finish_run(result, args.history, args.timing, checkpoint, started, device)


if __name__ == "__main__":
    main()
