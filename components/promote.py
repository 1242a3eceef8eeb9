"""Promote a registered version to @champion, keeping the one it replaces as @previous-champion.

    python -m components.promote --model bsvae-wordnet --version 3
    python -m components.promote --model bsvae-wordnet --rollback     # previous-champion -> champion

The same move can be made by hand in the MLflow UI (README); this is its scriptable twin.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from components.register import CHAMPION, PREVIOUS_CHAMPION, connect

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Promotion:
    model: str
    champion: str
    previous: str | None


def current(client, name: str, alias: str) -> str | None:
    from mlflow.exceptions import MlflowException

    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def promote(client, name: str, version: str) -> Promotion:
    """Point @champion at `version`; the old champion (if another version) becomes @previous-champion."""
    client.get_model_version(name, version)  # raises a clear MLflow error for an unknown model or version
    old = current(client, name, CHAMPION)
    if old is not None and old != str(version):
        client.set_registered_model_alias(name, PREVIOUS_CHAMPION, old)
    client.set_registered_model_alias(name, CHAMPION, str(version))
    previous = old if old != str(version) else current(client, name, PREVIOUS_CHAMPION)
    return Promotion(model=name, champion=str(version), previous=previous)


def rollback(client, name: str) -> Promotion:
    """Swap @champion and @previous-champion."""
    previous = current(client, name, PREVIOUS_CHAMPION)
    if previous is None:
        raise LookupError(f"{name} has no @{PREVIOUS_CHAMPION} to roll back to")
    return promote(client, name, previous)


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
