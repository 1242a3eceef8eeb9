"""Check stage: Great Expectations suite over the dataset as a whole, with Data Docs a person can open.

pandera (the validate stage) judges rows one by one; this stage judges the dataset:
its size, its length distribution, its duplicate rate, how much of valid/test is out of
the train vocabulary, how much of it is new against the last accepted dataset (the one the
last registered model was trained on), whether any sentence sits in two splits, and its
character set. For a labelled (conditional) corpus also: every label has enough train rows, the
label distributions of valid and test stay close to train's, and labels unseen in train are reported.
The suite is built from params.yaml each run, so thresholds live in one place; the GX
context (gx/) is file-backed in the repo and Data Docs land in gx/uncommitted/data_docs.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from components.core.errors import StageError
from components.data.split_balance import distribution_shift_p, shift_p_value, unseen_excess_p
from components.kinds.text.data.validate import CONTROL_CHARS
from components.kinds.text.params import DatasetParams

log = logging.getLogger(__name__)

GX_ROOT = Path(__file__).resolve().parents[4]


def normalised(texts: pd.Series) -> pd.Series:
    """Vectorised twin of components.data.split.normalise (case and spacing ignored)."""
    return texts.astype("string").str.replace(r"\s+", " ", regex=True).str.strip().str.casefold()


def read_reference_vocab(path: Path) -> list[str] | None:
    """Words of the last accepted dataset (one per line); None when nothing has been accepted yet."""
    if not path.is_file():
        raise StageError(f"{path}: reference vocabulary not found (an empty file means none accepted yet)")
    words = [w for w in path.read_text(encoding="utf-8").split("\n") if w]
    return words or None


def accepted_vocab(splits: pd.DataFrame) -> list[str]:
    """The train split's vocabulary as the check stage counts words: what becomes the next reference."""
    words = pc.utf8_split_whitespace(
        pc.utf8_lower(
            pa.array(splits.loc[splits["split"] == "train", "text"].to_numpy(dtype=object), pa.large_string())
        )
    )
    return sorted(pc.unique(pc.list_flatten(words)).to_pylist())


def label_features(splits: pd.DataFrame) -> tuple[pd.Series, dict]:
    """(train rows of each row's label, per row; the label statistics: shift of valid/test against train as
    total-variation distance and as the p-value of a permutation test, and the labels valid/test have that train
    lacks)."""
    labels, split = splits["label"].astype("string"), splits["split"].astype("string")
    train_counts = labels[split == "train"].value_counts()
    train_rows = labels.map(train_counts).fillna(0).astype("int64")
    train_dist = train_counts / max(train_counts.sum(), 1)
    codes = pd.Categorical(labels).codes  # -1 for a row without a label
    stats: dict = {"labels": int(train_counts.size)}
    for name in ("valid", "test"):
        dist = labels[split == name].value_counts(normalize=True)
        every = train_dist.index.union(dist.index)
        stats[f"label_shift_{name}"] = float(
            0.5 * (dist.reindex(every, fill_value=0) - train_dist.reindex(every, fill_value=0)).abs().sum()
        )
        stats[f"label_shift_p_{name}"] = shift_p_value(
            codes[(split == "train").to_numpy(bool) & (codes >= 0)],
            codes[(split == name).to_numpy(bool) & (codes >= 0)],
        )
    stats["labels_unseen_in_train"] = sorted(set(labels[split != "train"].dropna()) - set(train_counts.index))
    stats["labels_missing"] = {
        name: sorted(set(train_counts.index) - set(labels[split == name].dropna())) for name in ("valid", "test")
    }
    stats["min_train_rows_per_label"] = int(train_counts.min()) if train_counts.size else 0
    return train_rows, stats


def oov_shift_p(flat: pa.Array, owner: np.ndarray, split: np.ndarray, n_tokens: np.ndarray) -> dict[str, float]:
    """For valid and test: how likely chance alone makes its sentences' share of words unseen in train as large as
    it is. A random part of train of the same size (seeded) is held out too and both are scored against the rest of
    train; a fair split makes the two exchangeable (excess_p). 1.0 when train is too small to spare the rows."""
    rng = np.random.default_rng(0)

    def unseen_rates(rest: np.ndarray) -> np.ndarray:
        rest_vocab = pc.unique(flat.filter(pa.array(rest[owner])))
        unseen = pc.invert(pc.is_in(flat, value_set=rest_vocab)).to_numpy(zero_copy_only=False)
        return np.bincount(owner, weights=unseen, minlength=len(split)) / np.maximum(n_tokens, 1)

    return {name: unseen_excess_p(split, name, unseen_rates, rng) for name in ("valid", "test")}


def dataset_features(
    validated: pd.DataFrame, splits: pd.DataFrame, reference: list[str] | None = None, labelled: bool = False
) -> pd.DataFrame:
    """One row per kept sentence with the columns the suite judges (computed here, checked by GX)."""
    out = pd.DataFrame({"text": splits["text"].astype("string"), "split": splits["split"].astype("string")})
    out.attrs["labelled"] = labelled
    if labelled:
        out["label"] = splits["label"].astype("string")
        out["label_train_rows"], out.attrs["label_stats"] = label_features(splits)
    # Word lists through Arrow compute: Python lists for a million sentences cost seconds and gigabytes.
    words = pc.utf8_split_whitespace(pc.utf8_lower(pa.array(out["text"].to_numpy(dtype=object), pa.large_string())))
    n_tokens = pc.list_value_length(words).to_numpy(zero_copy_only=False).astype("int64")
    out["n_tokens"] = n_tokens
    out.attrs["length_shift_p"] = {
        name: distribution_shift_p(
            n_tokens[(out["split"] == "train").to_numpy(bool)], n_tokens[(out["split"] == name).to_numpy(bool)]
        )
        for name in ("valid", "test")
    }
    norm = normalised(out["text"])
    # Leakage: the same normalised sentence under two split labels (only possible with a given split column).
    out["splits_per_sentence"] = out.groupby(norm)["split"].transform("nunique").astype("int64")
    flat, owner = pc.list_flatten(words), pc.list_parent_indices(words).to_numpy()
    is_train = (out["split"] == "train").to_numpy(dtype=bool)
    train_vocab = pc.unique(flat.filter(pa.array(is_train[owner])))
    unseen = np.bincount(
        owner,
        weights=pc.invert(pc.is_in(flat, value_set=train_vocab)).to_numpy(zero_copy_only=False),
        minlength=len(out),
    )
    out["oov_rate"] = np.where(is_train, 0.0, unseen / np.maximum(n_tokens, 1))
    out.attrs["oov_shift_p"] = oov_shift_p(flat, owner, out["split"].to_numpy(dtype=object), n_tokens)
    # Drift against the previous accepted version: words the last registered model's data never had.
    if reference is None:
        out["reference_oov_rate"] = 0.0
    else:
        novel = pc.invert(pc.is_in(flat, value_set=pa.array(reference, pa.large_string())))
        out["reference_oov_rate"] = np.bincount(
            owner, weights=novel.to_numpy(zero_copy_only=False), minlength=len(out)
        ) / np.maximum(n_tokens, 1)
    out.attrs["has_reference"] = reference is not None
    norm_all = normalised(validated["text"])
    out.attrs["duplicate_rate"] = float(norm_all.duplicated().mean()) if len(norm_all) else 0.0
    out.attrs["rows_validated"] = len(validated)
    return out


def build_suite(gx, p: DatasetParams, name: str, labelled: bool = False):
    """The expectation suite, thresholds from params (rebuilt each run so params.yaml stays the only source)."""
    e = gx.expectations

    def setting(*names: str) -> dict:  # the keys of params.yaml that govern a check, for its error and the report
        return {"setting": ", ".join(f"dataset.{n}={getattr(p, n)}" for n in names)}

    label_checks = []
    if labelled:
        label_checks.append(e.ExpectColumnValuesToNotBeNull(column="label", meta={"setting": "data.require_label"}))
        if p.min_rows_per_label:
            label_checks.append(
                e.ExpectColumnMinToBeBetween(
                    column="label_train_rows", min_value=p.min_rows_per_label, meta=setting("min_rows_per_label")
                )
            )
        if p.label_shift_p:  # carried as a constant column, like the duplicate rate
            label_checks.append(
                e.ExpectColumnMinToBeBetween(
                    column="label_shift_p", min_value=p.label_shift_p, meta=setting("label_shift_p")
                )
            )
    return gx.ExpectationSuite(
        name=name,
        expectations=label_checks
        + [
            e.ExpectTableRowCountToBeBetween(
                min_value=p.min_rows, max_value=p.max_rows or None, meta=setting("min_rows", "max_rows")
            ),
            *(
                [
                    e.ExpectColumnMinToBeBetween(
                        column="length_shift_p", min_value=p.length_shift_p, meta=setting("length_shift_p")
                    )
                ]
                if p.length_shift_p
                else []
            ),
            e.ExpectColumnMeanToBeBetween(
                column="n_tokens",
                min_value=p.min_mean_tokens,
                max_value=p.max_mean_tokens,
                meta=setting("min_mean_tokens", "max_mean_tokens"),
            ),
            e.ExpectColumnMedianToBeBetween(
                column="n_tokens",
                min_value=p.min_mean_tokens / 2,
                max_value=p.max_mean_tokens * 2,
                meta={
                    "setting": f"half dataset.min_mean_tokens={p.min_mean_tokens} to twice "
                    f"dataset.max_mean_tokens={p.max_mean_tokens}"
                },
            ),
            # The duplicate rate of the validated rows is carried as a constant column so GX reports it with the rest.
            e.ExpectColumnMaxToBeBetween(
                column="duplicate_rate", max_value=p.max_duplicate_rate, meta=setting("max_duplicate_rate")
            ),
            e.ExpectColumnMaxToBeBetween(
                column="splits_per_sentence",
                max_value=1,
                meta={"setting": "the split stage (a sentence in one split only)"},
            ),
            *(
                [
                    e.ExpectColumnMinToBeBetween(
                        column="oov_shift_p", min_value=p.oov_shift_p, meta=setting("oov_shift_p")
                    )
                ]
                if p.oov_shift_p
                else []
            ),
            *(
                [
                    e.ExpectColumnMeanToBeBetween(
                        column="oov_rate",
                        max_value=p.max_oov_rate,
                        row_condition='split!="train"',
                        condition_parser="pandas",
                        meta=setting("max_oov_rate"),
                    )
                ]
                if p.max_oov_rate is not None
                else []
            ),
            e.ExpectColumnMeanToBeBetween(
                column="reference_oov_rate", max_value=p.max_reference_oov_rate, meta=setting("max_reference_oov_rate")
            ),
            e.ExpectColumnValuesToNotMatchRegex(
                column="text", regex=CONTROL_CHARS, meta={"setting": "the validate stage's no_control_characters"}
            ),
            e.ExpectColumnValuesToBeInSet(
                column="split", value_set=["train", "valid", "test"], meta={"setting": "the split stage"}
            ),
        ],
    )


DATA_DOCS = "gx/uncommitted/data_docs/local_site/index.html"


def run_suite(features: pd.DataFrame, p: DatasetParams, name: str, root: Path = GX_ROOT) -> dict:
    """Validate `features` with the suite and checkpoint `name` (the application's) on the file-backed context
    under `root`; update Data Docs, which list every application's suite."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="file", project_root_dir=str(root))
    context.variables.progress_bars = ProgressBarsConfig(globally=False)  # no bars in stage logs
    # Re-use the registered source, asset and batch definition so great_expectations.yml stays unchanged.
    if "pipeline" in context.data_sources.all():
        batch = context.data_sources.get("pipeline").get_asset("dataset").get_batch_definition("whole")
    else:
        batch = (
            context.data_sources.add_pandas(name="pipeline")
            .add_dataframe_asset(name="dataset")
            .add_batch_definition_whole_dataframe("whole")
        )
    labelled = features.attrs.get("labelled", False)
    suite = context.suites.add_or_update(build_suite(gx, p, name, labelled))
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=name, data=batch, suite=suite)
    )
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=name,
            validation_definitions=[definition],
            actions=[gx.checkpoint.UpdateDataDocsAction(name="data_docs")],
            result_format="SUMMARY",
        )
    )
    frame = features.assign(
        duplicate_rate=features.attrs["duplicate_rate"],
        length_shift_p=min(features.attrs["length_shift_p"].values()),
        oov_shift_p=min(features.attrs["oov_shift_p"].values()),
    )
    if labelled:
        stats = features.attrs["label_stats"]
        frame = frame.assign(label_shift_p=min(stats["label_shift_p_valid"], stats["label_shift_p_test"]))
    result = checkpoint.run(batch_parameters={"dataframe": frame})
    checks = []
    for run in result.run_results.values():
        for r in run.results:
            cfg = r.expectation_config
            checks.append(
                {
                    "expectation": cfg.type,
                    "column": cfg.kwargs.get("column"),
                    "success": bool(r.success),
                    "observed": _observed(r.result),
                    "setting": (cfg.meta or {}).get("setting", ""),
                }
            )
    # Relative to the project root: the report is a DVC output, and must not change with the checkout's location.
    return {"success": bool(result.success), "checks": checks, "data_docs": DATA_DOCS}


def _observed(result: dict):
    value = result.get("observed_value")
    if value is None and "unexpected_count" in result:
        value = f"{result['unexpected_count']} unexpected"
    return value if isinstance(value, (int, float, str, bool, type(None))) else str(value)


def summary_metrics(features: pd.DataFrame) -> dict:
    """The observed dataset statistics (no thresholds, no reference), so downstream stages rerun only when the
    data changes; drift against the accepted reference is in the report instead."""
    return {
        "rows": len(features),
        "rows_validated": features.attrs["rows_validated"],
        "mean_tokens": float(features["n_tokens"].mean()),
        "p99_tokens": float(features["n_tokens"].quantile(0.99)),
        "duplicate_rate": features.attrs["duplicate_rate"],
        "oov_rate_valid": float(features.loc[features["split"] == "valid", "oov_rate"].mean()),
        "oov_rate_test": float(features.loc[features["split"] == "test", "oov_rate"].mean()),
        "sentences_in_several_splits": int((features["splits_per_sentence"] > 1).sum()),
        **{f"length_shift_p_{name}": p for name, p in features.attrs["length_shift_p"].items()},
        **{f"oov_shift_p_{name}": p for name, p in features.attrs["oov_shift_p"].items()},
        **features.attrs.get("label_stats", {}),
    }
