"""A flow run on a saturated machine: does `python -m flows.retrain` still start and finish?

    python benchmarks/loaded_start.py                   # 2 busy processes per core, tiny profile
    python benchmarks/loaded_start.py --busy 0          # the same run on an idle machine, to compare

It copies the project into a scratch git + DVC workspace with the first --sentences shipped glosses,
starts --busy processes that spin on the CPU, runs the tiny-profile flow there, and prints how long
Prefect's temporary API server took to come up (its first log line to the flow run's first), the
run's wall time and its exit status. Prefect waits 20 s for that server by default, which a loaded
2-core machine has missed; the flow waits orchestrate.server_startup_timeout_s.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = [
    "components",
    "flows",
    "dvc.yaml",
    "params.yaml",
    ".gitignore",
    ".dvcignore",
    ".dvc/config",
    ".dvc/.gitignore",
    "gx/great_expectations.yml",
    "gx/.gitignore",
    "data/sentences/reference/vocab.txt",
    "warm_start/sentences/README.md",
]


def spin() -> None:
    while True:
        pass


def workspace(path: Path, sentences: int) -> Path:
    for name in PROJECT:
        src, dst = ROOT / name, path / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        (
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
            if src.is_dir()
            else shutil.copy2(src, dst)
        )
    corpus = path / "data/raw/wordnet_glosses.txt"
    corpus.parent.mkdir(parents=True, exist_ok=True)
    with open(ROOT / "data/raw/wordnet_glosses.txt", encoding="utf-8") as fh:
        corpus.write_text("".join(next(fh) for _ in range(sentences)), encoding="utf-8")
    git = ["git", "-c", "user.email=bench@example.invalid", "-c", "user.name=bench"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=path, check=True)
    subprocess.run([*git, "add", "-A"], cwd=path, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "workspace"], cwd=path, check=True)
    return path


def startup_seconds(output: str) -> float | None:
    """From 'Starting temporary server' to the flow run's first line, by their HH:MM:SS.mmm stamps."""
    stamps = {}
    for line in output.splitlines():
        match = re.match(r"(\d\d:\d\d:\d\d\.\d{3}) \|", line)
        if match and "Starting temporary server" in line:
            stamps["start"] = match.group(1)
        elif match and "Beginning flow run" in line and "start" in stamps:
            stamps["ready"] = match.group(1)
            break
    if len(stamps) < 2:
        return None
    fmt = "%H:%M:%S.%f"
    return (datetime.strptime(stamps["ready"], fmt) - datetime.strptime(stamps["start"], fmt)).total_seconds()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--busy", type=int, default=2 * (os.cpu_count() or 1), help="spinning processes")
    parser.add_argument("--sentences", type=int, default=2500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ws = workspace(Path(tmp) / "ws", args.sentences)
        spinners = [multiprocessing.Process(target=spin, daemon=True) for _ in range(args.busy)]
        for process in spinners:
            process.start()
        started = time.perf_counter()
        try:
            run = subprocess.run(
                [sys.executable, "-m", "flows.retrain", "--workspace", str(ws), "--profile", "tiny"],
                cwd=ws,
                capture_output=True,
                text=True,
                env={**os.environ, "PYTHONPATH": str(ws)},
            )
        finally:
            for process in spinners:
                process.terminate()
        wall = time.perf_counter() - started
    output = run.stdout + run.stderr
    startup = startup_seconds(output)
    print(output.strip().splitlines()[-1])
    print("\n| busy processes | cores | temporary server up (s) | flow wall (s) | exit status |")
    print("|---:|---:|---:|---:|---:|")
    print(
        f"| {args.busy} | {os.cpu_count()} | {startup if startup is not None else 'n/a'} | {wall:.0f} | "
        f"{run.returncode} |"
    )


if __name__ == "__main__":
    main()
