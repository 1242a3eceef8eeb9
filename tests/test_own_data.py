"""A user's own data works the first time: each application's default profile, on a few thousand rows of data
of another shape than the shipped default, registers a model with no override of any check or gate.

The data sets are made from the shipped data, shaped as a new user's would be: 3,000 dictionary definitions
(longer, rarer words than WordNet glosses) for sentences; 3,000 glosses in 11 of the 45 categories, unsplit, for
conditional; 3,000 caption pairs as one unsplit table for translation; 3,000 images as one unsplit NPZ for images.

Minutes each (the default profile trains at least train.min_steps = 1,000 steps), so not part of `make test`:
`make test-own-data` runs them (figures in benchmarks/README.md).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from components.kinds.images.data.images import read_idx
from flows.retrain import retrain
from tests.conftest import FASHION, GCIDE, LEXNAMES, MULTI30K, glosses, make_workspace, tracking

pytestmark = [pytest.mark.slow, pytest.mark.own_data, pytest.mark.usefixtures("prefect_api")]
ROWS = 3000


def definitions(directory: Path) -> Path:
    from components.data.dictd import dictd_to_frame

    frame = dictd_to_frame(GCIDE, "definition")
    texts = frame.loc[frame["error"].isna(), "text"]
    path = directory / "definitions.txt"
    path.write_text("\n".join(texts.iloc[:: len(texts) // ROWS].head(ROWS)) + "\n", encoding="utf-8")
    return path


def eleven_categories(directory: Path) -> Path:
    frame = pd.read_csv(LEXNAMES, sep="\t", quoting=3, keep_default_na=False)
    labels = [
        "noun.plant",
        "noun.animal",
        "noun.act",
        "noun.state",
        "noun.location",
        "noun.substance",
        "noun.cognition",
        "noun.food",
        "verb.change",
        "verb.contact",
        "noun.body",
    ]
    rows = frame[frame["label"].isin(labels)].sample(ROWS, random_state=0)
    path = directory / "categories.tsv"
    rows[["text", "label"]].to_csv(path, sep="\t", index=False)
    return path


def caption_pairs(directory: Path) -> Path:
    sides = {
        lang: gzip.decompress((MULTI30K / f"train.{lang}.gz").read_bytes()).decode("utf-8").splitlines()
        for lang in ("de", "en")
    }
    path = directory / "pairs.tsv"
    pd.DataFrame(sides).iloc[-ROWS:].to_csv(path, sep="\t", index=False)
    return path


def one_image_file(directory: Path) -> Path:
    path = directory / "images.npz"
    np.savez(
        path,
        images=read_idx(FASHION / "t10k-images-idx3-ubyte.gz")[-ROWS:],
        labels=read_idx(FASHION / "t10k-labels-idx1-ubyte.gz")[-ROWS:],
    )
    return path


DATA = {
    "sentences": definitions,
    "conditional": eleven_categories,
    "translation": caption_pairs,
    "images": one_image_file,
}


@pytest.mark.parametrize("app", sorted(DATA))
def test_the_default_profile_registers_on_data_of_another_shape_without_overrides(app, tmp_path):
    ws = make_workspace(tmp_path / "ws", glosses(200))
    own = ws / "data" / "raw" / "own"
    own.mkdir(parents=True)
    result = retrain(workspace=str(ws), app=app, corpus=str(DATA[app](own)), profile="default")
    gate = json.loads((ws / f"reports/{app}/gate.json").read_text())
    assert gate["passed"] and result["registered"]["version"] == "1"
    baseline = [c for c in gate["checks"] if c["key"].startswith("gate.min_baseline_margin=")]
    assert baseline and not any(c["disabled"] for c in baseline)  # the model beat its trivial baseline
    version = tracking(ws).get_model_version(result["registered"]["name"], "1")
    print(app, {c["name"]: round(c["value"], 3) for c in gate["checks"]}, version.tags.get("gate.passed"))
