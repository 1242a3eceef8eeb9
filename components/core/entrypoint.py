"""What every stage and command shares: one clear error line and a non-zero exit, never a traceback wall."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable

from components.core.errors import StageError, error_line
from components.core.params import ParamsError

EXPECTED_ERRORS = (StageError, ParamsError, FileNotFoundError, NotADirectoryError, PermissionError)


def stage_main(name: str, run: Callable[[argparse.Namespace], None], parser: argparse.ArgumentParser) -> None:
    """Parse arguments, run the entry point and turn expected failures into `error: <name>: ...` and exit 1."""
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {name} %(levelname)s %(message)s")
    args = parser.parse_args()
    try:
        run(args)
    except EXPECTED_ERRORS as err:
        print(error_line(name, err), file=sys.stderr)
        sys.exit(1)


def stage_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--params", default="params.yaml", help="parameters file (default: params.yaml)")
    parser.add_argument(
        "--app",
        help="the application whose section of the parameters to use (default: orchestrate.default_application)",
    )
    return parser
