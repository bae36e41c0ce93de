"""``xl/worksheets/sheetN.xml``: a generated sheet's XML made to fit the book it goes into
(style indexes moved to the book's, column widths as the layout gives them), and a kept
sheet's tab deselected."""
from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from html import escape
from typing import Iterable, Mapping

from xlsxwriter.utility import xl_col_to_name

_CELL_OR_ROW_STYLE = re.compile(rb'(<(?:c|row) [^>]*?\bs=")(\d+)"')
_DXF = re.compile(rb'(<cfRule [^>]*?\bdxfId=")(\d+)"')
_COLS = re.compile(rb"<cols>.*?</cols>", re.S)
_FIRST_VIEW = re.compile(rb"<sheetView\b[^>]*>")
_SELECTED = re.compile(rb'\s+tabSelected="(?:1|true)"')


def cols_xml(widths: Mapping[int, float]) -> bytes:
    """Column widths exactly as given (the openpyxl writer's ``width``), one ``<col>`` each.

    >>> cols_xml({2: 15.5}).decode()
    '<cols><col min="2" max="2" width="15.5" customWidth="1"/></cols>'
    """
    if not widths:
        return b""
    return ("<cols>" + "".join(f'<col min="{c}" max="{c}" width="{w:g}" customWidth="1"/>'
                               for c, w in sorted(widths.items())) + "</cols>").encode()


def fitted(data: bytes, widths: Mapping[int, float], xf: Mapping[int, int], dxf: Mapping[int, int]) -> bytes:
    """``data`` (a sheet written with its own style table) with the book's style indexes and the column
    ``widths`` exactly as given (XlsxWriter would round them to whole pixels)."""
    data = _CELL_OR_ROW_STYLE.sub(lambda m: m.group(1) + b"%d\"" % xf[int(m.group(2))], data)
    data = _DXF.sub(lambda m: m.group(1) + b"%d\"" % dxf[int(m.group(2))], data)
    cols = cols_xml(widths)
    if _COLS.search(data):
        return _COLS.sub(lambda m: cols, data, count=1)
    if not cols:
        return data
    at = data.index(b"<sheetData")
    return data[:at] + cols + data[at:]


def is_selected(head: bytes) -> bool:
    """Whether the sheet whose XML starts with ``head`` has its tab selected."""
    view = _FIRST_VIEW.search(head)
    return bool(view and _SELECTED.search(view.group(0)))


def deselected(data: bytes) -> bytes:
    """``data`` with its tab no longer selected (else Excel would open two sheets grouped, and
    typing into one would type into both)."""
    view = _FIRST_VIEW.search(data)
    return data[:view.start()] + _SELECTED.sub(b"", view.group(0)) + data[view.end():]


# ---------------------------------------------------------------- cells

EPOCH_1900 = dt.datetime(1899, 12, 31)  # serial 1 = 1900-01-01
EPOCH_1904 = dt.datetime(1904, 1, 1)    # serial 0 = 1904-01-01
_LEADING_OR_TRAILING_SPACE = re.compile(r"^\s|\s$")


def excel_serial(value: dt.date | dt.time, date_1904: bool = False) -> float:
    """The serial number Excel stores for a date/time (its 1900 leap-year bug included).

    >>> excel_serial(dt.date(2024, 3, 1)), excel_serial(dt.datetime(1900, 2, 28, 12))
    (45352.0, 59.5)
    >>> excel_serial(dt.date(1904, 1, 2), date_1904=True), excel_serial(dt.time(6))
    (1.0, 0.25)
    """
    if isinstance(value, dt.time):
        return (value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6) / 86400
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    delta = value.replace(tzinfo=None) - (EPOCH_1904 if date_1904 else EPOCH_1900)
    serial = delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400
    if not date_1904 and serial >= 60:
        serial += 1  # Excel counts a 29 February 1900 that never was
    return serial


@lru_cache(maxsize=None)
def column_letter(col: int) -> str:
    """1 → A, 27 → AA."""
    return xl_col_to_name(col - 1)


def cell_xml(ref: str, value, style: int, date_1904: bool = False) -> str:
    """One ``<c>``: text inline (the book's shared strings stay as they are), numbers, booleans,
    dates as serial numbers, a styled empty cell; an unstyled empty cell is no element at all.

    >>> cell_xml("A1", "a < b", 3)
    '<c r="A1" s="3" t="inlineStr"><is><t>a &lt; b</t></is></c>'
    >>> cell_xml("B2", 0.1, 0), cell_xml("C2", True, 0), cell_xml("D2", None, 0)
    ('<c r="B2"><v>0.1</v></c>', '<c r="C2" t="b"><v>1</v></c>', '')
    """
    s = f' s="{style}"' if style else ""
    if value is None:
        return f'<c r="{ref}"{s}/>' if style else ""
    if isinstance(value, str):
        space = ' xml:space="preserve"' if _LEADING_OR_TRAILING_SPACE.search(value) else ""
        return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{escape(value, quote=False)}</t></is></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int):
        return f'<c r="{ref}"{s}><v>{value}</v></c>'
    if isinstance(value, float):  # 16 significant digits, as openpyxl and XlsxWriter write them
        return f'<c r="{ref}"{s}><v>{value:.16g}</v></c>'
    if isinstance(value, (dt.date, dt.time)):
        return f'<c r="{ref}"{s}><v>{excel_serial(value, date_1904):.16g}</v></c>'
    raise TypeError(f"{ref}: cannot write a {type(value).__name__}")


def sheet_data(rows: Iterable[tuple[int, float | None, Iterable[tuple[int, object, int]]]],
               date_1904: bool = False) -> tuple[bytes, str]:
    """``<sheetData>`` of ``rows`` — (row, height or None, [(column, value, style index)…]) in row
    order — and the used range for ``<dimension>``.  (The hot loop of a refresh: a data-quality sheet
    can hold a million cells, so strings and numbers are written here without a call per cell.)"""
    out, first_row, last_row, cols = ["<sheetData>"], None, 0, set()
    letters: dict[int, str] = {}
    s_attr: dict[int, str] = {0: ""}
    space = _LEADING_OR_TRAILING_SPACE.search
    for row, height, cells in rows:
        body = []
        add = body.append
        for col, value, style in cells:
            letter = letters.get(col) or letters.setdefault(col, column_letter(col))
            s = s_attr.get(style)
            if s is None:
                s = s_attr[style] = f' s="{style}"'
            kind = value.__class__
            if kind is str and not space(value):
                if "&" in value or "<" in value or ">" in value:
                    value = escape(value, quote=False)
                add(f'<c r="{letter}{row}"{s} t="inlineStr"><is><t>{value}</t></is></c>')
            elif kind is float:
                add(f'<c r="{letter}{row}"{s}><v>{value:.16g}</v></c>')
            else:
                xml = cell_xml(f"{letter}{row}", value, style, date_1904)
                if not xml:
                    continue
                add(xml)
            cols.add(col)
        if not body and height is None:
            continue
        first_row = row if first_row is None else first_row
        last_row = row
        ht = f' ht="{height:g}" customHeight="1"' if height is not None else ""
        out.append(f'<row r="{row}"{ht}>{"".join(body)}</row>')
    out.append("</sheetData>")
    if first_row is None or not cols:
        used = "A1"
    else:
        used = f"{column_letter(min(cols))}{first_row}:{column_letter(max(cols))}{last_row}"
    return "".join(out).encode("utf-8"), used


_SHEET_DATA = re.compile(rb"<sheetData\s*/>|<sheetData>.*?</sheetData>", re.S)
_DIMENSION = re.compile(rb'<dimension ref="[^"]*"\s*/>')


def with_cells(data: bytes, cells: bytes, used: str) -> bytes:
    """A sheet's XML with ``cells`` as its ``<sheetData>`` and ``used`` as its dimension."""
    data = _DIMENSION.sub(f'<dimension ref="{used}"/>'.encode(), data, count=1)
    match = _SHEET_DATA.search(data)
    return data[:match.start()] + cells + data[match.end():]
