"""The import graph of components/, read from the source (ast), for the architecture tests."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "components"


def module_file(module: str) -> Path | None:
    """components.a.b -> components/a/b.py (or its package's __init__.py); None outside components/."""
    if module != PACKAGE and not module.startswith(PACKAGE + "."):
        return None
    path = ROOT.joinpath(*module.split("."))
    if path.with_suffix(".py").is_file():
        return path.with_suffix(".py")
    if (path / "__init__.py").is_file():
        return path / "__init__.py"
    return None


def direct_imports(path: Path) -> set[Path]:
    """Files inside components/ that `path` imports, at module level or inside functions (lazy imports run too)."""
    found: set[Path] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from components.core import atomic` imports the module components.core.atomic
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            target = module_file(name)
            if target is not None and target.name != "__init__.py":
                found.add(target)
    return found


def transitive_imports(path: Path) -> set[Path]:
    """Every file inside components/ that importing `path` loads, `path` itself included."""
    seen, todo = set(), [path]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo.extend(direct_imports(current) - seen)
    return seen


def import_graph() -> dict[Path, set[Path]]:
    return {path: direct_imports(path) for path in sorted((ROOT / PACKAGE).rglob("*.py"))}
