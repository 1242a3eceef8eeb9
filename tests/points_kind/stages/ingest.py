"""Points ingest stage: a CSV of x,y rows (data.corpus) into a table, every row kept with its number."""

from __future__ import annotations

import pandas as pd
from points_kind.params import points_params_from_dict

from components.core import atomic
from components.core.entrypoint import stage_main, stage_parser
from components.core.errors import StageError
from components.core.params import load_with


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)

    def run(args):
        params = load_with(points_params_from_dict, args.params, args.app)
        frame = pd.read_csv(params.data.corpus)
        if list(frame.columns) != ["x", "y"]:
            raise StageError(f"{params.data.corpus}: expected the columns x,y, got {list(frame.columns)}")
        atomic.write_parquet(args.out, frame.assign(key=[f"row{i}" for i in range(len(frame))]))

    stage_main("ingest", run, parser)


if __name__ == "__main__":
    main()
