"""``xl/worksheets/sheetN.xml``: a generated sheet's XML made to fit the book it goes into
(style indexes moved to the book's, column widths as the layout gives them), and a kept
sheet's tab deselected."""
from __future__ import annotations

import re
from typing import Mapping

_CELL_OR_ROW_STYLE = re.compile(rb'(<(?:c|row) [^>]*?\bs=")(\d+)"')
_DXF = re.compile(rb'(<cfRule [^>]*?\bdxfId=")(\d+)"')
_ROW_HEIGHT = re.compile(rb'(<row r="(\d+)"[^>]*? ht=")([^"]*)"')
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


def fitted(data: bytes, widths: Mapping[int, float], heights: Mapping[int, float],
           xf: Mapping[int, int], dxf: Mapping[int, int]) -> bytes:
    """``data`` (a sheet written with its own style table) with the book's style indexes, and column
    ``widths`` and row ``heights`` exactly as given (XlsxWriter rounds them to whole pixels)."""
    data = _ROW_HEIGHT.sub(lambda m: m.group(1) + b"%s\"" % f"{heights[int(m.group(2))]:g}".encode()
                           if int(m.group(2)) in heights else m.group(0), data)
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
