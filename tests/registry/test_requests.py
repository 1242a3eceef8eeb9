"""A refused request becomes MLflow's client error with the reason's first line (the scoring server answers it with
HTTP 400 and that message, no stack trace: tests/kinds/images/test_images_flow.py serves one for real)."""

from __future__ import annotations

import pytest
from mlflow.exceptions import MlflowException

from components.registry.requests import refusals_as_bad_requests


def test_a_value_error_is_a_bad_request_with_its_first_line_and_anything_else_passes_through():
    @refusals_as_bad_requests
    def predict(context, model_input, params=None):
        if model_input == "bad":
            raise ValueError("unknown label(s) ['x']; this model knows ['a']\nmore detail")
        if model_input == "bug":
            raise KeyError("a bug is not the caller's fault")
        return model_input

    assert predict(None, "fine") == "fine"
    with pytest.raises(MlflowException) as refused:
        predict(None, "bad")
    assert refused.value.error_code == "INVALID_PARAMETER_VALUE" and refused.value.get_http_status_code() == 400
    assert refused.value.message == "unknown label(s) ['x']; this model knows ['a']"
    with pytest.raises(KeyError):
        predict(None, "bug")
