"""Retries are for transient failures only: a failed gate or a bad parameter must fail at once."""

from prefect.states import Failed

from components.core.params import ParamsError
from components.evaluation.gate import GateFailed, GateReport
from components.versioning.dvc import DvcFailed
from flows.retrain import retry_if_transient


def failed(exc: Exception):
    return Failed(data=exc, message=repr(exc))


def test_deterministic_failures_are_not_retried():
    for exc in (GateFailed(GateReport(passed=False, checks=[])), DvcFailed("x"), ParamsError("y")):
        assert retry_if_transient(None, None, failed(exc)) is False


def test_transient_failures_are_retried():
    assert retry_if_transient(None, None, failed(ConnectionError("mlflow unreachable"))) is True
