"""One quarantine accounting for every kind: each input row is kept or quarantined with its reason, rows in = kept +
quarantined (checked), the reasons counted by check, and one error line naming the corpus, the counts, the setting
and where the rows went when too many are quarantined. A kind's validate stage supplies the reasons only."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from components.core import atomic
from components.core.errors import StageError

log = logging.getLogger(__name__)


def separate(frame: pd.DataFrame, reasons: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(kept, quarantined) from one reason per row (NA where the row passes); quarantined rows carry `reason`."""
    bad = reasons.notna().to_numpy()
    kept = frame.loc[~bad].reset_index(drop=True)
    quarantined = frame.loc[bad].assign(reason=reasons[bad].astype("string").to_numpy()).reset_index(drop=True)
    if len(kept) + len(quarantined) != len(frame):
        raise StageError(f"rows in ({len(frame)}) != kept ({len(kept)}) + quarantined ({len(quarantined)})")
    return kept, quarantined


def first_part(reason: str) -> list[str]:
    """'size:27x28' -> ['size']: a reason's check is what comes before its first colon."""
    return [reason.split(":")[0]]


def account(
    noun: str, kept: pd.DataFrame, quarantined: pd.DataFrame, checks_of: Callable[[str], list[str]] = first_part
) -> dict:
    """{noun}_in / _kept / _quarantined and the count of each failed check (a row may fail several)."""
    counts: dict[str, int] = {}
    for reason in quarantined["reason"] if len(quarantined) else []:
        for check in checks_of(str(reason)):
            counts[check] = counts.get(check, 0) + 1
    return {
        f"{noun}_in": len(kept) + len(quarantined),
        f"{noun}_kept": len(kept),
        f"{noun}_quarantined": len(quarantined),
        "quarantined_by_check": dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
    }


def publish(
    summary: dict,
    noun: str,
    kept: pd.DataFrame,
    quarantined: pd.DataFrame,
    corpus: str,
    max_fraction: float,
    out: Path | str,
    quarantine: Path | str,
    metrics: Path | str,
    quarantine_drop: tuple[str, ...] = (),
) -> None:
    """Write the quarantine and the counts; refuse (kept rows unwritten) when more than `max_fraction`
    (validate.max_quarantine_fraction) of the rows were quarantined."""
    atomic.write_parquet(quarantine, quarantined.drop(columns=list(quarantine_drop)))
    atomic.write_json(metrics, summary)
    rows_in = len(kept) + len(quarantined)
    log.info(
        "%s in %d = kept %d + quarantined %d %s",
        noun,
        rows_in,
        len(kept),
        len(quarantined),
        summary["quarantined_by_check"],
    )
    fraction = len(quarantined) / max(rows_in, 1)
    if fraction > max_fraction:
        # Named after the user's corpus (data.corpus), not this stage's intermediate table.
        raise StageError(
            f"{corpus}: {len(quarantined)} of {rows_in} {noun} ({fraction:.1%}) quarantined, "
            f"above validate.max_quarantine_fraction={max_fraction}; "
            f"reasons {summary['quarantined_by_check']}; {noun} in {quarantine}"
        )
    atomic.write_parquet(out, kept)
