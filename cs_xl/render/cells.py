"""The rules for what goes into a cell, shared by every writer (openpyxl today, the part writer
and xlwings next).

* A value is written as a plain Python value; undefined (None, NaN, NaT …)
  is an empty cell, never 0 (:func:`cs_xl.values.plain`).
* Text that would start a formula (``=``, ``+``, ``-``, ``@``, tab, CR) is written as
  text, never executed (SPEC §6, CSV/formula injection): a writer stores it
  as a string with Excel's quote prefix, as if typed with a leading ``'``.
* Characters XML 1.0 cannot hold (control characters but tab/newline/CR)
  become U+FFFD, or the saved file would not open.
"""
from __future__ import annotations

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
