"""What a served translation model takes and returns (MLflow signature, input example, parameter defaults)."""

from __future__ import annotations

import pandas as pd

TRANSLATION_PARAM_DEFAULTS = {"decoder": "", "beam_size": 4}
"""decoder "" is the model's default (beam for the Transformer, latent for the latent family)."""


def translation_signature():
    """{"text": [...]} in; the text, its translation and whether its source was truncated out."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema

    return ModelSignature(
        inputs=Schema([ColSpec("string", "text")]),
        outputs=Schema([ColSpec("string", "text"), ColSpec("string", "translation"), ColSpec("boolean", "truncated")]),
        params=ParamSchema([ParamSpec("decoder", "string", ""), ParamSpec("beam_size", "long", 4)]),
    )


def translation_input_example() -> pd.DataFrame:
    return pd.DataFrame({"text": ["Ein Hund rennt über die Wiese."]})
