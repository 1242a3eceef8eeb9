"""Register the evaluated model of this workspace in MLflow (the flow does this after the gate)."""

from __future__ import annotations

from pathlib import Path

from components.applications.kind import load_application_params
from components.core.entrypoint import stage_main, stage_parser
from components.registry.register import register_model


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    parser.add_argument("--workspace", default=".")

    def run(args):
        workspace = Path(args.workspace)
        params_path = workspace / args.params
        registered = register_model(workspace, load_application_params(params_path, args.app), params_path)
        print(f"models:/{registered.name}@{registered.alias} -> version {registered.version}")

    stage_main("register", run, parser)


if __name__ == "__main__":
    main()
