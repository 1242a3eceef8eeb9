"""What a registered version carries as code: per kind, the files the served pyfunc imports (what registration
logs as the model's code_paths, components/registry/register.py) against the whole components/ package.

    python benchmarks/model_code.py

Every file is uploaded at registration and downloaded and checked against files.sha256 at every load, so fewer
files is less to move, to check and to trust. Prints a table; nothing else.
"""

from __future__ import annotations

import importlib
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from components.applications.kind import kind_named  # noqa: E402
from components.registry.register import code_paths  # noqa: E402


def files_and_kib(paths: list[Path]) -> tuple[int, int]:
    return len(paths), round(sum(path.stat().st_size for path in paths) / 1024)


def main() -> int:
    print("| code | files | KiB |\n|---|---|---|")
    for name in ("text", "translation", "images"):
        pyfunc = importlib.import_module(f"components.kinds.{name}.kind").PYFUNC_CODE
        with tempfile.TemporaryDirectory() as tmp:
            code_paths(kind_named(name), str(pyfunc), Path(tmp))
            files, kib = files_and_kib([path for path in Path(tmp).rglob("*") if path.is_file()])
        print(f"| the {name} kind's model code | {files} | {kib} |")
    files, kib = files_and_kib(sorted((ROOT / "components").rglob("*.py")))
    print(f"| all of components/ (logged before) | {files} | {kib} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
