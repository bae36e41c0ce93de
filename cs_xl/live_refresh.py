"""The 「刷新报表」 and 「检查数据」 buttons: the pipeline over the *open* workbook's cells.

    the book's cells as grids (unsaved edits included)  →  pipeline.read_inputs / scope / build
    →  report layouts  →  render.live draws them in the book (input sheets never written)

The same steps as ``cs-xl refresh`` (:mod:`cs_xl.refresh`); only where the grids come from and
where the layouts go differ.  Both xlwings paths hand in a book: the classic add-in an
``xw.Book`` over COM, xlwings Server/Lite an ``xw.Book`` built from the JSON Office.js sent (every
sheet's used range, anchored at A1, dates as serial numbers, blanks as ``""``).

A problem the user can fix (no input sheet, a bad 参数 cell) is shown as an Excel message box
naming the sheet and cell, and nothing in the book changes; it is never a traceback.
"""
from __future__ import annotations

from typing import Iterable

from . import pipeline, report
from .load import LoadError
from .params import ParamsError
from .read_files import Grid, Grids
from .render.layout import SheetLayout, report_layouts
from .render.live import draw_sheets, on_server
from .words import former_sheet_names, word

BUTTONS = {"refresh": "refresh_button", "check": "check_button"}  # button → its word
CHECK_SHEETS = ("quality",)  # 「检查数据」 draws only 数据质量


# ---------------------------------------------------------------- reading the open book

def _server_values(sheet) -> list[list] | None:
    """The raw JSON values Office.js sent for ``sheet`` (xlwings Server/Lite), else None (classic).

    Read as sent, not through ``Range.value``: xlwings converts that cell by cell (≈ 35 s per 1M
    cells on CPython, FACTS.md), and the loader cleans cells itself."""
    return sheet.api.get("values") if on_server(sheet) else None


def _trimmed(rows: list[list]) -> list[list]:
    """``rows`` without the blank rows at the bottom (an empty sheet arrives as ``[[]]``)."""
    end = len(rows)
    while end and all(v in ("", None) for v in rows[end - 1]):
        end -= 1
    return rows[:end]


def sheet_grid(sheet) -> Grid:
    """One sheet's used range as the loader reads a file's."""
    values = _server_values(sheet)
    if values is not None:  # anchored at A1
        return Grid(sheet.name, _trimmed([list(row) for row in values]), serial_dates=True)
    used = sheet.used_range
    rows = used.options(ndim=2).value  # classic: COM returns dates as datetimes
    return Grid(sheet.name, _trimmed([list(row) for row in rows]), first_row=used.row, first_col=used.column - 1)


def book_grids(book) -> Grids:
    """Every sheet of the open ``book``: what :func:`cs_xl.pipeline.read_inputs` takes."""
    return Grids(book.name, [sheet_grid(sheet) for sheet in book.sheets])


# ---------------------------------------------------------------- the buttons

def _used_rows(grids: Grids):
    def used(name: str) -> int:
        grid = next((g for g in grids.sheets if g.name == name), None)
        return 0 if grid is None or not grid.rows else grid.first_row + len(grid.rows) - 1
    return used


def layouts_of(grids: Grids, keys: Iterable[str] | None = None) -> tuple[list[SheetLayout], str]:
    """The layouts of the generated sheets (all, or those of ``keys``) and the report language."""
    ds, settings = pipeline.read_inputs(grids)
    model = pipeline.build(ds, settings, pipeline.scope(ds, settings))
    wanted = None if keys is None else {report.sheet_name(k, model.lang) for k in keys}
    return [layout for layout in report_layouts(model) if wanted is None or layout.name in wanted], model.lang


def redraw(book, keys: Iterable[str] | None = None) -> list[str]:
    """Rebuild the generated sheets of ``keys`` (default: all) of the open ``book`` from its cells.

    Raises ``LoadError``/``ParamsError`` before anything is written."""
    grids = book_grids(book)
    keys = None if keys is None else tuple(keys)
    layouts, lang = layouts_of(grids, keys)
    names = former_sheet_names(lang, keys)
    stale = [other for twins in names.values() for other in twins]
    return draw_sheets(book, layouts, stale, names, used_rows=_used_rows(grids))


def press(book, button: str) -> list[str]:
    """What pressing ``button`` ("refresh" or "check") does; a problem the user can fix becomes a
    message box (nothing written) and an empty list."""
    try:
        return redraw(book, None if button == "refresh" else CHECK_SHEETS)
    except (LoadError, ParamsError) as exc:
        lang = _book_lang(book)
        title = word(BUTTONS[button], lang)
        book.app.alert(word("button_failed", lang).format(button=title, message=exc), title=title)
        return []


def _book_lang(book) -> str:
    """The language of the book's messages: English when its 汇总 sheet is 'Summary', else Chinese."""
    names = {sheet.name for sheet in book.sheets}
    return "en" if report.sheet_name("summary", "en") in names and report.sheet_name("summary", "zh") not in names \
        else "zh"
