"""COUNTIFS criteria, as Excel reads them, for the trailing pairs of the CS_* formulas.

``=CS_FRT_AVG(F:F, E:E, "物流咨询", K:K, ">=3")`` keeps the rows where
every criteria range matches its criterion, exactly as ``COUNTIFS`` would:

* A criterion is an optional operator (``=``, ``<>``, ``<``, ``<=``, ``>``,
  ``>=``) and an operand.  An operand that reads as a number (``"3"``,
  ``"50%"``) or a date (``"2024-03-01"``) compares numerically with number
  and date cells; ``TRUE``/``FALSE`` with logical cells; ``#N/A`` and the other
  error codes with error cells; anything else is text.
* Text matches case-insensitively, with the wildcards ``*`` (any run),
  ``?`` (one character) and ``~`` (the next character literally), for ``=``
  and ``<>`` only; ``<``/``>`` on text compare alphabetically (case-folded).
* Equality with a number also matches text cells holding that number
  (``"3"`` counts for ``=3``, as in Excel); the ordering operators only see
  number and date cells.
* ``""`` and ``"="`` match blank cells, ``"<>"`` non-blank ones; ``<>x``
  matches everything that ``=x`` does not, blanks and errors included.
* A criterion cell that is empty counts as 0 (Excel's rule for COUNTIFS).

Cells are raw Excel values as the add-ins hand them over: ``None`` for blanks,
floats, datetimes (classic) or date serial numbers (Office.js), booleans,
text, and error codes as text (``"#N/A"``).  Criteria never use the loader's
repairs (``"5分钟"`` is text here, as it is for COUNTIFS).
"""
from __future__ import annotations

import datetime as dt
import functools
import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

ERROR_CODES = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A",
                         "#GETTING_DATA", "#SPILL!", "#CALC!"})
_OPERATORS = ("<>", "<=", ">=", "=", "<", ">")  # two-character operators first
_EPOCH = dt.datetime(1899, 12, 30)
_DATE_TEXT = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")

BLANK, NUMBER, TEXT, LOGICAL, ERROR = "blank", "number", "text", "logical", "error"


def excel_serial(value: dt.date) -> float:
    """Days since 1899-12-30 (Excel's 1900 date system), time as the fraction."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    return (value.replace(tzinfo=None) - _EPOCH).total_seconds() / 86400.0


def cell_type(cell: Any) -> tuple[str, Any]:
    """(Excel type, comparable value) of a raw cell: dates become serial numbers."""
    if cell is None or (isinstance(cell, str) and cell == ""):
        return BLANK, None
    if isinstance(cell, (bool, np.bool_)):
        return LOGICAL, bool(cell)
    if isinstance(cell, (int, float, np.integer, np.floating)):
        value = float(cell)
        return (BLANK, None) if math.isnan(value) else (NUMBER, value)
    if isinstance(cell, (dt.date, np.datetime64)):
        stamp = cell if isinstance(cell, dt.date) else _to_datetime(cell)
        return NUMBER, excel_serial(stamp)
    if isinstance(cell, dt.time):
        return NUMBER, (cell.hour * 3600 + cell.minute * 60 + cell.second) / 86400.0
    text = str(cell)
    if text.upper() in ERROR_CODES:
        return ERROR, text.upper()
    return TEXT, text


def _to_datetime(value: np.datetime64) -> dt.datetime:
    return dt.datetime.fromisoformat(str(np.datetime_as_string(value, unit="s")))


def _number_from_text(text: str) -> float | None:
    """A number as Excel reads typed text: "3", " -2.5 ", "1e3", "50%"; else None."""
    t = text.strip()
    scale = 1.0
    if t.endswith("%"):
        t, scale = t[:-1].strip(), 0.01
    try:
        value = float(t)
    except ValueError:
        return None
    return value * scale if math.isfinite(value) and t.lower() not in ("nan", "inf", "-inf", "infinity") else None


def _date_from_text(text: str) -> float | None:
    m = _DATE_TEXT.match(text.strip())
    if not m:
        return None
    y, mo, d, hh, mm, ss = (int(g) if g else 0 for g in m.groups())
    try:
        return excel_serial(dt.datetime(y, mo, d, hh, mm, ss))
    except ValueError:
        return None


@functools.lru_cache(maxsize=256)
def _wildcard_regex(pattern: str) -> re.Pattern:
    """Excel wildcards → a full-match, case-insensitive regex (~ escapes * ? ~)."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "~" and i + 1 < len(pattern) and pattern[i + 1] in "*?~":
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "*" else "." if ch == "?" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Criterion:
    """One parsed COUNTIFS criterion: ``matches(cell)`` and a vectorised ``mask(cells)``."""
    operator: str       # "=", "<>", "<", "<=", ">", ">="
    kind: str           # type of the operand: blank, number, text, logical, error
    operand: Any        # float, str (text/error code), bool or None
    source: Any         # the criterion as given, for messages

    def matches(self, cell: Any) -> bool:
        if self.operator == "<>":
            return not self._equal(cell)
        if self.operator == "=":
            return self._equal(cell)
        return self._ordered(cell)

    def mask(self, cells: Sequence) -> np.ndarray:
        """matches() per cell, each distinct value decided once (columns repeat a few labels)."""
        seen: dict = {}
        out = np.empty(len(cells), dtype=bool)
        for pos, cell in enumerate(cells):
            key = (cell.__class__, cell)
            try:
                hit = seen[key]
            except KeyError:
                hit = seen[key] = self.matches(cell)
            except TypeError:  # unhashable cell: decide it alone
                hit = self.matches(cell)
            out[pos] = hit
        return out

    # -- equality: "=x" (and the negation "<>x")
    def _equal(self, cell) -> bool:
        kind, value = cell_type(cell)
        if self.kind == BLANK:
            return kind == BLANK
        if self.kind == NUMBER:
            if kind == TEXT:  # Excel's COUNTIF counts the text "3" for =3
                value = _number_from_text(value)
                kind = NUMBER if value is not None else TEXT
            return kind == NUMBER and math.isclose(value, self.operand, rel_tol=1e-12, abs_tol=1e-12)
        if self.kind == TEXT:
            return kind == TEXT and _wildcard_regex(self.operand).fullmatch(value) is not None
        return kind == self.kind and value == self.operand  # logical, error

    # -- order: <, <=, >, >= (numbers with numbers, text with text)
    def _ordered(self, cell) -> bool:
        kind, value = cell_type(cell)
        if kind != self.kind or self.kind not in (NUMBER, TEXT):
            return False
        if self.kind == TEXT:
            value, operand = value.casefold(), self.operand.casefold()
        else:
            operand = self.operand
        return _COMPARE[self.operator](value, operand)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


def parse(criterion: Any) -> Criterion:
    """Read a criterion as COUNTIFS does (see the module docstring)."""
    if criterion is None:  # an empty criterion cell
        return Criterion("=", NUMBER, 0.0, criterion)
    kind, value = cell_type(criterion)
    if kind != TEXT:  # a number, date, logical or error value given directly
        return Criterion("=", kind, value, criterion)
    text = value
    operator = next((op for op in _OPERATORS if text.startswith(op)), "")
    rest = text[len(operator):]
    if rest == "":
        if operator in ("", "=", "<>"):  # "" and "=": blank cells; "<>": non-blank cells
            return Criterion(operator or "=", BLANK, None, criterion)
        return Criterion(operator, TEXT, "", criterion)  # "<" alone: compares text with ""
    return Criterion(operator or "=", *_operand(rest), criterion)


def _operand(text: str) -> tuple[str, Any]:
    number = _number_from_text(text)
    if number is not None:
        return NUMBER, number
    serial = _date_from_text(text)
    if serial is not None:
        return NUMBER, serial
    if text.strip().upper() in ("TRUE", "FALSE"):
        return LOGICAL, text.strip().upper() == "TRUE"
    if text.strip().upper() in ERROR_CODES:
        return ERROR, text.strip().upper()
    return TEXT, text


def rows_matching(pairs: Sequence[tuple[Sequence, Any]], n: int) -> np.ndarray:
    """Rows (0..n-1) matching every (cells, criterion) pair; all True without pairs."""
    keep = np.ones(n, dtype=bool)
    for cells, criterion in pairs:
        keep &= parse(criterion).mask(cells)
    return keep
