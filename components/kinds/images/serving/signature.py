"""What a served image model takes and returns (MLflow signature, input example, parameter defaults)."""

from __future__ import annotations

import pandas as pd

IMAGE_PARAM_DEFAULTS = {"output": "png", "seed": -1}


def image_signature():
    """{"n"}, {"label", "n"} or {"image": base64 PNG} in; one row per image out (base64 PNG or raw pixels)."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema

    return ModelSignature(
        inputs=Schema(
            [
                ColSpec("long", "n", required=False),
                ColSpec("string", "label", required=False),
                ColSpec("string", "image", required=False),
            ]
        ),
        outputs=None,
        params=ParamSchema([ParamSpec("output", "string", "png"), ParamSpec("seed", "long", -1)]),
    )


def image_input_example() -> pd.DataFrame:
    return pd.DataFrame({"n": [2]})
