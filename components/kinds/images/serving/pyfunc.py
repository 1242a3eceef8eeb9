"""A registered image model as an MLflow pyfunc, logged "from code" (no pickle).

    predict(pd.DataFrame({"n": [4]}))                          # 4 samples, each a base64 PNG
    predict(pd.DataFrame({"label": ["7"], "n": [4]}))          # of one class (conditional models)
    predict(pd.DataFrame({"image": [base64_png]}))             # its reconstruction (not the GAN)
    predict(df, params={"output": "array"})                    # raw pixels (nested lists) instead of PNG

The model directory travels as an artifact; the weights' SHA-256 recorded at logging is checked at load.
"""

from __future__ import annotations

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel

from components.registry.requests import refusals_as_bad_requests


class ImagePyfunc(PythonModel):
    def load_context(self, context) -> None:
        from components.kinds.images.serving.generator import ImageGenerator
        from components.models.store import verified_weights

        model_dir = verified_weights(context.artifacts["model_dir"], (context.model_config or {}).get("weights_sha256"))
        self.generator = ImageGenerator.from_dir(model_dir)

    @refusals_as_bad_requests  # HTTP 400 with the reason, not a stack trace
    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        import numpy as np

        from components.kinds.images.serving.generator import png_base64
        from components.kinds.images.serving.signature import IMAGE_PARAM_DEFAULTS

        p = {**IMAGE_PARAM_DEFAULTS, **(params or {})}
        if p["output"] not in ("png", "array"):
            raise ValueError(f"output must be png or array, got {p['output']!r}")
        seed = None if int(p["seed"]) < 0 else int(p["seed"])
        rows = []
        for index, row in enumerate(model_input.to_dict("records")):
            label = row.get("label") if isinstance(row.get("label"), str) else None
            if isinstance(row.get("image"), str):
                images = self.generator.reconstruct(
                    self.generator.decode_request_image(row["image"], index)[None], label
                )
            else:
                n = row.get("n")
                n = 1 if n is None or pd.isna(n) else n
                if float(n) != int(n) or not 0 < int(n) <= 1024:
                    raise ValueError(f"row {index}: n must be a whole number between 1 and 1024, got {n}")
                images = self.generator.sample(int(n), label, None if seed is None else seed + index)
            for image in images:
                rows.append((index, png_base64(image) if p["output"] == "png" else np.asarray(image).tolist()))
        return pd.DataFrame(rows, columns=["input", "image"])


mlflow.models.set_model(ImagePyfunc())
