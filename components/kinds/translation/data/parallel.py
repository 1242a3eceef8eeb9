"""Parallel corpora: reading aligned pairs, the pair contracts, and the splits.

Canonical pair table: id, source, target, split (provided or None), line, error. Reading repairs and
drops nothing: a line that is not valid UTF-8 keeps its place with the side's text None and the reason in
`error`, so the contracts can quarantine it and pairs in = pairs kept + quarantined.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from components.core.errors import StageError
from components.data.split import SPLITS, hash_unit, normalise
from components.data.text_files import ReadOptions, detect_format, lines_to_frame, read_bytes, read_file
from components.kinds.translation.params import PairValidateParams, ParallelDataParams

PAIR_COLUMNS = ["id", "source", "target", "split", "line", "error"]
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _aligned(source_path: Path, target_path: Path) -> pd.DataFrame:
    """Two files, line i of one the translation of line i of the other; different line counts are one error."""
    src, tgt = lines_to_frame(read_bytes(source_path)), lines_to_frame(read_bytes(target_path))
    if len(src) != len(tgt):
        raise StageError(
            f"{source_path} has {len(src):,} lines but {target_path} has {len(tgt):,}: "
            "aligned files must have the same number of lines"
        )
    errors = [
        f"source: {a}" if isinstance(a, str) else (f"target: {b}" if isinstance(b, str) else None)
        for a, b in zip(src["error"], tgt["error"])
    ]
    return pd.DataFrame(
        {"source": src["text"], "target": tgt["text"], "line": src["line"], "error": pd.Series(errors, dtype=object)}
    )


def _side_file(directory: Path, stem: str, lang: str) -> Path | None:
    for name in (f"{stem}.{lang}", f"{stem}.{lang}.gz"):
        if (directory / name).is_file():
            return directory / name
    return None


def read_pairs(p: ParallelDataParams) -> pd.DataFrame:
    """The corpus named by data.corpus as the canonical pair table (source/target per data.*_lang)."""
    corpus = p.corpus
    frames = []
    if "," in corpus:  # two aligned files
        source_path, target_path = (Path(part.strip()) for part in corpus.split(",", 1))
        frame = _aligned(source_path, target_path)
        frame["split"], frame["id"] = None, [f"{source_path.name}:{n}" for n in frame["line"]]
        frames.append(frame)
    elif Path(corpus).is_dir():
        directory = Path(corpus)
        for split, stem in p.split_files.items():
            paths = _side_file(directory, stem, p.source_lang), _side_file(directory, stem, p.target_lang)
            if paths == (None, None):
                continue
            if None in paths:
                missing = f"{stem}.{p.source_lang if paths[0] is None else p.target_lang}"
                raise StageError(f"{directory}: has {[x.name for x in paths if x][0]} but no {missing}[.gz]")
            frame = _aligned(*paths)
            frame["split"], frame["id"] = split, [f"{stem}:{n}" for n in frame["line"]]
            frames.append(frame)
        if not any(f["split"].iloc[0] == "train" for f in frames if len(f)):
            stem = p.split_files.get("train", "train")
            raise StageError(f"{directory}: no {stem}.{p.source_lang} / {stem}.{p.target_lang} (data.split_files)")
    else:
        frames.append(_table(Path(corpus), p))
    frame = pd.concat(frames, ignore_index=True)
    if frame.empty:
        raise StageError(f"{corpus}: corpus is empty (no pairs)")
    return frame[PAIR_COLUMNS].astype(
        {"id": "string", "source": "string", "target": "string", "split": "string", "error": "string", "line": "int64"}
    )


def _table(path: Path, p: ParallelDataParams) -> pd.DataFrame:
    """A table with one column per language (named data.source_lang / data.target_lang)."""
    fmt = detect_format(path, p.format if p.format != "files" else "auto")
    sides = {}
    for column, lang in (("source", p.source_lang), ("target", p.target_lang)):
        view = ReadOptions(
            corpus=str(path),
            format=fmt,
            text_column=lang,
            label_column="",
            require_label=False,
            dictd_unit="definition",
        )
        try:
            sides[column] = read_file(path, fmt, view)
        except StageError as err:
            raise StageError(
                f"{path}: {err} (a translation table needs the columns {p.source_lang!r} and {p.target_lang!r})"
            ) from err
    src, tgt = sides["source"], sides["target"]
    errors = [
        f"source: {a}" if isinstance(a, str) else (f"target: {b}" if isinstance(b, str) else None)
        for a, b in zip(src["error"], tgt["error"])
    ]
    given = src["split"] if "split" in src.columns else None
    return pd.DataFrame(
        {
            "id": src["id"] if "id" in src.columns else [f"{path.name}:{n}" for n in src["line"]],
            "source": src["text"],
            "target": tgt["text"],
            "line": src["line"],
            "split": given,
            "error": pd.Series(errors, dtype=object),
        }
    )


def pair_violations(frame: pd.DataFrame, p: PairValidateParams) -> pd.Series:
    """The first broken contract of each pair (None where it holds): both sides present and valid UTF-8, no
    control characters, per-side length bounds, a length-ratio bound, a target that is not a copy of the source."""
    reasons = []
    for source, target, error in zip(frame["source"], frame["target"], frame["error"]):
        reasons.append(_violation(source, target, error, p))
    return pd.Series(reasons, index=frame.index, dtype=object)


def _violation(source, target, error, p: PairValidateParams) -> str | None:
    if isinstance(error, str):
        return f"utf8: {error}"
    for side, text in (("source", source), ("target", target)):
        if not isinstance(text, str) or not text.strip():
            return f"{side}:present"
        if _CONTROL.search(text):
            return f"{side}:no_control_characters"
        if len(text) > p.max_chars:
            return f"{side}:max_chars"
    lengths = [len(source.split()), len(target.split())]
    for side, n in zip(("source", "target"), lengths):
        if n < p.min_tokens:
            return f"{side}:min_tokens"
        if n > p.max_tokens:
            return f"{side}:max_tokens"
    if max(lengths) / min(lengths) > p.max_length_ratio:
        return "pair:length_ratio"
    if normalise(source) == normalise(target):
        return "pair:target_is_copy"
    return None


def assign_pair_splits(frame: pd.DataFrame, valid_fraction: float, test_fraction: float, salt: str) -> pd.DataFrame:
    """Provided splits kept; the other pairs split by a hash of the normalised source, so one source sentence
    (with all its translations) lands in one split and adding data never moves an old pair."""
    out = frame.copy()
    units = np.array([hash_unit(normalise(s), salt) for s in out["source"]])
    hashed = np.where(units < test_fraction, "test", np.where(units < test_fraction + valid_fraction, "valid", "train"))
    given = out["split"]
    bad = given.notna() & ~given.isin(SPLITS)
    if bad.any():
        raise StageError(f"split column has values other than {list(SPLITS)}: {sorted(set(given[bad]))[:5]}")
    out["split"] = given.where(given.notna(), pd.Series(hashed, index=out.index)).astype("string")
    counts = {s: int((out["split"] == s).sum()) for s in SPLITS}
    if min(counts.values()) == 0:
        raise StageError(f"too few pairs for three splits: {counts}; add data or raise the fractions")
    return out
