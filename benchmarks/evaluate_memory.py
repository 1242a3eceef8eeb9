"""Evaluation memory benchmark: peak resident memory and time of the evaluate stage's scoring, against the number
of importance samples K and evaluate.rows_per_pass.

    python benchmarks/evaluate_memory.py                           # K = 50 and 500, rows_per_pass 512 and unbounded
    python benchmarks/evaluate_memory.py --samples 50 --rows 256 512 0 --sentences 200

Each configuration runs in a process of its own (peak RSS only grows within a process). The model is the
shipped params' BS-VAE, freshly initialised (memory and time do not depend on the weights); the test set is
the first --sentences shipped glosses, tokenized with a word vocabulary of the shipped size trained on the
next 20,000. `--rows 0` is the old behaviour: a whole noise group (50 samples x the batch) in one pass.
Needs only torch, tokenizers, numpy, pandas and pyyaml.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CORPUS = ROOT / "data/raw/wordnet_glosses.txt"


def measure(samples: int, rows: int, sentences: int) -> dict:
    """Score the test set once (in this process) and report its peak RSS and wall time."""
    import torch

    from components.data.batches import TokenArrays
    from components.data.tokenizer import encode, train_tokenizer
    from components.kinds.text.evaluation.metrics import evaluate_model
    from components.kinds.text.models.factory import build_model
    from components.kinds.text.params import load_params

    params = load_params(ROOT / "params.yaml")
    if params.train.threads:
        torch.set_num_threads(params.train.threads)
    lines = [line.strip() for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    tokenizer = train_tokenizer(lines[sentences : sentences + 20_000], params.tokenize)
    ids, offsets = encode(tokenizer, lines[:sentences])
    test = TokenArrays(ids=ids, offsets=offsets)
    torch.manual_seed(0)
    model = build_model(tokenizer.get_vocab_size(), params.model).eval()
    p = dataclasses.replace(params.evaluate, iw_samples=samples, rows_per_pass=rows or 10**9)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    metrics = evaluate_model(model, test, p, params.train.max_len)
    return {
        "samples": samples,
        "rows_per_pass": rows,
        "sentences": sentences,
        "seconds": time.perf_counter() - started,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_before_mb": before / 1024,
        "nll": metrics["nll"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, nargs="+", default=[50, 500])
    parser.add_argument("--rows", type=int, nargs="+", default=[512, 0], help="rows_per_pass values; 0: unbounded")
    parser.add_argument("--sentences", type=int, default=1000)
    parser.add_argument("--one", nargs=3, type=int, metavar=("K", "ROWS", "SENTENCES"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(*args.one)))
        return
    results = []
    for samples in args.samples:
        for rows in args.rows:
            out = subprocess.run(
                [sys.executable, __file__, "--one", str(samples), str(rows), str(args.sentences)],
                capture_output=True,
                text=True,
                check=True,
            )
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(json.dumps(results[-1]), flush=True)
    print("\n| K | rows per pass | sentences | peak RSS (MB) | RSS before scoring (MB) | seconds | NLL |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        rows = r["rows_per_pass"] or "all (old)"
        print(
            f"| {r['samples']} | {rows} | {r['sentences']} | {r['peak_rss_mb']:,.0f} | {r['rss_before_mb']:,.0f} | "
            f"{r['seconds']:.1f} | {r['nll']:.4f} |"
        )


if __name__ == "__main__":
    main()
