import pytest

from components.gate import GateFailed, gate_metrics
from components.params import GateParams

GOOD = {"nll": 40.0, "ppl": 100.0, "kl": 5.0, "active_units": 16}


def test_passing_model_passes_every_check():
    report = gate_metrics(GOOD, GateParams(max_nll=50, max_ppl=200, min_kl=1, min_active_units=8))
    assert report.passed and all(c.passed for c in report.checks)
    assert "PASSED" in report.to_markdown()


@pytest.mark.parametrize("metric,value", [("nll", 60.0), ("kl", 0.01), ("active_units", 0), ("nll", float("nan"))])
def test_each_threshold_can_fail_the_gate(metric, value):
    report = gate_metrics({**GOOD, metric: value}, GateParams(max_nll=50, max_ppl=200, min_kl=1, min_active_units=8))
    assert not report.passed
    assert "**FAIL**" in report.to_markdown()
    with pytest.raises(GateFailed, match=metric):
        raise GateFailed(report)
