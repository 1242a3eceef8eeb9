"""What pretraining buys, measured directly: a linear probe of the encoder's posterior means (frozen) with 1, 10 and
100 labelled sentences per class, for the pretrained BS-VAE's encoder, a BS-VAE trained from scratch on the same
labelled rows, and TF-IDF features as the trivial baseline.

    python -m flows.retrain --app pretrain          # first: the pretrained model (models/pretrain/bsvae)
    python benchmarks/probe.py --out benchmarks/probe.jsonl
    python benchmarks/probe.py --per-class 1 10 --seeds 0 1 2 --out ...

The conditional application's labelled corpus and hash split (WordNet's 45 lexicographer categories); the probe
trains on n rows per class drawn from the train split (by seed) and is scored on the test split (up to
--test-rows). The probe is a multinomial logistic regression with L2, on standardised features, fitted to
convergence (L-BFGS), its L2 weight chosen among a few by leave-out on the training rows (a few labels have
nothing else to choose with). From scratch: the conditional application's BS-VAE trained on the same labelled rows
(no labels used) for the same steps the label-efficiency curve gives its smallest fraction. Needs torch,
tokenizers, numpy, pandas, pyyaml only (no scikit-learn on the GPU machines).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import re
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from label_efficiency import arrays, base_files, labelled_corpus  # noqa: E402

import components  # noqa: E402,F401  (MKL settings before torch computes anything)
from components.data.batches import TokenArrays  # noqa: E402
from components.data.tokenizer import train_tokenizer  # noqa: E402
from components.kinds.text.models.bsvae import posteriors  # noqa: E402
from components.kinds.text.models.factory import model_from_config  # noqa: E402
from components.kinds.text.params import load_params  # noqa: E402
from components.kinds.text.training.loop import train_model  # noqa: E402
from components.models.store import load_model_dir  # noqa: E402

WORD = re.compile(r"\w+")
L2_WEIGHTS = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)
PUBLISHED = [
    ("Optimus (BERT encoder, VAE-pretrained on Wikipedia), Yelp sentiment, 100 labels/class", 0.72, "Li et al. 2020"),
    ("BERT's [CLS] features, the same probe", 0.65, "Li et al. 2020, Figure 5"),
]
"""The published probe figures this table is read beside: Yelp binary sentiment, not WordNet's 45 categories, so
the comparison is of shape (does the pretrained encoder's space separate labels with few of them?), not number."""


def posterior_means(model, data: TokenArrays, batch_size: int, max_len: int, device) -> np.ndarray:
    """The encoder's posterior mean of every row, in order (the probe's features: frozen, no sampling)."""
    return posteriors(model, data, batch_size, max_len, device)[0].numpy()


def tfidf(train_texts: list[str], test_texts: list[str], max_words: int = 20000) -> tuple[np.ndarray, np.ndarray]:
    """TF-IDF of lowercased words (the training rows' vocabulary, smoothed idf, l2-normalised rows)."""
    tokens = [WORD.findall(t.lower()) for t in train_texts]
    df = Counter(w for words in tokens for w in set(words))
    vocab = {w: i for i, (w, _) in enumerate(df.most_common(max_words))}
    idf = np.array([math.log((1 + len(tokens)) / (1 + df[w])) + 1 for w in vocab], dtype=np.float32)

    def matrix(texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), len(vocab)), dtype=np.float32)
        for row, text in enumerate(texts):
            for word, n in Counter(WORD.findall(text.lower())).items():
                if word in vocab:
                    out[row, vocab[word]] = n
        out *= idf
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)

    return matrix(train_texts), matrix(test_texts)


def fit_probe(x: np.ndarray, y: np.ndarray, classes: int, l2: float, seed: int) -> torch.nn.Linear:
    """Multinomial logistic regression with an L2 penalty, fitted by L-BFGS."""
    torch.manual_seed(seed)
    xt, yt = torch.as_tensor(x), torch.as_tensor(y, dtype=torch.long)
    probe = torch.nn.Linear(x.shape[1], classes)
    optimizer = torch.optim.LBFGS(probe.parameters(), lr=1.0, max_iter=200, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(probe(xt), yt) + l2 * probe.weight.pow(2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return probe


def probe_accuracy(train_x, train_y, test_x, test_y, classes: int, seed: int) -> tuple[float, float]:
    """(test accuracy, the L2 weight chosen): features standardised on the training rows; the weight by 2-fold
    leave-out on them (the rows alone decide, as they would for a user with that many labels)."""
    mean, std = train_x.mean(0), train_x.std(0) + 1e-6
    train_x, test_x = (train_x - mean) / std, (test_x - mean) / std
    rng = np.random.default_rng(seed)
    fold = rng.permutation(len(train_y)) % 2
    scores = {}
    for l2 in L2_WEIGHTS:
        hits = 0
        for k in (0, 1):
            if len(set(train_y[fold != k])) < 2:
                continue
            probe = fit_probe(train_x[fold != k], train_y[fold != k], classes, l2, seed)
            hits += int((probe(torch.as_tensor(train_x[fold == k])).argmax(1).numpy() == train_y[fold == k]).sum())
        scores[l2] = hits
    l2 = max(L2_WEIGHTS, key=lambda w: (scores[w], w))  # ties: the stronger penalty
    probe = fit_probe(train_x, train_y, classes, l2, seed)
    with torch.no_grad():
        predicted = probe(torch.as_tensor(test_x)).argmax(1).numpy()
    return float((predicted == test_y).mean()), l2


def sample_rows(train_rows, per_class: int, seed: int):
    """`per_class` train rows of every label (all of a label's rows when it has fewer), drawn by `seed`."""
    parts = [g.sample(min(per_class, len(g)), random_state=seed) for _, g in train_rows.groupby("label")]
    return pd.concat(parts).reset_index(drop=True)


def scratch_encoder(params, rows, steps: int, device):
    """A BS-VAE trained from scratch on `rows`' text alone (its own tokenizer, no labels), as the label-efficiency
    curve trains its smallest fraction."""
    tokenizer = train_tokenizer(rows["text"].tolist(), params.tokenize)
    data = arrays(tokenizer, rows["text"].tolist(), None)
    p = dataclasses.replace(
        params.train, max_steps=steps, epochs=10_000, warmup_steps=min(200, steps // 10), patience=0, init_from=""
    )
    mp = dataclasses.replace(params.model, conditional=False)
    trained = train_model(data, data, tokenizer.get_vocab_size(), mp, p, device)
    return trained.model, tokenizer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-model", type=Path, default=ROOT / "models/pretrain/bsvae")
    parser.add_argument("--base-tokenizer", type=Path, default=ROOT / "data/pretrain/tokenizer/tokenizer.json")
    parser.add_argument("--params", type=Path, default=ROOT / "params.yaml")
    parser.add_argument("--per-class", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--test-rows", type=int, default=2000)
    parser.add_argument("--scratch-steps", type=int, default=300, help="optimiser steps of the from-scratch VAE")
    parser.add_argument("--out", type=Path, required=True, help="JSON lines, one per probe (appended)")
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    params = load_params(args.params, "conditional")
    splits = labelled_corpus(params)
    train_rows = splits[splits["split"] == "train"].reset_index(drop=True)
    test_rows = splits[splits["split"] == "test"].head(args.test_rows).reset_index(drop=True)
    labels = sorted(set(train_rows["label"]))
    index = {label: i for i, label in enumerate(labels)}
    test_y = test_rows["label"].map(index).to_numpy()
    _, base_tokenizer = base_files(args.base_model, args.base_tokenizer)
    pretrained = load_model_dir(args.base_model, model_from_config, device)
    max_len = params.train.max_len
    pretrained_test = posterior_means(
        pretrained, arrays(base_tokenizer, test_rows["text"].tolist(), None), 256, max_len, device
    )
    rows_out = []
    for per_class in args.per_class:
        for seed in args.seeds:
            rows = sample_rows(train_rows, per_class, seed)
            y = rows["label"].map(index).to_numpy()
            features = {
                "pretrained encoder (GCIDE)": (
                    posterior_means(
                        pretrained, arrays(base_tokenizer, rows["text"].tolist(), None), 256, max_len, device
                    ),
                    pretrained_test,
                ),
                "TF-IDF": tfidf(rows["text"].tolist(), test_rows["text"].tolist()),
            }
            started = time.perf_counter()
            scratch, tokenizer = scratch_encoder(params, rows, args.scratch_steps, device)
            features["from-scratch encoder (same rows)"] = (
                posterior_means(scratch, arrays(tokenizer, rows["text"].tolist(), None), 256, max_len, device),
                posterior_means(scratch, arrays(tokenizer, test_rows["text"].tolist(), None), 256, max_len, device),
            )
            scratch_seconds = time.perf_counter() - started
            for name, (train_x, test_x) in features.items():
                accuracy, l2 = probe_accuracy(train_x, y, test_x, test_y, len(labels), seed)
                row = {
                    "features": name,
                    "per_class": per_class,
                    "rows": len(rows),
                    "seed": seed,
                    "accuracy": accuracy,
                    "l2": l2,
                    "classes": len(labels),
                    "test_rows": len(test_rows),
                    **({"scratch_seconds": scratch_seconds} if name.startswith("from-scratch") else {}),
                    "device": device.type,
                }
                rows_out.append(row)
                with args.out.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(row) + "\n")
                print(row, file=sys.stderr, flush=True)
    print(table(rows_out, len(labels)))


def table(rows: list[dict], classes: int) -> str:
    """Accuracy per features and labels per class: mean and spread over seeds (chance: 1/classes)."""
    lines = [
        f"| features | {' | '.join(f'{n}/class' for n in sorted({r['per_class'] for r in rows}))} |",
        "|---|" + "---:|" * len({r["per_class"] for r in rows}),
    ]
    for name in dict.fromkeys(r["features"] for r in rows):
        cells = []
        for n in sorted({r["per_class"] for r in rows}):
            accs = [r["accuracy"] for r in rows if r["features"] == name and r["per_class"] == n]
            cells.append(f"{np.mean(accs):.3f} ± {np.std(accs):.3f} ({len(accs)})" if accs else "-")
        lines.append(f"| {name} | {' | '.join(cells)} |")
    lines.append(f"\nChance: {1 / classes:.3f}. Published, beside (Yelp, 2 classes):")
    lines += [f"- {name}: {value:.2f} ({source})" for name, value, source in PUBLISHED]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
