"""Compare model variants of one application through its real stages: one scratch copy of the project, the data
stages run once, then for each variant its params are set and `dvc repro <app>-evaluate` retrains and scores it.
Prints one Markdown table of the evaluate stage's metrics (and appends each run to --results as JSON lines).

    python benchmarks/variants.py --app conditional --profile default --keep /tmp/cond-default \
        --variant "BS-VAE=model.family=bsvae" --variant "LSTM LM=model.family=lm" \
        --variant "BS-VAE, learned p(z|y)=model.family=bsvae,model.bsvae.label_prior=learned"

A variant is NAME=key=value[,key=value...] over the application's params (section.key). With --keep and an
existing directory, the copy is reused (its data stages are then up to date). Run with nothing else on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stage_resources import BIN, scratch_copy  # noqa: E402

from components.applications.overrides import write_profile  # noqa: E402

COLUMNS = [
    ("NLL", "nll", "{:.2f}"),
    ("PPL", "ppl", "{:.1f}"),
    ("KL", "kl", "{:.2f}"),
    ("AU", "active_units", "{}"),
    ("control acc.", "control_accuracy", "{:.3f}"),
    ("classifier on test", "classifier_test_accuracy", "{:.3f}"),
    ("ratio", "control_ratio", "{:.2f}"),
    ("distinct-2 / label", "distinct_2_per_label", "{:.2f}"),
    ("self-BLEU / label", "self_bleu_per_label", "{:.1f}"),
    ("recon BLEU", "recon_bleu", "{:.1f}"),
    ("train s", "train_seconds", "{:.0f}"),
]


def table(rows: list[dict]) -> str:
    lines = ["| variant | " + " | ".join(c[0] for c in COLUMNS) + " |", "|---|" + "---:|" * len(COLUMNS)]
    for row in rows:
        cells = [fmt.format(row[key]) if key in row else "n/a" for _, key, fmt in COLUMNS]
        lines.append(f"| {row['name']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app", required=True)
    parser.add_argument("--profile", default="default")
    parser.add_argument("--keep", help="the scratch copy's directory (reused if it exists)")
    parser.add_argument("--variant", action="append", required=True, metavar="NAME=key=value[,key=value]")
    parser.add_argument("--results", type=Path, default=Path(__file__).resolve().parent / "variants.jsonl")
    args = parser.parse_args()

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="variants-"))
    if not (work / "dvc.yaml").is_file():
        work.mkdir(parents=True, exist_ok=True)
        scratch_copy(work)
        write_profile(work, args.app, args.profile)
    base = (work / "params.yaml").read_text(encoding="utf-8")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "DVC_NO_ANALYTICS": "1"}
    rows = []
    for variant in args.variant:
        name, _, assignments = variant.partition("=")
        (work / "params.yaml").write_text(base, encoding="utf-8")
        write_profile(work, args.app, None, list(filter(None, assignments.split(","))))
        started = time.perf_counter()
        proc = subprocess.run(
            [str(BIN / "dvc"), "repro", f"{args.app}-evaluate"], cwd=work, env=env, capture_output=True, text=True
        )
        if proc.returncode:
            print(
                f"error: {name}: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}",
                file=sys.stderr,
            )
            continue
        metrics = json.loads((work / f"metrics/{args.app}/eval.json").read_text())
        timing = json.loads((work / f"reports/{args.app}/timing/train.json").read_text())
        row = {
            "name": name,
            "app": args.app,
            "profile": args.profile,
            "set": assignments,
            "train_seconds": timing["train_seconds"],
            "repro_seconds": time.perf_counter() - started,
            **{k: v for k, v in metrics.items() if not isinstance(v, (dict, list))},
        }
        rows.append(row)
        with args.results.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")
        print(table(rows[-1:]), flush=True)
    print(f"\n{args.app}, profile {args.profile}, {os.cpu_count()} CPUs\n\n{table(rows)}")
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
