"""The one error type for expected failures: bad input, a missing file, an unusable artifact.

Library code raises it where the problem is found, with the file, row or parameter that caused
it; entry points (stages, commands, the flow) turn it into one `error: <name>: ...` line.
"""

from __future__ import annotations


class StageError(RuntimeError):
    """Input the pipeline cannot use; the message names the file, row or parameter and, where it can, the fix."""
