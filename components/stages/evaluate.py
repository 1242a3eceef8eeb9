"""Evaluate stage: held-out likelihood and latent-usage metrics of the trained model, plus samples."""

from __future__ import annotations

import logging

from components.core import atomic
from components.core.entrypoint import stage_main, stage_parser
from components.core.params import load_params
from components.data.batches import TokenArrays
from components.evaluation.metrics import evaluate_model
from components.evaluation.samples_report import decode_split, samples_report
from components.evaluation.text_metrics import reconstruction_scores, sample_scores
from components.serving.text_generator import TextGenerator

log = logging.getLogger(__name__)


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--tokenizer", required=True)
    parser.add_argument("--tokens", required=True)
    parser.add_argument("--metrics", required=True)
    parser.add_argument("--samples", required=True)
    parser.add_argument("--latent", required=True)

    def run(args):
        params = load_params(args.params, args.app)
        p = params.evaluate
        generator = TextGenerator.from_files(args.model_dir, args.tokenizer)
        test = TokenArrays.load(args.tokens, "test").head(p.max_sentences)
        metrics = evaluate_model(generator.model, test, p, params.train.max_len)
        originals = decode_split(generator, test, p.reconstruct_sentences)
        reconstructions = [r for i in range(0, len(originals), p.batch_size)
                           for r in generator.reconstruct(originals[i:i + p.batch_size])]
        samples = generator.sample(p.num_samples, seed=p.seed)
        metrics.update(reconstruction_scores(originals, reconstructions))
        metrics.update(sample_scores(samples, test.lengths))
        latent = [{"dim": d, "kl": kl, "posterior_mean_variance": var} for d, (kl, var)
                  in enumerate(zip(metrics.pop("kl_per_dim"), metrics.pop("posterior_mean_variance")))]
        atomic.write_json(args.metrics, metrics)
        atomic.write_json(args.latent, latent)
        atomic.write_text(args.samples, samples_report(generator, samples, originals, reconstructions))
        log.info("evaluated: %s", {k: v for k, v in metrics.items() if not isinstance(v, list)})

    stage_main("evaluate", run, parser)


if __name__ == "__main__":
    main()
