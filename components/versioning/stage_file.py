"""The paths dvc.yaml's stages pass their commands, read back: dvc.yaml is where every input and output of a stage is
spelled, and the code that reads an output afterwards (registration, lineage, the gate, the flow) asks it here
rather than spelling the path a second time. A DVC user who moves an output in dvc.yaml moves it for both.
"""

from __future__ import annotations

import functools
import shlex
from pathlib import Path

from components.core.errors import StageError

PIPELINE_FILE = "dvc.yaml"


@functools.cache
def _stages(path: Path, _stamp: tuple[int, int]) -> dict:
    import yaml

    try:
        stages = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("stages")
    except (OSError, yaml.YAMLError) as err:
        raise StageError(f"{path}: cannot read the pipeline: {err}") from err
    if not isinstance(stages, dict):
        raise StageError(f"{path}: no `stages:` mapping")
    return stages


def stages(workspace: Path) -> dict:
    """dvc.yaml's stages in `workspace` (read once per version of the file)."""
    path = Path(workspace) / PIPELINE_FILE
    if not path.is_file():
        raise StageError(f"{path}: not found (the workspace is the directory that holds dvc.yaml)")
    stat = path.stat()
    return _stages(path.resolve(), (stat.st_mtime_ns, stat.st_size))


def command_arguments(command: str) -> dict[str, str]:
    """`--flag value` pairs of a stage's command: `python3 -m m --out a --n 2` -> {"--out": "a", "--n": "2"}."""
    words = shlex.split(command)
    return {word: value for word, value in zip(words, words[1:] + [""]) if word.startswith("--")}


def stage_arguments(workspace: Path, stage: str) -> dict[str, str]:
    """The `--flag value` pairs dvc.yaml's stage `stage` passes its command; one StageError when there is no such
    stage."""
    entry = stages(workspace).get(stage)
    if not isinstance(entry, dict) or not isinstance(entry.get("cmd"), str):
        raise StageError(f"{Path(workspace) / PIPELINE_FILE}: no stage {stage!r} with a command")
    return command_arguments(entry["cmd"])


def stage_argument(workspace: Path, stage: str, flag: str, values: dict[str, str] | None = None) -> str:
    """The value dvc.yaml's stage `stage` passes as `flag`, its `${key}` placeholders filled from `values` (the
    model family a path names); one StageError naming the stage and flag when there is none."""
    value = stage_arguments(workspace, stage).get(flag)
    if not value:
        raise StageError(f"{Path(workspace) / PIPELINE_FILE}: stage {stage!r} passes no {flag} PATH")
    for key, filled in (values or {}).items():
        value = value.replace(f"${{{key}}}", filled)
    if "${" in value:
        raise StageError(f"{Path(workspace) / PIPELINE_FILE}: {stage} {flag} {value}: a placeholder is left unfilled")
    return value
