"""Translation train stage: train model.family on the tokenized pairs; save safetensors weights, the config and
both tokenizers in one model directory (what evaluation, registration and serving load).

The loop: components/training/translation_loop.py; the families: components/models/translation_factory.py.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from tokenizers import Tokenizer

from components.core import atomic
from components.core.entrypoint import stage_main, stage_parser
from components.core.errors import StageError
from components.core.translation_params import load_translation_params
from components.models.translation_base import save_translator
from components.models.translation_factory import build_translator, load_translation_model
from components.training.device import pick_device
from components.training.translation_loop import ParallelArrays, distilled_targets, train_translator

log = logging.getLogger(__name__)


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    for flag in ("--tokens", "--tokenizer-dir", "--out-dir", "--metrics", "--history"):
        parser.add_argument(flag, required=True)

    def run(args):
        params = load_translation_params(args.params, args.app)
        p = params.train
        if p.threads:
            import torch

            torch.set_num_threads(p.threads)
        tokenizer_dir = Path(args.tokenizer_dir)
        vocab = {side: Tokenizer.from_file(str(tokenizer_dir / f"{side}.json")).get_vocab_size()
                 for side in ("source", "target")}
        train, valid = ParallelArrays.load(args.tokens, "train"), ParallelArrays.load(args.tokens, "valid")
        device = pick_device(p.device)
        max_len = params.model.max_positions
        if p.distill_from:
            if params.model.family == "transformer":
                raise StageError("train.distill_from is for the latent family (a transformer learns from references)")
            teacher = load_translation_model(p.distill_from, device)
            train = ParallelArrays(train.source, distilled_targets(teacher, train.source, max_len, device))
            log.info("targets: greedy translations of %s (%d pairs)", p.distill_from, len(train))
        model = build_translator(params.model, vocab["source"], vocab["target"], params.tokenize.joint)
        log.info("%s: %.2f M parameters on %s", params.model.family,
                 sum(x.numel() for x in model.parameters()) / 1e6, device)
        result = train_translator(model, train, valid, p, max_len, device)
        out = Path(args.out_dir)
        save_translator(result.model, out)
        for side in ("source", "target"):
            shutil.copyfile(tokenizer_dir / f"{side}.json", out / f"tokenizer.{side}.json")
        last = result.history[-1]
        atomic.write_json(args.metrics, {"train_seconds": result.seconds, "epochs": last["epoch"],
                                         "steps": last["step"], "train_loss": last["train_loss"],
                                         **{k: v for k, v in last.items() if k.startswith("valid_")},
                                         "parameters": sum(x.numel() for x in model.parameters()),
                                         "distilled": bool(p.distill_from)})
        atomic.write_json(args.history, result.history)

    stage_main("train", run, parser)


if __name__ == "__main__":
    main()
