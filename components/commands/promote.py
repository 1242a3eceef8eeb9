"""Promote a registered version to @champion, keeping the one it replaces as @previous-champion.

On a shared MLflow server this is a release manager's move: it needs MANAGE permission on the
registered model (docs/team-setup.md); the credentials come from MLFLOW_TRACKING_USERNAME
and MLFLOW_TRACKING_PASSWORD or ~/.mlflow/credentials.

    python -m components.commands.promote --model sentences-bsvae --version 3
    python -m components.commands.promote --model sentences-bsvae --rollback     # previous-champion -> champion
    python -m components.commands.promote --model sentences-bsvae --record 2      # files.sha256 of an old version
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from components.core.errors import StageError, error_line
from components.registry.model_files import FILES_TAG
from components.registry.promotion import CHAMPION, PREVIOUS_CHAMPION, promote, record_files, rollback
from components.registry.tracking import connect, describe_server_error


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="registered model name")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--version", help="version to make champion")
    target.add_argument("--rollback", action="store_true", help="make @previous-champion the champion again")
    target.add_argument(
        "--record",
        metavar="VERSION",
        help="record the digest of a version's files as served now (one registered without it)",
    )
    parser.add_argument("--workspace", default=".", help="project root whose mlruns/ to use (default: .)")
    args = parser.parse_args(argv)
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")  # an unreachable server: seconds, not minutes
    from mlflow.exceptions import MlflowException

    try:
        client = connect(Path(args.workspace))
        if args.record:
            digest = record_files(client, args.model, args.record)
            print(f"{args.model} v{args.record}: {FILES_TAG} = {digest}")
            return 0
        result = rollback(client, args.model) if args.rollback else promote(client, args.model, args.version)
    except (MlflowException, LookupError, StageError) as err:
        print(error_line("promote", describe_server_error(err) or getattr(err, "message", err)), file=sys.stderr)
        return 1
    print(
        f"{result.model}: @{CHAMPION} -> v{result.champion}"
        + (f", @{PREVIOUS_CHAMPION} -> v{result.previous}" if result.previous else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
