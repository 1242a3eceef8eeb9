"""The served model's contract: which columns and params `predict` takes and what it returns.

One request type per call, chosen by the columns present:
  {"n": [5]}                         sample 5 sentences from the prior
  {"text": ["a sentence", ...]}      reconstruct each sentence through its posterior mean
  {"start": [...], "end": [...]}     interpolate between two sentences in `steps` steps
Output: one row per generated sentence, `input` naming the request row it answers.
"""

from __future__ import annotations

import pandas as pd

PARAM_DEFAULTS = {"temperature": 1.0, "top_p": 0.9, "max_len": 48, "seed": -1, "steps": 5}


def signature():
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema

    inputs = Schema([ColSpec("long", "n", required=False), ColSpec("string", "text", required=False),
                     ColSpec("string", "start", required=False), ColSpec("string", "end", required=False)])
    outputs = Schema([ColSpec("long", "input"), ColSpec("string", "text")])
    params = ParamSchema([ParamSpec(name, "double" if isinstance(v, float) else "long", v)
                          for name, v in PARAM_DEFAULTS.items()])
    return ModelSignature(inputs=inputs, outputs=outputs, params=params)


def input_example() -> pd.DataFrame:
    return pd.DataFrame({"n": [2]})
