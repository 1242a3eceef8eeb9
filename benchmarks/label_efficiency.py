"""Is pretraining worth it? The label-efficiency curve: the conditional BS-VAE trained on 1%, 10% and 100% of its
labelled train rows, from scratch, fine-tuned from the pretrained BS-VAE, and fine-tuned with the unlabelled rest
added; then the same for an out-of-domain corpus (the English side of Multi30k, 1,000 and 29,000 captions).

    python -m flows.retrain --app pretrain          # first: the pretrained model (models/pretrain/bsvae)
    python benchmarks/label_efficiency.py --out benchmarks/label_efficiency.jsonl
    python benchmarks/label_efficiency.py --steps-scale 4 --out ...   # a GPU's budget (4x the steps)

Everything the pipeline does for real is what runs here: the conditional application's params (model, train,
evaluate sections, its hash split of the shipped labelled corpus), its BPE tokenizer (trained on the rows each run
has, from scratch) or the base tokenizer (fine-tuned: components/kinds/text/base_model.py's partial loading), the
engine's training loop, the evaluate stage's metrics and the label classifier as judge (trained once, on the whole
train split, as the classifier stage does). Which train rows keep their label is a hash of the row id, so the 1%
rows are among the 10% rows.

Budget: every start at one fraction trains the same number of optimiser steps (--steps per fraction, scaled), so
from scratch and fine-tuned get the same compute; with the unlabelled rest added those steps cover more rows.
Each row of the output: NLL given the label (importance-weighted, nats per test sentence), control accuracy, the
train seconds, the validation ELBO per epoch (the curve against training time). Needs torch, tokenizers, numpy,
pandas, pyyaml only.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from safetensors.torch import load_file

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import components  # noqa: E402,F401  (MKL settings before torch computes anything)
from components.data.batches import TokenArrays  # noqa: E402
from components.data.split import assign_splits, hash_unit  # noqa: E402
from components.data.tokenizer import encode, train_tokenizer  # noqa: E402
from components.kinds.text.data.labels import UNLABELLED, encode_labels, label_vocabulary  # noqa: E402
from components.kinds.text.evaluation.control import control_metrics, samples_by_label  # noqa: E402
from components.kinds.text.evaluation.label_classifier import train_classifier  # noqa: E402
from components.kinds.text.evaluation.metrics import evaluate_model  # noqa: E402
from components.kinds.text.evaluation.samples_report import decode_split  # noqa: E402
from components.kinds.text.models.bsvae import fit_label_prior, posteriors  # noqa: E402
from components.kinds.text.models.families import with_knobs  # noqa: E402
from components.kinds.text.params import load_params  # noqa: E402
from components.kinds.text.serving.generator import TextGenerator  # noqa: E402
from components.kinds.text.training.loop import train_model  # noqa: E402
from components.models.store import WEIGHTS_FILE  # noqa: E402

FRACTIONS = {0.01: 300, 0.1: 600, 1.0: 1200}  # labelled share of train -> optimiser steps (CPU budget)
CAPTIONS = {1000: 300, 29000: 900}


def arrays(tokenizer, texts: list[str], labels: np.ndarray | None) -> TokenArrays:
    ids, offsets = encode(tokenizer, texts)
    return TokenArrays(ids=ids, offsets=offsets, labels=labels)


def labelled_corpus(params) -> pd.DataFrame:
    frame = pd.read_csv(ROOT / params.data.corpus, sep="\t", quoting=3, keep_default_na=False)
    frame = frame.assign(id=[f"row:{i}" for i in range(len(frame))], split=None)
    splits, _ = assign_splits(frame, params.split)
    return splits


def base_files(model_dir: Path, tokenizer_path: Path):
    from tokenizers import Tokenizer

    return load_file(str(model_dir / WEIGHTS_FILE)), Tokenizer.from_file(str(tokenizer_path))


def train_and_score(
    params,
    train: TokenArrays,
    valid: TokenArrays,
    test: TokenArrays,
    tokenizer,
    labels,
    steps: int,
    base_state,
    classifier,
    device,
    conditioning: str = "tokens",
    seed: int | None = None,
    base_lr_scale: float = 1.0,
) -> dict:
    p = dataclasses.replace(
        params.train,
        max_steps=steps,
        epochs=10_000,
        warmup_steps=min(200, steps // 10),
        patience=0,
        init_from="",
        warm_start="scratch",
        base_lr_scale=base_lr_scale,
        **({"seed": seed} if seed is not None else {}),
    )
    mp = with_knobs(params.model, conditional=bool(labels), conditioning=conditioning)
    started = time.perf_counter()
    trained = train_model(
        train,
        valid,
        tokenizer.get_vocab_size(),
        mp,
        p,
        device,
        None,
        None,
        num_labels=len(labels),
        base_state=base_state,
    )
    seconds = time.perf_counter() - started
    e = params.evaluate
    metrics = evaluate_model(trained.model, test, e, p.max_len, labels or None)
    best = trained.history[trained.best_epoch - 1] if trained.best_epoch else trained.history[-1]
    out = {
        "nll": metrics["nll"],
        "kl": metrics["kl"],
        "train_seconds": seconds,
        "steps": steps,
        "kept_step": best["step"],
        "kept_valid_nelbo": best["valid_nelbo"],
        "last_valid_nelbo": trained.history[-1]["valid_nelbo"],
        "history": [{k: h[k] for k in ("epoch", "step", "valid_nelbo")} for h in trained.history],
    }
    if labels:  # how much the model uses its label: the NLL of test sentences given another sentence's label
        shuffled = dataclasses.replace(test, labels=np.random.default_rng(0).permutation(test.labels))
        out["nll_shuffled_labels"] = evaluate_model(trained.model, shuffled, e, p.max_len, labels)["nll"]
    if not labels:  # what an unconditional model writes, for the report
        out["samples"] = TextGenerator(trained.model, tokenizer, p.max_len).sample(3, temperature=0.7, seed=e.seed)
    if labels:
        out.update(control_of(trained.model, tokenizer, test, labels, classifier, p.max_len, e))
    if conditioning == "latent" and labels and (train.labels < 0).any():
        # the same networks, p(z|y) fitted on the labelled rows alone: what EM over the unlabelled rows changed
        mus, logvars, row_labels = posteriors(trained.model, train, p.batch_size * 2, p.max_len, device)
        kept = row_labels >= 0
        mu, logvar, _ = fit_label_prior(mus[kept], logvars[kept], row_labels[kept], len(labels))
        trained.model.fitted_mu.copy_(mu.to(device))
        trained.model.fitted_logvar.copy_(logvar.to(device))
        anchors = control_of(trained.model, tokenizer, test, labels, classifier, p.max_len, e)
        out["control_accuracy_labelled_prior"] = anchors["control_accuracy"]
    return out


def control_of(model, tokenizer, test: TokenArrays, labels, classifier, max_len: int, e) -> dict:
    """Control accuracy (and the classifier's on real test text, per label) of samples drawn by label."""
    generator = TextGenerator(model, tokenizer, max_len, labels)
    by_label = samples_by_label(generator, e.samples_per_label, e.seed, e.control_temperature)
    test_labels = [labels[i] for i in test.labels]
    control = control_metrics(
        classifier, by_label, decode_split(generator, test, len(test)), test_labels, e.control_temperature
    )
    keys = ("control_accuracy", "classifier_test_accuracy", "control_samples", "control_accuracy_per_label")
    return {key: control[key] for key in keys}


def conditional_curve(args, params, base_state, base_tokenizer, device, emit) -> None:
    splits = labelled_corpus(params)
    train_rows = splits[splits["split"] == "train"].reset_index(drop=True)
    valid_rows = splits[splits["split"] == "valid"].head(args.valid_rows)
    test_rows = splits[splits["split"] == "test"].head(params.evaluate.max_sentences)
    labels = label_vocabulary(train_rows["label"].tolist())
    classifier = train_classifier(train_rows["text"].tolist(), train_rows["label"].tolist(), labels, params.classifier)
    share = np.array([hash_unit(i, "label-efficiency") for i in train_rows["id"]])
    for fraction, steps in FRACTIONS.items():
        if args.fractions and fraction not in args.fractions:
            continue
        steps = int(steps * args.steps_scale)
        labelled = train_rows[share < fraction]
        rest = train_rows[share >= fraction]
        for start, conditioning, seed in (
            (st, c, sd)
            for st in ("scratch", "fine-tuned", "fine-tuned + unlabelled", "scratch + unlabelled")
            for c in args.conditioning
            for sd in args.seeds
        ):
            if ("unlabelled" in start and rest.empty) or (args.starts and start not in args.starts):
                continue
            texts_seen = labelled["text"].tolist() + (rest["text"].tolist() if "unlabelled" in start else [])
            tokenizer = (
                base_tokenizer if start.startswith("fine-tuned") else train_tokenizer(texts_seen, params.tokenize)
            )
            texts = labelled["text"].tolist() + (rest["text"].tolist() if "unlabelled" in start else [])
            ids = np.concatenate(
                [
                    encode_labels(labelled["label"].tolist(), labels),
                    np.full(len(rest) if "unlabelled" in start else 0, UNLABELLED, dtype=np.int32),
                ]
            )
            start_state = (
                with_label_init(base_state, params, len(labels), args.label_init, conditioning)
                if start.startswith("fine-tuned")
                else None
            )
            result = train_and_score(
                params,
                arrays(tokenizer, texts, ids),
                arrays(tokenizer, valid_rows["text"].tolist(), encode_labels(valid_rows["label"].tolist(), labels)),
                arrays(tokenizer, test_rows["text"].tolist(), encode_labels(test_rows["label"].tolist(), labels)),
                tokenizer,
                labels,
                steps,
                start_state,
                classifier,
                device,
                conditioning,
                seed,
                args.base_lr_scale if start.startswith("fine-tuned") else 1.0,
            )
            emit(
                {
                    "corpus": "conditional",
                    "conditioning": conditioning,
                    "seed": seed,
                    "base_lr_scale": args.base_lr_scale if start.startswith("fine-tuned") else 1.0,
                    "labelled_fraction": fraction,
                    "labelled_rows": len(labelled),
                    "unlabelled_rows": len(rest) if "unlabelled" in start else 0,
                    "start": start,
                    "label_init": args.label_init,
                    "word_dropout": params.model.word_dropout,
                    **result,
                }
            )


def with_label_init(base_state: dict, params, labels: int, how: str, conditioning: str = "tokens") -> dict:
    """The base weights, plus zero label vectors when `how` is zero (a fine-tuned model then starts exactly as the
    base model and learns the label's effect from nothing; `random`: the fresh vectors as a new model draws them).
    Latent conditioning has no label vectors: the base weights alone."""
    if how == "random" or conditioning == "latent":
        return base_state
    return {**base_state, "label_embed.weight": torch.zeros(labels, params.model.embed_dim)}


def read_lines(path: Path) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [line.strip() for line in fh if line.strip()]


def caption_curve(args, params, base_state, base_tokenizer, device, emit) -> None:
    folder = ROOT / "data/raw/multi30k"
    train, valid = read_lines(folder / "train.en.gz"), read_lines(folder / "val.en.gz")[: args.valid_rows]
    test = read_lines(folder / "test_2016_flickr.en.gz")
    for size, steps in CAPTIONS.items():
        if args.captions and size not in args.captions:
            continue
        steps = int(steps * args.steps_scale)
        for start in ("scratch", "fine-tuned"):
            tokenizer = base_tokenizer if start == "fine-tuned" else train_tokenizer(train[:size], params.tokenize)
            unconditional = dataclasses.replace(params, model=dataclasses.replace(params.model, conditional=False))
            result = train_and_score(
                unconditional,
                arrays(tokenizer, train[:size], None),
                arrays(tokenizer, valid, None),
                arrays(tokenizer, test, None),
                tokenizer,
                [],
                steps,
                base_state if start == "fine-tuned" else None,
                None,
                device,
            )
            emit({"corpus": "multi30k-en", "captions": size, "start": start, **result})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--base-model",
        type=Path,
        default=ROOT / "models/pretrain/bsvae",
        help="the pretrained model's folder (model.safetensors, config.json)",
    )
    parser.add_argument("--base-tokenizer", type=Path, default=ROOT / "data/pretrain/tokenizer/tokenizer.json")
    parser.add_argument(
        "--params",
        type=Path,
        default=ROOT / "params.yaml",
        help="its conditional section's model, train and evaluate settings are used",
    )
    parser.add_argument("--steps-scale", type=float, default=1.0, help="multiply every budget (4 on a GPU)")
    parser.add_argument("--valid-rows", type=int, default=1000)
    parser.add_argument("--only", choices=["conditional", "captions"], help="one of the two curves")
    parser.add_argument("--fractions", type=float, nargs="+", help="only these labelled fractions")
    parser.add_argument("--captions", type=int, nargs="+", help="only these caption counts")
    parser.add_argument("--starts", nargs="+", help="only these starts (scratch, fine-tuned, ...)")
    parser.add_argument(
        "--label-init",
        choices=["random", "zero"],
        default="random",
        help="fine-tuning: the fresh label vectors as drawn, or zero",
    )
    parser.add_argument("--word-dropout", type=float, help="model.word_dropout for every run (an experiment)")
    parser.add_argument(
        "--conditioning", nargs="+", default=["tokens"], choices=["tokens", "latent"], help="model.bsvae.conditioning"
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[1234], help="train.seed of each run")
    parser.add_argument("--samples-per-label", type=int, help="evaluate.samples_per_label (control accuracy)")
    parser.add_argument(
        "--base-lr-scale", type=float, default=1.0, help="fine-tuning: train.base_lr_scale (the base's weights)"
    )
    parser.add_argument("--out", type=Path, required=True, help="JSON lines, one per run (appended)")
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    params = load_params(args.params, "conditional")
    if args.word_dropout is not None:
        params = dataclasses.replace(params, model=dataclasses.replace(params.model, word_dropout=args.word_dropout))
    if args.samples_per_label is not None:
        params = dataclasses.replace(
            params, evaluate=dataclasses.replace(params.evaluate, samples_per_label=args.samples_per_label)
        )
    base_state, base_tokenizer = base_files(args.base_model, args.base_tokenizer)
    rows = []

    def emit(row: dict) -> None:
        rows.append(row)
        with args.out.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({**row, "device": device.type}) + "\n")
        print({k: v for k, v in row.items() if k != "history"}, file=sys.stderr, flush=True)

    if args.only != "captions":
        conditional_curve(args, params, base_state, base_tokenizer, device, emit)
    if args.only != "conditional":
        caption_curve(args, params, base_state, base_tokenizer, device, emit)
    print("| corpus | rows | start | conditioning | seed | steps | train s | NLL (nats/sentence) | control accuracy |")
    print("|---|---|---|---|---:|---:|---:|---:|---:|")
    for r in rows:
        size = (
            f"{r['labelled_fraction']:.0%} labelled ({r['labelled_rows']:,})"
            + (f" + {r['unlabelled_rows']:,} unlabelled" if r.get("unlabelled_rows") else "")
            if r["corpus"] == "conditional"
            else f"{r['captions']:,} captions"
        )
        control = f"{r['control_accuracy']:.3f}" if "control_accuracy" in r else "-"
        print(
            f"| {r['corpus']} | {size} | {r['start']} | {r.get('conditioning', '-')} | {r.get('seed', '-')} | "
            f"{r['steps']} | {r['train_seconds']:.0f} | {r['nll']:.2f} | {control} |"
        )


if __name__ == "__main__":
    main()
