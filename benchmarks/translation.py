"""Translation quality and decoding speed, measured in one run: the Transformer baseline (greedy, beam) and the
VQ latent translator (optionally distilled from that baseline), each trained with the train stage's own loop
and scored with the evaluate stage's own metrics on the test split. Prints one table and appends one JSON line
per model (with its BLEU-against-training-time curve) to --results.

    dvc repro translation-tokenize                         # the data stages, once
    python benchmarks/translation.py --profile default --minutes 20          # CPU
    python benchmarks/translation.py --profile gpu --minutes 3 --distill     # GPU (bf16)
    python benchmarks/translation.py --profile gpu --reverse                 # English -> German, same tokens

--reverse swaps the sides of the joint-BPE token arrays (German->English data becomes English->German) without
re-tokenising. Needs only torch, tokenizers, numpy, pandas, pyyaml and sacrebleu (no MLflow, Prefect or DVC).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
import time
from pathlib import Path

import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from components.applications.overrides import profile_params  # noqa: E402
from components.engine.device import pick_device  # noqa: E402
from components.kinds.translation.evaluation.metrics import (  # noqa: E402
    bleu_scores,
    code_usage,
    decoding_speed,
    detokenise,
    reference_code_translations,
    translate_split,
)
from components.kinds.translation.models.factory import build_translator  # noqa: E402
from components.kinds.translation.training.loop import ParallelArrays, distilled_targets, train_translator  # noqa: E402

APP = "translation"


def load(params_file: Path, profile: str, overrides: list[str]):
    return profile_params(params_file, APP, profile, overrides)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workspace", type=Path, default=ROOT)
    parser.add_argument("--params", type=Path, default=ROOT / "params.yaml")
    parser.add_argument("--profile", default="default")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--families", nargs="+", default=["transformer", "latent"])
    parser.add_argument("--distill", action="store_true", help="latent: learn from the transformer's greedy output")
    parser.add_argument("--reverse", action="store_true", help="swap source and target (joint BPE tokens only)")
    parser.add_argument(
        "--minutes",
        type=float,
        nargs="+",
        default=[0],
        help="stop a model's training after the "
        "epoch that reaches this many minutes (0: train.epochs); one figure for all, or one a family",
    )
    parser.add_argument("--curve-pairs", type=int, default=300, help="valid pairs scored (greedy BLEU) per epoch")
    parser.add_argument("--name", default="", help="a label for the rows")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks/translation.jsonl")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    params = load(args.params, args.profile, args.overrides)
    device = pick_device(params.train.device)
    tokens, work = args.workspace / "data/translation/tokens", args.workspace / "data/translation"
    from tokenizers import Tokenizer

    side_names = ("target", "source") if args.reverse else ("source", "target")
    if args.reverse and not params.tokenize.joint:
        raise SystemExit("error: --reverse needs joint BPE tokens (tokenize.joint: true)")
    if not (work / "processed/splits.parquet").is_file() or not tokens.is_dir():
        raise SystemExit(
            f"error: {work}/processed/splits.parquet or {tokens} not found: run `dvc repro translation-tokenize` first"
        )
    splits = pd.read_parquet(work / "processed/splits.parquet")

    def pairs_of(split: str) -> tuple[ParallelArrays, list[str], list[str]]:
        arrays = ParallelArrays.load(tokens, split)
        if args.reverse:
            arrays = ParallelArrays(arrays.target, arrays.source)
        rows = splits[splits["split"] == split]
        return arrays, rows[side_names[0]].tolist(), rows[side_names[1]].tolist()

    train, _, _ = pairs_of("train")
    valid, _, valid_refs = pairs_of("valid")
    test, _, test_refs = pairs_of("test")
    test, test_refs = (
        test.head(params.evaluate.max_sentences),
        test_refs[: len(test.head(params.evaluate.max_sentences))],
    )
    tok = Tokenizer.from_file(str(work / f"tokenizer/{side_names[1]}.json"))
    vocab = tok.get_vocab_size()
    curve_pairs = valid.head(args.curve_pairs)
    curve_refs = valid_refs[: len(curve_pairs)]
    direction = (
        f"{params.data.target_lang}->{params.data.source_lang}"
        if args.reverse
        else f"{params.data.source_lang}->{params.data.target_lang}"
    )
    device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"

    def curve(model) -> dict:
        decoder = "greedy" if "greedy" in model.decoders else model.default_decoder
        hyps = detokenise(tok, translate_split(model, curve_pairs, decoder, params.evaluate, device))
        return {"valid_bleu": bleu_scores(hyps, curve_refs)["bleu"]}

    if len(args.minutes) not in (1, len(args.families)):
        raise SystemExit(
            f"error: --minutes takes one figure or one per family ({len(args.families)}), not {len(args.minutes)}"
        )
    minutes = dict(zip(args.families, args.minutes * len(args.families) if len(args.minutes) == 1 else args.minutes))
    trained, teacher = [], None
    for family in args.families:
        mp = dataclasses.replace(params.model, family=family)
        data = train
        if family == "latent" and args.distill:
            if teacher is None:
                raise SystemExit("error: --distill needs the transformer trained first (--families transformer latent)")
            started = time.perf_counter()
            data = ParallelArrays(train.source, distilled_targets(teacher, train.source, mp.max_positions, device))
            logging.info("distilled %d targets in %.1f s", len(data), time.perf_counter() - started)
        result = train_translator(
            lambda mp=mp: build_translator(mp, vocab, vocab, params.tokenize.joint),
            data,
            valid,
            params.train,
            mp.max_positions,
            device,
            on_epoch=curve,
            time_limit_s=minutes[family] * 60 or None,
        )
        model = result.model
        if family == "transformer":
            teacher = model
        trained.append((family, result))

    # Scored only once every model is trained, so that the decoding speeds of all of them are measured side by
    # side in the same minute (other jobs sharing the GPU during training do not skew one model's speed only).
    rows = []
    for family, result in trained:
        model = result.model
        train_s = sum(result.epoch_seconds)
        for decoder in model.decoders:
            hyps = detokenise(tok, translate_split(model, test, decoder, params.evaluate, device))
            row = {
                "name": args.name,
                "direction": direction,
                "profile": args.profile,
                "device": device_name,
                "family": family,
                "decoder": decoder,
                "distilled": family == "latent" and args.distill,
                "parameters": sum(x.numel() for x in model.parameters()),
                "epochs": result.history[-1]["epoch"],
                "train_seconds": train_s,
                "test_pairs": len(test),
                **bleu_scores(hyps, test_refs),
                **decoding_speed(model, test, decoder, params.evaluate, device),
                **(code_usage(model, test, device) if family == "latent" else {}),
                **(
                    {"bleu_reference_codes": bleu_scores(detokenise(tok, oracle), test_refs)["bleu"]}
                    if (oracle := reference_code_translations(model, test, device)) is not None
                    else {}
                ),
                "curve": [
                    {
                        "train_s": sum(result.epoch_seconds[: i + 1]),
                        "epoch": h["epoch"],
                        "valid_bleu": h.get("valid_bleu"),
                        "valid_nll_per_token": h["valid_nll_per_token"],
                    }
                    for i, h in enumerate(result.history)
                ],
                "examples": [{"ref": r, "hyp": h} for r, h in list(zip(test_refs, hyps))[:5]],
            }
            rows.append(row)
            with open(args.results, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(row) + "\n")
            logging.info(
                "%s %s: BLEU %.2f (lowercased %.2f), %s",
                family,
                decoder,
                row["bleu"],
                row["bleu_lowercase"],
                row["bleu_signature"],
            )

    greedy = next((r for r in rows if r["decoder"] == "greedy"), None)
    print(f"\n{direction}, profile {args.profile}, {device_name}\n")
    print(
        "| model | decoder | BLEU | chrF | BLEU (lc, tok) | ms/sentence, batch 1 | sentences/s, batch 64 | "
        "speed-up vs greedy (b1) | train s | epochs |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        speedup = (
            greedy["ms_per_sentence_batch1"] / r["ms_per_sentence_batch1"]
            if greedy and r.get("ms_per_sentence_batch1")
            else float("nan")
        )
        name = r["family"] + (" (distilled)" if r["distilled"] else "")
        print(
            f"| {name} | {r['decoder']} | {r['bleu']:.2f} | {r['chrf']:.2f} | {r['bleu_lowercase']:.2f} | "
            f"{r.get('ms_per_sentence_batch1', float('nan')):.1f} | "
            f"{r.get('sentences_per_s_batch64', float('nan')):.0f} | "
            f"{speedup:.2f}x | {r['train_seconds']:.0f} | {r['epochs']} |"
        )
    print(f"\nsacreBLEU: {rows[0]['bleu_signature'] if rows else ''}")


if __name__ == "__main__":
    main()
