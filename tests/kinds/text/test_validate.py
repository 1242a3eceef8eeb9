import pandas as pd
import pytest

from components.core.errors import StageError
from components.data.text_files import lines_to_frame
from components.kinds.text.data.validate import quarantine_rows, summarize
from tests.conftest import glosses, params_for

BAD_LINES = [b"", b"   ", b"tab\x01control", b"bad \xff utf8", b"x", " ".join(["w"] * 100).encode()]


def corpus_with_bad_rows() -> pd.DataFrame:
    raw = b"\n".join([line.encode() for line in glosses(300)] + BAD_LINES) + b"\n"
    frame = lines_to_frame(raw)
    frame["id"] = [f"mixed.txt:{n}" for n in frame["line"]]
    frame["source"] = "mixed.txt"
    frame["split"] = None
    return frame.astype({"id": "string", "text": "string", "error": "string", "split": "string"})


def test_rows_in_equal_rows_kept_plus_quarantined_with_reasons():
    frame = corpus_with_bad_rows()
    kept, quarantined = quarantine_rows(frame, params_for("validate", min_chars=2, max_tokens=48))
    assert len(kept) + len(quarantined) == len(frame)
    assert len(quarantined) == len(BAD_LINES)
    reasons = dict(zip(quarantined["line"], quarantined["reason"]))
    assert "not_blank" in reasons[301] and "not_blank" in reasons[302]
    assert "no_control_characters" in reasons[303]
    assert reasons[304] == "error:valid_utf8"  # the real failure alone, not text:not_nullable as well
    assert "str_length" in reasons[305]
    assert "tokens_between" in reasons[306]
    summary = summarize(kept, quarantined)
    assert summary["rows_in"] == len(frame) and summary["rows_quarantined"] == len(BAD_LINES)


def test_duplicate_ids_quarantine_all_but_the_first():
    frame = corpus_with_bad_rows().head(5).copy()
    frame.loc[3, "id"] = frame.loc[1, "id"]
    kept, quarantined = quarantine_rows(frame, params_for("validate"))
    assert quarantined["line"].tolist() == [4]
    assert "id_unique" in quarantined["reason"][0]


def test_a_missing_column_fails_the_whole_table():
    frame = corpus_with_bad_rows().drop(columns=["text"])
    with pytest.raises(StageError, match="as a whole"):
        quarantine_rows(frame, params_for("validate"))


def test_a_one_megabyte_line_is_quarantined_not_fatal():
    raw = b"\n".join([line.encode() for line in glosses(50)] + [b"word " * 200_000]) + b"\n"
    frame = lines_to_frame(raw)
    frame["id"], frame["source"], frame["split"] = [f"b:{n}" for n in frame["line"]], "big.txt", None
    kept, quarantined = quarantine_rows(
        frame.astype({"id": "string", "text": "string", "error": "string"}), params_for("validate")
    )
    assert len(kept) == 50 and len(quarantined) == 1
    assert "str_length" in quarantined["reason"][0] and "tokens_between" in quarantined["reason"][0]


def test_a_malformed_jsonl_record_is_quarantined_as_invalid_json():
    from components.data.text_files import jsonl_to_frame

    frame = jsonl_to_frame(
        b'{"text": "a fine sentence"}\nnot json\n{"text": "caf\xe9"}\n{"other": 1}\n', "text", "label"
    )
    frame = frame.assign(id=[f"x.jsonl:{n}" for n in frame["line"]], source="x.jsonl")
    frame = frame.astype({"id": "string", "text": "string", "error": "string", "source": "string"})
    _, quarantined = quarantine_rows(frame, params_for("validate"))
    assert dict(zip(quarantined["line"], quarantined["reason"])) == {
        2: "error:valid_json",
        3: "error:valid_utf8",
        4: "error:has_text_field",
    }
