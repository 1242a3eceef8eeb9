"""Progress of a training run a person can read, on the console and in the orchestrator.

The engine logs `step 43/84 (51%) loss 18.569 | 1.37 steps/s, 30s left` at most every 30 seconds; the flow, which
runs the stage through DVC and sees only its output, reads the same line back (`parse_progress`) to show a
progress bar in the Prefect UI. The format is written and read here only.
"""

from __future__ import annotations

import logging
import math
import re
import time
from dataclasses import dataclass

log = logging.getLogger(__name__)

PROGRESS_SECONDS = 30.0  # at most this long between progress lines
LINE = re.compile(
    r"step (?P<step>\d+)/(?P<total>\d+) \((?P<percent>\d+)%\).*\| (?P<rate>[0-9.]+) steps/s, "
    r"(?P<left>\S+) left"
)


class Progress:
    """Progress lines a person can read: step, share done, steps/s and the time left, at most every 30 s."""

    def __init__(self, total: int, start_step: int):
        self.total, self.start_step = total, start_step
        self.started = self.last = time.perf_counter()

    def maybe_log(self, step: int, figures: dict[str, float]) -> None:
        now = time.perf_counter()
        if now - self.last < PROGRESS_SECONDS and step != self.total:
            return
        self.last = now
        rate = (step - self.start_step) / max(now - self.started, 1e-9)
        left = (self.total - step) / rate if rate > 0 else math.inf
        shown = " ".join(f"{k} {v:.3f}" for k, v in figures.items())
        log.info(
            "step %d/%d (%.0f%%) %s | %.2f steps/s, %s left",
            step,
            self.total,
            100 * step / max(self.total, 1),
            shown,
            rate,
            format_seconds(left),
        )


def format_seconds(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


@dataclass(frozen=True)
class ProgressLine:
    step: int
    total: int
    steps_per_s: float
    left: str

    @property
    def percent(self) -> float:
        return 100.0 * self.step / max(self.total, 1)

    def describe(self) -> str:
        return f"step {self.step:,}/{self.total:,}, {self.steps_per_s:.2f} steps/s, {self.left} left"


def parse_progress(line: str) -> ProgressLine | None:
    """The progress figures of an engine progress line anywhere in `line` (a log prefix before it is fine)."""
    match = LINE.search(line)
    if not match:
        return None
    return ProgressLine(int(match["step"]), int(match["total"]), float(match["rate"]), match["left"])
