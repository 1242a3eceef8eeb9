"""Write each dvc.yaml stage's code deps from its imports (components/versioning/code_deps.py), or check them.

python -m components.commands.code_deps            # rewrite dvc.yaml where a stage's code deps are stale
python -m components.commands.code_deps --check    # list the stale stages; exit 1 if any
"""

from __future__ import annotations

from pathlib import Path

from components.core.entrypoint import stage_main, stage_parser
from components.core.errors import StageError
from components.versioning.code_deps import rewrite, stale_stages


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    parser.add_argument("--dvc-yaml", default="dvc.yaml")
    parser.add_argument("--check", action="store_true", help="only report stale stages (exit 1 if any)")

    def run(args):
        import yaml

        path = Path(args.dvc_yaml)
        if not path.is_file():
            raise StageError(f"{path}: not found (run from the project root)")
        root = path.resolve().parent
        if args.check:
            stale = stale_stages(root, yaml.safe_load(path.read_text(encoding="utf-8"))["stages"])
            for name, (listed, wanted) in stale.items():
                print(f"{name}: lists {listed}, imports call for {wanted}")
            if stale:
                raise StageError(
                    f"{len(stale)} stage(s) with stale code deps; run python -m components.commands.code_deps"
                )
            return
        changed = rewrite(root, path)
        print(f"updated the code deps of {len(changed)} stage(s): {', '.join(changed) or 'none'}")

    stage_main("code_deps", run, parser)


if __name__ == "__main__":
    main()
