"""The toy kind's served model (MLflow models-from-code): {"n": [k]} in, k sampled points out."""

from __future__ import annotations

import mlflow
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

        n = int(model_input["n"].sum())
        points = self.model.sample(n, torch.Generator().manual_seed(0)).numpy()
        return pd.DataFrame({"x": points[:, 0], "y": points[:, 1]})


mlflow.models.set_model(PointsPyfunc())
