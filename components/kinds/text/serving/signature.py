"""The served model's contract: which columns and params `predict` takes and what it returns.

Each request row is answered by what its columns ask for:
  {"n": [5]}                         sample 5 sentences from the prior
  {"label": ["noun.animal"], "n": [5]}   ... given a label (conditional models; required there)
  {"prefix": ["a small"], "n": [3]}  continue a prefix (n defaults to 1; an empty prefix is no prefix)
  {"reference": ["a cat"], "n": [3]} ... with z from that sentence's posterior instead of the prior
  {"text": ["a sentence", ...]}      reconstruct each sentence through its posterior mean
  {"start": [...], "end": [...]}     interpolate between two sentences in `steps` steps
Output: one row per generated sentence, `input` naming the request row it answers. An unknown label is
an error listing the model's labels.
"""

from __future__ import annotations

import pandas as pd

PARAM_DEFAULTS = {"temperature": 1.0, "top_p": 0.9, "max_len": 48, "seed": -1, "steps": 5}


def signature():
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema

    inputs = Schema(
        [
            ColSpec("long", "n", required=False),
            ColSpec("string", "label", required=False),
            ColSpec("string", "prefix", required=False),
            ColSpec("string", "reference", required=False),
            ColSpec("string", "text", required=False),
            ColSpec("string", "start", required=False),
            ColSpec("string", "end", required=False),
        ]
    )
    outputs = Schema([ColSpec("long", "input"), ColSpec("string", "text")])
    params = ParamSchema(
        [ParamSpec(name, "double" if isinstance(v, float) else "long", v) for name, v in PARAM_DEFAULTS.items()]
    )
    return ModelSignature(inputs=inputs, outputs=outputs, params=params)


def input_example(label: str | None = None) -> pd.DataFrame:
    """What MLflow validates the logged model against: two samples, given a label the model knows when it is
    conditional (without one a conditional model refuses, and MLflow logs the refusal as a failed example)."""
    return pd.DataFrame({"n": [2]} if label is None else {"label": [label], "n": [2]})
