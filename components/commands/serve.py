"""Serve a registered version over REST, its files checked against their record before any of its code runs.

    python -m components.commands.serve --model models:/sentences-bsvae@champion --port 5001

The version's files are downloaded once, checked against the version's `files.sha256` tag
(components/registry/model_files.py), and that checked copy is what `mlflow models serve` then serves (this
process becomes it); the alias is resolved once, at start. Options after `--` go to `mlflow models serve`
(e.g. `-- --workers 2`). A version whose files differ from the record is one `error:` line, and nothing serves.
`mlflow models serve -m models:/...` itself downloads and imports the model unchecked.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from components.core.errors import StageError, error_line


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="models:/NAME@ALIAS or models:/NAME/VERSION")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument("--workspace", default=".", help="project root whose mlruns/ to use (default: .)")
    args = parser.parse_args(argv)
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    from mlflow.exceptions import MlflowException

    from components.registry.model_files import verified_copy
    from components.registry.tracking import connect, describe_server_error

    try:
        version, local = verified_copy(connect(Path(args.workspace)), args.model)
    except (MlflowException, StageError, ValueError, OSError) as err:
        print(error_line("serve", describe_server_error(err) or getattr(err, "message", err)), file=sys.stderr)
        return 1
    print(
        f"serving {version.name} v{version.version} from {local} (files checked) on {args.host}:{args.port}",
        file=sys.stderr,
        flush=True,
    )
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "models",
        "serve",
        "-m",
        str(local),
        "--env-manager",
        "local",
        "--host",
        args.host,
        "--port",
        str(args.port),
        *extra,
    ]
    os.execv(sys.executable, command)  # the checked copy stays on disk while the server runs


if __name__ == "__main__":
    sys.exit(main())
