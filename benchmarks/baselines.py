"""The trivial baselines the gate compares with, on each application's test split, in a workspace whose data
stages have run (`dvc repro sentences-tokenize conditional-tokenize pretrain-tokenize translation-split
images-preprocess`):

    python benchmarks/baselines.py --workspace /path/to/workspace

Text: the unigram LM's NLL per sentence on the evaluate stage's test sentences (evaluate.max_sentences, spread);
translation: sacreBLEU of copying the source; images: independent pixels' bits per dimension. Prints a table.
(The images' baseline FID needs the pipeline classifier: the evaluate stage reports it.)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from components.applications.catalog import application  # noqa: E402
from components.applications.kind import load_application_params  # noqa: E402


def text_baseline(ws: Path, app: str) -> str:
    from components.data.batches import TokenArrays
    from components.kinds.text.evaluation.baseline import unigram_baseline

    params = load_application_params(ws / "params.yaml", app)
    tokens = ws / application(app, ws / "params.yaml").output(ws, "tokenize", "--out-dir")
    test = TokenArrays.load(tokens, "test").spread(params.evaluate.max_sentences)
    figures = unigram_baseline(
        TokenArrays.load(tokens, "train"), test, params.tokenize.vocab_size, params.train.max_len
    )
    return f"unigram LM NLL {figures['baseline_nll']:.2f} nats/sentence (ppl {figures['baseline_ppl']:.1f})"


def translation_baseline(ws: Path, app: str) -> str:
    import pandas as pd

    from components.kinds.translation.evaluation.metrics import bleu_scores

    frame = pd.read_parquet(application(app, ws / "params.yaml").splits(ws))
    test = frame[frame["split"] == "test"]
    return f"copying the source: BLEU {bleu_scores(test['source'].tolist(), test['target'].tolist())['bleu']:.2f}"


def images_baseline(ws: Path, app: str) -> str:
    import numpy as np

    from components.kinds.images.evaluation.baseline import baseline_bits_per_dim, pixel_log_probs

    arrays = ws / application(app, ws / "params.yaml").output(ws, "preprocess", "--out-dir")
    pixels = pixel_log_probs(np.load(arrays / "train.images.npy", mmap_mode="r"))
    return f"independent pixels: {baseline_bits_per_dim(pixels, np.load(arrays / 'test.images.npy')):.3f} bits/dim"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", default=".")
    parser.add_argument("--apps", nargs="+", default=["sentences", "conditional", "pretrain", "translation", "images"])
    args = parser.parse_args()
    ws = Path(args.workspace).resolve()
    measure = {"text": text_baseline, "translation": translation_baseline, "images": images_baseline}
    print("| application | trivial baseline on its test split |\n|---|---|")
    for app in args.apps:
        kind = load_application_params(ws / "params.yaml", app).__class__.__module__.split(".")[2]
        print(f"| {app} | {measure[kind](ws, app)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
