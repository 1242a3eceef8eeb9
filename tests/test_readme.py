"""The README's and docs/' commands work as written: every block activates the venv, every module, subcommand,
option and make target it names exists, and the blocks that need no server beyond loopback (DVC,
promotion, generation) run for real, each in a fresh shell, in a workspace after a tiny flow. The README stays
a short front page, and every link between it and docs/ lands on a file and a heading that exist.

Blocks that train (a flow, `dvc exp run`) or start servers are checked by name and option here and run
for real elsewhere (test_retrain_flow, test_experiments, test_serve, test_scheduled_retraining).
"""

from __future__ import annotations

import functools
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from components.versioning.dvc import dvc_env

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^ *```bash\n(.*?)^ *```", re.S | re.M)
TOOLS = {"python", "dvc", "prefect", "mlflow"}


def pages() -> list[Path]:
    """The README first (its first block is the set-up one), then docs/ in name order (the order blocks run in)."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks() -> list[str]:
    return [block for page in pages() for block in FENCE.findall(page.read_text(encoding="utf-8"))]


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
    assert found[0] == FENCE.findall((ROOT / "README.md").read_text(encoding="utf-8"))[0]
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


# A markdown link's target, outside code: [text](target), target without spaces.
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FRONT_PAGE_LINES = 200


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation but '-' and '_' dropped, spaces to '-'."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = re.sub(r"^ *```.*?^ *```", "", page.read_text(encoding="utf-8"), flags=re.S | re.M)
    return {slug(m) for m in re.findall(r"^#+ +(.+?) *#*$", text, re.M)}


def test_the_front_page_is_short_and_every_link_resolves():
    """The README is what people read first, so it stays short; moving text into docs/ must not strand a link."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= FRONT_PAGE_LINES, f"README.md has {len(readme.splitlines())} lines"
    broken = []
    for page in pages():
        text = re.sub(r"^ *```.*?^ *```", "", page.read_text(encoding="utf-8"), flags=re.S | re.M)
        text = re.sub(r"`[^`\n]*`", "", text)
        for target in LINK.findall(text):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:: not ours to check
                continue
            path, _, fragment = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            if not file.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target} (no file)")
            elif fragment and (file.suffix != ".md" or fragment not in anchors(file)):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no heading)")
    assert not broken, broken


# --- The blocks that need no server beyond loopback, run for real in a workspace after a tiny flow ------------

# Lines a workspace cannot run as written, each with the reason; every other line of these blocks runs.
NOT_RUN = {
    "python -m components.commands.promote --model sentences-bsvae --rollback": (
        "one registered version has no @previous-champion (tests/registry/test_registry.py rolls back for real)"
    ),
}
# The README's placeholders, and what they are in the workspace.
PLACEHOLDERS = {"--version 3": "--version {version}"}


def runnable(block: str, version: str) -> str:
    lines = [line for line in block.splitlines() if line.strip() not in NOT_RUN]
    text = "\n".join(lines)
    for placeholder, value in PLACEHOLDERS.items():
        text = text.replace(placeholder, value.format(version=version))
    return text


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_readme_blocks_run_as_written_in_a_fresh_shell(trained_workspace):
    """DVC, promotion and generation blocks, each in a new bash with no venv on PATH but what the block activates."""
    workspace, result = trained_workspace
    (workspace / ".venv").symlink_to(ROOT / ".venv", target_is_directory=True)
    wanted = ("dvc repro ", "components.commands.promote ", "components.commands.generate ")
    chosen = [b for b in blocks() if any(w in b for w in wanted) and "flows.retrain" not in b]
    assert len(chosen) == 4, chosen  # docs/operations.md: DVC, promotion, generation; docs/translation.md: DVC
    shell_env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(workspace), "DVC_NO_ANALYTICS": "1"}
    ran = ""  # what the blocks printed: between them, every application's stages the flow did not run
    for block in chosen:
        script = runnable(block, result["registered"]["version"])
        proc = subprocess.run(
            ["bash", "-e", "-c", script], cwd=workspace, env=shell_env, capture_output=True, text=True, timeout=600
        )
        assert proc.returncode == 0, f"{script}\n--- stdout\n{proc.stdout[-2000:]}\n--- stderr\n{proc.stderr[-2000:]}"
        if script.count("dvc repro") > 1:  # the first builds the applications the flow did not run; the second: no-op
            assert proc.stdout.count("Data and pipelines are up to date.") >= 1, proc.stdout[-2000:]
            assert "Running stage 'sentences-" not in proc.stdout, proc.stdout[-2000:]
        ran += proc.stdout
        if "generate" in script:
            assert "error" not in proc.stderr.lower(), proc.stderr[-2000:]

    others = [
        name
        for name in yaml.safe_load((workspace / "dvc.yaml").read_text())["stages"]
        if not name.startswith("sentences-")
    ]
    missing = [name for name in others if f"Running stage '{name}'" not in ran]
    assert others and not missing, missing

    # And without activating: the stages' `python3` is the system one, and each re-runs itself in .venv.
    proc = subprocess.run(
        [".venv/bin/dvc", "repro", "--force", "sentences-ingest"],
        cwd=workspace,
        env=shell_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert (workspace / "data" / "sentences" / "interim" / "corpus.parquet").is_file()
