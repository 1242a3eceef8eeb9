"""The import graph of components/, read from the source (ast), for the architecture tests: the library's
(components/versioning/code_deps.py), bound to this checkout."""

from __future__ import annotations

from pathlib import Path

from components.versioning import code_deps

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = code_deps.PACKAGE


def module_file(module: str) -> Path | None:
    return code_deps.module_file(ROOT, module)


def direct_imports(path: Path) -> set[Path]:
    return code_deps.direct_imports(ROOT, path)


def transitive_imports(path: Path) -> set[Path]:
    return code_deps.transitive_imports(ROOT, path)


def import_graph() -> dict[Path, set[Path]]:
    return {path: direct_imports(path) for path in sorted((ROOT / PACKAGE).rglob("*.py"))}
