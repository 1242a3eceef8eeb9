"""Check that the DVC cache holds intact copies of everything dvc.lock and the .dvc files point at.

    python -m components.commands.dvc_cache             # verify: one line per missing or corrupt object, exit 1
    python -m components.commands.dvc_cache --repair    # drop corrupt objects, fetch from the remote, check out again

DVC names each cache object by the MD5 of its content but does not re-hash on `dvc checkout`
or `dvc push`: a flipped bit in the cache is silently copied into the workspace and to the
remote. The flow runs this check before pushing; reproduce runs it before checking data out.
Repair removes the bad objects (so DVC sees them as missing), `dvc fetch`es them from the
default remote and `dvc checkout`s; what the remote cannot supply is rebuilt by
`dvc repro --force STAGE`, which the error names.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from components.core.atomic import file_digest
from components.core.errors import StageError
from components.versioning.dvc import DvcFailed, run_dvc


class CacheCorrupt(StageError):
    """Cache objects referenced by the pipeline are missing or do not hash to their names."""


@dataclass(frozen=True)
class Problem:
    object_path: Path
    output: str
    """The workspace path the object belongs to, e.g. models/sentences/bsvae/model.safetensors."""
    stage: str
    kind: str
    """missing or corrupt."""

    def describe(self, root: Path) -> str:
        where = self.object_path.relative_to(root) if self.object_path.is_relative_to(root) else self.object_path
        return f"DVC cache file {where} ({self.output}, stage {self.stage}) is {self.kind}"


def check_object(path: Path, oid: str) -> str | None:
    """None when the object is present and hashes to its name, else 'missing' or 'corrupt'."""
    if not path.is_file():
        return "missing"
    return None if file_digest(path, "md5") == oid.removesuffix(".dir") else "corrupt"


def find_problems(workspace: Path) -> list[Problem]:
    """Every cached output of every stage and .dvc file, and every file inside cached directories."""
    from dvc.repo import Repo
    from dvc.stage import PipelineStage

    problems = []
    with Repo(str(workspace)) as repo:
        odb = repo.cache.local
        for out in repo.index.outs:
            if not out.use_cache or not out.hash_info or not out.hash_info.value:
                continue
            stage = (
                out.stage.name if isinstance(out.stage, PipelineStage) else os.path.relpath(out.stage.path, workspace)
            )
            oid = out.hash_info.value
            path = Path(odb.oid_to_path(oid))
            kind = check_object(path, oid)
            if kind:
                problems.append(Problem(path, out.def_path, stage, kind))
                continue
            if out.hash_info.isdir:
                for entry in json.loads(path.read_text(encoding="utf-8")):
                    entry_path = Path(odb.oid_to_path(entry["md5"]))
                    kind = check_object(entry_path, entry["md5"])
                    if kind:
                        problems.append(Problem(entry_path, f"{out.def_path}/{entry['relpath']}", stage, kind))
    return problems


def verify(workspace: Path) -> None:
    """Raise CacheCorrupt naming each bad object and how to repair it."""
    problems = find_problems(workspace)
    if problems:
        stages = sorted({p.stage for p in problems if not p.stage.endswith(".dvc")})
        sources = sorted({p.stage for p in problems if p.stage.endswith(".dvc")})
        rebuild = ([f"`dvc repro --force {' '.join(stages)}`"] if stages else []) + (
            [f"`dvc add`/`dvc update` of {', '.join(sources)}"] if sources else []
        )
        raise CacheCorrupt(
            "; ".join(p.describe(workspace) for p in problems)
            + ". Repair with `python -m components.commands.dvc_cache --repair` (drops them, then "
            f"`dvc fetch` + `dvc checkout`) or rebuild with {' or '.join(rebuild)}"
        )


def repair(workspace: Path) -> list[Problem]:
    """Drop corrupt objects, fetch what is missing from the default remote, check out; raise if still broken."""
    problems = find_problems(workspace)
    for problem in problems:
        if problem.kind == "corrupt":
            problem.object_path.chmod(0o644)  # DVC leaves cache objects read-only
            problem.object_path.unlink()
    if problems:
        for args in (("fetch",), ("checkout", "--force")):
            try:
                run_dvc(workspace, *args)
            except DvcFailed:
                pass  # what could not be fetched or checked out shows up in the check below, with the file names
    verify(workspace)
    return problems
