"""Arguments of the CS_* formulas, as each caller hands them over, made into columns.

Three callers pass ranges in three shapes; this module is the one place that
reads them, so every CS_* function sees the same thing — a flat list of raw
cells per range, ``None`` for blanks, error codes as text (``"#N/A"``):

* **classic xlwings** (Windows add-in): an ``xw.Range`` (the functions take
  ranges with the ``"range"`` converter, so nothing is read before it is
  trimmed) or, in a plain call, a 2-D list of rows;
* **xlwings Server / Lite** (Office.js): the raw JSON — a 2-D list with ``""``
  for blanks, dates as serial numbers and errors as
  ``{"type": "Error", "basicValue": "#N/A", …}``.  The functions declare their
  ranges with the ``"raw"`` converter: xlwings' own value conversion calls
  ``xlwings.utils.is_jsnull`` per cell, which on CPython attempts an import
  each time (≈ 35–65 s for a whole column); :func:`cells_of` does the same
  cleaning after trimming the unused tail (≈ 1 s for ``F:F``);
* **cs-xl calc** (the ``formulas`` engine): 2-D numpy object arrays, already
  trimmed to the used rows and cleaned by :mod:`cs_xl.calc`.

Whole columns (1,048,576 rows) cost what their used part costs: trailing
blank rows are cut before any per-cell work, a leading header row is
recognised and left out, and rows blank in every range of a call are
ignored.  Ranges of one call must have the same shape (``#VALUE!``
otherwise, like ``COUNTIFS``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from . import coerce, schema
from .criteria import ERROR_CODES

NA = "#N/A"
VALUE = "#VALUE!"


class UdfError(ValueError):
    """A bad argument: the Excel error code and a message naming the argument.

    Both xlwings paths show the message: the classic add-in writes the text
    of a Python exception into the cell, Office.js shows ``#VALUE!`` with the
    message on hover."""

    def __init__(self, message: str, code: str = VALUE):
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code} {self.message}"


@dataclass
class Column:
    """One range argument: its cells (row-major, trimmed) and its declared shape."""
    name: str
    cells: list
    rows: int          # rows the range spans in the sheet (before trimming)
    cols: int

    @property
    def shape(self) -> tuple[int, int]:
        return self.rows, self.cols


# ------------------------------------------------------------------ one range

def _is_blank(cell) -> bool:
    return cell is None or (cell.__class__ is str and cell == "")


def _blank_row(row) -> bool:
    return all(_is_blank(c) for c in row)


_CHUNKS = (65536, 4096, 256, 16)


def _cut_blank_tail(items: Sequence, blanks: Sequence, is_blank) -> int:
    """Length of ``items`` without its blank tail.

    The tail of a whole column is a million identical blanks: whole slices
    of it are compared with a template (list equality runs in C), so only
    the last few items are looked at one by one."""
    n = len(items)
    for blank in blanks:
        for size in _CHUNKS:
            tail = [blank] * size
            while n >= size and items[n - size:n] == tail:
                n -= size
    while n and is_blank(items[n - 1]):
        n -= 1
    return n


def used_rows(rows: Sequence[Sequence]) -> int:
    """Number of rows up to the last one holding a value (the rest is the unused tail)."""
    blanks = ()
    if rows and isinstance(rows[-1], (list, tuple)):
        blanks = [type(rows[-1])([blank] * len(rows[-1])) for blank in (None, "")]
    return _cut_blank_tail(rows, blanks, _blank_row)


def _clean(cell):
    """A raw cell in the common form: "" → None, Office.js error objects → "#N/A" …"""
    if cell.__class__ is str:
        return None if cell == "" else cell
    if isinstance(cell, dict):  # Office.js data types: errors and formatted values
        value = cell.get("basicValue")
        if cell.get("type") == "Error":
            return value if isinstance(value, str) and value.startswith("#") else VALUE
        return value
    return cell


def _is_range_object(value) -> bool:
    """An xw.Range (classic add-in) — duck-typed so nothing here imports xlwings."""
    return hasattr(value, "sheet") and hasattr(value, "options") and hasattr(value, "last_cell")


def _read_range(rng) -> tuple[list[list], int, int]:
    """Values of an xw.Range cut to the sheet's used rows before reading.

    Reading a whole column through COM costs seconds per million cells, so the
    range is resized to end at the used range's last row first."""
    rows, cols = rng.shape
    last_used = rng.sheet.used_range.last_cell.row
    keep = min(rng.last_cell.row, last_used) - rng.row + 1
    if keep <= 0:
        return [], rows, cols
    values = rng.resize(keep, cols).options(ndim=2, err_to_str=True).value
    return values, rows, cols


def _as_rows(value) -> tuple[list, int, int]:
    """(rows, declared rows, declared columns) of any supported argument shape."""
    if _is_range_object(value):
        return _read_range(value)
    if isinstance(value, np.ndarray):
        grid = value.reshape(-1, 1) if value.ndim == 1 else value.reshape(value.shape[0], -1)
        return grid.tolist(), grid.shape[0], grid.shape[1]
    if isinstance(value, (list, tuple)):
        if not value:
            return [], 0, 0
        if isinstance(value[0], (list, tuple)):
            return value, len(value), len(value[0])
        return [[v] for v in value], len(value), 1  # a flat list is a column
    return [[value]], 1, 1  # one cell


def _used_length(cells: list) -> int:
    """Length up to the last non-blank cell of a flat column."""
    return _cut_blank_tail(cells, (None, ""), _is_blank)


def _flat_column(value) -> list | None:
    """The cells of a one-column argument as a flat list (no list per row), else None."""
    if isinstance(value, np.ndarray) and value.ndim and (value.ndim == 1 or value.shape[-1] == 1):
        return value.ravel().tolist()
    if isinstance(value, list) and value and not isinstance(value[0], (list, tuple)):
        return value
    return None


def column(name: str, value) -> Column:
    """A range argument as a Column: trailing blank rows cut, then cells cleaned."""
    flat = _flat_column(value)
    if flat is not None:
        n_rows, n_cols = len(flat), 1
    else:
        rows, n_rows, n_cols = _as_rows(value)
        rows = rows[:used_rows(rows)]
        flat = [row[0] for row in rows] if n_cols == 1 else [c for row in rows for c in row]
    flat = flat[:_used_length(flat)]
    cells = [c if c.__class__ is float else _clean(c) for c in flat]  # floats, most cells, need nothing
    return Column(name, cells, n_rows, n_cols)


# ------------------------------------------------------------------ ranges of one call

_HEADERS = frozenset(alias for table in schema.ALIASES.values() for alias in table)


def _looks_like_header(cell, kind: str) -> bool:
    """Text the column's kind cannot read, or any header the loader knows (工单编号, Status …)."""
    if not isinstance(cell, str):
        return False
    if schema.normalize_header(cell) in _HEADERS:
        return True
    if kind == "text" or cell.upper() in ERROR_CODES:
        return False
    return coerce.PARSERS[kind](cell)[0] is None


def align(columns: Sequence[Column], kinds: Sequence[str], criteria: Sequence[Column] = ()) -> np.ndarray:
    """Check the shapes and pad every column to the same length in place.

    Returns the positions to use: not blank in every value column and not the
    leading header row.  ``kinds`` are the value columns' cell kinds
    (minutes, flag, text …) for recognising a header."""
    everything = [*columns, *criteria]
    shapes = {c.shape for c in everything}
    if len(shapes) > 1:
        detail = ", ".join(f"{c.name} {c.rows}×{c.cols}" for c in everything)
        raise UdfError(f"ranges must have the same size (like COUNTIFS): {detail}")
    length = max((len(c.cells) for c in everything), default=0)
    for c in everything:
        c.cells.extend([None] * (length - len(c.cells)))
    keep = np.zeros(length, dtype=bool)
    for c in columns:
        cells = np.empty(length, dtype=object)
        cells[:] = c.cells
        keep |= pd.notna(cells)  # vectorised: a whole column is a million cells
    first = int(np.argmax(keep)) if keep.any() else None
    if first is not None and all(_looks_like_header(c.cells[first], k) or c.cells[first] is None
                                 for c, k in zip(columns, kinds)):
        keep[first] = False
    return keep


# ------------------------------------------------------------------ scalars and results

def scalar(name: str, value) -> Any:
    """A scalar argument: a one-cell range becomes its value; blank → None."""
    if _is_range_object(value):
        value = value.options(ndim=2, err_to_str=True).value
    if isinstance(value, np.ndarray):
        value = value.tolist()
    while isinstance(value, (list, tuple)):
        if len(value) != 1:
            raise UdfError(f"{name} must be a single value, got a range of {len(value)} cells")
        value = value[0]
    value = _clean(value)
    if isinstance(value, str) and value.upper() in ERROR_CODES:
        raise UdfError(f"{name} is the error {value}", value.upper())
    return value


def level_table(name: str, value) -> dict | None:
    """Minutes per priority level from a range: 4 cells (一级…四级 in order) or
    rows of (level, minutes) such as 一级 | 5.  Blank → None (the defaults)."""
    return _keyed_table(name, value, (1, 2, 3, 4), "一级…四级", "level")


def channel_table(name: str, value) -> dict | None:
    """FRT target minutes per channel class from a range: 3 cells (即时通讯,
    电话, 邮件 in order, as on 参数) or rows of (channel, minutes) such as
    在线 | 1.  Blank → None (the defaults)."""
    return _keyed_table(name, value, schema.CHANNEL_CLASSES, ", ".join(schema.CHANNEL_CLASSES), "channel")


def _keyed_table(name: str, value, keys: tuple, keys_text: str, row_key: str) -> dict | None:
    """A small key → minutes table: one cell per key of ``keys`` in order, or rows of (key, minutes)."""
    if value is None:
        return None
    rows, _, _ = _as_rows(value)
    rows = [[_clean(c) for c in row] for row in rows[:used_rows(rows)]]
    cells = [c for row in rows for c in row]
    if rows and all(len(row) == 1 for row in rows) or len(rows) == 1:
        if len(cells) != len(keys):
            raise UdfError(f"{name}: give {len(keys)} values ({keys_text}) or rows of {row_key} and minutes, "
                           f"got {len(cells)} cells")
        return {key: minutes for key, minutes in zip(keys, cells) if minutes is not None}
    return {row[0]: row[-1] for row in rows if row[0] is not None and row[-1] is not None}


def result(value) -> Any:
    """A metric's float as a cell value: undefined (NaN) → #N/A, never 0."""
    if value is None:
        return NA
    number = float(value)
    return NA if np.isnan(number) else number
