"""The dictd reader on real GCIDE entries (the shipped dictionary): what is kept, what is cut and why."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import pytest

from components.core.errors import StageError
from components.data.dictd import decode_number, dictd_to_frame, encode_number, parse_entry, write_dictd
from tests.conftest import GCIDE, write_gcide_slice

INDEX = GCIDE.with_name("gcide.index")


@pytest.fixture(scope="module")
def raw() -> bytes:
    return gzip.open(GCIDE, "rb").read()


@pytest.fixture(scope="module")
def index() -> dict[str, list[tuple[int, int]]]:
    """Headword (lower case) -> its entries' (offset, length), straight from the index file."""
    entries: dict[str, list[tuple[int, int]]] = {}
    for line in INDEX.read_text(encoding="utf-8").splitlines():
        headword, offset, length = line.split("\t")
        entries.setdefault(headword.lower(), []).append((decode_number(offset), decode_number(length)))
    return entries


def entry(raw, index, headword: str, starts: str) -> str:
    """The entry of `headword` whose text starts with `starts` (a headword may have several)."""
    texts = [raw[o : o + n].decode("utf-8") for o, n in index[headword.lower()]]
    return next(t for t in texts if t.startswith(starts))


def kinds(pieces) -> list[str]:
    return [p.kind for p in pieces]


def test_index_numbers_are_dictd_base64():
    assert decode_number("A") == 0 and decode_number("BA") == 64 and decode_number("5I") == 57 * 64 + 8
    assert all(decode_number(encode_number(n)) == n for n in (0, 1, 63, 64, 40096, 39951344))


def test_a_sense_with_quotations_keeps_the_definition_and_cuts_each_quotation(raw, index):
    pieces = parse_entry(entry(raw, index, "Dog", "Dog \\Dog\\, v. t."))
    assert kinds(pieces) == ["definition", "quotation", "quotation", "quotation"]
    assert pieces[0].text == (
        "To hunt or track like a hound; to follow insidiously or indefatigably; to chase with a "
        "dog or dogs; to worry, as if by dogs; to hound with importunity"
    )
    assert pieces[0].source == "1913 Webster" and "--Burroughs" in pieces[2].text


def test_numbered_senses_lose_their_number_domain_label_and_obsolete_marks(raw, index):
    pieces = parse_entry(entry(raw, index, "Zymotic", "Zymotic \\"))
    assert [p.text for p in pieces] == [
        "Of, pertaining to, or caused by, fermentation",
        "Designating, or pertaining to, a certain class of diseases. See Zymotic disease, below",
        "any epidemic, endemic, contagious, or sporadic affection which is produced by "
        "some morbific principle or organism acting on the system like a ferment",
    ]
    gloss = parse_entry(entry(raw, index, "Gloss", "Gloss \\Gloss\\, n. [OE. glose"))
    assert gloss[0].text == "A foreign, archaic, technical, or other uncommon word requiring explanation"
    assert kinds(gloss)[:5] == ["definition", "definition", "quotation", "quotation", "definition"]
    assert gloss[4].text == "A false or specious explanation"  # its citation --Dryden. cut


def test_notes_and_synonym_lists_are_cut_and_wordnet_senses_keep_their_source(raw, index):
    computer = parse_entry(entry(raw, index, "Computer", "Computer \\"))
    assert kinds(computer) == ["definition", "definition", "note", "synonyms", "definition"]
    assert computer[0].text == "One who computes"
    assert computer[3].source == "WordNet 1.5 +PJC"


def test_the_whole_dictionary_reads_with_its_cuts_counted_and_invalid_utf8_kept_as_an_error():
    frame = dictd_to_frame(GCIDE)
    errors = frame["error"].fillna("kept").value_counts()
    assert errors["kept"] > 200_000 and errors["dictd quotation"] > 30_000
    assert frame["id"].is_unique and frame.loc[frame["error"].isna(), "text"].notna().all()
    broken = frame[frame["error"].str.startswith("invalid UTF-8", na=False)]
    assert len(broken) >= 1 and broken["text"].isna().all()  # e.g. "The stock market\x92s drop" (cp1252)


def test_a_slice_round_trips_through_write_dictd(tmp_path):
    dictionary = write_gcide_slice(tmp_path / "slice.dict.dz", entries=50)
    frame = dictd_to_frame(dictionary)
    assert frame["line"].max() == 50 and frame["error"].isna().sum() > 30


def test_bad_dictionaries_are_one_error_naming_the_file(tmp_path):
    write_gcide_slice(tmp_path / "a.dict", 5)
    (tmp_path / "a.index").unlink()
    with pytest.raises(StageError, match=r"a.dict: no dictd index beside it"):
        dictd_to_frame(tmp_path / "a.dict")
    write_dictd([("Word", b"Word \\Word\\, n.\n   A word.\n")], tmp_path / "c.dict")
    (tmp_path / "c.index").write_text("Word\tA\tZZZ\n")
    with pytest.raises(StageError, match="past the end"):
        dictd_to_frame(tmp_path / "c.dict")
    (tmp_path / "c.index").write_text("Word\tA\n")
    with pytest.raises(StageError, match=r"c.index:1: not a dictd index line"):
        dictd_to_frame(tmp_path / "c.dict")


def test_the_ingest_stage_reads_a_dictd_corpus_and_validate_counts_each_cut(tmp_path):
    from tests.conftest import ROOT

    dictionary = write_gcide_slice(tmp_path / "gcide" / "gcide.dict.dz", entries=300)
    params = tmp_path / "params.yaml"
    import yaml

    raw = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    raw["pretrain"]["data"]["corpus"] = str(dictionary)
    params.write_text(yaml.safe_dump(raw), encoding="utf-8")
    base = [sys.executable, "-m"]
    proc = subprocess.run(
        [
            *base,
            "components.kinds.text.stages.ingest",
            "--params",
            str(params),
            "--app",
            "pretrain",
            "--out",
            str(tmp_path / "corpus.parquet"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run(
        [
            *base,
            "components.kinds.text.stages.validate",
            "--params",
            str(params),
            "--app",
            "pretrain",
            "--corpus",
            str(tmp_path / "corpus.parquet"),
            "--out",
            str(tmp_path / "v.parquet"),
            "--quarantine",
            str(tmp_path / "q.parquet"),
            "--metrics",
            str(tmp_path / "m.json"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    import json

    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["rows_in"] == metrics["rows_kept"] + metrics["rows_quarantined"]
    assert metrics["quarantined_by_check"]["error:dictd_quotation"] > 0
    assert Path(tmp_path / "q.parquet").is_file()


def test_the_entry_unit_puts_a_headwords_definitions_in_one_row_and_still_counts_the_cuts(tmp_path):
    dictionary = write_gcide_slice(tmp_path / "slice.dict.dz", entries=80)
    senses, entries = dictd_to_frame(dictionary), dictd_to_frame(dictionary, "entry")
    kept = entries[entries["error"].isna()]
    assert kept["id"].str.endswith(":entry").all() and kept["line"].is_unique
    assert len(kept) == senses.loc[senses["error"].isna(), "line"].nunique()
    assert (entries["error"].value_counts() == senses["error"].value_counts()).all()  # the same cuts
    several = senses[senses["error"].isna()].groupby("line")["text"].agg(list)
    line = several[several.map(len) > 1].index[0]
    assert kept.set_index("line").loc[line, "text"] == ". ".join(several[line])
