"""The one error type for expected failures: bad input, a missing file, an unusable artifact.

Library code raises it where the problem is found, with the file, row or parameter that caused
it; entry points (stages, commands, the flow) turn it into one `error: <name>: ...` line.
"""

from __future__ import annotations

import re

CREDENTIALS_IN_URL = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@")


class StageError(RuntimeError):
    """Input the pipeline cannot use; the message names the file, row or parameter and, where it can, the fix."""


def redact(text: object) -> str:
    """`scheme://user:password@host` written `scheme://***@host`: an error line reaches the console, the Prefect
    UI and its logs, and a URI in the environment (MLFLOW_TRACKING_URI, PREFECT_API_URL, a DVC endpoint) may
    carry credentials."""
    return CREDENTIALS_IN_URL.sub(r"\1***@", str(text))


def error_line(name: str, message: object) -> str:
    """The one line an entry point prints for an expected failure, credentials in URLs redacted."""
    return redact(f"error: {name}: {message}")
