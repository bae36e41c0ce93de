"""A new book's records, streamed into its input Tables as it is saved.

Filling 100,000 tickets cell by cell builds millions of openpyxl cells and
then serialises them again (issue 10, item 6).  Here the template — 说明, 参数,
the empty input Tables with their drop-downs, number checks, styles and column
widths, the dashboard — is built and saved by openpyxl as before (it is
small), and the records go straight from the frames into the input sheets'
XML while the zip is written, a few thousand rows at a time:

* the Table, its filter and the validations are stretched over the records in
  the openpyxl model before it is saved (:meth:`template.TableSlot.grow`), so
  openpyxl writes those parts itself;
* the styles the records need (the date columns' formats, a datetime's
  default format, the quote prefix that keeps ``=1+1`` typed text) are put on
  carrier cells in the first free row, so openpyxl registers them in
  styles.xml; their indexes are read back from its XML and the carrier row
  is replaced by the records;
* values are written as :func:`template.fill_frame` writes them (numbers,
  booleans, dates as serials, text inline — never as a formula).

Used for new books (``cs-xl demo``, a new ``cs-xl import`` book); appending to
a book the user already has goes through openpyxl (:func:`template.fill_inputs`).
"""
from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pandas as pd
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, TIME_FORMATS
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.utils.exceptions import IllegalCharacterError

from .ooxml.worksheet import cell_xml
from .render.cells import looks_like_formula
from .schema import TABLES
from .template import _NUMBER_FORMATS as NUMBER_FORMATS_BY_KIND
from .template import _cell_value, cell_format, input_sheet, table_slot

CHUNK_ROWS = 5_000  # rows serialised at a time: memory stays flat whatever the frame's length
QUOTED = "quoted"   # the style key of formula-like text (quote prefix)


@dataclass
class _Sheet:
    """One input sheet to stream: its records, where they go, and the styles they need."""
    title: str
    frame: pd.DataFrame
    kinds: dict[str, str]
    positions: dict[str, int]
    start: int
    last_row: int
    max_col: int
    carriers: dict[object, int]  # style key → column of its carrier cell in the first free row


def _style_keys() -> list:
    """Every style a record's cell can need: the date columns' formats, openpyxl's default
    format of each date/time type, the quote prefix (a few carrier cells, used or not)."""
    return sorted({*NUMBER_FORMATS_BY_KIND.values(), *TIME_FORMATS.values()}) + [QUOTED]


def _style_key(value, kind: str):
    """The style key of a date/time value: its column's format, else openpyxl's default for its type."""
    for kind_of_value in (dt.datetime, dt.date, dt.time, dt.timedelta):  # datetime before its base class date
        if isinstance(value, kind_of_value):
            return cell_format(value, kind) or TIME_FORMATS[kind_of_value]
    raise TypeError(f"not a date or time: {value!r}")


def _prepare(wb, key: str, frame: pd.DataFrame, lang: str) -> _Sheet:
    """Stretch the Table over the records and put the carrier cells (in the openpyxl model)."""
    ws = input_sheet(wb, key, lang)
    table = TABLES[key]
    slot = table_slot(ws, table, frame)
    kinds = {c.key: c.kind for c in table.columns}
    _name_table_columns(ws, slot.table)
    last_row = slot.grow(ws, len(frame))
    carriers = {}
    for offset, style in enumerate(_style_keys()):
        cell = ws.cell(row=slot.start, column=slot.max_col + 1 + offset, value=0)
        if style == QUOTED:
            cell.quotePrefix = True
        else:
            cell.number_format = style
        carriers[style] = cell.column
    return _Sheet(ws.title, frame, kinds, slot.positions, slot.start, last_row, slot.max_col, carriers)


def _name_table_columns(ws, table) -> None:
    """Name a new Table's columns from its header cells now, as openpyxl's save would: it does so
    by reading every cell of the Table's range, which would create the million cells the
    records were meant to skip (measured: 785 MB more at 100k tickets)."""
    if not table.tableColumns:
        table._initialise_columns()
        for cell, column in zip(ws[table.ref][0], table.tableColumns):
            column.name = str(cell.value)


_STYLED_CELL = re.compile(rb'<c r="([A-Z]+)(\d+)"[^>]*?\ss="(\d+)"')


def _dropped_styles(sheet: _Sheet, dropped: bytes) -> tuple[dict[object, int], dict[str, int]]:
    """From the rows the records replace, as openpyxl wrote them: style key → style index of
    the carrier cells, and column letter → style index of the template's own styled cells in
    the first free row (the date columns' formats, which openpyxl keeps for what is typed there)."""
    by_letter = {m.group(1).decode(): int(m.group(3)) for m in _STYLED_CELL.finditer(dropped)
                 if int(m.group(2)) == sheet.start}
    carriers = {style: by_letter.pop(get_column_letter(column), 0) for style, column in sheet.carriers.items()}
    return carriers, by_letter


def _cell_xml(ref: str, value, kind: str, styles: dict, kept: int | None = None) -> str:
    """One <c> element, the way openpyxl would store the value (text inline instead of shared,
    by :func:`ooxml.worksheet.cell_xml`); ``kept``: the style of a template cell the value goes
    into (openpyxl keeps it)."""
    if isinstance(value, (dt.date, dt.time, dt.timedelta)):
        style = kept or styles[_style_key(value, kind)]
        if isinstance(value, dt.timedelta):  # a duration: its serial is a number of days
            value = to_excel(value)
        return cell_xml(ref, value, style)
    if isinstance(value, str):
        if value in ERROR_CODES:  # "#N/A" from an export: an error cell, as openpyxl stores it
            style = f' s="{kept}"' if kept else ""
            return f'<c r="{ref}"{style} t="e"><v>{value}</v></c>'
        if ILLEGAL_CHARACTERS_RE.search(value):
            raise IllegalCharacterError(f"{value!r} cannot be used in worksheets.")
        if looks_like_formula(value):
            return cell_xml(ref, value, styles[QUOTED])
    elif not isinstance(value, (bool, int, float)):
        value = str(value)
    return cell_xml(ref, value, kept or 0)


def _rows_xml(sheet: _Sheet, styles: dict, kept: dict[str, int]) -> Iterator[bytes]:
    """The <row> elements of the records, CHUNK_ROWS at a time."""
    order = sorted(sheet.frame.columns, key=lambda key: sheet.positions[key])
    letters = {key: get_column_letter(sheet.positions[key]) for key in order}
    for first in range(0, len(sheet.frame), CHUNK_ROWS):
        chunk = sheet.frame.iloc[first:first + CHUNK_ROWS]
        rows = [[] for _ in range(len(chunk))]
        for key in order:
            kind, letter = sheet.kinds[key], letters[key]
            for i, value in enumerate(chunk[key].tolist()):
                value = _cell_value(value, kind)
                if value is not None:
                    row = sheet.start + first + i
                    rows[i].append(_cell_xml(f"{letter}{row}", value, kind, styles,
                                             kept.get(letter) if row == sheet.start else None))
        yield "".join(f'<row r="{sheet.start + first + i}">{"".join(cells)}</row>'
                      for i, cells in enumerate(rows) if cells).encode("utf-8")


_FIRST_DROPPED_ROW = r'<row r="(\d+)"'


def _write_sheet(dst: zipfile.ZipFile, name: str, xml: bytes, sheet: _Sheet) -> None:
    """The template's sheet part with its rows from ``start`` on replaced by the records."""
    data_end = xml.index(b"</sheetData>")
    cut = next((m.start() for m in re.finditer(_FIRST_DROPPED_ROW.encode(), xml[:data_end])
                if int(m.group(1)) >= sheet.start), data_end)
    head, dropped, tail = xml[:cut], xml[cut:data_end], xml[data_end:]
    styles, kept = _dropped_styles(sheet, dropped)
    last = get_column_letter(sheet.max_col)
    head = re.sub(rb'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{last}{sheet.last_row}"/>'.encode(), head, 1)
    # deflated at the archive's level; zip64 only where a part can pass 2 GiB (> 1M rows of ~2 KB)
    with dst.open(name, "w", force_zip64=len(sheet.frame) > 1_000_000) as out:
        out.write(head)
        for chunk in _rows_xml(sheet, styles, kept):
            out.write(chunk)
        out.write(tail)


class FilledBook:
    """The template ``wb`` with ``frames`` to stream into its input Tables; ``save(path)``
    is what :func:`cs_xl.book.save_atomic` calls."""

    def __init__(self, wb, frames: dict[str, pd.DataFrame], lang: str = "zh"):
        self.wb = wb
        # an empty frame leaves its sheet as the template has it
        self.sheets = {key: _prepare(wb, key, frame, lang) for key, frame in frames.items() if len(frame)}
        self.written = {key: len(frame) for key, frame in frames.items()}

    def save(self, path) -> None:
        from .calc import sheet_parts
        template = io.BytesIO()  # the template without records: ~100 KB
        self.wb.save(template)
        with zipfile.ZipFile(template) as src, \
                zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as dst:
            parts = dict(sheet_parts(src))
            streamed = {parts[s.title]: s for s in self.sheets.values()}
            for info in src.infolist():
                if info.filename in streamed:
                    _write_sheet(dst, info.filename, src.read(info), streamed[info.filename])
                else:
                    dst.writestr(info, src.read(info))


COMPRESS_LEVEL = 6  # zlib's default, what openpyxl saves with: the same file size as before


def save_filled(wb, frames: dict[str, pd.DataFrame], path, lang: str = "zh", backup: bool = True) -> dict[str, int]:
    """Save the template ``wb`` to ``path`` (atomically) with ``frames`` — table key →
    frame whose columns are schema keys — streamed into its input Tables; returns the
    rows written per table.  Values are written as :func:`template.fill_inputs` writes them."""
    from .book import save_atomic
    book = FilledBook(wb, frames, lang)
    save_atomic(book, Path(path), backup=backup)
    return book.written
