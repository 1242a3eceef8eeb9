"""The code a DVC stage depends on, read from its imports: the files inside components/ that importing the stage's
module loads (lazy imports inside functions too), so that editing a file re-runs exactly the stages that run it.

A directory stands for its files when the stage imports every one of them (a shorter dvc.yaml, the same set);
an empty package `__init__.py` is not listed, one with code is (Python runs it before any module of its package:
components/__init__.py fixes MKL's threading, which decides the last bits of a training run).
`python -m components.commands.code_deps` writes these lists into dvc.yaml (comments kept);
tests/test_architecture.py fails when they are stale.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "components"


def module_file(root: Path, module: str) -> Path | None:
    """components.a.b -> root/components/a/b.py (or its package's __init__.py); None outside components/."""
    if module != PACKAGE and not module.startswith(PACKAGE + "."):
        return None
    path = root.joinpath(*module.split("."))
    if path.with_suffix(".py").is_file():
        return path.with_suffix(".py")
    if (path / "__init__.py").is_file():
        return path / "__init__.py"
    return None


def has_code(path: Path) -> bool:
    """A module, or a package `__init__.py` with more than nothing in it."""
    return path.name != "__init__.py" or bool(path.read_text(encoding="utf-8").strip())


def packages_of(root: Path, path: Path) -> set[Path]:
    """The `__init__.py` files with code that importing `path` runs first (its package and the ones above)."""
    found, directory = set(), path.parent
    while directory != root and (directory / "__init__.py").is_file():
        if has_code(directory / "__init__.py"):
            found.add(directory / "__init__.py")
        directory = directory.parent
    return found


def direct_imports(root: Path, path: Path) -> set[Path]:
    """Files inside components/ that `path` imports, at module level or inside functions, with the package
    `__init__.py` files that hold code."""
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
            target = module_file(root, name)
            if target is not None:
                found |= packages_of(root, target) | ({target} if has_code(target) else set())
    return found


def transitive_imports(root: Path, path: Path) -> set[Path]:
    """Every file inside components/ that importing `path` loads, `path` itself included."""
    seen, todo = set(), [path, *packages_of(root, path)]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo.extend(direct_imports(root, current) - seen)
    return seen


def stage_module(root: Path, cmd: str) -> Path | None:
    """The file of the module a stage command runs (`python3 -m components.x.y ...`), if it is ours."""
    words = cmd.split()
    if "-m" not in words:
        return None
    return module_file(root, words[words.index("-m") + 1])


def code_files(root: Path, directory: Path) -> set[Path]:
    return {p for p in directory.rglob("*.py") if has_code(p) and "__pycache__" not in p.parts}


def code_deps(root: Path, module: Path) -> list[str]:
    """The stage's code deps as dvc.yaml lists them: its imported files, a whole directory where it imports all."""
    files = transitive_imports(root, module)
    deps: set[Path] = set()
    for path in files:
        top = path
        for parent in path.parents:  # the highest directory under components/ whose files are all imported
            if parent == root / PACKAGE or root / PACKAGE not in parent.parents and parent != root / PACKAGE:
                break
            if code_files(root, parent) <= files:
                top = parent
        deps.add(top)
    return sorted(str(p.relative_to(root)) for p in deps)


def stale_stages(root: Path, stages: dict) -> dict[str, tuple[list[str], list[str]]]:
    """stage -> (code deps it lists, code deps its imports call for), for every stage whose two lists differ."""
    stale = {}
    for name, stage in stages.items():
        module = stage_module(root, stage["cmd"])
        if module is None:
            continue
        listed = sorted(str(d).split("#")[0].strip() for d in stage.get("deps", []) if str(d).startswith(PACKAGE + "/"))
        wanted = code_deps(root, module)
        if listed != wanted:
            stale[name] = (listed, wanted)
    return stale


def rewrite(root: Path, dvc_yaml: Path) -> list[str]:
    """Replace each stage's code deps in dvc.yaml by what its imports call for; every other line (data deps and
    their comments, the commands as folded) stays as written. Returns the stages changed."""
    import yaml

    from components.core.atomic import write_text

    text = dvc_yaml.read_text(encoding="utf-8")
    stale = stale_stages(root, yaml.safe_load(text)["stages"])
    lines, out, stage, i = text.splitlines(keepends=True), [], None, 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("  ") and not line.startswith("   ") and line.rstrip().endswith(":"):
            stage = line.strip()[:-1]
        out.append(line)
        i += 1
        if stage in stale and line.strip() == "deps:":
            indent = line[: len(line) - len(line.lstrip())] + "  "
            items = []
            while i < len(lines) and lines[i].startswith(indent + "- "):
                items.append(lines[i])
                i += 1
            kept = [item for item in items if not item[len(indent) + 2 :].startswith(PACKAGE + "/")]
            out += [f"{indent}- {dep}\n" for dep in stale[stage][1]] + kept
    if stale:
        write_text(dvc_yaml, "".join(out))
    return list(stale)
