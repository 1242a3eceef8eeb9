"""Check the DVC cache against dvc.lock and the .dvc files, or repair it (components/versioning/cache.py).

python -m components.commands.dvc_cache             # verify: one line per missing or corrupt object, exit 1
python -m components.commands.dvc_cache --repair    # drop corrupt objects, fetch from the remote, check out again
"""

from __future__ import annotations

from pathlib import Path

from components.core.entrypoint import stage_main, stage_parser
from components.versioning.cache import repair, verify
from components.versioning.dvc import require_dvc_project


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    parser.add_argument("--workspace", default=".")
    parser.add_argument("--repair", action="store_true", help="drop bad objects, re-fetch them, check out again")

    def run(args):
        workspace = require_dvc_project(Path(args.workspace), pipeline=False)
        if args.repair:
            fixed = repair(workspace)
            print(f"repaired {len(fixed)} object(s)" if fixed else "DVC cache intact: nothing to repair")
        else:
            verify(workspace)
            print("DVC cache intact")

    stage_main("dvc_cache", run, parser)


if __name__ == "__main__":
    main()
