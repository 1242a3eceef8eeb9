"""Image families side by side: each trained with the train stage's own loop and scored as the evaluate stage
scores (importance-weighted NLL and bits/dim, FID and KID in the pipeline classifier's features, conditional
sample accuracy), one JSON line per model in --results and one table.

    dvc repro images-classifier                               # the data stages and the classifier, once
    python benchmarks/images.py --profile default              # bsvae, vae, vqvae, gan on 2 CPU cores
    python benchmarks/images.py --profile default --families bsvae --set model.conditional=true

Needs only torch, numpy, pandas, pyyaml and pillow (no MLflow, Prefect or DVC).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from components.applications.overrides import profile_params  # noqa: E402
from components.engine.device import pick_device  # noqa: E402
from components.kinds.images.evaluation.classifier import load_classifier, predict  # noqa: E402
from components.kinds.images.evaluation.metrics import fid, kid  # noqa: E402
from components.kinds.images.models.factory import build_image_model  # noqa: E402
from components.kinds.images.training.loop import ImageArrays, image_batch, train_image_model  # noqa: E402

APP = "images"


def load(params_file: Path, profile: str, overrides: list[str]):
    return profile_params(params_file, APP, profile, overrides)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workspace", type=Path, default=ROOT)
    parser.add_argument("--params", type=Path, default=ROOT / "params.yaml")
    parser.add_argument("--profile", default="default")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--families", nargs="+", default=["bsvae", "vae", "vqvae", "gan"])
    parser.add_argument("--name", default="")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks/images.jsonl")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    params = load(args.params, args.profile, args.overrides)
    device = pick_device(params.train.device)
    arrays = args.workspace / "data/images/arrays"
    needed = [
        arrays / "classes.json",
        args.workspace / "models/images/classifier",
        args.workspace / "metrics/images/classifier.json",
    ]
    if missing := [str(path) for path in needed if not path.exists()]:
        raise SystemExit(f"error: {', '.join(missing)} not found: run `dvc repro images-classifier` first")
    classes = json.loads((arrays / "classes.json").read_text(encoding="utf-8"))
    train, valid = ImageArrays.load(arrays, "train"), ImageArrays.load(arrays, "valid")
    test = ImageArrays.load(arrays, "test")
    classifier = load_classifier(args.workspace / "models/images/classifier", device)
    accuracy = json.loads((args.workspace / "metrics/images/classifier.json").read_text())["classifier_test_accuracy"]
    p = params.evaluate
    scored = test.head(p.max_images)
    n = min(p.fid_samples, len(test))
    _, real = predict(classifier, np.asarray(test.images[:n]), device)
    device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    rows = []
    for family in args.families:
        mp = dataclasses.replace(params.model, family=family)
        result = train_image_model(
            lambda mp=mp: build_image_model(mp, *train.images.shape[1:], len(classes)),
            train,
            valid,
            params.train,
            device,
        )
        model = result.model
        conditional = bool(model.config.num_classes)
        row = {
            "name": args.name,
            "profile": args.profile,
            "device": device_name,
            "family": family,
            "conditional": conditional,
            "parameters": sum(x.numel() for x in model.parameters()),
            "epochs": result.history[-1]["epoch"],
            "train_seconds": sum(result.epoch_seconds),
            "classifier_test_accuracy": accuracy,
            "history": result.history,
        }
        started = time.perf_counter()
        if model.has_likelihood:
            nll = []
            for start in range(0, len(scored), 128):
                x, labels = image_batch(scored, np.arange(start, min(start + 128, len(scored))), device, conditional)
                nll.append(-model.log_likelihood(x, labels, p.iw_samples).cpu())
            row["nll"] = float(torch.cat(nll).mean())
            row["bpd"] = row["nll"] / (model.dims * math.log(2))
            row["iw_samples"], row["scored_images"] = p.iw_samples, len(scored)
        generator = torch.Generator().manual_seed(p.seed)
        wanted = torch.arange(n) % len(classes) if conditional else None
        chunks = wanted.split(256) if conditional else torch.arange(n).split(256)
        samples = np.concatenate(
            [model.sample(len(c), c.to(device) if conditional else None, generator).cpu().numpy() for c in chunks]
        )
        predicted, fake = predict(classifier, samples, device)
        row.update(
            fid=fid(fake, real), kid=kid(fake, real), fid_samples=n, evaluate_seconds=time.perf_counter() - started
        )
        if conditional:
            row["conditional_sample_accuracy"] = float((predicted == wanted.numpy()).mean())
        rows.append(row)
        with open(args.results, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")
        logging.info("%s: %s", family, {k: v for k, v in row.items() if k != "history"})

    print(f"\nimages, profile {args.profile}, {device_name}; classifier test accuracy {accuracy:.3f}\n")
    print(
        "| family | conditional | parameters | NLL (nats) | bits/dim | FID | KID | cond. accuracy | train s | epochs |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        nll = f"{r['nll']:.1f}" if "nll" in r else "n/a"
        bpd = f"{r['bpd']:.3f}" if "bpd" in r else "n/a"
        acc = f"{r['conditional_sample_accuracy']:.3f}" if "conditional_sample_accuracy" in r else "n/a"
        print(
            f"| {r['family']} | {r['conditional']} | {r['parameters']:,} | {nll} | {bpd} | {r['fid']:.2f} | "
            f"{r['kid']:.4f} | {acc} | {r['train_seconds']:.0f} | {r['epochs']} |"
        )


if __name__ == "__main__":
    main()
