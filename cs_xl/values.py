"""Values in one place: undefined/numpy → plain Python, number formats and number text per format,
and the display width of text.

Every module that shows a number (cells, the terminal, alert sentences, JSON)
asks this one, so a value reads the same wherever it appears:

* an undefined value (None, NaN, NaT, ``pd.NA``, ±inf) is ``None`` — never 0;
* a report format (``fmt``: pct, min, sec, count …) has one Excel number
  format (:data:`NUMBER_FORMATS`) and one text rule (:func:`number_text`);
* text width counts East-Asian wide characters twice (terminal columns,
  Excel column widths).

No Excel library is imported here: the writers translate these plain values.
"""
from __future__ import annotations

import datetime as dt
import math
import sys
import unicodedata
from functools import lru_cache
from typing import Any

# Excel number format code per report format (cells); one definition for every writer
NUMBER_FORMATS = {
    "pct": "0.0%", "min": "0.0", "sec": "0", "count": "#,##0", "nps": "0.0", "score": "0.00",
    "int": "0", "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm:ss", "text": "General",
    "growth": "+0.0%;-0.0%;0.0%", "delta_pct": "+0.0%;-0.0%;0.0%",
    "delta_min": "+0.0;-0.0;0.0", "delta_sec": "+0;-0;0", "delta_num": "+0.0;-0.0;0.0",
    "p": "0.0000", "effect": "+0.00;-0.00;0.00",  # a test's p-value; a signed effect size (r, Cohen's h)
}
# a chart's value axis: whole steps read better than the cells' decimals
AXIS_FORMATS = {"pct": "0%", "count": "#,##0", "min": "0", "sec": "0", "nps": "0", "score": "0.0"}
# the signed format of a difference to a target, per value format
GAP_FORMATS = {"pct": "delta_pct", "min": "delta_min", "sec": "delta_sec"}
GENERAL = "General"

# number text per format: one rule for the terminal table, alert sentences and notes
_TEXT_RULES = {
    "pct": "{:.1%}",
    "count": "{:,.0f}",
    "min": "{:.2f}", "score": "{:.2f}", "nps": "{:.2f}",
    "sec": "{:.1f}",
    "delta_pct": "{:+.1%}", "growth": "{:+.1%}", "delta_min": "{:+.2f}", "delta_sec": "{:+.1f}",
    "delta_num": "{:+.1f}", "int": "{:.0f}", "num": "{:.2f}", "p": "{:.4f}", "effect": "{:+.2f}",
}
UNDEFINED_TEXT = "—"


def _pandas():
    """pandas when it is loaded, else None: a pandas value (NaT, NA, Timestamp) cannot exist before,
    so ``cs-xl --help`` and ``--version`` need not pay for importing it."""
    return sys.modules.get("pandas")


_PLAIN = (str, int, bool)  # exact classes that are never undefined


def plain(value: Any) -> Any:
    """``value`` as a plain Python value; every kind of undefined (None, NaN, NaT, ``pd.NA``, ±inf) → None.

    numpy scalars are unwrapped (``np.float64(2.5)`` → ``2.5``); timestamps
    stay timestamps (see :func:`python_datetime` for writers).

    >>> import numpy as np, pandas as pd
    >>> [plain(v) for v in (np.int64(3), float("nan"), pd.NaT, None, "x", float("inf"))]
    [3, None, None, None, 'x', None]
    """
    if value is None or value.__class__ in _PLAIN:  # the common case, without asking pandas
        return value
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    pd = _pandas()
    try:
        if pd is not None and pd.isna(value):
            return None
    except (TypeError, ValueError):  # lists and other containers have no single truth value
        pass
    return value


def python_datetime(value: Any) -> Any:
    """A pandas timestamp as ``datetime.datetime`` (what every writer understands); anything else as given."""
    pd = _pandas()
    if pd is not None and isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


def json_number(value: Any) -> Any:
    """A value for JSON: undefined → None (null), whole floats → int (counts), numpy → Python.

    >>> [json_number(v) for v in (3.0, 2.5, float("nan"))]
    [3, 2.5, None]
    """
    value = plain(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def number_format(fmt: str) -> str:
    """The Excel number format code of a report format (``General`` for text and unknown formats)."""
    return NUMBER_FORMATS.get(fmt, GENERAL)


def value_format(value: Any, fmt: str) -> str | None:
    """The number format a cell holding ``value`` gets: None for empty and text cells (they keep
    General), the date format for any date, else the format of ``fmt``."""
    if value is None or isinstance(value, str):
        return None
    if isinstance(value, (dt.date, dt.datetime)) and fmt != "date":
        return NUMBER_FORMATS["date"]
    return number_format(fmt)


def number_text(value: Any, fmt: str) -> str:
    """A number as text for people (terminal tables, alert sentences): one rule per format.

    pct → 1 decimal and %, count → thousands separators, min/score/nps → 2
    decimals, sec → 1 decimal, pp → signed percentage points, delta_* → signed;
    undefined → ``—``.

    >>> number_text(0.6814, "pct"), number_text(3.046, "min"), number_text(31.46, "sec"), number_text(8362, "count")
    ('68.1%', '3.05', '31.5', '8,362')
    """
    value = plain(value)
    if value is None:
        return UNDEFINED_TEXT
    if fmt == "pp":  # a difference of two rates in percentage points: −0.042 → "-4.2"
        return f"{value * 100:+.1f}"
    rule = _TEXT_RULES.get(fmt)
    return rule.format(value) if rule else f"{value}"


def display_width(text: str) -> int:
    """Columns ``text`` takes on screen: East-Asian wide and full-width characters count twice.

    >>> display_width("客服A1")
    6
    """
    if text.isascii():
        return len(text)
    return _wide_width(text)


@lru_cache(maxsize=1 << 16)  # a report repeats its words (sheet names, reasons) thousands of times
def _wide_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
