"""Rebuild a registered model version from its lineage and compare it with what was registered.

    python -m components.commands.reproduce --model sentences-bsvae --version 3

How: components/registry/reproduce.py. Exit status 1 when any output, the weights or a metric differs.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from components.core.entrypoint import stage_main, stage_parser
from components.core.errors import StageError
from components.registry.reproduce import reproduce, table


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="registered model name, e.g. bsvae-wordnet")
    parser.add_argument("--version", required=True, help="model version number")
    parser.add_argument("--workspace", default=".", help="the project checkout (git + DVC) that registered it")
    parser.add_argument("--scratch", help="where to rebuild (default: a new temporary directory, kept)")

    def run(args):
        scratch = Path(args.scratch) if args.scratch else Path(tempfile.mkdtemp(prefix="reproduce-"))
        rows = reproduce(Path(args.workspace), args.model, args.version, scratch)
        print(table(rows))
        differ = [r.item for r in rows if not r.matches]
        print(f"\nrebuilt in {scratch}")
        if differ:
            raise StageError(
                f"{len(differ)} of {len(rows)} items differ from the registered version: " + ", ".join(differ)
            )
        print(f"{args.model} v{args.version}: all {len(rows)} items identical")

    stage_main("reproduce", run, parser)


if __name__ == "__main__":
    main()
