"""Evaluate stage: held-out likelihood and latent-usage metrics of the trained model, plus samples.

The same test sentences are scored by a unigram LM counted on the train split (components/kinds/text/evaluation/
baseline.py): the gate asks the model to beat it, which holds on any corpus where a fixed NLL threshold would not.

A conditional model is scored given each test sentence's label, and its control accuracy is measured with the
label classifier (--classifier): components/kinds/text/evaluation/control.py.
"""

from __future__ import annotations

import logging

from components.core import atomic
from components.core.entrypoint import stage_main, stage_parser
from components.core.errors import StageError
from components.data.batches import TokenArrays
from components.kinds.text.evaluation.baseline import unigram_baseline
from components.kinds.text.evaluation.control import control_metrics, samples_by_label
from components.kinds.text.evaluation.label_classifier import load_classifier
from components.kinds.text.evaluation.metrics import evaluate_model
from components.kinds.text.evaluation.samples_report import decode_split, samples_report
from components.kinds.text.evaluation.text_metrics import reconstruction_scores, sample_scores
from components.kinds.text.models.families import check_families
from components.kinds.text.params import load_params
from components.kinds.text.serving.generator import TextGenerator

log = logging.getLogger(__name__)


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--tokenizer", required=True)
    parser.add_argument("--tokens", required=True)
    parser.add_argument("--metrics", required=True)
    parser.add_argument("--samples", required=True)
    parser.add_argument("--latent", required=True)
    parser.add_argument("--classifier", help="label classifier directory (conditional applications)")

    def run(args):
        params = load_params(args.params, args.app)
        check_families(params)  # the family this stage builds: its own section and rules
        p = params.evaluate
        generator = TextGenerator.from_files(args.model_dir, args.tokenizer)
        generator.max_len = params.train.max_len
        test = TokenArrays.load(args.tokens, "test").spread(p.max_sentences)
        conditional = bool(generator.labels)
        if conditional and (test.labels is None or not args.classifier):
            raise StageError("a conditional model needs labelled test arrays and --classifier")
        test_labels = [generator.labels[i] for i in test.labels] if conditional else None
        metrics = evaluate_model(generator.model, test, p, params.train.max_len, generator.labels)
        metrics.update(
            unigram_baseline(
                TokenArrays.load(args.tokens, "train"), test, generator.tokenizer.get_vocab_size(), params.train.max_len
            )
        )
        originals = decode_split(generator, test, p.reconstruct_sentences)
        original_labels = test_labels[: len(originals)] if conditional else None
        reconstructions = [
            r
            for i in range(0, len(originals), p.batch_size)
            for r in generator.reconstruct(
                originals[i : i + p.batch_size],
                label=None if not conditional else original_labels[i : i + p.batch_size],
            )
        ]
        by_label = None
        if conditional:  # samples spread over the labels; control accuracy with the independent classifier
            cycle = [generator.labels[i % len(generator.labels)] for i in range(p.num_samples)]
            samples = generator.sample(p.num_samples, seed=p.seed, label=cycle)
            by_label = samples_by_label(generator, p.samples_per_label, p.seed, p.control_temperature)
            metrics.update(
                control_metrics(
                    load_classifier(args.classifier),
                    by_label,
                    decode_split(generator, test, len(test)),
                    test_labels,
                    p.control_temperature,
                )
            )
        else:
            samples = generator.sample(p.num_samples, seed=p.seed)
        metrics.update(reconstruction_scores(originals, reconstructions))
        metrics.update(sample_scores(samples, test.lengths))
        latent = [
            {"dim": d, "kl": kl, "posterior_mean_variance": var}
            for d, (kl, var) in enumerate(zip(metrics.pop("kl_per_dim"), metrics.pop("posterior_mean_variance")))
        ]
        atomic.write_json(args.metrics, metrics)
        atomic.write_json(args.latent, latent)
        atomic.write_text(
            args.samples, samples_report(generator, samples, originals, reconstructions, by_label, original_labels)
        )
        log.info("evaluated: %s", {k: v for k, v in metrics.items() if not isinstance(v, list)})

    stage_main("evaluate", run, parser)


if __name__ == "__main__":
    main()
