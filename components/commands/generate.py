"""Generate with a registered model from the command line: the options are those of the model's kind.

    python -m components.commands.generate --model models:/sentences-bsvae@champion --n 5 --temperature 0.8
    python -m components.commands.generate --model models:/sentences-bsvae@champion --reconstruct "a small dog"
    python -m components.commands.generate --model models:/sentences-bsvae@champion --interpolate "a cat" "a large ship"
    python -m components.commands.generate --model models:/sentences-bsvae@champion --prefix "a small" --n 3
    python -m components.commands.generate --model models:/conditional-bsvae@champion --label noun.animal --n 5
    python -m components.commands.generate --model models:/translation-transformer@champion \
        --translate "Ein Hund rennt über die Wiese." --decoder greedy
    python -m components.commands.generate --model models:/images-bsvae@champion --n 16 --out samples.png
    python -m components.commands.generate --model models:/images-bsvae@champion --image shirt.png --out rec.png

The model is loaded (its files checked) first; its kind, recorded when it was registered, says which options it
takes and how its answer is shown (components/applications/kind.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


class OptionError(ValueError):
    """An option the model's kind does not take (argparse's own message)."""


class Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so a wrong option is one `error:` line like any bad input."""

    def error(self, message: str):
        raise OptionError(message)


def parser(kind=None, with_help: bool = True) -> argparse.ArgumentParser:
    """The command's options: --model and --workspace, then `kind`'s (all built-in kinds' in the help)."""
    found = (Parser if kind else argparse.ArgumentParser)(
        description=__doc__.split("\n\n")[0],
        epilog=kinds_help() if kind is None and with_help else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        add_help=with_help,
    )
    found.add_argument("--model", required=True, help="model URI, e.g. models:/NAME@champion")
    found.add_argument("--workspace", default=".", help="project root whose mlruns/ to use (default: .)")
    if kind is not None:
        kind.add_generation_options(found.add_argument_group(f"{kind.name} models"))
    return found


def kinds_help() -> str:
    """Each built-in kind's generation options, as a section of --help (a model's kind decides which apply)."""
    from components.applications.kind import BUILT_IN, kind_named

    sections = []
    for name in BUILT_IN:
        options = argparse.ArgumentParser(add_help=False, usage=argparse.SUPPRESS)
        kind_named(name).add_generation_options(options.add_argument_group(f"{name} models"))
        sections.append(options.format_help().strip())
    return "the options of the model's kind:\n\n" + "\n\n".join(sections)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "-h" in argv or "--help" in argv:
        parser().parse_args(argv)  # prints the help of every kind and exits
    first, _ = parser(with_help=False).parse_known_args(argv)

    from mlflow.exceptions import MlflowException

    from components.applications.kind import served_kind
    from components.core.errors import StageError, error_line
    from components.registry.model_files import load_pyfunc
    from components.registry.tracking import connect

    try:
        model = load_pyfunc(first.model, connect(Path(first.workspace)))
        kind = served_kind(model)
        try:
            args = parser(kind).parse_args(argv)
        except OptionError as err:
            raise OptionError(f"{first.model} is a {kind.name} model: {err}") from None
        output = kind.generate(model, args)
    except (MlflowException, StageError, OSError, ValueError) as err:
        print(error_line("generate", getattr(err, "message", err)), file=sys.stderr)
        return 1
    if output:
        print(output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
