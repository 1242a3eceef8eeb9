"""Training-speed benchmark: tokens/s, step time, achieved TFLOP/s, MFU and peak memory per model family,
each against an eager fp32 batch-32 loop of the same model measured in the same call.

    python benchmarks/train.py                                   # all families, GPU if present
    python benchmarks/train.py --sentences 5000 --steps 20       # a quick CPU smoke run

It trains on the shipped WordNet glosses with the project's own training step
(the text kind's task on components.engine.engine.train_step: micro-batching, loss weighting, clipping, the
same models), so what it measures is what the train stage runs. Needs only torch, tokenizers, numpy, pandas and pyyaml.

FLOPs are estimated as 6 x (weights of the recurrent and linear layers) per token processed
(forward 2, backward 4; embeddings, the per-sentence latent layers and attention scores are not
counted), the
usual dense-model estimate; MFU divides by the GPU's dense bf16 peak (--peak-tflops, or a
table of known GPUs). The table is printed last.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from components.data.batches import TokenArrays, bucketed_batches  # noqa: E402
from components.data.tokenizer import encode, train_tokenizer  # noqa: E402
from components.engine.distributed import DistContext  # noqa: E402
from components.engine.engine import EngineSettings, train_step  # noqa: E402
from components.kinds.text.models.families import with_knobs  # noqa: E402
from components.kinds.text.params import ModelParams, load_params  # noqa: E402
from components.kinds.text.training.loop import TextTask  # noqa: E402

SHIPPED = load_params(ROOT / "params.yaml")  # every value not set on the command line
PEAK_BF16_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0, "L4": 121.0}  # dense, SXM where it differs


@dataclass
class Result:
    family: str
    config: str
    batch: int
    tokens_per_s: float
    step_ms: float
    tflops: float
    mfu: float | None
    peak_mb: float | None


def matmul_weights(model: torch.nn.Module) -> int:
    """Weights multiplied once per token: recurrent and linear layers (not embeddings)."""
    total = 0
    for module in model.modules():
        if isinstance(module, (torch.nn.LSTM, torch.nn.GRU, torch.nn.Linear, torch.nn.MultiheadAttention)):
            total += sum(p.numel() for name, p in module.named_parameters(recurse=False) if "weight" in name)
    return total


def load_arrays(corpus: Path, sentences: int, vocab_size: int) -> tuple[TokenArrays, int]:
    lines = [line.strip() for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    if sentences:
        lines = lines[:sentences]
    tokenizer = train_tokenizer(lines, dataclasses.replace(SHIPPED.tokenize, vocab_size=vocab_size))
    ids, offsets = encode(tokenizer, lines)
    return TokenArrays(ids=ids, offsets=offsets), tokenizer.get_vocab_size()


def peak_tflops(device: torch.device, override: float | None) -> float | None:
    if override:
        return override
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((v for k, v in PEAK_BF16_TFLOPS.items() if k in name), None)


def measure(
    family: str,
    config: str,
    arrays: TokenArrays,
    vocab: int,
    mp: ModelParams,
    batch: int,
    precision: str,
    compile_model: bool,
    bucketed: bool,
    device: torch.device,
    steps: int,
    warmup: int,
    peak: float | None,
    max_len: int,
) -> Result:
    p = dataclasses.replace(
        SHIPPED.train,
        batch_size=batch,
        precision=precision,
        compile=compile_model,
        max_len=max_len,
        epochs=1,
        grad_accum=1,
    )
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    task = TextTask(arrays, arrays, vocab, mp, p, device, None, 0)
    model = task.model.to(device).train()
    forward = torch.compile(model) if compile_model else model
    optimizers = task.optimizers()
    settings = EngineSettings.of(p)
    autocast = torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=precision == "bf16")
    order = (
        bucketed_batches(arrays.lengths, batch, rng)
        if bucketed
        else [b for b in np.array_split(rng.permutation(len(arrays)), max(len(arrays) // batch, 1))]
    )
    lengths = np.minimum(arrays.lengths, max_len) + 1  # + the end token the models predict
    tokens, started = 0, 0.0
    for i in range(warmup + steps):
        if i == warmup:
            if device.type == "cuda":
                torch.cuda.synchronize(device)
                torch.cuda.reset_peak_memory_stats(device)
            tokens, started = 0, time.perf_counter()
        index = order[i % len(order)]
        train_step(task, forward, optimizers, index, i, warmup + steps, settings, DistContext(), autocast, device)
        tokens += int(lengths[index].sum())
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elapsed = time.perf_counter() - started
    tflops = 6 * matmul_weights(model) * tokens / elapsed / 1e12
    return Result(
        family,
        config,
        batch,
        tokens / elapsed,
        1000 * elapsed / steps,
        tflops,
        tflops / peak if peak else None,
        torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "data/raw/wordnet_glosses.txt")
    parser.add_argument("--sentences", type=int, default=0, help="first N sentences (0: all)")
    parser.add_argument("--vocab-size", type=int, default=8000)
    parser.add_argument("--families", nargs="+", default=["bsvae", "vqvae", "lm", "transformer_lm"])
    parser.add_argument("--embed-dim", type=int, default=256)
    parser.add_argument("--hidden-dim", type=int, default=256)
    parser.add_argument("--latent-dim", type=int, default=16)
    parser.add_argument("--batch", type=int, default=512, help="batch of the fast configuration")
    parser.add_argument(
        "--precision",
        choices=["auto", "fp32", "bf16"],
        default="auto",
        help="fast configuration: auto = bf16 on CUDA, fp32 on CPU",
    )
    parser.add_argument("--compile", action="store_true", help="torch.compile the fast configuration")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--max-len", type=int, default=48)
    parser.add_argument("--peak-tflops", type=float, help="the device's dense bf16 peak, for MFU")
    args = parser.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    precision = args.precision if args.precision != "auto" else ("bf16" if device.type == "cuda" else "fp32")
    arrays, vocab = load_arrays(args.corpus, args.sentences, args.vocab_size)
    peak = peak_tflops(device, args.peak_tflops)
    print(
        f"device {torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu'}, torch "
        f"{torch.__version__}, {len(arrays):,} sentences, {int(arrays.offsets[-1]):,} tokens, vocab {vocab}",
        flush=True,
    )
    results = []
    for family in args.families:
        # The VQ-VAE quantises from the first step here (no warm-up): the steady state is what is timed.
        mp = with_knobs(
            SHIPPED.model,
            family=family,
            embed_dim=args.embed_dim,
            hidden_dim=args.hidden_dim,
            latent_dim=args.latent_dim,
            codebook_warmup=0,
        )
        common = dict(
            arrays=arrays,
            vocab=vocab,
            mp=mp,
            device=device,
            steps=args.steps,
            warmup=args.warmup,
            peak=peak,
            max_len=args.max_len,
        )
        results.append(
            measure(
                family,
                "eager fp32, random batches",
                batch=32,
                precision="fp32",
                compile_model=False,
                bucketed=False,
                **common,
            )
        )
        fast = f"{precision}{', compiled' if args.compile else ''}, length-bucketed"
        results.append(
            measure(
                family, fast, batch=args.batch, precision=precision, compile_model=args.compile, bucketed=True, **common
            )
        )
        print(f"{family}: done", flush=True)

    print("\n| family | configuration | batch | tokens/s | step (ms) | TFLOP/s | MFU | peak mem (MiB) | vs eager b32 |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        base = next(b for b in results if b.family == r.family and b.batch == 32 and b.config.startswith("eager"))
        mfu = f"{100 * r.mfu:.2f}%" if r.mfu is not None else "n/a"
        mem = f"{r.peak_mb:,.0f}" if r.peak_mb is not None else "n/a"
        print(
            f"| {r.family} | {r.config} | {r.batch} | {r.tokens_per_s:,.0f} | {r.step_ms:.1f} | {r.tflops:.3f} | "
            f"{mfu} | {mem} | {r.tokens_per_s / base.tokens_per_s:.1f}x |"
        )


if __name__ == "__main__":
    main()
