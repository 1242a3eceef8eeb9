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

from components.registry.requests import refusals_as_bad_requests


class LatentTextModel(PythonModel):
    def load_context(self, context) -> None:
        from components.kinds.text.serving.generator import TextGenerator
        from components.models.store import verified_weights

        model_dir = verified_weights(context.artifacts["model_dir"], (context.model_config or {}).get("weights_sha256"))
        self.generator = TextGenerator.from_files(model_dir, context.artifacts["tokenizer"])
        self.generator.max_len = int((context.model_config or {}).get("max_len", self.generator.max_len))

    @refusals_as_bad_requests  # HTTP 400 with the reason, not a stack trace
    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        from components.kinds.text.serving.signature import PARAM_DEFAULTS

        p = {**PARAM_DEFAULTS, **(params or {})}
        seed = None if int(p["seed"]) < 0 else int(p["seed"])
        options = {"max_len": int(p["max_len"])}
        rows: list[tuple[int, str]] = []
        for index, row in enumerate(model_input.to_dict("records")):
            texts = self._answer(index, row, p, seed, options, sorted(model_input.columns))
            rows.extend((index, t) for t in texts)
        return pd.DataFrame(rows, columns=["input", "text"])

    def _answer(self, index: int, row: dict, p: dict, seed: int | None, options: dict, columns: list[str]) -> list[str]:
        """One request row: sample (n, with label / prefix / reference), reconstruct (text) or interpolate."""

        def given(name: str) -> str | None:
            value = row.get(name)
            return value if isinstance(value, str) else None

        label, prefix, reference = given("label"), given("prefix"), given("reference")
        sampling = {
            "temperature": float(p["temperature"]),
            "top_p": float(p["top_p"]),
            "seed": None if seed is None else seed + index,
            **options,
        }
        n = row.get("n")
        if n is not None and pd.notna(n):
            if float(n) != int(n) or not 0 < int(n) <= 10_000:
                raise ValueError(f"row {index}: n must be a whole number between 1 and 10000, got {n}")
            return self.generator.sample(int(n), label=label, prefix=prefix, reference=reference, **sampling)
        if given("text") is not None:
            return self.generator.reconstruct([row["text"]], label=label, **options)
        if given("start") is not None and given("end") is not None:
            return self.generator.interpolate(row["start"], row["end"], steps=int(p["steps"]), label=label, **options)
        if prefix is not None or label is not None or reference is not None:
            return self.generator.sample(1, label=label, prefix=prefix, reference=reference, **sampling)
        raise ValueError(
            f"row {index}: give n, label or prefix (sample), text (reconstruct) or start and end "
            f"(interpolate); got columns {columns}"
        )


mlflow.models.set_model(LatentTextModel())
