"""Points train stage: the tiny VAE on the shared engine (resume, torchrun, accumulation, NaN stop)."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from points_kind.model import PointsConfig, PointsVAE
from points_kind.params import points_params_from_dict

from components.core import atomic
from components.core.entrypoint import stage_main, stage_parser
from components.core.params import load_with
from components.engine.engine import EngineSettings, Task, Update, array_digest, finish_run, fit, training_session
from components.models.store import save_model_dir


def points(frame: pd.DataFrame, split: str) -> torch.Tensor:
    return torch.tensor(frame.loc[frame["split"] == split, ["x", "y"]].to_numpy(dtype=np.float32))


class PointsTask(Task):
    monitor = "nelbo"

    def __init__(self, params, train: torch.Tensor, valid: torch.Tensor):
        self.p, self.train, self.valid = params.train, train, valid
        self.model = PointsVAE(PointsConfig(params.model.family, params.model.hidden, params.model.latent_dim))

    @property
    def epochs(self) -> int:
        return self.p.epochs

    def steps_per_epoch(self) -> int:
        return math.ceil(len(self.train) / self.p.batch_size)

    def optimizers(self):
        return [torch.optim.Adam(self.model.parameters(), lr=self.p.lr)]

    def batches(self, rng):
        return np.array_split(rng.permutation(len(self.train)), self.steps_per_epoch())

    def updates(self, net, rows, step, total):
        loss = net.nelbo(self.train[torch.from_numpy(rows)])
        yield Update(0, loss, {"loss": loss.detach()})

    def validate(self) -> dict[str, float]:
        return {"nelbo": float(self.model.nelbo(self.valid))}

    def fingerprint(self) -> dict:
        return {"data": array_digest(self.train.numpy()), "model": self.model.config.to_dict()}


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    for flag in ("--splits", "--out-dir", "--metrics", "--history", "--checkpoint", "--timing"):
        parser.add_argument(flag, required=True)

    def run(args):
        params = load_with(points_params_from_dict, args.params, args.app)
        frame = pd.read_parquet(args.splits)
        started = time.perf_counter()
        with training_session(params.train, params.train.device) as (ctx, device):
            result = fit(
                lambda: PointsTask(params, points(frame, "train"), points(frame, "valid")),
                EngineSettings.of(params.train),
                device,
                Path(args.checkpoint),
            )
            if ctx.is_main:
                save_model_dir(result.model, args.out_dir)
                atomic.write_json(
                    args.metrics, {"best_epoch": result.best_epoch, **result.history[result.best_epoch - 1]}
                )
                finish_run(result, args.history, args.timing, args.checkpoint, started, device)

    stage_main("train", run, parser)


if __name__ == "__main__":
    main()
