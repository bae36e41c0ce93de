"""What the loader returns: typed frames of the three input tables plus the
data-quality report that says, cell by cell, what was repaired or dropped.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .schema import TABLES
from .words import Reason, word

QUALITY_COLUMNS = ("sheet", "row", "column", "value", "reason", "action")
ROW = "_row"  # Excel row number of each record, kept on every frame for traceability


@dataclass(frozen=True)
class QualityIssue:
    sheet: str
    row: int | None     # Excel row number (1-based, as shown in Excel); None for sheet-level issues
    column: str | None  # the header as typed in the file
    value: Any
    why: Reason         # a code of words.REASONS with its arguments
    action: str         # repaired | dropped | flagged

    @property
    def reason(self) -> str:
        """The stable English wording (JSON ``by_reason``, scripts, tests)."""
        return self.why.text("en")


@dataclass
class QualityReport:
    issues: list[QualityIssue] = field(default_factory=list)

    def extend(self, other: "QualityReport") -> None:
        self.issues.extend(other.issues)

    def __len__(self) -> int:
        return len(self.issues)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([[getattr(i, c) for c in QUALITY_COLUMNS] for i in self.issues],
                            columns=list(QUALITY_COLUMNS))

    def summary(self) -> dict:
        """Counts for machine-readable output: total, by action, by reason."""
        return {
            "issues": len(self.issues),
            "by_action": dict(Counter(i.action for i in self.issues)),
            "by_reason": dict(Counter(i.reason for i in self.issues)),
        }


@dataclass
class DataSet:
    """Typed input tables (``None`` when the book has no such sheet).

    Each frame has one column per recognised key of :mod:`cs_xl.schema` plus
    ``_row``, the Excel row number the record came from.
    """
    tickets: pd.DataFrame | None = None
    feedback: pd.DataFrame | None = None
    calls: pd.DataFrame | None = None
    quality: QualityReport = field(default_factory=QualityReport)
    source: str = ""
    # header text as found in the file, per table and key (for messages)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    # where each table was found: table key -> sheet name
    sheets: dict[str, str] = field(default_factory=dict)
    # the frames hold what the loader typed (schema kinds), so metrics need not parse them again
    typed: bool = False
    # derived lookups computed once per data set (not copied by dataclasses.replace)
    memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def table(self, key: str) -> pd.DataFrame | None:
        return getattr(self, key)

    def has(self, table: str, *columns: str) -> bool:
        frame = self.table(table)
        return frame is not None and all(c in frame.columns for c in columns)


# ---------------------------------------------------------------- what the quality report adds up to

def dropped_records(ds: DataSet) -> int:
    """Records the loader left out: rows with a quality issue that are not in the loaded frames."""
    return len(dropped_rows(ds))


def dropped_rows(ds: DataSet) -> set[tuple[str, int]]:
    """(sheet, Excel row) of every record the loader left out."""
    kept: dict[str, set] = {}
    for table, sheet in ds.sheets.items():
        frame = ds.table(table)
        kept[sheet] = set(frame[ROW].tolist()) if frame is not None and ROW in frame.columns else set()
    return {(i.sheet, i.row) for i in ds.quality.issues
            if i.row is not None and (i.sheet in kept and i.row not in kept[i.sheet]
                                      # a source record an import left out (导入日志): never in the book
                                      or i.sheet not in kept and i.action == "dropped" and i.column is None)}


def quality_counts(ds: DataSet) -> dict[str, int]:
    """The issues the way a user reconciles them with the sheets: records dropped (rows left
    out of every metric) apart from the cells of the records kept — repaired, dropped (the
    value is ignored, the record counts) or flagged."""
    gone = dropped_rows(ds)
    counts = {"issues": len(ds.quality), "records_dropped": len(gone),
              "cells_repaired": 0, "cells_dropped": 0, "flagged": 0}
    for issue in ds.quality.issues:
        if (issue.sheet, issue.row) not in gone:
            key = "flagged" if issue.action == "flagged" else f"cells_{issue.action}"
            counts[key] = counts.get(key, 0) + 1
    return counts


def quality_counts_text(ds: DataSet, lang: str) -> str:
    """「剔除记录 1; 单元格 已修正 9, 已剔除 6; 已标记 0」: the same words in the CLI, the README and 数据质量."""
    return word("quality_counts", lang).format(**quality_counts(ds))


def detect_lang(ds: DataSet) -> str:
    """English when the input sheets carry the English template's names, else Chinese."""
    english = {t.sheet_en for t in TABLES.values()}
    return "en" if ds.sheets and all(s in english for s in ds.sheets.values()) else "zh"
