"""Held-out quality of each model family on the same data: trains with the train stage's own loop, scores with
the evaluate stage's own metrics, appends one JSON line per run and prints the table of all runs so far.

    dvc repro tokenize                                     # the data stages, once
    python benchmarks/quality.py --name "LSTM LM" --set model.family=lm --set train.epochs=3
    python benchmarks/quality.py --table                   # the table only
    python benchmarks/quality.py --name "BS-VAE" --save runs/bsvae            # keep the weights ...
    python benchmarks/quality.py --name "BS-VAE, K=500" --model runs/bsvae --iw-samples 500   # ... score again

Parameters come from params.yaml (or --params) with --set overrides, exactly as the train stage
reads them; the test split is data/<app>/tokens/test.*, its first --sentences sentences. Needs only torch,
tokenizers, numpy and pyyaml (no MLflow, Prefect or DVC), so it runs as it is on the GPU machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
import time
from pathlib import Path

import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from components.applications.catalog import application  # noqa: E402
from components.applications.overrides import profile_params  # noqa: E402
from components.core.params import ParamsError, choose_application  # noqa: E402
from components.data.batches import TokenArrays  # noqa: E402
from components.engine.device import pick_device  # noqa: E402
from components.kinds.text.evaluation.metrics import evaluate_model  # noqa: E402
from components.kinds.text.models.factory import load_model, save_model  # noqa: E402
from components.kinds.text.training.loop import train_model  # noqa: E402

COLUMNS = [
    ("NLL", "nll", "{:.2f}"),
    ("PPL", "ppl", "{:.1f}"),
    ("KL", "kl", "{:.2f}"),
    ("MI", "mutual_information", "{:.2f}"),
    ("AU", "active_units", "{}"),
    ("token acc.", "reconstruction_token_accuracy", "{:.1%}"),
    ("codebook ppl", "codebook_perplexity", "{:.0f}"),
    ("train s", "train_seconds", "{:.0f}"),
]


def load_with_overrides(path: Path, app: str | None, overrides: list[str]):
    """One application's params with `section.key=value` overrides, read and checked as the flow's --set reads them."""
    if not path.is_file():
        raise SystemExit(f"error: {path}: parameters file not found")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return profile_params(path, choose_application(raw, app), None, overrides)
    except ParamsError as err:
        raise SystemExit(f"error: {path} with {overrides}: {err}") from err


def table(results: list[dict]) -> str:
    lines = ["| model | " + " | ".join(c[0] for c in COLUMNS) + " |", "|---|" + "---:|" * len(COLUMNS)]
    for r in results:
        cells = [fmt.format(r[key]) if key in r else "n/a" for _, key, fmt in COLUMNS]
        if "active_units" in r:
            cells[4] = f"{r['active_units']}/{r.get('latent_units', r.get('latent_dim'))}"
        lines.append(f"| {r['name']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workspace", type=Path, default=ROOT, help="where the data stages wrote data/<app>/tokens")
    parser.add_argument("--app", help="the application (default: the only one in params.yaml)")
    parser.add_argument("--params", type=Path, help="default: WORKSPACE/params.yaml")
    parser.add_argument("--name", help="the row's name in the table")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--sentences", type=int, default=1000, help="first N test sentences (0: all)")
    parser.add_argument("--iw-samples", type=int, default=100)
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks/quality.jsonl")
    parser.add_argument("--table", action="store_true", help="print the table of the recorded runs and stop")
    parser.add_argument("--save", type=Path, help="also save the trained model here (safetensors + config)")
    parser.add_argument("--model", type=Path, help="score this saved model instead of training one")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    if not args.table:
        params = load_with_overrides(args.params or args.workspace / "params.yaml", args.app, args.overrides)
        app = application(params.application)
        tokens = args.workspace / app.output(args.workspace, "tokenize", "--out-dir")
        from tokenizers import Tokenizer

        vocab = Tokenizer.from_file(str(app.tokenizer(args.workspace))).get_vocab_size()
        train, valid = TokenArrays.load(tokens, "train"), TokenArrays.load(tokens, "valid")
        test = TokenArrays.load(tokens, "test").head(args.sentences)
        if params.train.threads:
            torch.set_num_threads(params.train.threads)
        device = pick_device(params.train.device)
        trained = {}
        if args.model:
            model = load_model(args.model, device)
            trained["model"] = str(args.model)
        else:
            started = time.perf_counter()
            result = train_model(train, valid, vocab, params.model, params.train, device)
            model = result.model
            trained = {"train_seconds": time.perf_counter() - started, "best_epoch": result.best_epoch}
            if args.save:
                save_model(model, args.save)
        evaluation = dataclasses.replace(params.evaluate, iw_samples=args.iw_samples)
        started = time.perf_counter()
        metrics = evaluate_model(model, test, evaluation, params.train.max_len)
        row = {
            "name": args.name or " ".join(args.overrides) or "params.yaml",
            "overrides": args.overrides,
            "device": device.type,
            **trained,
            "evaluate_seconds": time.perf_counter() - started,
            **{k: v for k, v in metrics.items() if not isinstance(v, list)},
        }
        with open(args.results, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")
    results = (
        [json.loads(line) for line in args.results.read_text(encoding="utf-8").splitlines() if line.strip()]
        if args.results.is_file()
        else []
    )
    print(table(results))


if __name__ == "__main__":
    main()
