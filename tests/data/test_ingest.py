import gzip
import json

import pandas as pd
import pytest

from components.core.errors import StageError
from components.data.text_files import ingest, lines_to_frame
from tests.conftest import PTB_SLICE, glosses, params_for


def test_real_glosses_keep_every_line_in_order(tmp_path):
    lines = glosses(500)
    path = tmp_path / "g.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    frame = ingest(params_for("data", corpus=str(path)))
    assert len(frame) == 500
    assert frame["text"].tolist() == [line.strip() for line in lines]
    assert frame["line"].tolist() == list(range(1, 501))
    assert frame["id"].is_unique and frame["error"].isna().all()


def test_ptb_slice_strips_the_surrounding_spaces():
    frame = ingest(params_for("data", corpus=str(PTB_SLICE)))
    assert not frame["text"].str.startswith(" ").any()
    assert "<unk>" in " ".join(frame["text"].head(50))


def test_invalid_utf8_is_kept_with_its_reason_and_line_number():
    frame = lines_to_frame(b"good line\r\nbad \xff\xfe line\nlast")
    assert frame["text"].tolist()[0] == "good line"  # Windows line ending removed
    assert pd.isna(frame["text"][1]) and "invalid UTF-8" in frame["error"][1]
    assert frame["line"].tolist() == [1, 2, 3]


def test_gzip_csv_and_jsonl(tmp_path):
    gz = tmp_path / "c.txt.gz"
    gz.write_bytes(gzip.compress(b"one\ntwo\n"))
    assert ingest(params_for("data", corpus=str(gz)))["text"].tolist() == ["one", "two"]
    csv = tmp_path / "c.csv"
    pd.DataFrame({"id": ["a", "b"], "sentence": ["x y", "z"]}).to_csv(csv, index=False)
    frame = ingest(params_for("data", corpus=str(csv), text_column="sentence"))
    assert frame["id"].tolist() == ["a", "b"]
    jsonl = tmp_path / "c.jsonl"
    jsonl.write_text("\n".join(json.dumps({"text": t}) for t in ["p q", "r"]) + "\n")
    assert ingest(params_for("data", corpus=str(jsonl)))["text"].tolist() == ["p q", "r"]


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("empty.txt", b"", "corpus is empty"),
        ("missing.txt", None, "not found"),
        ("data.bin", b"x\n", "cannot tell the format"),
    ],
)
def test_unusable_files_raise_one_clear_error(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(StageError, match=message):
        ingest(params_for("data", corpus=str(path)))


def test_missing_text_column_names_the_columns(tmp_path):
    path = tmp_path / "c.csv"
    pd.DataFrame({"body": ["x"]}).to_csv(path, index=False)
    with pytest.raises(StageError, match="no column 'text'.*body"):
        ingest(params_for("data", corpus=str(path)))


def test_a_directory_of_mixed_formats_is_read_file_by_file(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "more").mkdir(parents=True)
    (corpus / "a.txt").write_text("\n".join(glosses(3)) + "\n")
    pd.DataFrame({"text": ["x y", "z"], "label": ["n", "v"]}).to_csv(corpus / "more" / "b.csv.gz", index=False)
    (corpus / "c.jsonl").write_text(json.dumps({"text": "from json", "split": "test"}) + "\n")
    (corpus / ".hidden.txt").write_text("skipped\n")
    frame = ingest(params_for("data", corpus=str(corpus)))
    assert frame["source"].tolist() == ["a.txt"] * 3 + ["c.jsonl", "more/b.csv.gz", "more/b.csv.gz"]
    assert frame["label"].tolist()[-2:] == ["n", "v"]
    assert frame["split"].tolist()[3] == "test"
    assert frame["id"].is_unique


def test_jsonl_lines_that_are_not_json_or_not_utf8_keep_their_place():
    from components.data.text_files import jsonl_to_frame

    raw = b'{"text": "fine"}\nnot json\n{"text": "caf\xe9"}\n{"other": 1}\n'
    frame = jsonl_to_frame(raw, "text", "label")
    assert frame["text"].tolist()[0] == "fine"
    assert [e.split(":")[0] if isinstance(e, str) else None for e in frame["error"]] == [
        None,
        "invalid JSON",
        "invalid UTF-8 at byte 13",
        "no string field 'text'",
    ]


def test_csv_rows_with_undecodable_bytes_are_marked_not_dropped(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes("text\nplain utf-8 row\ncaf\u00e9 in utf-8\n".encode() + b"caf\xe9 in latin-1\n")
    frame = ingest(params_for("data", corpus=str(path)))
    assert frame["error"].fillna("").tolist() == ["", "", "invalid UTF-8"]
    assert frame["text"].tolist()[:2] == ["plain utf-8 row", "caf\u00e9 in utf-8"]


def test_mixed_encodings_in_a_text_file_quarantine_only_the_foreign_lines(tmp_path):
    path = tmp_path / "mixed.txt"
    path.write_bytes("na\u00efve utf-8\n".encode() + "na\u00efve latin-1\n".encode("latin-1") + b"ascii\n")
    frame = ingest(params_for("data", corpus=str(path)))
    assert frame["error"].notna().tolist() == [False, True, False]


def test_an_empty_directory_is_an_error(tmp_path):
    with pytest.raises(StageError, match="no corpus files"):
        ingest(params_for("data", corpus=str(tmp_path)))


def test_parquet_with_ids_and_gzipped_parquet(tmp_path):
    table = pd.DataFrame({"id": ["g1", "g2"], "text": glosses(2), "label": ["n", "n"]})
    path = tmp_path / "c.parquet"
    table.to_parquet(path)
    gz = tmp_path / "c.parquet.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    for source in (path, gz):
        frame = ingest(params_for("data", corpus=str(source)))
        assert frame["id"].tolist() == ["g1", "g2"] and frame["text"].tolist() == [t.strip() for t in glosses(2)]


def test_a_corrupt_parquet_names_the_file(tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 not really")
    with pytest.raises(StageError, match="broken.parquet: cannot read as parquet"):
        ingest(params_for("data", corpus=str(path)))
