"""What the loader returns: typed frames of the three input tables plus the
data-quality report that says, cell by cell, what was repaired or dropped.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .words import Reason

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
