"""The engine's progress line, written and read back the way the flow reads it, and the progress bar the flow's
stage task shows in the Prefect UI."""

import logging

import pytest

from components.engine.progress import Progress, format_seconds, parse_progress


def test_a_logged_progress_line_reads_back(caplog):
    progress = Progress(total=84, start_step=0)
    with caplog.at_level(logging.INFO, logger="components.engine.progress"):
        progress.maybe_log(84, {"loss": 18.5691})  # the last step is always logged
    line = caplog.records[-1].getMessage()
    assert line.startswith("step 84/84 (100%) loss 18.569 | ") and line.endswith(" left")
    parsed = parse_progress(f"18:53:44.651 | INFO | Task run 'dvc repro' - 2026 train INFO {line}")
    assert parsed.step == 84 and parsed.total == 84 and parsed.percent == 100.0 and parsed.steps_per_s > 0
    assert parsed.describe().startswith("step 84/84, ")


def test_other_lines_are_not_progress():
    assert parse_progress("epoch 1 step 42 (29.0 s): {'epoch': 1}") is None
    assert parse_progress("Running stage 'sentences-train':") is None


def test_times_left_read_as_a_person_would():
    assert [format_seconds(s) for s in (5, 125, 3725, float("inf"))] == ["5s", "2m05s", "1h02m", "?"]


@pytest.mark.usefixtures("prefect_api")
def test_a_stage_s_progress_lines_move_one_progress_bar_of_its_task_run():
    """What the flow's stage task does with the lines of `dvc repro` (flows/retrain.py: StageProgress), on
    Prefect's test API: one progress artifact, made at the first progress line and moved by the next."""
    from prefect import flow, task
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterType

    from flows.retrain import StageProgress

    lines = [
        "Running stage 'toy-train':",
        "2026 train INFO step 10/40 (25%) loss 2.000 | 5.00 steps/s, 6s left",
        "2026 train INFO epoch 1 step 20 (4.0 s): {'epoch': 1}",
        "2026 train INFO step 40/40 (100%) loss 1.000 | 5.00 steps/s, 0s left",
    ]

    @task
    def stage():
        on_line = StageProgress("toy-train")
        for line in lines:
            on_line(line)
        return on_line.artifact

    @flow
    def run():
        return stage()

    artifact_id = run()
    with get_client(sync_client=True) as client:
        bars = [
            a
            for a in client.read_artifacts(artifact_filter=ArtifactFilter(type=ArtifactFilterType(any_=["progress"])))
            if a.id == artifact_id
        ]
    assert len(bars) == 1 and bars[0].data == 100
    assert bars[0].description == "toy-train: step 40/40, 5.00 steps/s, 0s left"
