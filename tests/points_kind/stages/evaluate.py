"""Points evaluate stage: the importance-weighted NLL per test point, and that of one Gaussian fitted to the train
points (the trivial baseline the gate asks the model to beat)."""

from __future__ import annotations

import pandas as pd
import torch
from points_kind.model import PointsConfig, PointsVAE
from points_kind.params import points_params_from_dict
from points_kind.stages.train import points

from components.core import atomic
from components.core.entrypoint import stage_main, stage_parser
from components.core.params import load_with
from components.models.store import load_model_dir


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    for flag in ("--splits", "--model-dir", "--metrics"):
        parser.add_argument(flag, required=True)

    def run(args):
        params = load_with(points_params_from_dict, args.params, args.app)
        frame = pd.read_parquet(args.splits)
        train, test = points(frame, "train").double(), points(frame, "test")
        torch.manual_seed(0)
        model = load_model_dir(args.model_dir, lambda raw: PointsVAE(PointsConfig(**raw)))
        gaussian = torch.distributions.MultivariateNormal(train.mean(0), torch.cov(train.T))
        atomic.write_json(
            args.metrics,
            {
                "family": "vae",
                "test_points": len(test),
                "nll": float(model.nll(test, params.evaluate.iw_samples).mean()),
                "baseline_nll": float(-gaussian.log_prob(test.double()).mean()),
            },
        )

    stage_main("evaluate", run, parser)


if __name__ == "__main__":
    main()
