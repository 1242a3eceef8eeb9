"""The DVC commands the flows run, as subprocesses of this interpreter (so `dvc repro` runs the stages
with the same venv), their output streamed to a logger and their errors reduced to one line.

DVC's own API is used only to read the pipeline (stage order, imported sources); everything that
writes (repro, update, push) goes through the `dvc` command, exactly as a person would run it.
"""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

from components.dvc_run import dvc_command, dvc_env


class StageFailed(RuntimeError):
    """A DVC command or stage exited non-zero; the message carries the stage's own error line."""


stage_env = dvc_env  # the stages' `python` must be this interpreter (the venv's), whatever PATH the caller had


def stage_error(stage: str, output: str) -> str:
    """The stage's own `error: <stage>: ...` line when it printed one, else DVC's last error lines."""
    lines = [line for line in output.splitlines() if line.strip()]
    own = [line for line in lines if line.startswith(f"error: {stage}:")]
    if own:
        return own[-1]
    errors = [line for line in lines if "ERROR" in line or "Error" in line]
    return "\n".join((errors or lines)[-5:])


def run_dvc(workspace: Path, args: list[str], logger: logging.Logger | logging.LoggerAdapter,
            what: str) -> str:
    """Run `dvc ARGS` in `workspace`, logging each line; raise StageFailed naming `what` on failure."""
    lines: list[str] = []
    with subprocess.Popen(dvc_command(*args), cwd=workspace, env=dvc_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        for line in proc.stdout:
            line = line.rstrip()
            if line:
                lines.append(line)
                logger.info("%s", line)
    output = "\n".join(lines)
    if proc.returncode != 0:
        raise StageFailed(f"{what} failed: {stage_error(what.split()[-1], output)}")
    return output


def stage_order(workspace: Path) -> list[str]:
    """Stage names of dvc.yaml in dependency order, as DVC itself computes them."""
    import networkx as nx
    from dvc.repo import Repo

    with Repo(str(workspace)) as repo:
        graph = repo.index.graph  # edges point from a stage to the stages it depends on
        return [stage.name for stage in reversed(list(nx.topological_sort(graph)))
                if not stage.is_data_source]


def imported_sources(workspace: Path) -> list[str]:
    """The .dvc files made by `dvc import` / `dvc import-url`: sources `dvc update` can refresh."""
    from dvc.repo import Repo

    with Repo(str(workspace)) as repo:
        return sorted(str(Path(stage.path).relative_to(workspace.resolve()))
                      for stage in repo.index.stages if stage.is_import)


def default_remote(workspace: Path) -> str | None:
    from dvc.repo import Repo

    with Repo(str(workspace)) as repo:
        return repo.config["core"].get("remote")
