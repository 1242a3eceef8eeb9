"""The one wrapper around the `dvc` command, and the few reads of the pipeline through DVC's Python API.

Everything that writes (repro, update, push, fetch, checkout) runs the `dvc` command as a person
would, with this interpreter and its directory first on PATH, so the stages DVC starts
(`python3 -m components.stages.<stage>`, `torchrun ...`) run in the same virtual environment.
A command that fails raises DvcFailed with the stage's own `error:` line when it printed one.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from components.core.errors import StageError, redact


class DvcFailed(StageError):
    """A `dvc` command (or a stage it ran) exited non-zero; the message carries its own error line."""


def dvc_env() -> dict[str, str]:
    """The environment for `dvc` and the stages it starts: this interpreter's bin directory first on PATH."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("DVC_NO_ANALYTICS", "1")
    return env


def dvc_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "dvc", *args]


def error_line(output: str) -> str:
    """The stage's own `error: <name>: ...` line when it printed one (every entry point does), else DVC's last
    error lines."""
    lines = [line for line in output.splitlines() if line.strip()]
    own = [line for line in lines if line.startswith("error: ")]
    if own:
        return own[-1]
    errors = [line for line in lines if "ERROR" in line or "Error" in line]
    return "\n".join((errors or lines)[-5:])


def run_dvc(
    workspace: Path,
    *args: str,
    logger: logging.Logger | logging.LoggerAdapter | None = None,
    stage: str | None = None,
    on_line: Callable[[str], None] | None = None,
) -> str:
    """Run `dvc ARGS` in `workspace` and return its output, each line logged to `logger` (and given to `on_line`)
    as it comes.

    A non-zero exit raises DvcFailed naming the command (and `stage`'s own error line, if it printed one).
    """
    lines: list[str] = []
    with subprocess.Popen(
        dvc_command(*args), cwd=workspace, env=dvc_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as proc:
        for line in proc.stdout:
            line = line.rstrip()
            if line:
                lines.append(line)
                if logger is not None:
                    logger.info("%s", line)
                if on_line is not None:
                    on_line(line)
    output = "\n".join(lines)
    if proc.returncode != 0:
        what = f"stage {stage}" if stage else f"dvc {' '.join(args)} in {workspace}"
        raise DvcFailed(f"{what} failed: {error_line(output)}")
    return output


def require_dvc_project(workspace: Path, pipeline: bool = True) -> Path:
    """The workspace, resolved, if it is a DVC project (with a dvc.yaml when `pipeline`); else one StageError."""
    workspace = Path(workspace).resolve()
    if not (workspace / ".dvc").is_dir() or (pipeline and not (workspace / "dvc.yaml").is_file()):
        what = "a DVC project with a dvc.yaml" if pipeline else "a DVC project"
        raise StageError(f"{workspace}: not {what} (pass --workspace the project root)")
    return workspace


def stage_order(workspace: Path) -> list[str]:
    """Stage names of dvc.yaml in dependency order, as DVC itself computes them."""
    import networkx as nx
    from dvc.repo import Repo

    with Repo(str(workspace)) as repo:
        graph = repo.index.graph  # edges point from a stage to the stages it depends on
        return [stage.name for stage in reversed(list(nx.topological_sort(graph))) if not stage.is_data_source]


def stages_needed(workspace: Path, target: str) -> set[str]:
    """`target` and every stage it depends on, directly or not (pretraining needs the other applications' splits,
    to keep their valid and test sentences out)."""
    import networkx as nx
    from dvc.repo import Repo

    with Repo(str(workspace)) as repo:
        graph = repo.index.graph  # edges point from a stage to the stages it depends on
        stage = next((s for s in graph.nodes if getattr(s, "name", None) == target), None)
        if stage is None:
            raise StageError(f"dvc.yaml has no stage {target!r}")
        return {target} | {s.name for s in nx.descendants(graph, stage) if not s.is_data_source}


def imported_sources(workspace: Path) -> list[str]:
    """The .dvc files made by `dvc import` / `dvc import-url`: sources `dvc update` can refresh."""
    from dvc.repo import Repo

    with Repo(str(workspace)) as repo:
        return sorted(
            str(Path(stage.path).relative_to(workspace.resolve())) for stage in repo.index.stages if stage.is_import
        )


def default_remote(workspace: Path) -> str | None:
    from dvc.repo import Repo

    with Repo(str(workspace)) as repo:
        return repo.config["core"].get("remote")


def describe_remote(workspace: Path, name: str) -> str:
    """`DVC remote 'name' (url at endpoint)`: how errors name the remote, so a reader knows which to check."""
    from dvc.repo import Repo

    with Repo(str(workspace)) as repo:
        config = repo.config["remote"].get(name, {})
    endpoint = f" at {config['endpointurl']}" if config.get("endpointurl") else ""
    return redact(f"DVC remote {name!r} ({config.get('url', '?')}{endpoint})")


def check_remote(workspace: Path) -> str | None:
    """The default remote's name after one request to it (a cloud remote's bucket and prefix); a StageError naming
    the remote and what to check when it is unreachable or refuses the credentials. Local remotes need no check."""
    from dvc.repo import Repo

    name = default_remote(workspace)
    if not name:
        return None
    with Repo(str(workspace)) as repo:
        remote = repo.cloud.get_remote(name)
        if remote.fs.protocol == "local":
            return name
        try:
            remote.fs.exists(remote.path)
        except Exception as err:  # botocore's, s3fs's, gcsfs's own errors: all mean "cannot use it"
            reason = " ".join(f"{type(err).__name__}: {err}".split())[:300]
            raise StageError(
                f"{describe_remote(workspace, name)} cannot be used ({reason}): check that the endpoint "
                f"is reachable and the credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY for S3, or "
                f"`dvc remote modify --local {name} ...`)"
            ) from err
    return name
