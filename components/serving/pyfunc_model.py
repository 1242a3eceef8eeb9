"""The registered model as an MLflow pyfunc, logged "from code": MLflow stores this file, not a pickle.

Artifacts travel beside it: the safetensors weights with their JSON config and the
tokenizer.json the model was trained with. The weights' SHA-256 is part of the model's
config, so a swapped or damaged weights file is refused at load time. What `predict`
accepts is described in components/serving/signature.py.
"""

from __future__ import annotations

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel


class LatentTextModel(PythonModel):
    def load_context(self, context) -> None:
        from pathlib import Path

        from components.core.atomic import file_digest
        from components.models.store import WEIGHTS_FILE, ModelFileError
        from components.serving.text_generator import TextGenerator

        model_dir = Path(context.artifacts["model_dir"])
        expected = (context.model_config or {}).get("weights_sha256")
        weights = model_dir / WEIGHTS_FILE
        if not weights.is_file():
            raise ModelFileError(f"{weights}: model weights missing from the logged model")
        if expected and file_digest(weights) != expected:
            raise ModelFileError(f"{weights}: SHA-256 differs from the one recorded at logging; refusing tampered weights")
        self.generator = TextGenerator.from_files(model_dir, context.artifacts["tokenizer"])
        self.generator.max_len = int((context.model_config or {}).get("max_len", self.generator.max_len))

    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        from components.serving.signature import PARAM_DEFAULTS

        p = {**PARAM_DEFAULTS, **(params or {})}
        seed = None if int(p["seed"]) < 0 else int(p["seed"])
        options = {"max_len": int(p["max_len"])}
        columns = set(model_input.columns)
        rows: list[tuple[int, str]] = []
        for index, row in enumerate(model_input.to_dict("records")):
            if "n" in columns and pd.notna(row.get("n")):
                n = int(row["n"])
                if not 0 < n <= 10_000:
                    raise ValueError(f"row {index}: n must be between 1 and 10000, got {n}")
                texts = self.generator.sample(n, temperature=float(p["temperature"]), top_p=float(p["top_p"]),
                                              seed=None if seed is None else seed + index, **options)
            elif "text" in columns and isinstance(row.get("text"), str):
                texts = self.generator.reconstruct([row["text"]], **options)
            elif {"start", "end"} <= columns and isinstance(row.get("start"), str) and isinstance(row.get("end"), str):
                texts = self.generator.interpolate(row["start"], row["end"], steps=int(p["steps"]), **options)
            else:
                raise ValueError(f"row {index}: give n (sample), text (reconstruct) or start and end (interpolate); "
                                 f"got columns {sorted(columns)}")
            rows.extend((index, t) for t in texts)
        return pd.DataFrame(rows, columns=["input", "text"])


mlflow.models.set_model(LatentTextModel())
