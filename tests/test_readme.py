"""The README's commands work as written: every block activates the venv, and every module, subcommand,
option and make target it names exists.

Running each block for real would mean a full pipeline per block (the end-to-end tests run the flow,
`dvc repro`, promotion, generation and reproduction); this checks what goes stale when code moves:
a renamed module, a dropped option, a subcommand that is not there.
"""

from __future__ import annotations

import functools
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from components.versioning.dvc import dvc_env

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^ *```bash\n(.*?)^ *```", re.S | re.M)
TOOLS = {"python", "dvc", "prefect", "mlflow"}


def blocks() -> list[str]:
    return FENCE.findall((ROOT / "README.md").read_text(encoding="utf-8"))


def commands(block: str) -> list[list[str]]:
    """Each command of a block as words: continuation lines joined, comments and env assignments dropped."""
    text = re.sub(r"\\\n\s*", " ", block)
    found = []
    for line in text.splitlines():
        for part in re.split(r"&&|;", line.split(" #")[0]):
            words = shlex.split(part, comments=True)
            while words and re.match(r"^[A-Z_]+=", words[0]):
                words = words[1:]
            if words:
                found.append(words)
    return found


@functools.cache
def help_text(*words: str) -> str:
    """`words --help` run with the venv's tools first on PATH; fails the test when the command does not exist."""
    tool, *rest = words
    program = [sys.executable, *rest] if tool == "python" else [str(Path(sys.executable).parent / tool), *rest]
    proc = subprocess.run([*program, "--help"], capture_output=True, text=True, cwd=ROOT, env=dvc_env(), timeout=120)
    assert proc.returncode == 0, f"`{' '.join(words)} --help` failed: {proc.stderr[-500:]}"
    return proc.stdout + proc.stderr


def subcommand(words: list[str]) -> tuple[list[str], list[str]]:
    """(the words naming the program, the rest) for python -m X, dvc A [B], prefect A B, mlflow A B."""
    if words[0] == "python":
        return words[:3], words[3:]
    depth = 1
    while depth < len(words) and not words[depth].startswith("-") and depth < 3:
        depth += 1
        if words[0] == "dvc" and depth == 2 and words[1] not in ("exp", "remote", "plots", "metrics", "cache"):
            break
        if words[0] == "prefect" and words[1] in ("server", "worker") and depth == 3:
            break
    return words[:depth], words[depth:]


README_COMMANDS = [c for b in blocks() for c in commands(b) if c[0] in TOOLS]


def test_every_block_but_the_set_up_one_activates_the_venv():
    found = blocks()
    assert "make pipeline" in found[0] and "make test" in found[0]
    for block in found[1:]:
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if any(line.split()[0] in TOOLS for line in lines):
            assert lines[0] == "source .venv/bin/activate", block


@pytest.mark.parametrize("words", README_COMMANDS, ids=[" ".join(c)[:60] for c in README_COMMANDS])
def test_each_command_names_a_real_program_and_options(words):
    program, rest = subcommand(words)
    text = help_text(*program)
    for option in (w.split("=")[0] for w in rest if w.startswith("--")):
        assert option in text, f"{' '.join(program)} has no option {option}"


def test_make_targets_in_the_readme_exist():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.M))
    used = {words[1] for block in blocks() for words in commands(block) if words[0] == "make"}
    assert used and used <= targets, used - targets
