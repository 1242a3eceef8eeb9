"""Score a registered model version on a new data set of its application's kind, recorded in MLflow.

    python -m components.commands.score --model models:/translation-transformer@champion \
        --data data/raw/multi30k/test_2016_flickr.de.gz,data/raw/multi30k/test_2016_flickr.en.gz --name flickr2016
    python -m components.commands.score --model models:/conditional-bsvae/3 --data my_labelled_test.tsv

The file is read as the application's ingest stage reads its corpus, the evaluate stage's metrics are computed on
every usable row, and the result becomes an MLflow evaluation run in the application's experiment, linked to the
version's logged model and the data set (components/registry/scoring.py); its metrics are printed as JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

from components.core.entrypoint import stage_main, stage_parser
from components.registry.scoring import score_version


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="models:/NAME@ALIAS or models:/NAME/VERSION")
    parser.add_argument(
        "--data",
        required=True,
        help="a data set of the application's kind (text: a corpus file; translation: 'a.de,a.en' "
        "or a table with both language columns; images: IDX, NPZ or a folder of PNGs)",
    )
    parser.add_argument("--name", help="the data set's name in MLflow (default: the file's name)")
    parser.add_argument("--workspace", default=".", help="project root whose mlruns/ to use (default: .)")

    def run(args):
        workspace, params = Path(args.workspace), Path(args.params)
        params = params if params.is_absolute() else workspace / params
        scored = score_version(workspace, args.model, Path(args.data), params, args.name)
        print(json.dumps(scored.metrics, indent=2, default=str))
        print(
            f"{scored.name} v{scored.version}: scored on {args.name or Path(args.data).name}; "
            f"MLflow run {scored.run_id}"
        )

    stage_main("score", run, parser)


if __name__ == "__main__":
    main()
