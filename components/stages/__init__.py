"""The stage entry points DVC runs (`python -m components.stages.<step> --app NAME ...`).

DVC starts them with whatever `python` comes first on PATH. Run as `.venv/bin/dvc repro` from a
shell without the venv activated, that is the system interpreter, which lacks the project's
packages: say so in one line instead of an import traceback.
"""

import importlib.util
import os
import sys

_missing = [name for name in ("pandas", "torch", "yaml") if importlib.util.find_spec(name) is None]
if _missing:
    print(f"error: {os.environ.get('DVC_STAGE', 'stage')}: {sys.executable} has no {', '.join(_missing)}: run DVC "
          "from the project's environment (`source .venv/bin/activate`, or `make repro`); its cached outputs "
          "are still in the DVC cache (`dvc checkout` restores them)", file=sys.stderr)
    sys.exit(1)
