"""Scoring a registered image model on a new image set: the evaluate stage's likelihood metrics (importance-
weighted NLL, bits per dimension) and reconstruction error on every image of a file or folder.

The images are read as the application's ingest stage reads its data (IDX, NPZ, a folder of PNGs) and held to
the validate stage's contracts (resized when validate.on_other_size says so); images that break one are left out
and counted. A conditional model is scored given each image's label. FID needs the pipeline classifier and a
sample of the model against the set: the evaluate stage's business, not this command's; so a GAN, which has no
likelihood, cannot be scored here.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from components.core.errors import StageError
from components.kinds.images.data.images import conform, image_violations, read_images, to_arrays


@torch.no_grad()
def score_images(served, params, path: Path, batch_size: int = 128) -> tuple[dict, pd.DataFrame]:
    """(metrics, the scored images' ids and labels) of the served model (the pyfunc: its generator holds it)."""
    generator = served.generator
    model = generator.model
    if not model.has_likelihood:
        raise StageError(f"a {model.family} model has no likelihood to score; its FID comes from the evaluate stage")
    frame = conform(read_images(dataclasses.replace(params.data, corpus=str(path), format="auto")), params.validate)
    usable = image_violations(frame, params.validate).isna()
    rows = frame[usable].reset_index(drop=True)
    if rows.empty:
        raise StageError(f"{path}: no image meets the validate contracts ({int((~usable).sum())} left out)")
    conditional = bool(model.config.num_classes)
    images, labels = to_arrays(rows, generator.classes)
    if conditional and (labels < 0).any():
        unknown = sorted({str(x) for x, i in zip(rows["label"], labels) if i < 0})
        raise StageError(
            f"{path}: a conditional model is scored given each image's label; unknown or missing: "
            f"{unknown[:5]} (this model knows {generator.classes})"
        )
    torch.manual_seed(params.evaluate.seed)
    nll, errors = [], []
    for start in range(0, len(images), batch_size):
        x = torch.from_numpy(images[start : start + batch_size].astype(np.float32)).to(generator.device) / 127.5 - 1
        y = torch.from_numpy(labels[start : start + batch_size]).to(generator.device) if conditional else None
        nll.append(-model.log_likelihood(x, y, params.evaluate.iw_samples).cpu())
        recon = model.reconstruct(x, y)
        errors.append(((recon.float() / 127.5 - 1) - x).pow(2).flatten(1).mean(1).cpu())
    nll_mean = float(torch.cat(nll).mean())
    metrics = {
        "family": model.family,
        "test_images": len(images),
        "images_skipped": int((~usable).sum()),
        "dims": model.dims,
        "iw_samples": params.evaluate.iw_samples,
        "nll": nll_mean,
        "bpd": nll_mean / (model.dims * math.log(2)),
        "reconstruction_mse": float(torch.cat(errors).mean()),
    }
    return metrics, rows[["id", "label"]].astype("string")
