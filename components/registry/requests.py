"""A served model's answer to a request it refuses: the one-line reason, as a client error, no stack trace.

MLflow's scoring server answers any other exception from `predict` with "Encountered an unexpected error while
evaluating the model" and the whole Python stack trace (server paths included), the real reason at its end. An
MlflowException with a client error code is answered with HTTP 400 and its message alone, so every kind's pyfunc
wraps its predict in `refusals_as_bad_requests`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable


def refusals_as_bad_requests(predict: Callable) -> Callable:
    """`predict` with a ValueError (an unknown label, a missing column, a bad parameter) turned into an
    MlflowException(INVALID_PARAMETER_VALUE) carrying the reason's first line."""

    @functools.wraps(predict)
    def wrapper(*args, **kwargs):
        try:
            return predict(*args, **kwargs)
        except ValueError as err:
            from mlflow.exceptions import MlflowException
            from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

            reason = (str(err).strip().splitlines() or [type(err).__name__])[0]
            raise MlflowException(reason, error_code=INVALID_PARAMETER_VALUE) from None

    return wrapper
