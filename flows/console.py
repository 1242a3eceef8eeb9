"""What a flow run prints: progress lines for people on the console, full tracebacks in a log file.

Prefect logs a failed task with its whole traceback; on the console that buries the one line that
says what went wrong. The command line keeps Prefect's console lines but cuts their tracebacks, and
writes every record, tracebacks included, to a log file (the Prefect UI keeps them too when a
server records the run).
"""

from __future__ import annotations

import logging
from pathlib import Path


class WithoutTraceback(logging.Formatter):
    """Formats a record as `inner` does, leaving out its exception and stack."""

    def __init__(self, inner: logging.Formatter | None):
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text, record.stack_info
        record.exc_info = record.exc_text = record.stack_info = None
        try:
            return self.inner.format(record)
        finally:
            record.exc_info, record.exc_text, record.stack_info = saved


def send_tracebacks_to(log_file: Path) -> logging.Handler:
    """Cut tracebacks from the console handlers and log everything to `log_file`; return the file's handler."""
    root = logging.getLogger()
    for handler in root.handlers:
        console = isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler)
        if console and not isinstance(handler.formatter, WithoutTraceback):  # Prefect's console handler among them
            handler.setFormatter(WithoutTraceback(handler.formatter))
    log_file.parent.mkdir(parents=True, exist_ok=True)
    to_file = logging.FileHandler(log_file, mode="w", encoding="utf-8")
    to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    to_file.setLevel(logging.INFO)
    root.addHandler(to_file)
    return to_file


def quiet_console() -> None:
    """After the run: what Prefect says while it shuts down (stopping the temporary server) goes to the log file
    only, so the run's last console line is its outcome."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler.formatter, WithoutTraceback):
            handler.setLevel(logging.CRITICAL + 1)
