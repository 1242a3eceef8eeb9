"""Put a registered model to work on a whole file: read it in chunks, predict, append the answers to the output.

    python -m components.commands.predict --model models:/translation-transformer@champion \
        --input test.de --output translations.csv --param decoder=beam
    python -m components.commands.predict --model models:/conditional-bsvae@champion --input labels.txt \
        --column label --output samples.jsonl
    python -m components.commands.predict --model models:/images-bsvae@champion --input files.txt \
        --column image --output reconstructions.csv

The input is a table (.csv, .tsv, .jsonl, .parquet: its columns are the model's input columns) or a plain text
file (either may be gzipped) whose every line is one value of `--column` (a source sentence, a prefix, a label,
an image path). The model's kind reads a value that names a file (an image model's `image`, absolute or relative
to the input file's folder) from it. The output (.csv, .tsv, .jsonl or .parquet) holds the model's answer to every
row, `input` being the row's number in the input (from 0). Memory stays bounded by `--batch-rows` whatever the
file's length; progress (rows/s and the time left) goes to the console; the output appears only when every row is
answered (a failure leaves no partial file). The same rows give the same answers for the same `--batch-rows`: the
chunk starting at row r gets seed + r.

MLflow's own `mlflow models predict -m models:/NAME@champion -i in.csv -o out.csv -t csv` does the same in
one pass over the whole file (in memory), in a fresh environment.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

TABLES = {".csv": ",", ".tsv": "\t"}
OUTPUTS = (".csv", ".tsv", ".jsonl", ".parquet")


class InputError(ValueError):
    """The input file cannot be read as the command reads it."""


def input_format(path: Path) -> str:
    """The input's format from its name, a `.gz` ending set aside (compressed text and tables are read as such)."""
    return Path(path.name.removesuffix(".gz")).suffix.lower()


def open_binary(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")


def count_rows(path: Path) -> int | None:
    """Rows in the input without loading it (lines of a text or JSONL file, minus a table's header; a parquet
    file's metadata), for the progress line's estimate; None when unknown."""
    suffix = input_format(path)
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    with open_binary(path) as f:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    return max(lines - (1 if suffix in TABLES else 0), 0)


def read_chunks(path: Path, column: str, rows: int) -> Iterator[pd.DataFrame]:
    """The input, `rows` rows at a time."""
    suffix = input_format(path)
    try:
        if suffix in TABLES:
            yield from pd.read_csv(
                path, sep=TABLES[suffix], chunksize=rows, dtype=str, keep_default_na=False, encoding="utf-8"
            )
        elif suffix == ".jsonl":
            yield from pd.read_json(path, lines=True, chunksize=rows, dtype=False, encoding="utf-8")
        elif suffix == ".parquet":
            import pyarrow.parquet as pq

            for batch in pq.ParquetFile(path).iter_batches(batch_size=rows):
                yield batch.to_pandas()
        else:
            yield from text_lines(path, column, rows)
    except UnicodeDecodeError as err:
        raise InputError(f"{path}: not UTF-8 ({err.reason} at byte {err.start} of a block)") from None
    except (pd.errors.ParserError, ValueError, OSError, EOFError) as err:
        if isinstance(err, InputError):
            raise
        raise InputError(f"{path}: cannot be read as {suffix or 'text'}: {str(err).splitlines()[0]}") from None


def text_lines(path: Path, column: str, rows: int) -> Iterator[pd.DataFrame]:
    """A plain text file, one value of `column` per line (the line ending dropped)."""
    values: list[str] = []
    with open_binary(path) as f:
        for number, raw in enumerate(f, start=1):
            try:
                values.append(raw.decode("utf-8").rstrip("\r\n"))
            except UnicodeDecodeError:
                raise InputError(f"{path}: line {number} is not UTF-8") from None
            if len(values) == rows:
                yield pd.DataFrame({column: values})
                values = []
    if values:
        yield pd.DataFrame({column: values})


def answers(out: pd.DataFrame, chunk_rows: int, first_row: int) -> pd.DataFrame:
    """The model's answer with `input` numbered over the whole file: models answering several rows per input
    say which input each came from (numbered in the chunk); others answer one row per input, in order."""
    if "input" in out.columns:
        return out.assign(input=out["input"].astype("int64") + first_row)
    if len(out) != chunk_rows:
        raise ValueError(f"the model answered {len(out)} rows for {chunk_rows} inputs and did not say which is which")
    return pd.concat(
        [pd.DataFrame({"input": range(first_row, first_row + chunk_rows)}), out.reset_index(drop=True)], axis=1
    )


class Writer:
    """Appends answer chunks to a temporary file beside `path`, renamed onto it by `commit()` (atomic)."""

    def __init__(self, path: Path):
        if path.suffix.lower() not in OUTPUTS:
            raise InputError(f"{path}: the output must end in one of {', '.join(OUTPUTS)}")
        self.path, self.tmp = path, path.with_name(f".{path.name}.partial")
        self.tmp.parent.mkdir(parents=True, exist_ok=True)
        self.parquet = None
        self.rows = 0
        self.file = None if path.suffix.lower() == ".parquet" else self.tmp.open("w", encoding="utf-8", newline="")

    def write(self, frame: pd.DataFrame) -> None:
        suffix = self.path.suffix.lower()
        if suffix in TABLES:
            frame.to_csv(self.file, sep=TABLES[suffix], index=False, header=self.rows == 0)
        elif suffix == ".jsonl":
            for record in frame.to_dict("records"):
                self.file.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self.parquet is None:
                self.parquet = pq.ParquetWriter(self.tmp, table.schema)
            self.parquet.write_table(table.cast(self.parquet.schema))
        self.rows += len(frame)

    def commit(self) -> None:
        import os

        if self.file is not None:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
        if self.parquet is not None:
            self.parquet.close()
        os.replace(self.tmp, self.path)

    def discard(self) -> None:
        if self.file is not None:
            self.file.close()
        if self.parquet is not None:
            self.parquet.close()
        self.tmp.unlink(missing_ok=True)


def progress_line(done: int, total: int | None, started: float) -> str:
    elapsed = max(time.monotonic() - started, 1e-9)
    rate = done / elapsed
    if total:
        left = (total - done) / rate if rate > 0 else float("inf")
        eta = f", {int(left // 60)}m{int(left % 60):02d}s left" if left != float("inf") else ""
        return f"predict: {done:,}/{total:,} rows ({100 * done / total:.1f}%), {rate:.1f} rows/s{eta}"
    return f"predict: {done:,} rows, {rate:.1f} rows/s"


def parse_params(items: list[str]) -> dict:
    import yaml

    params = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise InputError(f"--param {item!r}: write NAME=VALUE, e.g. decoder=beam")
        params[name] = yaml.safe_load(value)
    return params


def run(args: argparse.Namespace) -> int:
    source, target = Path(args.input), Path(args.output)
    if not source.is_file():
        raise InputError(f"{source}: no such input file")
    if args.batch_rows < 1:
        raise InputError(f"--batch-rows {args.batch_rows}: must be at least 1")
    if target.suffix.lower() not in OUTPUTS:
        raise InputError(f"{target}: the output must end in one of {', '.join(OUTPUTS)}")
    params = parse_params(args.param)
    from components.applications.kind import served_kind
    from components.registry.model_files import load_pyfunc
    from components.registry.tracking import connect

    model = load_pyfunc(args.model, connect(Path(args.workspace)))
    kind = served_kind(model)  # how its request values are read from files (an image's path)
    schema = model.metadata.get_params_schema()
    known = {p.name: p.default for p in schema.params} if schema else {}
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise InputError(f"--param {', '.join(unknown)}: {args.model} takes {', '.join(sorted(known)) or 'none'}")
    total, started, last_report = count_rows(source), time.monotonic(), 0.0
    done = 0
    writer = Writer(target)
    try:
        for chunk in read_chunks(source, args.column, args.batch_rows):
            chunk_params = dict(params)
            if "seed" in known:  # the chunk starting at row r draws with seed + r
                chunk_params["seed"] = int(params.get("seed", known["seed"])) + done
            try:
                out = model.predict(kind.read_request_files(chunk, source.parent), params=chunk_params)
            except Exception as err:  # the model's refusal, as one line naming the rows
                reason = (str(getattr(err, "message", err)).strip().splitlines() or [type(err).__name__])[0]
                raise InputError(f"rows {done}-{done + len(chunk) - 1} of {source}: {reason}") from None
            writer.write(answers(out, len(chunk), done))
            done += len(chunk)
            if time.monotonic() - last_report >= args.progress_every:
                print(progress_line(done, total, started), file=sys.stderr, flush=True)
                last_report = time.monotonic()
        if not done:
            raise InputError(f"{source}: no rows")
        writer.commit()
    except BaseException:
        writer.discard()
        raise
    print(f"{progress_line(done, done, started)}; wrote {writer.rows:,} answer row(s) to {target}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="model URI, e.g. models:/NAME@champion")
    parser.add_argument("--input", required=True, help="a table (.csv .tsv .jsonl .parquet) or a text file")
    parser.add_argument("--output", required=True, help="where the answers go (.csv .tsv .jsonl .parquet)")
    parser.add_argument(
        "--column",
        default="text",
        help="the column a text file's lines fill: text, prefix, label, image, ... (default text)",
    )
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a predict parameter, e.g. decoder=beam or temperature=0.8 (repeatable)",
    )
    parser.add_argument(
        "--batch-rows",
        dest="batch_rows",
        type=int,
        default=256,
        help="rows per predict call; memory is bounded by it (default 256)",
    )
    parser.add_argument(
        "--progress-every",
        dest="progress_every",
        type=float,
        default=5.0,
        help="seconds between progress lines (default 5)",
    )
    parser.add_argument("--workspace", default=".", help="project root whose mlruns/ to use (default: .)")
    args = parser.parse_args(argv)

    from mlflow.exceptions import MlflowException

    from components.core.errors import StageError, error_line

    try:
        return run(args)
    except (InputError, MlflowException, StageError, OSError, ValueError) as err:
        print(error_line("predict", getattr(err, "message", err)), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
