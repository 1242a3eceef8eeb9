"""Control accuracy and per-label diversity of a trained conditional model against the sampling temperature.

    python benchmarks/control_temperature.py --workspace /tmp/cond-default --family lm --temperature 1.0 0.7 0.5

Reads the model, tokenizer and label classifier a `dvc repro` of the conditional application left in the
workspace; 20 samples per label (top-p 0.9, seeds 0..44 as the evaluate stage uses them). Needs only torch,
tokenizers, safetensors and numpy.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from components.kinds.text.evaluation.label_classifier import load_classifier  # noqa: E402
from components.kinds.text.evaluation.text_metrics import distinct_n  # noqa: E402
from components.kinds.text.serving.generator import TextGenerator  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workspace", type=Path, required=True)
    parser.add_argument("--app", default="conditional")
    parser.add_argument("--family", required=True)
    parser.add_argument("--temperature", type=float, nargs="+", default=[1.0, 0.7, 0.5])
    parser.add_argument("--per-label", type=int, default=20)
    parser.add_argument("--max-len", type=int, default=64)
    args = parser.parse_args()
    ws = args.workspace
    generator = TextGenerator.from_files(
        ws / f"models/{args.app}/{args.family}", ws / f"data/{args.app}/tokenizer/tokenizer.json"
    )
    generator.max_len = args.max_len
    classifier = load_classifier(ws / f"models/{args.app}/classifier")
    print("| family | temperature | control accuracy | distinct-2 per label |\n|---|---:|---:|---:|")
    for temperature in args.temperature:
        hits, distinct = [], []
        for i, label in enumerate(generator.labels):
            samples = generator.sample(args.per_label, temperature=temperature, top_p=0.9, seed=i, label=label)
            hits += [p == label for p in classifier.predict(samples)]
            distinct.append(distinct_n(samples, 2))
        print(f"| {args.family} | {temperature} | {np.mean(hits):.3f} | {np.mean(distinct):.3f} |", flush=True)


if __name__ == "__main__":
    main()
