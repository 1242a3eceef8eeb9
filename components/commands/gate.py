"""Check the evaluation metrics against the gate's thresholds (the flow adds the champion comparison).

python -m components.commands.gate --app sentences     # reads metrics/sentences/eval.json
"""

from __future__ import annotations

import json
from pathlib import Path

from components.applications.catalog import application
from components.applications.kind import application_kind, load_application_params
from components.core.entrypoint import stage_main, stage_parser
from components.core.errors import StageError
from components.evaluation.gate import enforce, write_report


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    parser.add_argument("--metrics", help="evaluation metrics (default: the file dvc.yaml's evaluate stage writes)")
    parser.add_argument("--out-dir", help="where gate.md and gate.json go (default: reports/<app>/)")

    def run(args):
        params = load_application_params(args.params, args.app)
        app = application(params.application, args.params)
        p = params.gate
        path = Path(args.metrics) if args.metrics else app.eval_metrics(Path(args.params).parent)
        if not path.is_file():
            raise StageError(f"{path}: evaluation metrics not found (run the evaluate stage)")
        # Without MLflow at hand this entry point checks thresholds only; the flow adds the champion.
        report = application_kind(args.params, params.application).gate(json.loads(path.read_text(encoding="utf-8")), p)
        write_report(report, args.out_dir or app.reports())
        print(report.to_markdown())
        enforce(report)

    stage_main("gate", run, parser)


if __name__ == "__main__":
    main()
