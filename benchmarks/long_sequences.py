"""Long sequences: training tokens/s and peak memory of the BS-VAE at 32, 64, 128 and 256 tokens per sequence, on
whole GCIDE entries (all of a headword's definitions in one row: data.dictd_unit entry), LSTM and Transformer
encoder/decoder side by side, each step the project's own (components/engine/engine.py train_step).

    python benchmarks/long_sequences.py                        # GPU if present
    python benchmarks/long_sequences.py --steps 10 --warmup 3  # a quick CPU run

Every batch holds the same number of tokens (--tokens-per-batch: 128 sequences of 32 tokens, 16 of 256), and
every sequence is exactly the length measured (entries at least that long, cut there), so tokens/s compares
like with like. Each configuration runs in a process of its own, so that its peak memory (CUDA: the allocator's
peak; CPU: the process's maximum resident set) is its own. Needs only torch, tokenizers, numpy, pandas, pyyaml.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.train import SHIPPED, measure  # noqa: E402
from components.data.batches import TokenArrays  # noqa: E402
from components.data.dictd import dictd_to_frame  # noqa: E402
from components.data.tokenizer import encode, train_tokenizer  # noqa: E402

GCIDE = ROOT / "data/raw/gcide/gcide.dict.dz"
LENGTHS = (32, 64, 128, 256)
SETTINGS = {
    "lstm": {"encoder": "lstm", "decoder": "lstm"},
    "transformer": {"encoder": "transformer", "decoder": "transformer"},
}


def entries_at_least(length: int, vocab_size: int, sample: int) -> tuple[TokenArrays, int]:
    """Whole entries with at least `length` BPE tokens, cut at `length` (tokenizer trained on `sample` entries)."""
    frame = dictd_to_frame(GCIDE, "entry")
    texts = frame.loc[frame["error"].isna(), "text"].tolist()
    tokenizer = train_tokenizer(
        texts[:: max(len(texts) // sample, 1)], dataclasses.replace(SHIPPED.tokenize, kind="bpe", vocab_size=vocab_size)
    )
    ids, offsets = encode(tokenizer, texts)
    lengths = np.diff(offsets)
    keep = np.flatnonzero(lengths >= length)
    rows = [ids[offsets[i] : offsets[i] + length] for i in keep]
    cut = np.concatenate(rows).astype(ids.dtype)
    return TokenArrays(
        ids=cut, offsets=np.arange(len(rows) + 1, dtype=offsets.dtype) * length
    ), tokenizer.get_vocab_size()


def one(setting: str, length: int, args) -> dict:
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    precision = "bf16" if device.type == "cuda" else "fp32"
    arrays, vocab = entries_at_least(length, args.vocab_size, args.sample)
    mp = dataclasses.replace(
        SHIPPED.model,
        family="bsvae",
        embed_dim=args.embed_dim,
        hidden_dim=args.hidden_dim,
        max_positions=max(LENGTHS) + 2,
        **SETTINGS[setting],
    )
    batch = max(args.tokens_per_batch // length, 1)
    r = measure(
        "bsvae",
        setting,
        arrays,
        vocab,
        mp,
        batch,
        precision,
        False,
        True,
        device,
        args.steps,
        args.warmup,
        None,
        length,
    )
    peak = r.peak_mb if r.peak_mb is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "setting": setting,
        "length": length,
        "batch": batch,
        "sequences": len(arrays),
        "tokens_per_s": r.tokens_per_s,
        "step_ms": r.step_ms,
        "peak_mb": peak,
        "device": device.type,
        "memory": "CUDA allocator peak" if device.type == "cuda" else "process max RSS",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens-per-batch", type=int, default=4096)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--embed-dim", type=int, default=128)
    parser.add_argument("--hidden-dim", type=int, default=256)
    parser.add_argument("--vocab-size", type=int, default=8000)
    parser.add_argument("--sample", type=int, default=20000, help="entries the benchmark's BPE is trained on")
    parser.add_argument("--one", nargs=2, metavar=("SETTING", "LENGTH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], int(args.one[1]), args)))
        return
    passthrough = [f"--{k.replace('_', '-')}={v}" for k, v in vars(args).items() if k != "one"]
    rows = []
    for setting in SETTINGS:
        for length in LENGTHS:
            proc = subprocess.run(
                [sys.executable, __file__, *passthrough, "--one", setting, str(length)],
                capture_output=True,
                text=True,
                check=True,
            )
            rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            print(f"{setting} {length}: done", file=sys.stderr, flush=True)
    print(
        f"device {rows[0]['device']}, torch {torch.__version__}, {args.tokens_per_batch} tokens a batch, "
        f"peak memory = {rows[0]['memory']}"
    )
    print(
        "| encoder/decoder | tokens per sequence | batch | sequences that long | tokens/s | step (ms) | "
        "peak memory (MiB) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['setting']} | {r['length']} | {r['batch']} | {r['sequences']:,} | {r['tokens_per_s']:,.0f} | "
            f"{r['step_ms']:.1f} | {r['peak_mb']:,.0f} |"
        )


if __name__ == "__main__":
    main()
