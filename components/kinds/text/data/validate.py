"""Validate stage: a pandera row contract splits the canonical table into kept and quarantined rows.

Rows that break the contract are never dropped silently: each goes to the quarantine
table with the checks it failed, and `rows_in == rows_kept + rows_quarantined` is
asserted before anything is written. Too much quarantine fails the stage, because
training on whatever is left of a broken corpus hides the breakage.
"""

from __future__ import annotations

import logging

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from components.core.errors import StageError
from components.data.dictd import CUTS
from components.data.quarantine import account, separate
from components.kinds.text.params import ValidateParams

log = logging.getLogger(__name__)

CONTROL_CHARS = r"[\x00-\x08\x0b-\x1f\x7f]"
# How ingest's `error` column begins for each way a row can be unreadable -> the check that names it.
INGEST_ERRORS = {
    "valid_utf8": "invalid UTF-8",
    "valid_json": "invalid JSON",
    "has_text_field": "no string field",
    "text_is_a_string": "text is not a string",
    # A dictionary's pieces that are not definitions (components/data/dictd.py): cut, and counted.
    **{f"dictd_{cut}": f"dictd {cut}" for cut in CUTS},
}


def row_contract(p: ValidateParams, require_label: bool = False) -> type[pa.DataFrameModel]:
    """The row contract for these bounds: one pandera check per reason a row can be quarantined. With
    `require_label` (a conditional application), a row without a label is quarantined as `has_label`."""

    class CorpusRow(pa.DataFrameModel):
        id: Series[str] = pa.Field(nullable=False)
        text: Series[str] = pa.Field(nullable=False, str_length={"min_value": p.min_chars, "max_value": p.max_chars})
        error: Series[str] = pa.Field(nullable=True)
        label: Series[str] | None = pa.Field(nullable=True)
        source: Series[str]
        line: Series[int]

        @pa.check("error", name="valid_utf8")
        def valid_utf8(cls, error: Series[str]) -> Series[bool]:
            return ~error.str.startswith(INGEST_ERRORS["valid_utf8"], na=False)

        @pa.check("error", name="valid_json")
        def valid_json(cls, error: Series[str]) -> Series[bool]:
            return ~error.str.startswith(INGEST_ERRORS["valid_json"], na=False)

        @pa.check("error", name="has_text_field")
        def has_text_field(cls, error: Series[str]) -> Series[bool]:
            return ~error.str.startswith(INGEST_ERRORS["has_text_field"], na=False)

        @pa.check("error", name="text_is_a_string")
        def text_is_a_string(cls, error: Series[str]) -> Series[bool]:
            return ~error.str.startswith(INGEST_ERRORS["text_is_a_string"], na=False)

        @pa.check("error", name="dictd_quotation")
        def dictd_quotation(cls, error: Series[str]) -> Series[bool]:
            return ~error.eq(INGEST_ERRORS["dictd_quotation"]).fillna(False).astype(bool)

        @pa.check("error", name="dictd_note")
        def dictd_note(cls, error: Series[str]) -> Series[bool]:
            return ~error.eq(INGEST_ERRORS["dictd_note"]).fillna(False).astype(bool)

        @pa.check("error", name="dictd_synonyms")
        def dictd_synonyms(cls, error: Series[str]) -> Series[bool]:
            return ~error.eq(INGEST_ERRORS["dictd_synonyms"]).fillna(False).astype(bool)

        @pa.check("error", name="dictd_empty")
        def dictd_empty(cls, error: Series[str]) -> Series[bool]:
            return ~error.eq(INGEST_ERRORS["dictd_empty"]).fillna(False).astype(bool)

        @pa.check("error", name="read_by_ingest")
        def read_by_ingest(cls, error: Series[str]) -> Series[bool]:  # an ingest error of a kind not named above
            return error.isna() | error.str.startswith(tuple(INGEST_ERRORS.values()), na=False)

        @pa.check("text", name="not_blank")
        def not_blank(cls, text: Series[str]) -> Series[bool]:
            return text.str.strip().str.len() > 0

        @pa.check("text", name="no_control_characters")
        def no_control_characters(cls, text: Series[str]) -> Series[bool]:
            return ~text.str.contains(CONTROL_CHARS, regex=True, na=False)

        @pa.check("text", name=f"tokens_between_{p.min_tokens}_and_{p.max_tokens}")
        def token_count(cls, text: Series[str]) -> Series[bool]:
            n = text.str.split().str.len()
            return (n >= p.min_tokens) & (n <= p.max_tokens)

        @pa.check("label", name="has_label", ignore_na=False)  # nulls are what it looks for
        def has_label(cls, label: Series[str]) -> Series[bool]:
            return label.notna() if require_label else pd.Series(True, index=label.index)

        @pa.check("id", name="id_unique")
        def id_unique(cls, ids: Series[str]) -> Series[bool]:
            return ~ids.duplicated(keep="first")

        class Config:
            strict = False

    return CorpusRow


def quarantine_rows(
    frame: pd.DataFrame, p: ValidateParams, require_label: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split `frame` into (kept, quarantined); quarantined rows carry a `reason` column."""
    try:
        row_contract(p, require_label).validate(frame, lazy=True)
        failures = pd.DataFrame(columns=["index", "column", "check"])
    except pa.errors.SchemaErrors as err:
        failures = err.failure_cases
    whole_table = failures[failures["index"].isna()]
    if not whole_table.empty:
        problems = "; ".join(f"{r.column}: {r.check}" for r in whole_table.itertuples())
        raise StageError(f"the table breaks the contract as a whole: {problems}")
    # A row ingest could not read has no text: its text checks fail only because of that, so its reason is the
    # ingest failure alone (valid_json, valid_utf8, ...), not not_nullable as well.
    unreadable = frame.index[frame["error"].notna()]
    failures = failures[~(failures["index"].isin(unreadable) & (failures["column"] != "error"))]
    reasons = (
        failures.assign(reason=failures["column"].astype(str) + ":" + failures["check"].astype(str))
        .groupby("index")["reason"]
        .agg(lambda r: "; ".join(sorted(set(r))))
    )
    return separate(frame, reasons.reindex(frame.index))


def summarize(kept: pd.DataFrame, quarantined: pd.DataFrame) -> dict:
    """rows_in / rows_kept / rows_quarantined and each failed check's count (a row's reasons are `; `-joined)."""
    return account("rows", kept, quarantined, checks_of=lambda reason: reason.split("; "))
