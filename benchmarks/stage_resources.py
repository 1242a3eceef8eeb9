"""Wall time and peak resident memory of each stage of one application, run by DVC from a fresh copy of the project.

    python benchmarks/stage_resources.py --profile tiny
    python benchmarks/stage_resources.py --profile default --keep /tmp/stages-default
    python benchmarks/stage_resources.py --profile default --set train.max_steps=50   # memory of a short run

The project's tracked files (and the shipped corpus) are copied into a scratch git + DVC repository, the profile's
knobs are written into its params.yaml, and each stage runs as `dvc repro --single-item <app>-<step>` in a process
of its own: its peak RSS is that of the largest process in its tree (os.wait4), so DVC's own process counts too.
Then `dvc repro --glob '<app>-*'` is timed: the no-op a user sees after a run. Run with nothing else on the machine.
Needs the project's environment (dvc) on PATH or as .venv/bin.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from components.applications.overrides import write_profile  # noqa: E402

BIN = Path(sys.executable).parent


def scratch_copy(dest: Path) -> None:
    """The tracked files of this checkout (as they are on disk) in a new git repository."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout.split(b"\0")
    for name in (f.decode() for f in files if f):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    for cmd in (
        ["git", "init", "-q", "-b", "main"],
        ["git", "add", "-A"],
        ["git", "-c", "user.email=bench@example.invalid", "-c", "user.name=bench", "commit", "-q", "-m", "bench"],
    ):
        subprocess.run(cmd, cwd=dest, check=True, capture_output=True)


def run_measured(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, int]:
    """(seconds, peak RSS in MB of the largest process in the tree, exit status)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        sys.stderr.write(proc.stderr.read().decode(errors="replace")[-2000:])
    return time.perf_counter() - started, usage.ru_maxrss / 1024, proc.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app", default="sentences")
    parser.add_argument("--profile", default="tiny")
    parser.add_argument("--keep", help="build in this (new) directory and keep it; default: a temporary one")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="SECTION.KEY=VALUE")
    args = parser.parse_args()

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="stage-resources-"))
    work.mkdir(parents=True, exist_ok=False) if args.keep else None
    scratch_copy(work)
    write_profile(work, args.app, args.profile, args.sets)  # as the flow writes it
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "DVC_NO_ANALYTICS": "1"}
    stages = [s for s in yaml.safe_load((work / "dvc.yaml").read_text())["stages"] if s.startswith(f"{args.app}-")]

    print(f"{args.app}, profile {args.profile} {' '.join(args.sets)}, {os.cpu_count()} CPUs, in {work}\n")
    print("| stage | wall s | peak RSS MB |\n|---|---:|---:|")
    total = 0.0
    for stage in stages:
        seconds, peak, rc = run_measured([str(BIN / "dvc"), "repro", "--single-item", stage], work, env)
        total += seconds
        print(f"| {stage} | {seconds:.1f} | {peak:.0f} |" + ("  (failed)" if rc else ""), flush=True)
        if rc:
            return 1
    seconds, peak, rc = run_measured([str(BIN / "dvc"), "repro", "--glob", f"{args.app}-*"], work, env)
    print(f"| **all stages** | **{total:.1f}** | |")
    print(f"| `dvc repro --glob '{args.app}-*'` again (no-op) | {seconds:.2f} | {peak:.0f} |")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
