"""Front-half throughput: ingest + validate + split, and tokenize, on the glosses scaled to N sentences.

    python benchmarks/data.py --sentences 1000000

Runs the stages' own functions in-process on a corpus made by repeating the shipped
WordNet glosses (each repeat gets a suffix so de-duplication does not shrink it), and
prints one table: seconds, rows per second and peak resident memory for each step.
Peak memory is the process high-water mark (ru_maxrss), so it includes everything
loaded before that step.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from components.data.split import assign_splits  # noqa: E402
from components.data.text_files import ingest  # noqa: E402
from components.data.tokenizer import encode, train_tokenizer  # noqa: E402
from components.kinds.text.data.dataset_checks import dataset_features, run_suite  # noqa: E402
from components.kinds.text.data.validate import quarantine_rows  # noqa: E402
from components.kinds.text.params import load_params  # noqa: E402


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def scaled_corpus(path: Path, sentences: int) -> None:
    glosses = (ROOT / "data/raw/wordnet_glosses.txt").read_text(encoding="utf-8").splitlines()
    with open(path, "w", encoding="utf-8") as fh:
        written, repeat = 0, 0
        while written < sentences:
            suffix = "" if repeat == 0 else f" ( copy {repeat} )"
            take = min(len(glosses), sentences - written)
            fh.writelines(line + suffix + "\n" for line in glosses[:take])
            written += take
            repeat += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sentences", type=int, default=1_000_000)
    args = parser.parse_args()
    params = load_params(ROOT / "params.yaml")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.txt"
        scaled_corpus(corpus, args.sentences)
        data = dataclasses.replace(params.data, corpus=str(corpus))

        def step(name, fn):
            started = time.perf_counter()
            out = fn()
            seconds = time.perf_counter() - started
            rows.append((name, seconds, args.sentences / seconds, peak_mb()))
            return out

        frame = step("ingest", lambda: ingest(data))
        kept, _ = step("validate (pandera)", lambda: quarantine_rows(frame, params.validate))
        splits, _ = step("split (dedup + hash)", lambda: assign_splits(kept, params.split))
        step(
            "dataset suite (GX)",
            lambda: run_suite(dataset_features(kept, splits), params.dataset, params.application, Path(tmp)),
        )
        train = splits.loc[splits["split"] == "train", "text"].tolist()
        tok = step("tokenizer training", lambda: train_tokenizer(train, params.tokenize))
        step("encode all splits", lambda: encode(tok, splits["text"].tolist()))
    total = sum(r[1] for r in rows)
    print(f"\n{args.sentences:,} sentences, params.yaml defaults ({params.tokenize.kind}-level tokenizer)\n")
    print("| step | seconds | sentences/s | peak RSS (MB) |\n|---|---:|---:|---:|")
    for name, seconds, rate, mem in rows:
        print(f"| {name} | {seconds:.1f} | {rate:,.0f} | {mem:,.0f} |")
    print(f"| **front half total** | **{total:.1f}** | **{args.sentences / total:,.0f}** | **{peak_mb():,.0f}** |")


if __name__ == "__main__":
    main()
