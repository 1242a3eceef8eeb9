"""Promote a registered version to @champion, keeping the one it replaces as @previous-champion.

    python -m components.commands.promote --model sentences-bsvae --version 3
    python -m components.commands.promote --model sentences-bsvae --rollback     # previous-champion -> champion
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from components.registry.promotion import CHAMPION, PREVIOUS_CHAMPION, promote, rollback
from components.registry.tracking import connect


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="registered model name")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--version", help="version to make champion")
    target.add_argument("--rollback", action="store_true", help="make @previous-champion the champion again")
    parser.add_argument("--workspace", default=".", help="project root whose mlruns/ to use (default: .)")
    args = parser.parse_args(argv)
    from mlflow.exceptions import MlflowException

    try:
        client = connect(Path(args.workspace))
        result = rollback(client, args.model) if args.rollback else promote(client, args.model, args.version)
    except (MlflowException, LookupError) as err:
        print(f"error: promote: {getattr(err, 'message', err)}", file=sys.stderr)
        return 1
    print(f"{result.model}: @{CHAMPION} -> v{result.champion}"
          + (f", @{PREVIOUS_CHAMPION} -> v{result.previous}" if result.previous else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
