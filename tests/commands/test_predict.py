"""The batch predict command's file handling, without a model: chunked reading of every input format, numbering
of answers over the whole file, the atomic writer, and one error line for bad input. The command against
registered models of every kind: tests/registry/test_registry.py, test_conditional_flow.py, test_translation_flow.py,
test_images_flow.py."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from components.commands import predict


def test_a_text_file_is_read_a_chunk_at_a_time_into_the_named_column(tmp_path):
    source = tmp_path / "prefixes.txt"
    source.write_text("a dog\r\nthe cat\n\nlast line without newline", encoding="utf-8")
    chunks = list(predict.read_chunks(source, "prefix", 2))
    assert [c["prefix"].tolist() for c in chunks] == [["a dog", "the cat"], ["", "last line without newline"]]
    assert predict.count_rows(source) == 3  # lines ended by a newline: an estimate for the progress line


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
def test_tables_keep_their_columns_whatever_the_format(tmp_path, suffix):
    frame = pd.DataFrame({"label": ["noun.animal", "verb.motion", "noun.food"], "prefix": ["a", "to", "a sweet"]})
    path = tmp_path / f"in{suffix}"
    if suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True)
    elif suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_csv(path, sep="," if suffix == ".csv" else "\t", index=False)
    chunks = list(predict.read_chunks(path, "text", 2))
    assert [len(c) for c in chunks] == [2, 1]
    assert pd.concat(chunks, ignore_index=True).equals(frame)
    assert predict.count_rows(path) == 3


def test_a_gzipped_text_file_is_read_as_text(tmp_path):
    import gzip

    source = tmp_path / "sources.de.gz"
    source.write_bytes(gzip.compress("Ein Hund.\nZwei Männer.\n".encode()))
    assert [c["text"].tolist() for c in predict.read_chunks(source, "text", 10)] == [["Ein Hund.", "Zwei Männer."]]
    assert predict.count_rows(source) == 2


def test_invalid_utf8_names_the_line(tmp_path):
    source = tmp_path / "bad.txt"
    source.write_bytes(b"fine\nbroken \xff here\n")
    with pytest.raises(predict.InputError, match="line 2 is not UTF-8"):
        list(predict.read_chunks(source, "text", 10))


def test_answers_are_numbered_over_the_whole_file():
    several = pd.DataFrame({"input": [0, 0, 1], "text": ["a", "b", "c"]})  # a model answering n rows per input
    assert predict.answers(several, 2, 512)["input"].tolist() == [512, 512, 513]
    one_each = pd.DataFrame({"text": ["x", "y"], "translation": ["X", "Y"]})
    numbered = predict.answers(one_each, 2, 10)
    assert numbered.columns.tolist() == ["input", "text", "translation"] and numbered["input"].tolist() == [10, 11]
    with pytest.raises(ValueError, match="did not say which is which"):
        predict.answers(one_each, 3, 0)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_the_writer_appends_chunks_and_shows_the_file_only_when_committed(tmp_path, suffix):
    out = tmp_path / f"answers{suffix}"
    writer = predict.Writer(out)
    writer.write(pd.DataFrame({"input": [0, 1], "text": ["a", "b"]}))
    writer.write(pd.DataFrame({"input": [2], "text": ["c"]}))
    assert not out.exists()
    writer.commit()
    if suffix == ".csv":
        back = pd.read_csv(out)
    elif suffix == ".jsonl":
        back = pd.DataFrame([json.loads(line) for line in out.read_text().splitlines()])
    else:
        back = pd.read_parquet(out)
    assert back["input"].tolist() == [0, 1, 2] and back["text"].tolist() == ["a", "b", "c"]
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


def test_a_discarded_write_leaves_nothing_and_an_existing_output_untouched(tmp_path):
    out = tmp_path / "answers.csv"
    out.write_text("earlier answers\n")
    writer = predict.Writer(out)
    writer.write(pd.DataFrame({"input": [0], "text": ["a"]}))
    writer.discard()
    assert out.read_text() == "earlier answers\n" and [p.name for p in tmp_path.iterdir()] == ["answers.csv"]


def test_progress_says_rows_per_second_and_the_time_left():
    import time

    line = predict.progress_line(250, 1000, time.monotonic() - 10)
    assert line.startswith("predict: 250/1,000 rows (25.0%), 25.") and "rows/s, 0m30s left" in line


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--input", "missing.txt", "--output", "out.csv"], "missing.txt: no such input file"),
        (["--input", "{src}", "--output", "out.xlsx"], "the output must end in one of"),
        (["--input", "{src}", "--output", "out.csv", "--param", "beam"], "write NAME=VALUE"),
        (["--input", "{src}", "--output", "out.csv", "--batch-rows", "0"], "--batch-rows 0: must be at least 1"),
    ],
)
def test_bad_input_is_one_error_line(tmp_path, capsys, argv, message):
    source = tmp_path / "in.txt"
    source.write_text("a\n")
    argv = [a.format(src=source) for a in argv]
    argv = [str(tmp_path / a) if a in ("out.csv", "out.xlsx", "missing.txt") else a for a in argv]
    assert predict.main(["--model", "models:/none@champion", "--workspace", str(tmp_path), *argv]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: predict: ") and message in err[0]
