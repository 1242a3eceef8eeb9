"""The engine's progress line, written and read back the way the flow reads it for the Prefect UI."""

import logging

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
