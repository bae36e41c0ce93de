"""The rules for what goes into a cell, shared by every writer (openpyxl today, the part writer
and xlwings next).

* A value is written as a plain Python value; undefined (None, NaN, NaT …)
  is an empty cell, never 0 (:func:`cs_xl.values.plain`).
* Text that would start a formula (``=``, ``+``, ``-``, ``@``, tab, CR) is written as
  text, never executed (SPEC §6, CSV/formula injection): a writer stores it
  as a string with Excel's quote prefix, as if typed with a leading ``'``.
* A writer that *types* values into a live workbook (xlwings: Excel parses what it is given, as if
  typed) gets dates as serial numbers and text that Excel would read as something else (a number,
  a date, a formula, TRUE) with the quote prefix ``'`` — :func:`typed_value`.
* Characters XML 1.0 cannot hold (control characters but tab/newline/CR)
  become U+FFFD, or the saved file would not open.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from ..values import plain, python_datetime

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # tab/CR: CSV-injection payloads start so too (issue 11)
# control characters XML 1.0 forbids (tab, LF and CR are allowed); the same set openpyxl refuses
ILLEGAL_XML_CHARACTERS = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
REPLACEMENT = "\ufffd"


def looks_like_formula(value: Any) -> bool:
    """True for text a spreadsheet would run as a formula if typed as it is."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def xml_safe(text: str) -> str:
    """``text`` with every character XML cannot hold replaced by U+FFFD."""
    return ILLEGAL_XML_CHARACTERS.sub(REPLACEMENT, text)


def cell_value(value: Any) -> Any:
    """A model value as a writer stores it: plain Python, timestamps as ``datetime``, text XML-safe;
    undefined → None (an empty cell)."""
    value = python_datetime(plain(value))
    if isinstance(value, str):
        return xml_safe(value)
    return value


def write_text_safe(cell, value: Any) -> None:
    """Write ``value`` into an openpyxl cell; text that would start a formula stays text.

    openpyxl turns any string starting with '=' into a formula, so such
    strings are forced to the string type and get the quote prefix.  (Duck
    typed: this module imports no writer.)"""
    cell.value = value
    if looks_like_formula(value):
        cell.data_type = "s"
        cell.quotePrefix = True


EXCEL_EPOCH = dt.datetime(1899, 12, 30)  # serial 0 in Excel's 1900 date system (after the 1900-02-29 bug)
_READ_AS_OTHER = re.compile(r"\d|^(true|false)$|^[#']", re.IGNORECASE)


def excel_serial(value: dt.date) -> float:
    """A date or date-time as the serial number Excel stores.

    >>> excel_serial(dt.date(2024, 3, 1)), excel_serial(dt.datetime(2024, 3, 1, 12))
    (45352.0, 45352.5)
    """
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    return (value - EXCEL_EPOCH) / dt.timedelta(days=1)


def typed_value(value: Any) -> Any:
    """``value`` (already :func:`cell_value`) as a live writer types it so Excel stores exactly it:
    dates → serial numbers (their number format shows them as dates), text Excel would turn into
    a number, date, boolean, error or formula → prefixed with ``'`` (kept as text, prefix hidden),
    None → ``""`` (an empty cell).

    >>> [typed_value(v) for v in (None, "客服", "2024-03", "=1+1", "TRUE", 3)]
    ['', '客服', "'2024-03", "'=1+1", "'TRUE", 3]
    """
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return excel_serial(value)
    if isinstance(value, str) and (looks_like_formula(value) or _READ_AS_OTHER.search(value)):
        return "'" + value
    return value
