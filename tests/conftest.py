"""Shared fixtures: real corpus slices and throwaway git+DVC workspaces holding a copy of the project."""

from __future__ import annotations

import atexit
import dataclasses
import functools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import yaml

from components.data.batches import TokenArrays
from components.kinds.text.models.bsvae import BSVAE
from components.kinds.text.models.factory import build_model
from components.kinds.text.params import Params, load_params

# Each test process (`make test` runs two, pytest-xdist workers) has a Prefect home of its own: the flows the tests
# run from the command line start a temporary Prefect server on PREFECT_HOME's SQLite database, which two processes
# must not share (nor with the developer's ~/.prefect). Set before anything imports Prefect.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="prefect-home-")
atexit.register(shutil.rmtree, os.environ["PREFECT_HOME"], ignore_errors=True)

ROOT = Path(__file__).resolve().parents[1]
GLOSSES = ROOT / "data" / "raw" / "wordnet_glosses.txt"
LEXNAMES = ROOT / "data" / "raw" / "wordnet_lexname_glosses.tsv"
MULTI30K = ROOT / "data" / "raw" / "multi30k"
FASHION = ROOT / "data" / "raw" / "fashion-mnist"
PTB_SLICE = ROOT / "tests" / "data" / "ptb_valid_head.txt"
PROJECT_FILES = [
    "components",
    "flows",
    "dvc.yaml",
    "params.yaml",
    ".gitignore",
    ".dvcignore",
    ".dvc/config",
    ".dvc/.gitignore",
    "gx/great_expectations.yml",
    "gx/.gitignore",
    "data/sentences/reference/vocab.txt",
    "warm_start/sentences/README.md",
    "data/conditional/reference/vocab.txt",
    "warm_start/conditional/README.md",
    "data/pretrain/reference/vocab.txt",
    "warm_start/pretrain/README.md",
    "base/sentences/README.md",
    "base/conditional/README.md",
    "base/pretrain/README.md",
    "data/images/reference/histogram.json",
    "data/translation/reference/vocab.source.txt",
    "data/translation/reference/vocab.target.txt",
]


def shipped_params(app: str | None = None) -> Params:
    """params.yaml as shipped: tests start from the values the pipeline runs, never from values of their own."""
    return load_params(ROOT / "params.yaml", app)


def params_for(section: str, app: str | None = None, **overrides: Any) -> Any:
    """One section of the shipped params.yaml (the default application's, or `app`'s) with explicit overrides,
    e.g. params_for("train", epochs=2). A train section trains the epochs a test asks for: the shipped
    train.min_steps (1,000 steps, for small real corpora) is 0 unless the test sets it."""
    if section == "train":
        overrides = {"min_steps": 0, **overrides}
    if section == "model":
        return model_params(shipped_params(app).model, **overrides)
    return dataclasses.replace(getattr(shipped_params(app), section), **overrides)


def model_params(base: Any, **overrides: Any) -> Any:
    """A model section with overrides, each family knob (latent_dim, codes, ...) into its family's section."""
    from components.kinds.text.models.families import with_knobs

    return with_knobs(base, **overrides)


def tiny_model(vocab: int = 50, **overrides: Any) -> BSVAE:
    """A seeded BS-VAE small enough to train in a test (the shipped model params, shrunk)."""
    torch.manual_seed(0)
    mp = params_for("model", **{"family": "bsvae", "embed_dim": 8, "hidden_dim": 16, "latent_dim": 4, **overrides})
    return build_model(vocab, mp)


def toy_arrays(n: int = 64, vocab: int = 50, seed: int = 0) -> TokenArrays:
    """n random sentences of 2-8 tokens (ids above the special tokens), in the token-array layout."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(2, 9, size=n)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    return TokenArrays(ids=rng.integers(4, vocab, size=int(offsets[-1])).astype(np.uint16), offsets=offsets)


def counting_arrays(n: int = 400, seed: int = 0) -> TokenArrays:
    """n sentences that count up from a random id (5 6 7 ...): learnable, so training must lower the bound."""
    rng = np.random.default_rng(seed)
    lengths, starts = rng.integers(2, 9, size=n), rng.integers(4, 40, size=n)
    ids = np.concatenate([np.arange(start, start + length) for start, length in zip(starts, lengths)])
    return TokenArrays(ids=ids.astype(np.uint16), offsets=np.concatenate([[0], np.cumsum(lengths)]))


def pytest_collection_modifyitems(config, items):
    """Tests marked own_data (an application's default profile on a data set of another shape: minutes each) run
    only when asked for by marker (`make test-own-data`, or -m own_data): the 20-minute suite cannot hold them."""
    if "own_data" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="an application's default profile for minutes: run with make test-own-data")
    for item in items:
        if "own_data" in item.keywords:
            item.add_marker(skip)


def glosses(n: int) -> list[str]:
    """The first n WordNet glosses shipped with the repo: real text nobody here wrote."""
    with open(GLOSSES, encoding="utf-8") as fh:
        return [next(fh).rstrip("\n") for _ in range(n)]


@pytest.fixture(autouse=True)
def _isolated_services(monkeypatch):
    # MLflow exports its tracking and registry URIs once set; each test must choose its own store.
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
    monkeypatch.setenv("DVC_NO_ANALYTICS", "1")
    monkeypatch.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.email=tests@example.invalid", "-c", "user.name=tests", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@functools.cache
def labelled_slice(per_label: int = 40) -> str:
    """The first `per_label` glosses of each of the 45 categories of the shipped labelled corpus, as TSV."""
    import pandas as pd

    frame = pd.read_csv(LEXNAMES, sep="\t", quoting=3, keep_default_na=False)
    return frame.groupby("label", sort=False).head(per_label).to_csv(sep="\t", index=False)


GCIDE = ROOT / "data" / "raw" / "gcide" / "gcide.dict.dz"


def write_gcide_slice(dictionary: Path, entries: int = 800) -> Path:
    """`entries` real GCIDE entries spread evenly over the shipped dictionary (every letter), as a dictd
    dictionary and index of their own."""
    import gzip

    from components.data.dictd import read_index, write_dictd

    raw = gzip.open(GCIDE, "rb").read()
    index = [e for e in read_index(GCIDE.with_name("gcide.index").read_bytes(), GCIDE) if not e[0].startswith("00-")]
    step = max(len(index) // entries, 1)
    write_dictd([(h, raw[o : o + n]) for h, o, n in index[::step][:entries]], dictionary)
    return dictionary


def write_multi30k_slice(directory: Path, sizes: dict[str, int] | None = None) -> Path:
    """The first pairs of each shipped Multi30k split (train 300, val 40, test 40 by default), as .gz files."""
    import gzip

    directory.mkdir(parents=True, exist_ok=True)
    for stem, n in (sizes or {"train": 300, "val": 40, "test_2016_flickr": 40}).items():
        for lang in ("de", "en"):
            with gzip.open(MULTI30K / f"{stem}.{lang}.gz", "rt", encoding="utf-8") as fh:
                lines = [next(fh) for _ in range(n)]
            with gzip.open(directory / f"{stem}.{lang}.gz", "wt", encoding="utf-8") as fh:
                fh.writelines(lines)
    return directory


def write_idx(path: Path, array) -> None:
    """An IDX file of unsigned bytes (gzipped when the name ends in .gz)."""
    import gzip

    import numpy as np

    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    data = header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


@functools.cache
def _fashion_head(name: str, n: int):
    from components.kinds.images.data.images import read_idx

    return read_idx(FASHION / name)[:n].copy()  # decompressing the 26 MB train file once per session, not per workspace


def write_fashion_slice(directory: Path, train: int = 600, test: int = 200) -> Path:
    """The first images of the shipped Fashion-MNIST train and test files, as IDX files of the same names."""
    directory.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", train), ("t10k", test)):
        for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"):
            write_idx(directory / f"{prefix}-{kind}.gz", _fashion_head(f"{prefix}-{kind}.gz", n))
    return directory


def make_workspace(path: Path, corpus_lines: list[str]) -> Path:
    """A git + DVC repository with this project's code and params, `corpus_lines` as the sentences corpus, and
    slices of the labelled corpus (conditional), of Multi30k (translation) and of Fashion-MNIST (images), those
    applications with their tiny profiles written, so that a plain `dvc repro` of every application stays quick."""
    for name in PROJECT_FILES:
        src, dst = ROOT / name, path / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dst)
    corpus = path / "data" / "raw" / "wordnet_glosses.txt"
    corpus.parent.mkdir(parents=True, exist_ok=True)
    corpus.write_text("\n".join(corpus_lines) + "\n", encoding="utf-8")
    (path / "data" / "raw" / LEXNAMES.name).write_text(labelled_slice(), encoding="utf-8")
    from components.applications.overrides import apply_overrides, resolve_overrides

    params = path / "params.yaml"
    write_multi30k_slice(path / "data" / "raw" / "multi30k")
    write_gcide_slice(path / "data" / "raw" / "gcide" / "gcide.dict.dz")
    write_fashion_slice(path / "data" / "raw" / "fashion-mnist")
    raw = yaml.safe_load(params.read_text(encoding="utf-8"))
    changes = {}
    for app in ("pretrain", "conditional", "translation", "images"):
        changes.update(resolve_overrides(raw, app, None, "tiny", []))
    # sentences keeps the shipped values tests override one by one; only its floor of 1,000 steps (for small real
    # corpora) would turn each test's few epochs of a 2,000-line slice into minutes
    changes["sentences.train.min_steps"] = 0
    apply_overrides(params, changes)  # one rewrite of params.yaml, checked once
    git(path, "init", "-q", "-b", "main")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "workspace")
    return path


@pytest.fixture
def workspace(tmp_path) -> Path:
    return make_workspace(tmp_path / "ws", glosses(2500))


@pytest.fixture(scope="session")
def prefect_api():
    """A temporary Prefect API for the whole session (flows refuse to run without one). Its start may wait two
    minutes: the harness's 30 s were not enough on a 2-core machine busy with the other worker's training."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def tracking(ws: Path):
    """Point MLflow at a workspace's embedded store and return a client on it."""
    import mlflow

    uri = f"sqlite:///{ws / 'mlruns' / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return mlflow.MlflowClient(uri, uri)


def _train_tiny(root: Path) -> tuple[Path, dict]:
    from flows.retrain import retrain

    ws = make_workspace(root / "ws", glosses(2500))
    with pytest.MonkeyPatch.context() as mp:  # runs before the per-test clean-up: clean up here too
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        mp.delenv("MLFLOW_REGISTRY_URI", raising=False)
        return ws, retrain(workspace=str(ws), profile="tiny")


@pytest.fixture(scope="session")
def _trained_once(tmp_path_factory, prefect_api) -> tuple[Path, dict]:
    """The tiny end-to-end run the trained_workspace copies start from: trained once per session. Under
    pytest-xdist the first worker to need it trains it in the session's shared temporary folder, holding a
    file lock, and the other reuses it (pytest-xdist's documented recipe), so the two workers do not both train."""
    if "PYTEST_XDIST_WORKER" not in os.environ:  # one process (-n 0, or without pytest-xdist)
        return _train_tiny(tmp_path_factory.mktemp("trained-once"))
    import json

    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp().parent  # this session's folder, above each worker's own
    done = shared / "trained-once.json"
    with FileLock(str(shared / "trained-once.lock")):
        if done.is_file():
            stored = json.loads(done.read_text(encoding="utf-8"))
            return Path(stored["workspace"]), stored["result"]
        shutil.rmtree(shared / "trained-once", ignore_errors=True)  # what a worker's failed try left: train anew
        (shared / "trained-once").mkdir()
        ws, result = _train_tiny(shared / "trained-once")
        done.write_text(json.dumps({"workspace": str(ws), "result": result}), encoding="utf-8")
        return ws, result


def repoint_store(database: Path, old: Path, new: Path) -> None:
    """Rewrite the absolute paths an MLflow SQLite store keeps (artifact locations, version sources) from a
    workspace to its copy, so the copy's runs and models read and write their own files."""
    import sqlite3

    with sqlite3.connect(database) as conn:
        for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            columns = [
                row[1]
                for row in conn.execute(f"PRAGMA table_info('{table}')")
                if "CHAR" in row[2].upper() or "TEXT" in row[2].upper()
            ]
            for column in columns:
                conn.execute(
                    f'UPDATE "{table}" SET "{column}" = replace("{column}", ?, ?) WHERE "{column}" LIKE ?',
                    (str(old), str(new), f"%{old}%"),
                )


@pytest.fixture(scope="module")
def trained_workspace(_trained_once, tmp_path_factory) -> tuple[Path, dict]:
    """(workspace, the flow's result) after one tiny end-to-end run, a copy of its own for each test module (its
    DVC remote beside it and its MLflow store repointed), so modules may promote, retrain or break it freely."""
    import json

    base, result = _trained_once
    root = tmp_path_factory.mktemp("trained")
    shutil.copytree(base.parent, root, symlinks=True, dirs_exist_ok=True)
    ws = root / base.name
    repoint_store(ws / "mlruns" / "mlflow.db", base, ws)
    return ws, json.loads(json.dumps(result).replace(str(base), str(ws)))


def assert_up_to_date_and_rebuilt(ws: Path, app: str, name: str, version: str, scratch: Path) -> None:
    """Right after a flow: `dvc repro <app>-evaluate` has nothing to do, upstream stages included (the accepted-data
    reference the flow wrote was re-checked, and no stage reads a figure measured against it), and `reproduce`
    rebuilds the registered version bit for bit (weights, every output, metrics)."""
    import json as json_

    from components.registry.reproduce import reproduce
    from components.versioning.dvc import dvc_env

    proc = subprocess.run(
        [sys.executable, "-m", "dvc", "status", "--json", "--with-deps", f"{app}-evaluate"],
        cwd=ws,
        capture_output=True,
        text=True,
        env=dvc_env(),
    )
    assert proc.returncode == 0 and json_.loads(proc.stdout or "{}") == {}, proc.stdout + proc.stderr
    rows = reproduce(ws, name, version, scratch)
    assert [r for r in rows if not r.matches] == [] and any(r.item == "weights sha256" for r in rows)
