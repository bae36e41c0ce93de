"""The report model: what every generated sheet shows, as plain dataclasses.

No Excel type and no Excel library here: one model is drawn by every writer
(:mod:`cs_xl.render`: openpyxl for files, the part writer, xlwings live).
Numbers are plain Python values; undefined is ``None`` (never 0).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

@dataclass
class ColumnSpec:
    key: str
    header: str
    fmt: str = "text"  # pct | min | sec | count | score | nps | int | date | text | growth | delta_pct | delta_min
    wrap: bool = False  # long text (reasons): wrapped in a column of moderate width instead of widening it


@dataclass
class KpiCard:
    key: str
    label: str
    value: float | None
    target: float | None
    gap: float | None          # value − target
    met: bool | None           # None: no target or value undefined
    fmt: str


@dataclass
class KpiCards:
    name: str
    title: str
    headers: tuple[str, str, str, str, str]  # label, value, target, gap, met
    cards: list[KpiCard]


@dataclass
class KpiTiles:
    """The few headline numbers drawn as big coloured tiles at the top of the dashboard
    (the same cards as the KPI table, which stays the place to read every number)."""
    name: str
    cards: list[KpiCard]
    target_word: str           # "目标" / "Target", printed before the target in each tile


@dataclass
class TableBlock:
    name: str
    title: str
    columns: list[ColumnSpec]
    rows: list[list]
    note: str = ""


@dataclass
class ChartSpec:
    kind: str                  # "bar" (horizontal) | "col" (vertical bars) | "line" | "pareto" (bars of the
    #                            first value column, the others as lines on a 0–100 % second axis)
    title: str
    table_name: str
    category_col: str
    value_cols: list[str]
    anchor: str = "right"      # "right" of its table | "below" the previous block | "beside:NAME" another block
    y_title: str = ""


@dataclass
class HeatmapBlock:
    name: str
    title: str
    corner: str                # header of the row-label column
    row_labels: list[str]
    col_labels: list[Any]
    values: list[list]         # len(row_labels) × len(col_labels)
    fmt: str = "count"


@dataclass
class TextBlock:
    lines: list[str]
    style: str = "note"        # note | alert | heading | body | item (the written report: text, list items)


@dataclass
class SheetModel:
    key: str                   # language-independent: summary, agents, breakdowns, trends, load, quality
    name: str                  # the sheet's tab name
    title: str                 # heading in A1
    blocks: list = field(default_factory=list)
    freeze_table: str = ""     # name of the table whose header row stays visible when scrolling
    freeze_cols: int = 0       # … and how many of its first columns
    one_page: bool = False     # printed on a single page (the dashboard)


@dataclass
class Report:
    lang: str
    sheets: list[SheetModel]
