"""The kinds of application, each a package (text, translation, images), and their stage entry points DVC runs
(`python3 -m components.kinds.<kind>.stages.<step> --app NAME ...`).

DVC starts them with whatever `python` comes first on PATH. Run as `.venv/bin/dvc repro` from a
shell without the venv activated, that is the system interpreter, which lacks the project's
packages. Then the stage re-runs itself under the project's own environment (`.venv/bin/python`
at the repository root, which `make` builds), so the command works as typed; with no such
environment it stops with one line. Only the standard library is used here, since this code runs
under whichever interpreter DVC found.
"""

import importlib.util
import os
import sys
from pathlib import Path

_NEEDED = ("pandas", "torch", "yaml")
_missing = [name for name in _NEEDED if importlib.util.find_spec(name) is None]
if _missing:
    _root = Path(os.environ.get("DVC_ROOT") or Path(__file__).resolve().parents[2])
    _venv_python = _root / ".venv" / "bin" / "python"
    if _venv_python.is_file() and os.environ.get("PIPELINE_STAGE_REEXEC") != "1":
        # sys.orig_argv is the command line as typed: [python, -m, components.stages.<step>, args...]
        os.environ["PIPELINE_STAGE_REEXEC"] = "1"  # never loop if that interpreter lacks them too
        os.execv(str(_venv_python), [str(_venv_python), *sys.orig_argv[1:]])
    print(
        f"error: {os.environ.get('DVC_STAGE', 'stage')}: {sys.executable} lacks {', '.join(_missing)} and "
        f"{_venv_python} is missing or incomplete: run `make .venv/.installed` (or `source .venv/bin/activate`) "
        "first; any outputs DVC removed are still in its cache (`dvc checkout` restores them)",
        file=sys.stderr,
    )
    sys.exit(1)
