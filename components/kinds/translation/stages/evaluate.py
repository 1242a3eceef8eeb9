"""Translation evaluate stage: BLEU (sacreBLEU, cased, detokenised, with its signature), chrF and lowercased
tokenised BLEU on the test split for each decoder, the BLEU of copying the source (the gate's baseline), decoding
speed at batch 1 and 64, the latent family's code use, and example translations.

The metrics: components/kinds/translation/evaluation/metrics.py.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
from tokenizers import Tokenizer

from components.core import atomic
from components.core.entrypoint import stage_main, stage_parser
from components.engine.device import pick_device
from components.kinds.translation.evaluation.metrics import (
    bleu_scores,
    code_usage,
    decoding_speed,
    detokenise,
    examples_markdown,
    reference_code_translations,
    translate_split,
)
from components.kinds.translation.models.factory import load_translation_model
from components.kinds.translation.params import load_translation_params
from components.kinds.translation.training.loop import ParallelArrays

log = logging.getLogger(__name__)


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    for flag in ("--model-dir", "--tokens", "--splits", "--metrics", "--examples"):
        parser.add_argument(flag, required=True)
    parser.add_argument(
        "--timing",
        required=True,
        help="decoding speeds (not a DVC output: a rebuild must hash the "
        "same however fast the machine; logged to MLflow)",
    )

    def run(args):
        params = load_translation_params(args.params, args.app)
        p = params.evaluate
        device = pick_device(params.train.device)
        model = load_translation_model(args.model_dir, device)
        target_tok = Tokenizer.from_file(str(Path(args.model_dir) / "tokenizer.target.json"))
        frame = pd.read_parquet(args.splits)
        test_rows = frame[frame["split"] == "test"]
        pairs = ParallelArrays.load(args.tokens, "test").head(p.max_sentences)
        test_rows = test_rows.head(len(pairs))
        references, sources = test_rows["target"].tolist(), test_rows["source"].tolist()
        decoders = [d for d in p.decoders if d in model.decoders] or [model.default_decoder]
        metrics = {
            "family": model.family,
            "default_decoder": model.default_decoder,
            "test_pairs": len(pairs),
            "sources_truncated": int((pairs.source.lengths > model.config.max_positions).sum()),
        }
        outputs, speeds = {}, {"device": device.type}
        for decoder in decoders:
            hypotheses = detokenise(target_tok, translate_split(model, pairs, decoder, p, device))
            outputs[decoder] = hypotheses
            scores = bleu_scores(hypotheses, references)
            metrics.update({f"{key}_{decoder}": value for key, value in scores.items()})
            speeds.update(
                {f"{key}_{decoder}": value for key, value in decoding_speed(model, pairs, decoder, p, device).items()}
            )
            log.info(
                "%s: BLEU %.2f chrF %.2f lowercased BLEU %.2f (%s)",
                decoder,
                scores["bleu"],
                scores["chrf"],
                scores["bleu_lowercase"],
                scores["bleu_signature"],
            )
        # the trivial baseline on the same pairs: the source copied unchanged (the gate asks for a margin over it)
        metrics["baseline_bleu"] = bleu_scores(sources, references)["bleu"]
        default = model.default_decoder if model.default_decoder in decoders else decoders[0]
        metrics.update(
            {
                "bleu": metrics[f"bleu_{default}"],
                "chrf": metrics[f"chrf_{default}"],
                "bleu_lowercase": metrics[f"bleu_lowercase_{default}"],
                "bleu_signature": metrics[f"bleu_signature_{default}"],
            }
        )
        metrics.update(code_usage(model, pairs, device))
        oracle = reference_code_translations(model, pairs, device)
        if oracle is not None:  # what a perfect code prior would give: the autoencoder's share of the error
            metrics["bleu_reference_codes"] = bleu_scores(detokenise(target_tok, oracle), references)["bleu"]
        atomic.write_json(args.metrics, metrics)
        atomic.write_json(args.timing, speeds)
        atomic.write_text(args.examples, examples_markdown(sources, references, outputs, p.examples))

    stage_main("evaluate", run, parser)


if __name__ == "__main__":
    main()
