"""Write docs/parameters.md, the reference of every knob in params.yaml, from the schema (or check it is current).

python -m components.commands.parameters_doc           # rewrite docs/parameters.md
python -m components.commands.parameters_doc --check   # exit 1 when it differs from what the schema says

The kinds are found the way every stage finds them: by building each application of params.yaml through its kind
(components/applications/kind.py), so a kind defined outside components/ is documented once it is named there.
"""

from __future__ import annotations

from pathlib import Path

from components.core.entrypoint import stage_main, stage_parser
from components.core.errors import StageError

HEADER = """# Parameters

Every knob of `params.yaml`, generated from the schema the stages check it against
(`python -m components.commands.parameters_doc`; `tests/commands/test_parameters_doc.py` fails when this page is
stale). The values in force live in `params.yaml` only; the code holds types, bounds and checks. A value of the wrong
type, out of its bounds, an unknown key or a missing one stops the stage (and the flow, before anything is written)
with one line naming the key, e.g. `error: retrain: params.yaml: sentences.train.lr: must be in (0, 1], got 2.0`.

Each application is a top-level key of `params.yaml` whose `kind` (text when absent) says which sections it has;
`orchestrate` is shared by all. `profiles` are presets of knobs that `python -m flows.retrain --profile NAME` writes
into the sections, and `--set section.key=VALUE` writes one knob (both checked against this schema first).
"""


def markdown(params_path: Path) -> str:
    from components.applications.kind import application_params
    from components.core.params import EngineParams, OrchestrateParams, RegisterParams, SplitParams, read_params_file
    from components.core.schema_doc import parameters_markdown

    raw = read_params_file(params_path)
    kinds: dict[str, tuple[type, list[str]]] = {}
    for app in (key for key in raw if key != "orchestrate"):
        params = application_params(raw, app)
        kinds.setdefault(params.kind, (type(params), []))[1].append(app)
    shared = {"orchestrate": OrchestrateParams, "split": SplitParams, "register": RegisterParams, "train": EngineParams}
    return parameters_markdown(kinds, shared, HEADER)


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/parameters.md"))
    parser.add_argument("--check", action="store_true", help="only compare (exit 1 when stale)")

    def run(args):
        text = markdown(Path(args.params))
        if args.check:
            if not args.out.is_file() or args.out.read_text(encoding="utf-8") != text:
                raise StageError(f"{args.out} is stale: run python -m components.commands.parameters_doc")
            return
        from components.core.atomic import write_text

        write_text(args.out, text)
        print(f"wrote {args.out} ({len(text.splitlines())} lines)")

    stage_main("parameters_doc", run, parser)


if __name__ == "__main__":
    main()
