"""Put the registered model train.init_from names in base/<application>/, as the flow does before the stages run,
for a plain `dvc repro` of a fine-tuning run (components/kinds/text/base_model.py).

    python -m components.commands.base_model --app conditional
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from components.applications.kind import FineTunes, application_kind, load_application_params
from components.core.errors import StageError, error_line
from components.core.params import PARAMS_FILE, ParamsError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app", required=True, help="the text application to fine-tune")
    parser.add_argument("--workspace", default=".", help="project root (default: .)")
    args = parser.parse_args(argv)
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")  # an unreachable server: seconds, not minutes
    ws = Path(args.workspace)
    try:
        params = load_application_params(ws / PARAMS_FILE, args.app)
        kind = application_kind(ws / PARAMS_FILE, args.app)
        if not isinstance(kind, FineTunes):
            raise StageError(f"application {args.app!r} ({kind.name} kind) has no fine-tuning (train.init_from)")
        client = None
        if params.train.init_from:
            from components.registry.tracking import connect

            client = connect(ws)
        print(kind.prepare_base(ws, params, client))
    except (StageError, ParamsError) as err:
        print(error_line("base_model", err), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
