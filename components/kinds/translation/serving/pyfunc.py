"""A registered translation model as an MLflow pyfunc, logged "from code" (no pickle).

    predict(pd.DataFrame({"text": ["Ein Hund rennt über die Wiese."]}))       # -> column "translation"
    predict(df, params={"decoder": "greedy"})                                  # latent | greedy | beam

The model directory (safetensors weights, config, both tokenizers) travels as an artifact; the weights'
SHA-256 recorded at logging is checked at load, so swapped weights are refused.
"""

from __future__ import annotations

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel

from components.registry.requests import refusals_as_bad_requests


class TranslationPyfunc(PythonModel):
    def load_context(self, context) -> None:
        from components.kinds.translation.serving.translator import Translator
        from components.models.store import verified_weights

        model_dir = verified_weights(context.artifacts["model_dir"], (context.model_config or {}).get("weights_sha256"))
        self.translator = Translator.from_dir(model_dir)

    @refusals_as_bad_requests  # HTTP 400 with the reason, not a stack trace
    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        from components.kinds.translation.serving.signature import TRANSLATION_PARAM_DEFAULTS
        from components.kinds.translation.serving.translator import check_beam_size

        p = {**TRANSLATION_PARAM_DEFAULTS, **(params or {})}
        if "text" not in model_input.columns:
            raise ValueError(
                f"give a 'text' column of sentences to translate; got columns {sorted(model_input.columns)}"
            )
        texts = [t if isinstance(t, str) else "" for t in model_input["text"].tolist()]
        out, truncated = self.translator.translate(texts, p["decoder"] or None, check_beam_size(p["beam_size"]))
        return pd.DataFrame(
            {"text": texts, "translation": out, "truncated": [i in set(truncated) for i in range(len(texts))]}
        )


mlflow.models.set_model(TranslationPyfunc())
