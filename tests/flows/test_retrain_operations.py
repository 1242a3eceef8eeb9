"""What the flow adds around the stages for scheduled runs: pushing to the DVC remote, Prefect artifacts,
picking up new data from an imported source, and warm starts from the champion."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

from components.registry.promotion import promote
from components.versioning.dvc import dvc_env
from flows.retrain import retrain
from tests.conftest import glosses, make_workspace, tracking

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]


def test_the_run_pushes_its_data_and_model_to_the_default_remote(trained_workspace):
    workspace, result = trained_workspace
    assert result["pushed"] == "local"
    status = subprocess.run(
        [sys.executable, "-m", "dvc", "status", "--cloud"], cwd=workspace, capture_output=True, text=True, env=dvc_env()
    )
    assert status.returncode == 0, status.stderr
    assert "Cache and remote 'local' are in sync" in status.stdout
    assert any((workspace / "dvc-remote").rglob("*"))


def test_the_run_publishes_gate_report_metrics_table_and_mlflow_link(trained_workspace):
    _, result = trained_workspace
    wanted = ["gate-report", "eval-metrics", "retrain-summary", "mlflow-run"]
    with get_client(sync_client=True) as client:
        keys = {
            a.key for a in client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=wanted)))
        }
    assert set(wanted) <= keys
    assert result["registered"]["run_url"].endswith(f"/runs/{result['registered']['run_id']}")


def test_warm_start_takes_the_champions_weights_and_records_it(trained_workspace):
    workspace, first = trained_workspace
    client = tracking(workspace)
    promote(client, "sentences-bsvae", first["registered"]["version"])
    warm = retrain(workspace=str(workspace), overrides=["train.warm_start=champion"])
    assert warm["warm_start"] == f"warm start from sentences-bsvae v{first['registered']['version']}"
    assert warm["stages"]["sentences-train"] == "ran"
    assert json.loads((workspace / "metrics/sentences/train.json").read_text())["warm_start"] is True
    version = client.get_model_version("sentences-bsvae", warm["registered"]["version"])
    assert version.tags["warm_start"] == f"sentences-bsvae v{first['registered']['version']}"
    back = retrain(workspace=str(workspace), overrides=["train.warm_start=scratch"])
    assert sorted(p.name for p in (workspace / "warm_start" / "sentences").iterdir()) == ["README.md"]
    assert back["registered"]["version"] == first["registered"]["version"]  # same weights as the first run
    assert back["registered"]["created"] is False


def test_a_scheduled_run_picks_up_new_files_in_an_imported_directory(tmp_path):
    source = tmp_path / "incoming"
    source.mkdir()
    (source / "part-1.txt").write_text("\n".join(glosses(2500)) + "\n", encoding="utf-8")
    workspace = make_workspace(tmp_path / "ws", glosses(10))
    imported = subprocess.run(
        [sys.executable, "-m", "dvc", "import-url", str(source), "data/incoming"],
        cwd=workspace,
        capture_output=True,
        text=True,
        env=dvc_env(),
    )
    assert imported.returncode == 0, imported.stderr
    first = retrain(workspace=str(workspace), corpus=str(workspace / "data/incoming"), profile="tiny")

    (source / "part-2.txt").write_text("\n".join(glosses(3000)[2500:]) + "\n", encoding="utf-8")
    second = retrain(workspace=str(workspace))
    assert second["sources"] == ["data/incoming.dvc"]
    assert second["stages"]["sentences-ingest"] == "ran" and second["stages"]["sentences-train"] == "ran"
    client = tracking(workspace)
    v1 = client.get_model_version("sentences-bsvae", first["registered"]["version"])
    v2 = client.get_model_version("sentences-bsvae", second["registered"]["version"])
    assert v1.version != v2.version
    assert v1.tags["data.corpus_md5"] != v2.tags["data.corpus_md5"]
