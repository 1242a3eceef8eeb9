"""The scheduled deployment: schedule and name from params.yaml, served in-process or deployed to a work pool."""

from __future__ import annotations

import pytest
import yaml
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate

from components.applications.overrides import apply_overrides
from flows.serve import build_deployment, deploy_to_pool, main


def test_the_deployment_takes_its_schedule_and_name_from_params(workspace):
    apply_overrides(
        workspace / "params.yaml", {"orchestrate.cron": "30 2 * * *", "orchestrate.timezone": "Europe/Paris"}
    )
    deployment = build_deployment(workspace, profile="tiny")
    assert deployment.name == "retrain-sentences"
    (schedule,) = deployment.schedules
    assert schedule.schedule.cron == "30 2 * * *"
    assert schedule.schedule.timezone == "Europe/Paris"
    assert deployment.parameters == {"workspace": str(workspace), "app": "sentences", "profile": "tiny"}
    assert deployment.concurrency_limit == 1


def test_a_bad_schedule_is_one_error_line(workspace, capsys):
    params = workspace / "params.yaml"
    raw = yaml.safe_load(params.read_text())
    raw["orchestrate"]["cron"] = "61 3 * * 1"
    params.write_text(yaml.safe_dump(raw, sort_keys=False))
    assert main(["--workspace", str(workspace)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "orchestrate.cron '61 3 * * 1'" in err[0]


@pytest.mark.usefixtures("prefect_api")
def test_the_flow_deploys_to_a_process_work_pool(workspace):
    with get_client(sync_client=True) as client:
        client.create_work_pool(WorkPoolCreate(name="retrain-pool", type="process"), overwrite=True)
    deployment_id = deploy_to_pool(workspace, "retrain-pool")
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment(deployment_id)
    assert deployment.name == "retrain-sentences"
    assert deployment.work_pool_name == "retrain-pool"
    assert deployment.entrypoint == "flows/retrain.py:retrain"
    assert [s.schedule.cron for s in deployment.schedules] == ["0 3 * * 1"]
