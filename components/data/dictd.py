"""Reading a dictionary in dictd's format (a `.dict` or dictzip `.dict.dz` file beside its `.index`) into rows of
definitions: how the pretraining corpus, GCIDE (Webster 1913 plus additions), is ingested.

An entry is a headword line (`Dog \\Dog\\, v. t. [imp. & p. p. {Dogged}; ...]`: pronunciation between backslashes,
part of speech, etymology or grammar in brackets, possibly over several lines), then pieces separated by blank lines
or source tags (`[1913 Webster]`, `[WordNet 1.5 +PJC]`): numbered senses (`2. (Med.) Designating ...`), run-in phrase
definitions (`{Zymotic disease} (Med.), any epidemic ...`), quotations (indented deeper, ending `--Author.`), notes
(`Note:`) and synonym lists (`Syn:`).

The contract, like every reader's: one row per piece, in file order, nothing dropped here. A definition becomes
clean text: sense number, domain label `(Med.)`, bracketed remarks `[Obs.]`, cross-reference braces `{...}`, a
trailing citation `--Holland.`, quoted usage examples after the definition (`"He departed this life." --Addison.`)
and a trailing usage remark `-- called also ...` are cut, whitespace collapsed and the
final full stop dropped (WordNet's glosses have none). Every other piece keeps its place with text=None and what it
is in `error` (`dictd quotation`, `dictd note`, ...), so the validate stage quarantines it under a named check and
rows in = kept + quarantined counts the cuts. An entry that is not valid UTF-8 is one row with `invalid UTF-8`.
The index's `00-database-*` entries describe the database, not words: they are skipped and counted in the log.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from components.core.errors import StageError

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
CUTS = ("quotation", "note", "synonyms", "empty")
"""What a piece that is not a definition is called in `error` (prefixed `dictd `)."""

SOURCE_TAG = re.compile(r"^\s*\[([^\[\]]*)\]\s*$")
SENSE_START = re.compile(r"^ {3,6}(\d+\.|\([a-z]\))\s")
CITATION = re.compile(r'\s*--\s*[A-Z][^;"]{0,40}$')
USAGE_REMARK = re.compile(r"\s+--\s+.*$")
BRACKETS = re.compile(r"\[[^\[\]]*\]")
LEADING_LABELS = re.compile(r"^(?:\d+\.\s*|\([a-z]\)\s*|\([^()]*\)\s*)+")
EXAMPLES = re.compile(r'(?<=[.;:!?])\s+"[^"]*"\s*(?:--[^"]*?)?\s*$')
"""A quoted usage example after the definition, with its citation: `... impulse. "The impulsion." --Clarendon.`"""
PHRASE = re.compile(r"^\{[^{}]*\}\s*(?:\([^()]*\)\s*)*,\s*")


@dataclass(frozen=True)
class Piece:
    """One piece of an entry: `kind` is 'definition' or one of CUTS; `source` its source tag ('' when untagged)."""

    kind: str
    text: str
    source: str


def decode_number(digits: str) -> int:
    """dictd's base64 numbers (offsets and lengths in the index): most significant digit first."""
    value = 0
    for char in digits:
        position = B64.find(char)
        if position < 0:
            raise ValueError(f"{digits!r} is not a dictd base64 number")
        value = value * 64 + position
    return value


def encode_number(value: int) -> str:
    """The inverse of decode_number."""
    digits = ""
    while True:
        value, digit = divmod(value, 64)
        digits = B64[digit] + digits
        if value == 0:
            return digits


def write_dictd(entries: list[tuple[str, bytes]], dictionary: Path) -> None:
    """Write (headword, entry bytes) as a dictd dictionary (gzip-compressed when the name ends in .dz, which
    dictd's readers accept) and its index beside it: how tests cut a real slice of GCIDE."""
    index, body, offset = [], b"", 0
    for headword, chunk in entries:
        index.append(f"{headword}\t{encode_number(offset)}\t{encode_number(len(chunk))}\n")
        body, offset = body + chunk, offset + len(chunk)
    dictionary.parent.mkdir(parents=True, exist_ok=True)
    opener = gzip.open if dictionary.suffix == ".dz" else open
    with opener(dictionary, "wb") as fh:
        fh.write(body)
    name = dictionary.name.removesuffix(".dz").removesuffix(".dict")
    dictionary.with_name(f"{name}.index").write_text("".join(index), encoding="utf-8")


def read_index(raw: bytes, path: Path) -> list[tuple[str, int, int]]:
    """(headword, offset, length) per distinct entry, in file order (several headwords may share an entry)."""
    seen: dict[tuple[int, int], str] = {}
    for number, line in enumerate(raw.decode("utf-8", errors="replace").splitlines(), start=1):
        fields = line.split("\t")
        try:
            headword, offset, length = fields[0], decode_number(fields[1]), decode_number(fields[2])
        except (IndexError, ValueError) as err:
            raise StageError(f"{path}:{number}: not a dictd index line (headword, offset, length): {err}") from err
        seen.setdefault((offset, length), headword)
    return [(headword, offset, length) for (offset, length), headword in sorted(seen.items())]


def split_header(lines: list[str]) -> list[str]:
    """The entry's lines after its headword line (and the lines its open brackets run on to)."""
    depth, rest = 0, list(lines)
    while rest:
        line = rest.pop(0)
        depth += line.count("[") - line.count("]")
        if depth <= 0:
            break
    return rest


def pieces_of(lines: list[str]) -> list[tuple[list[str], str]]:
    """Group content lines into pieces (their lines, their source tag): a blank line, a source tag, a new sense, a
    note or a synonym list ends a piece. (A quotation always follows a blank line or a source tag; its first line's
    indentation, deeper than a definition's, is what parse_entry tells it by.)"""
    out: list[tuple[list[str], str]] = []
    current: list[str] = []

    def close(source: str = "") -> None:
        nonlocal current
        if current:
            out.append((current, source))
        elif source and out and not out[-1][1]:
            out[-1] = (out[-1][0], source)
        current = []

    for line in lines:
        tag = SOURCE_TAG.match(line)
        if tag:
            close(tag.group(1).strip())
        elif not line.strip():
            close()
        else:
            if current and (SENSE_START.match(line) or line.lstrip().startswith(("Note:", "Syn:"))):
                close()
            current.append(line)
    close()
    return out


def indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def clean_definition(text: str) -> str:
    """A sense's text as a sentence: labels, brackets, braces, citations and usage remarks cut."""
    text = " ".join(text.split())
    text = PHRASE.sub("", text)
    text = LEADING_LABELS.sub("", text)
    while BRACKETS.search(text):  # innermost first: remarks may nest ([Cf. F. particularit['e].])
        text = BRACKETS.sub("", text)
    text = USAGE_REMARK.sub("", text)
    while EXAMPLES.search(text):  # from the end: each example (and its citation) after the last one's cut
        text = EXAMPLES.sub("", text)
    text = CITATION.sub("", text)
    text = text.replace("{", "").replace("}", "")
    text = " ".join(text.split()).strip(" ;,")
    return text[:-1] if text.endswith(".") else text


def parse_entry(text: str) -> list[Piece]:
    """An entry's pieces, in order."""
    result = []
    for lines, source in pieces_of(split_header(text.rstrip("\n").split("\n"))):
        first = lines[0].lstrip()
        if indent(lines[0]) >= 8:
            kind = "quotation"
        elif first.startswith("Note:"):
            kind = "note"
        elif first.startswith("Syn:"):
            kind = "synonyms"
        else:
            kind = "definition"
        body = clean_definition("\n".join(lines)) if kind == "definition" else " ".join(" ".join(lines).split())
        if kind == "definition" and not body:
            kind = "empty"
        result.append(Piece(kind, body, source))
    return result


def dictd_files(path: Path) -> tuple[Path, Path]:
    """(dictionary, index) for a `.dict` or `.dict.dz` path: the index is `<name>.index` beside it."""
    name = path.name.removesuffix(".dz").removesuffix(".dict")
    index = path.with_name(f"{name}.index")
    if not path.is_file():
        raise StageError(f"{path}: dictionary file not found")
    if not index.is_file():
        raise StageError(f"{path}: no dictd index beside it (expected {index})")
    return path, index


def read_dictionary(path: Path) -> bytes:
    opener = gzip.open if path.suffix == ".dz" else open  # dictzip is gzip with a random-access table
    try:
        with opener(path, "rb") as fh:
            return fh.read()
    except (OSError, EOFError) as err:
        raise StageError(f"{path}: cannot read as dictd (dictzip or plain): {err}") from err


def dictd_to_frame(path: Path, unit: str = "definition") -> pd.DataFrame:
    """The dictionary's pieces as rows: id `<headword>@<offset>:<piece>`, text (None for a cut), line (entry number,
    from 1), error (`dictd <cut>` or `invalid UTF-8 ...`), source_tag. With unit `entry`, an entry's definitions are
    one row (`<headword>@<offset>:entry`, joined by '. ': long sequences) and its cut pieces rows of their own."""
    dictionary, index_path = dictd_files(path)
    raw = read_dictionary(dictionary)
    rows = []
    entries = [e for e in read_index(index_path.read_bytes(), index_path) if not e[0].startswith("00-")]
    if not entries:
        raise StageError(f"{index_path}: the index lists no entries")
    for number, (headword, offset, length) in enumerate(entries, start=1):
        chunk = raw[offset : offset + length]
        if offset + length > len(raw):
            raise StageError(
                f"{index_path}: entry {headword!r} at {offset}+{length} lies past the end of "
                f"{dictionary} ({len(raw)} bytes): index and dictionary do not belong together"
            )
        entry_id = f"{headword}@{offset}"
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError as err:
            rows.append((f"{entry_id}:0", None, number, f"invalid UTF-8 at byte {offset + err.start}", ""))
            continue
        pieces = parse_entry(text)
        if unit == "entry":
            kept = [p for p in pieces if p.kind == "definition"]
            if kept:
                rows.append((f"{entry_id}:entry", ". ".join(p.text for p in kept), number, None, kept[0].source))
        for n, piece in enumerate(pieces):
            if unit == "entry" and piece.kind == "definition":
                continue
            error = None if piece.kind == "definition" else f"dictd {piece.kind}"
            rows.append((f"{entry_id}:{n}", piece.text if error is None else None, number, error, piece.source))
    return pd.DataFrame(rows, columns=["id", "text", "line", "error", "source_tag"])
