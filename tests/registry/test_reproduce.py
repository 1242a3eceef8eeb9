"""A registered version rebuilds from its recorded commit, patch and data into identical weights and metrics."""

from __future__ import annotations

import subprocess
import sys

import pytest

from components.core.errors import StageError
from components.registry.reproduce import Comparison, compare, reproduce

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]


def test_a_registered_version_rebuilds_bit_identically_on_cpu(trained_workspace, tmp_path):
    workspace, result = trained_workspace
    rows = reproduce(workspace, "sentences-bsvae", result["registered"]["version"], tmp_path / "scratch")
    assert [r for r in rows if not r.matches] == []
    items = {r.item for r in rows}
    assert {"weights sha256", "dvc.lock sentences-train:models/sentences/bsvae", "metric nll", "metric kl"} <= items


def test_the_cli_prints_the_comparison_and_refuses_unknown_versions(trained_workspace, tmp_path):
    workspace, _ = trained_workspace
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "components.commands.reproduce",
            "--model",
            "sentences-bsvae",
            "--version",
            "99",
            "--workspace",
            str(workspace),
            "--scratch",
            str(tmp_path / "s"),
        ],
        capture_output=True,
        text=True,
        cwd=workspace,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1].startswith("error: reproduce: sentences-bsvae v99: not in the registry")


def test_differences_are_listed():
    lock = {"stages": {"sentences-train": {"outs": [{"path": "models/sentences/bsvae", "md5": "a.dir"}]}}}
    other = {"stages": {"sentences-train": {"outs": [{"path": "models/sentences/bsvae", "md5": "b.dir"}]}}}
    rows = compare(lock, other, {"nll": 1.0}, {"nll": 1.5}, "x", "x")
    assert [r.item for r in rows if not r.matches] == ["dvc.lock sentences-train:models/sentences/bsvae", "metric nll"]
    assert Comparison("m", "1.0", "1.0").matches
    with pytest.raises(StageError):
        reproduce(tmp := __import__("pathlib").Path("/nonexistent-ws"), "x", "1", tmp / "s")
