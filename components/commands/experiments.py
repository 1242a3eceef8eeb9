"""Log the DVC experiments of this workspace to MLflow, one run each (components/registry/experiments.py).

python -m components.commands.experiments
"""

from __future__ import annotations

from pathlib import Path

from components.core.entrypoint import stage_main, stage_parser
from components.registry.experiments import log_experiments


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    parser.add_argument("--workspace", default=".")

    def run(args):
        logged = log_experiments(Path(args.workspace), args.app)
        for exp, run_id in logged.items():
            print(f"{exp}\t{run_id}")
        if not logged:
            print("no DVC experiments (run some with `dvc exp run -n NAME -S key=value`)")

    stage_main("experiments", run, parser)


if __name__ == "__main__":
    main()
