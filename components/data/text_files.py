"""Reading text corpora in any supported format (text files, CSV/TSV, JSONL, Parquet; gzipped or not) into one
canonical Parquet table: what the text kind ingests and the translation kind reads pairs with.

Canonical columns: id, text, source, line, split, label, error. Nothing is dropped or repaired
here: a line that is not valid UTF-8 keeps its place with text=None and the reason in
`error`, so the validate stage can quarantine it and rows in = rows kept + quarantined.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from components.core.errors import StageError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReadOptions:
    """How to read a text corpus: the fields of a text application's data section (which is one of these by
    shape), or a view another kind makes of its own (translation reads one language's column of a table)."""

    corpus: str
    format: str
    text_column: str
    label_column: str
    require_label: bool
    dictd_unit: str
    """dictd dictionaries: `definition` (a row each) or `entry` (all of a headword's definitions in one row)."""


CANONICAL_COLUMNS = ["id", "text", "source", "line", "split", "label", "error"]
OPTIONAL_COLUMNS = ("id", "split", "label")
_SURROGATE = re.compile("[\udc80-\udcff]")
SUFFIX_FORMATS = {
    ".txt": "lines",
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".parquet": "parquet",
    ".dict": "dictd",
}


def detect_format(path: Path, declared: str) -> str:
    if declared != "auto":
        return declared
    fmt = SUFFIX_FORMATS.get(_format_suffix(path))
    if fmt is None:
        raise StageError(f"{path}: cannot tell the format from the suffix; set data.format")
    return fmt


def read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise StageError(f"{path}: corpus file not found")
    if path.is_dir():
        raise StageError(f"{path}: is a directory, expected a corpus file")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            return fh.read()
    except (OSError, EOFError) as err:
        raise StageError(f"{path}: cannot read: {err}") from err


def lines_to_frame(raw: bytes) -> pd.DataFrame:
    """One row per line; undecodable lines are kept with text=None and the reason in `error`."""
    chunks = raw.split(b"\n")
    if chunks and chunks[-1] == b"":
        chunks.pop()  # the final newline ends the last line; it does not start a new one
    texts: list[str | None] = []
    errors: list[str | None] = []
    for chunk in chunks:
        try:
            texts.append(chunk.decode("utf-8").removesuffix("\r").strip())
            errors.append(None)
        except UnicodeDecodeError as err:
            texts.append(None)
            errors.append(f"invalid UTF-8 at byte {err.start}: {chunk[err.start : err.start + 4]!r}")
    return pd.DataFrame({"text": texts, "line": range(1, len(chunks) + 1), "error": errors})


def jsonl_to_frame(raw: bytes, text_column: str, label_column: str) -> pd.DataFrame:
    """One row per JSON line; a line that is not UTF-8, not JSON or has no text keeps its place with the reason."""
    frame = lines_to_frame(raw)
    records: list[dict] = []
    errors = [e if isinstance(e, str) else None for e in frame["error"]]
    for i, line in enumerate(frame["text"]):
        record: dict = {}
        if errors[i] is None:
            try:
                record = json.loads(line) if line else {}
                if not isinstance(record, dict):
                    raise ValueError("not a JSON object")
                if not isinstance(record.get(text_column), str):
                    errors[i] = f"no string field {text_column!r}"
            except ValueError as err:
                errors[i] = f"invalid JSON: {err}"
                record = {}
        records.append(record)
    table = pd.DataFrame.from_records(records, columns=sorted({k for r in records for k in r}) or [text_column])
    return _canonical_columns(table, text_column, label_column, errors)


def csv_to_frame(raw: bytes, fmt: str, text_column: str, label_column: str) -> pd.DataFrame:
    """CSV/TSV records (quoted newlines allowed); a record with bytes that are not UTF-8 keeps its place."""
    # surrogateescape keeps undecodable bytes visible (as lone surrogates) so those records can be quarantined.
    reader = csv.DictReader(
        io.StringIO(raw.decode("utf-8", "surrogateescape"), newline=""), delimiter="\t" if fmt == "tsv" else ","
    )
    try:
        records = list(reader)
    except csv.Error as err:
        raise StageError(f"cannot read as {fmt} at record {reader.line_num}: {err}") from err
    columns = reader.fieldnames or []
    table = pd.DataFrame({c: pd.Series([r.get(c) for r in records], dtype=object) for c in columns})
    return _canonical_columns(table, text_column, label_column, [None] * len(table))


def parquet_to_frame(raw: bytes, text_column: str, label_column: str) -> pd.DataFrame:
    try:
        table = pd.read_parquet(io.BytesIO(raw))
    except (ValueError, OSError) as err:
        raise StageError(f"cannot read as parquet: {err}") from err
    return _canonical_columns(table, text_column, label_column, [None] * len(table))


def _canonical_columns(
    table: pd.DataFrame, text_column: str, label_column: str, errors: list[str | None]
) -> pd.DataFrame:
    if text_column not in table.columns:
        raise StageError(f"no column {text_column!r} (columns: {list(table.columns)}); set data.text_column")
    texts = [None if v is None or (isinstance(v, float) and pd.isna(v)) else v for v in table[text_column]]
    errors = list(errors)
    for i, value in enumerate(texts):
        if errors[i] is not None:
            texts[i] = None
        elif not isinstance(value, str):
            texts[i], errors[i] = None, f"text is not a string: {value!r}"
        elif _SURROGATE.search(value):
            texts[i], errors[i] = None, "invalid UTF-8"
        else:
            texts[i] = value.strip()
    out = pd.DataFrame(
        {
            "text": pd.Series(texts, dtype=object),
            "line": range(1, len(table) + 1),
            "error": pd.Series(errors, dtype=object),
        }
    )
    sources = {"id": "id", "split": "split", "label": label_column}
    for optional in OPTIONAL_COLUMNS:
        column = sources[optional]
        if column in table.columns:
            out[optional] = [
                None
                if v is None or (isinstance(v, float) and pd.isna(v)) or not str(v).strip()
                else _printable(str(v).strip())
                for v in table[column]
            ]
    return out


def _printable(value: str) -> str:
    """Undecodable bytes in an id or label become backslash escapes: visible, and storable as UTF-8."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _format_suffix(path: Path) -> str:
    """The suffix that names the format, compression suffixes (.gz, dictzip's .dz) aside: '.tsv', '.dict'."""
    suffixes = [s.lower() for s in path.suffixes if s not in (".gz", ".dz")]
    return suffixes[-1] if suffixes else ""


def corpus_files(path: Path) -> list[Path]:
    """The file itself, or every supported file under a directory (sorted, so the order is reproducible)."""
    if not path.exists():
        raise StageError(f"{path}: corpus file not found")
    if path.is_file():
        return [path]
    files = sorted(
        p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".") and _format_suffix(p) in SUFFIX_FORMATS
    )
    if not files:
        raise StageError(f"{path}: directory holds no corpus files ({', '.join(SUFFIX_FORMATS)}, optionally .gz)")
    return files


def read_file(path: Path, fmt: str, params: ReadOptions) -> pd.DataFrame:
    if fmt == "dictd":  # a dictionary: one row per definition (components/data/dictd.py)
        from components.data.dictd import dictd_to_frame

        frame = dictd_to_frame(path, params.dictd_unit)
    elif fmt == "lines":
        frame = lines_to_frame(read_bytes(path))
    elif fmt == "jsonl":
        frame = jsonl_to_frame(read_bytes(path), params.text_column, params.label_column)
    elif fmt in ("csv", "tsv"):
        frame = csv_to_frame(read_bytes(path), fmt, params.text_column, params.label_column)
    else:
        frame = parquet_to_frame(read_bytes(path), params.text_column, params.label_column)
    if params.require_label and "label" not in frame.columns:
        raise StageError(
            f"{path}: no label column {params.label_column!r} ({fmt}); this application trains on "
            "labels (data.require_label): add the column or set data.label_column"
        )
    return frame


def ingest(params: ReadOptions) -> pd.DataFrame:
    """Read the corpus named in params (a file or a directory of files) into the canonical table."""
    root = Path(params.corpus)
    frames = []
    for path in corpus_files(root):
        try:
            frame = read_file(path, detect_format(path, params.format), params)
        except StageError as err:
            raise StageError(f"{path}: {err}" if not str(err).startswith(str(path)) else str(err)) from err
        source = path.name if path == root else str(path.relative_to(root))
        frame["source"] = source
        if "id" not in frame.columns:
            frame["id"] = [f"{source}:{n}" for n in frame["line"]]
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True)
    if frame.empty:
        raise StageError(f"{root}: corpus is empty (no rows)")
    for optional in OPTIONAL_COLUMNS:
        if optional not in frame.columns:
            frame[optional] = None
    frame = frame[CANONICAL_COLUMNS]
    return frame.astype(
        {
            "id": "string",
            "text": "string",
            "source": "string",
            "split": "string",
            "label": "string",
            "error": "string",
            "line": "int64",
        }
    )
