"""Check stage: the Great Expectations suite over the whole dataset, with Data Docs.

The suite and the features it judges: components/kinds/text/data/dataset_checks.py.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from components.core import atomic
from components.core.entrypoint import stage_main, stage_parser
from components.core.errors import StageError
from components.data.split import drop_held_out, held_out_sentences
from components.kinds.text.data.dataset_checks import dataset_features, read_reference_vocab, run_suite, summary_metrics
from components.kinds.text.params import load_params

log = logging.getLogger(__name__)


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    parser.add_argument("--validated", required=True)
    parser.add_argument("--splits", required=True)
    parser.add_argument("--metrics", required=True)
    parser.add_argument("--report", required=True)
    parser.add_argument(
        "--reference",
        required=True,
        help="vocabulary of the last accepted dataset; written by the flow after a registration",
    )
    parser.add_argument(
        "--held-out",
        action="append",
        default=[],
        help="another application's splits table: report how many of its valid and test sentences "
        "are here (must be none)",
    )

    def run(args):
        logging.getLogger("great_expectations").setLevel(logging.WARNING)  # its INFO lines drown the stage's
        params = load_params(args.params, args.app)
        p = params.dataset
        features = dataset_features(
            pd.read_parquet(args.validated),
            pd.read_parquet(args.splits),
            read_reference_vocab(Path(args.reference)),
            params.data.require_label,
        )
        outcome = run_suite(features, p, params.application, Path.cwd())
        if args.held_out:  # the split stage dropped them; a rerun of another application's split may not have
            _, overlap = drop_held_out(
                pd.read_parquet(args.splits), held_out_sentences([pd.read_parquet(f) for f in args.held_out])
            )
            outcome["held_out_overlap"] = overlap
            if overlap:
                raise StageError(
                    f"{overlap} sentences here are valid or test sentences of {args.held_out}: rerun the split stage"
                )
        outcome["oov_rate_vs_accepted"] = (
            float(features["reference_oov_rate"].mean()) if features.attrs["has_reference"] else None
        )
        if features.attrs.get("label_stats"):
            outcome["labels"] = features.attrs["label_stats"]
            missing = {name: labels for name, labels in outcome["labels"]["labels_missing"].items() if labels}
            for name, labels in missing.items():  # small data: a rare label can miss a split; say which, and where
                log.warning(
                    "label(s) with train rows but none in %s (no %s score for them): %s",
                    name,
                    "NLL" if name == "test" else "validation",
                    labels,
                )
            if outcome["labels"]["labels_unseen_in_train"]:
                log.warning(
                    "labels in valid/test but not in train (their rows are left out of conditional evaluation): %s",
                    outcome["labels"]["labels_unseen_in_train"],
                )
        atomic.write_json(args.report, outcome)
        failed = [c for c in outcome["checks"] if not c["success"]]
        docs = (Path.cwd() / outcome["data_docs"]).resolve()
        log.info("dataset suite: %d checks, %d failed; Data Docs: %s", len(outcome["checks"]), len(failed), docs)
        if failed:
            summary = "; ".join(
                f"{c['column'] or 'row count'} {c['observed']} outside {c['setting']} ({c['expectation']})"
                for c in failed
            )
            raise StageError(f"dataset expectations failed: {summary}. Data Docs: {docs}")
        atomic.write_json(
            args.metrics,
            summary_metrics(features) | ({"held_out_overlap": outcome["held_out_overlap"]} if args.held_out else {}),
        )

    stage_main("check", run, parser)


if __name__ == "__main__":
    main()
