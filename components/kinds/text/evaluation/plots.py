"""PNG plots for the MLflow run: training curves and KL per latent dimension (DVC renders its own from the JSON)."""

from __future__ import annotations

import json
from pathlib import Path


def write_plots(out_dir: Path, history: list[dict], latent_dims: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    steps = [r["step"] for r in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.5))
    ax1.plot(steps, [r["train_rec"] for r in history], "o-", label="train reconstruction")
    ax1.plot(steps, [r["valid_nelbo"] for r in history], "o-", label="valid -ELBO")
    ax1.set_xlabel("step"), ax1.set_ylabel("nats / sentence"), ax1.legend()
    ax2.plot(steps, [r["train_kl"] for r in history], "o-", label="train KL")
    ax2.plot(steps, [r["beta"] for r in history], "s--", label="beta (end of epoch)")
    ax2.set_xlabel("step"), ax2.legend()
    fig.tight_layout()
    written.append(out_dir / "training_curves.png")
    fig.savefig(written[-1], dpi=100)
    plt.close(fig)
    if latent_dims.is_file():
        dims = json.loads(latent_dims.read_text(encoding="utf-8"))
        fig, ax = plt.subplots(figsize=(8, 3))
        ax.bar([d["dim"] for d in dims], [d["kl"] for d in dims])
        ax.set_xlabel("latent dimension"), ax.set_ylabel("KL (nats)"), ax.set_title("KL per latent dimension")
        fig.tight_layout()
        written.append(out_dir / "kl_per_dimension.png")
        fig.savefig(written[-1], dpi=100)
        plt.close(fig)
    return written
