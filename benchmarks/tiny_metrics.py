"""Every application's evaluation metrics on the tiny profile, from `dvc repro` in a throwaway copy of a checkout.

    python benchmarks/tiny_metrics.py --checkout . --out /tmp/tiny-after.json
    python benchmarks/tiny_metrics.py --compare /tmp/tiny-before.json /tmp/tiny-after.json

A refactoring that must not change what the pipeline computes (params on a schema, generated stage paths) is
checked by running this on the commit before and after it and comparing: every metric of every application equal.
The copy is a `git clone` of the checkout (the working tree's changes are not in it: commit first), with the
tiny profile written into each application's section the way `flows.retrain --profile tiny` writes it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def repro_metrics(checkout: Path) -> dict[str, dict[str, float]]:
    """Clone `checkout`, write the tiny profile into every application, `dvc repro`, read metrics/<app>/eval.json."""
    with tempfile.TemporaryDirectory(prefix="tiny-metrics-") as tmp:
        copy = Path(tmp) / "copy"
        subprocess.run(["git", "clone", "-q", str(checkout), str(copy)], check=True)
        script = (
            "import sys, yaml; from pathlib import Path; sys.path.insert(0, '.');"
            "exec('try: from components.applications.overrides import apply_overrides, resolve_overrides\\n"
            "except ImportError: from flows.retrain import apply_overrides, resolve_overrides');"  # older commits
            "from components.core.params import application_names;"
            "raw = yaml.safe_load(Path('params.yaml').read_text());"
            "[apply_overrides(Path('params.yaml'), resolve_overrides(yaml.safe_load(Path('params.yaml').read_text()),"
            " app, None, 'tiny', [])) for app in application_names(raw)]"
        )
        env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
        subprocess.run([sys.executable, "-c", script], cwd=copy, check=True, env=env)
        subprocess.run(["dvc", "repro", "-q"], cwd=copy, check=True, env=env)
        out = {}
        for path in sorted(copy.glob("metrics/*/eval.json")):
            metrics = json.loads(path.read_text(encoding="utf-8"))
            out[path.parent.name] = {k: v for k, v in sorted(metrics.items()) if isinstance(v, (int, float))}
        return out


def compare(before: dict, after: dict) -> int:
    """Print one row per application: how many metrics it has and which differ; 1 when any does."""
    print("| application | metrics | different |\n|---|---|---|")
    differ = 0
    for app in sorted(set(before) | set(after)):
        a, b = before.get(app, {}), after.get(app, {})
        keys = sorted(set(a) | set(b))
        diff = [k for k in keys if a.get(k) != b.get(k)]
        differ += len(diff)
        print(f"| {app} | {len(keys)} | {', '.join(f'{k}: {a.get(k)} -> {b.get(k)}' for k in diff) or 'none'} |")
    return 1 if differ else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkout", type=Path, help="a git checkout to clone and run")
    parser.add_argument("--out", type=Path, help="where to write the metrics (JSON)")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    args = parser.parse_args()
    if args.compare:
        before, after = (json.loads(p.read_text(encoding="utf-8")) for p in args.compare)
        return compare(before, after)
    metrics = repro_metrics(args.checkout.resolve())
    args.out.write_text(json.dumps(metrics, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{sum(len(m) for m in metrics.values())} metrics of {len(metrics)} applications -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
