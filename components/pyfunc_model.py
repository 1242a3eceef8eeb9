"""The registered model as an MLflow pyfunc, logged "from code": MLflow stores this file, not a pickle.

Artifacts travel beside it: the safetensors weights, the model's JSON config and the
tokenizer.json it was trained with. `predict(pd.DataFrame({"n": [5]}))` returns 5
sampled sentences in a `text` column.
"""

from __future__ import annotations

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel


class LatentTextModel(PythonModel):
    def load_context(self, context) -> None:
        from components.generation import TextGenerator

        self.generator = TextGenerator.from_files(context.artifacts["model_dir"], context.artifacts["tokenizer"])

    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        if "n" not in model_input.columns:
            raise ValueError(f"predict expects a column 'n' (sentences to sample), got {list(model_input.columns)}")
        texts: list[str] = []
        for n in model_input["n"]:
            if not 0 < int(n) <= 10_000:
                raise ValueError(f"n must be between 1 and 10000, got {n}")
            texts.extend(self.generator.sample(int(n)))
        return pd.DataFrame({"text": texts})


mlflow.models.set_model(LatentTextModel())
