"""Ingest stage: read a raw corpus in any supported format into one canonical Parquet table.

Canonical columns: id, text, source, line, split, error. Nothing is dropped or repaired
here: a line that is not valid UTF-8 keeps its place with text=None and the reason in
`error`, so the validate stage can quarantine it and rows in = rows kept + quarantined.
"""

from __future__ import annotations

import gzip
import logging
from pathlib import Path

import pandas as pd

from components import atomic
from components.cli import StageError, stage_main, stage_parser
from components.params import DataParams, load_params

log = logging.getLogger(__name__)

CANONICAL_COLUMNS = ["id", "text", "source", "line", "split", "error"]
SUFFIX_FORMATS = {".txt": "lines", ".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".parquet": "parquet"}


def detect_format(path: Path, declared: str) -> str:
    if declared != "auto":
        return declared
    suffixes = [s for s in path.suffixes if s != ".gz"]
    fmt = SUFFIX_FORMATS.get(suffixes[-1].lower()) if suffixes else None
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


def lines_to_frame(raw: bytes, source: str) -> pd.DataFrame:
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
            errors.append(f"invalid UTF-8 at byte {err.start}: {chunk[err.start:err.start + 4]!r}")
    return pd.DataFrame({"text": texts, "line": range(1, len(chunks) + 1), "error": errors})


def table_to_frame(path: Path, fmt: str, text_column: str) -> pd.DataFrame:
    try:
        if fmt in ("csv", "tsv"):
            frame = pd.read_csv(path, sep="\t" if fmt == "tsv" else ",", dtype=str, keep_default_na=False,
                                encoding="utf-8", encoding_errors="strict")
        elif fmt == "jsonl":
            frame = pd.read_json(path, lines=True, dtype=False, encoding="utf-8")
        else:
            frame = pd.read_parquet(path)
    except (UnicodeDecodeError, ValueError, OSError) as err:
        raise StageError(f"{path}: cannot read as {fmt}: {err}") from err
    if text_column not in frame.columns:
        raise StageError(f"{path}: no column {text_column!r} (columns: {list(frame.columns)}); set data.text_column")
    out = pd.DataFrame({
        "text": frame[text_column].map(lambda v: v.strip() if isinstance(v, str) else None),
        "line": range(1, len(frame) + 1),
        "error": frame[text_column].map(lambda v: None if isinstance(v, str) else f"text is not a string: {v!r}"),
    })
    for optional in ("id", "split"):
        if optional in frame.columns:
            out[optional] = frame[optional].astype(str).to_numpy()
    return out


def ingest(params: DataParams) -> pd.DataFrame:
    """Read the corpus named in params into the canonical table."""
    path = Path(params.corpus)
    fmt = detect_format(path, params.format)
    if fmt == "lines":
        frame = lines_to_frame(read_bytes(path), path.name)
    else:
        read_bytes(path)  # same existence checks and messages as for text files
        frame = table_to_frame(path, fmt, params.text_column)
    if frame.empty:
        raise StageError(f"{path}: corpus is empty (no rows)")
    frame["source"] = path.name
    if "id" not in frame.columns:
        frame["id"] = [f"{path.name}:{n}" for n in frame["line"]]
    if "split" not in frame.columns:
        frame["split"] = None
    frame = frame[CANONICAL_COLUMNS]
    return frame.astype({"id": "string", "text": "string", "source": "string", "split": "string",
                         "error": "string", "line": "int64"})


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    parser.add_argument("--out", default="data/interim/corpus.parquet")

    def run(args):
        params = load_params(args.params).data
        frame = ingest(params)
        atomic.write_parquet(args.out, frame)
        log.info("ingested %d rows from %s (%d undecodable) -> %s", len(frame), params.corpus,
                 int(frame["error"].notna().sum()), args.out)

    stage_main("ingest", run, parser)


if __name__ == "__main__":
    main()
