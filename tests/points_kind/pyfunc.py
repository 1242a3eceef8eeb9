"""The toy kind's served model (MLflow models-from-code): {"n": [k]} in, k sampled points out, each with the
request row it answers."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
from mlflow.pyfunc import PythonModel


class PointsPyfunc(PythonModel):
    def load_context(self, context) -> None:
        from points_kind.model import PointsConfig, PointsVAE

        from components.models.store import load_model_dir, verified_weights

        directory = verified_weights(context.artifacts["model_dir"], (context.model_config or {}).get("weights_sha256"))
        self.model = load_model_dir(directory, lambda raw: PointsVAE(PointsConfig(**raw)))

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        import torch

        counts = model_input["n"].astype(int).to_numpy()
        points = self.model.sample(int(counts.sum()), torch.Generator().manual_seed(0)).numpy()
        return pd.DataFrame({"input": np.repeat(np.arange(len(counts)), counts), "x": points[:, 0], "y": points[:, 1]})


mlflow.models.set_model(PointsPyfunc())
