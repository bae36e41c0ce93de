"""Bytes → grids: the raw cells of every sheet of a workbook or CSV export.

The first step of every input path (ARCHITECTURE: "one pipeline over
grids"): a file is read here into :class:`Grid` objects, a live workbook
(xlwings) or an importer produces the same objects, and
:func:`cs_xl.load.load_grids` turns any of them into a typed DataSet.

Files are only ever opened for reading; every problem is a one-line
:class:`LoadError` naming the file.
"""
from __future__ import annotations

import csv
import html
import io
import posixpath
import re
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from defusedxml import ElementTree as SafeET

from cs_xl import zipcheck
from cs_xl.schema import TABLES

SUPPORTED_SUFFIXES = (".xlsx", ".xlsm", ".csv")
HEADER_SCAN_ROWS = 20  # the header row is looked for in this many rows from the top
CSV_ENCODINGS = ("utf-8-sig", "gb18030")  # utf-8-sig reads UTF-8 with and without BOM; GB18030 ⊃ GBK
CSV_DELIMITERS = (",", "\t", ";", "|")


class LoadError(Exception):
    """The file cannot be read as cs_xl input; the message is one line naming
    the file (and the sheet, row and column where relevant)."""



# ====================================================================== raw cells

@dataclass
class Grid:
    """The used range of one sheet as raw cell values ('' or None = blank)."""
    name: str
    rows: list[list[Any]]
    first_row: int = 1        # Excel row number of rows[0]
    first_col: int = 0        # 0-based Excel column of rows[i][0]
    text_only: bool = False   # CSV: every value is text, so "stored as text" is no problem
    # an open book read through Office.js (xlwings Server/Lite): every date arrives as its serial
    # number, so a number in a date column is how a date looks, not a cell to report as repaired
    serial_dates: bool = False


def check_file(path: Path) -> None:
    if not path.exists():
        raise LoadError(f"{path}: file not found")
    if path.is_dir():
        raise LoadError(f"{path}: is a folder, not a workbook or CSV file")
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        hint = " (save it as .xlsx in Excel)" if path.suffix.lower() in (".xls", ".ods", ".xlsb", ".et") else ""
        raise LoadError(f"{path}: unsupported file type {path.suffix or '(none)'!r}; "
                        f"expected .xlsx, .xlsm or .csv{hint}")


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except PermissionError:
        raise LoadError(f"{path}: permission denied (is the file locked by another program?)") from None
    except OSError as exc:
        raise LoadError(f"{path}: cannot read the file ({exc.strerror or exc})") from None


# ---------------------------------------------------------------------- CSV

def _read_csv(path: Path) -> Grid:
    """A CSV holds one table; cells stay text (coercion parses them)."""
    text = _decode(path, _read_bytes(path))
    delimiter = _pick_delimiter(text)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    width = max(map(len, rows), default=0)
    # records shorter than the header (trailing empty fields dropped by the exporter) are padded
    rows = [row + [""] * (width - len(row)) if len(row) < width else row for row in rows]
    return Grid(path.name, rows, first_row=1, text_only=True)


def read_text(path) -> str:
    """The decoded text of a CSV-like export (UTF-8 with or without BOM, GBK, UTF-16)."""
    path = Path(path)
    return _decode(path, _read_bytes(path))


def _decode(path: Path, data: bytes) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # Excel's "Unicode text" export; GB18030 would garble it
        return data.decode("utf-16")
    for encoding in CSV_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise LoadError(f"{path}: cannot decode the CSV as UTF-8 or GBK; save it as 'CSV UTF-8' in Excel")


def _pick_delimiter(text: str) -> str:
    """The delimiter under which the header rows match the most known headers
    (Sniffer guesses badly on Chinese text without punctuation)."""
    head = text[:1 << 16].splitlines()[:HEADER_SCAN_ROWS]  # headers sit at the top: never split a 100 MB text

    def score(delimiter: str) -> int:
        rows = list(csv.reader(head, delimiter=delimiter))
        return max((len(t.match_headers(r)) for r in rows for t in TABLES.values()), default=0)

    return max(CSV_DELIMITERS, key=score)  # ties keep the first: ","


# ---------------------------------------------------------------------- xlsx

def _read_workbook(path: Path, skip: frozenset[str] = frozenset()) -> list[Grid]:
    data = _read_bytes(path)
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise LoadError(_not_a_zip_message(path, data))
    zipcheck.check(path, LoadError)  # zip bombs, DOCTYPEs: refused before calamine inflates anything
    from python_calamine import CalamineWorkbook  # imported late: CSV-only use needs no Rust wheel

    errors = _ErrorCellScan(data, skip)  # unzips beside calamine: zlib runs without the GIL, calamine holds it
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        grids = [_sheet_grid(book, name) for name in book.sheet_names if name not in skip]
    except LoadError:
        raise
    except Exception as exc:  # calamine raises its own types (ZipError, XmlError, PasswordError …)
        raise LoadError(_unreadable_zip_message(path, exc)) from None
    _restore_error_cells(path, errors, grids)
    return grids


def _unreadable_zip_message(path: Path, exc: Exception) -> str:
    """A zip calamine cannot read: say what it is in the user's words, not the library's."""
    if "detect file format" in str(exc).lower():  # a Word/PowerPoint file or another zip named .xlsx
        return f"{path}: not an Excel workbook (a zip file without a workbook inside, e.g. a Word document)"
    return f"{path}: not a readable Excel workbook (damaged: {exc})"


def _not_a_zip_message(path: Path, data: bytes) -> str:
    # Password-protected .xlsx files are OLE containers holding an encrypted package.
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        if "EncryptedPackage".encode("utf-16-le") in data:
            return (f"{path}: the workbook is password-protected; remove the password in Excel "
                    "(File > Info > Protect Workbook > Encrypt) and save it again")
        return f"{path}: this is an old-format .xls workbook with an .xlsx name; save it as .xlsx in Excel"
    if not data:
        return f"{path}: the file is empty (0 bytes)"
    return f"{path}: not a valid .xlsx workbook (not a zip archive; the file may be damaged or not from Excel)"


def _sheet_grid(book, name: str) -> Grid:
    sheet = book.get_sheet_by_name(name)
    if sheet.start is None:  # empty sheet
        return Grid(name, [])
    rows = sheet.to_python(skip_empty_area=True)
    first_row, first_col = sheet.start
    return Grid(name, rows, first_row=first_row + 1, first_col=first_col)


# python-calamine returns error cells (#N/A, #DIV/0!) as '': they would be read as
# blanks and never reported.  The sheet XML still holds them as <c t="e"><v>#N/A</v>.
_CELL_REF = re.compile(rb"""\br\s*=\s*["']([A-Z]{1,3})(\d+)["']""")
_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")
_CELL_END = re.compile(rb"</(?:\w+:)?c>")
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


class _ErrorCellScan(threading.Thread):
    """The error cells of every sheet part, found on a thread of their own.

    The sheet XML is inflated a second time (calamine keeps what it parsed),
    but inflating releases the GIL while calamine holds it, so on a second
    core the scan costs next to nothing.  :meth:`result` is sheet name →
    [(Excel row, 0-based column, error text)], or raises what reading raised."""

    def __init__(self, data: bytes, skip: frozenset[str] = frozenset()):
        super().__init__(name="cs_xl error cells", daemon=True)
        self._data, self._skip, self._found, self._error = data, skip, {}, None
        self.start()

    def run(self) -> None:
        try:
            with zipfile.ZipFile(io.BytesIO(self._data)) as archive:
                members = set(archive.namelist())
                for name, part in _sheet_parts(archive).items():
                    if part in members and name not in self._skip:
                        xml = archive.read(part)
                        if b't="e"' in xml or b"t='e'" in xml:  # bytes.find is far faster than a regex here
                            self._found[name] = list(_error_cells(xml))
        except Exception as exc:  # handed to the reading thread by result()
            self._error = exc

    def result(self) -> dict[str, list[tuple[int, int, str]]]:
        self.join()
        if self._error is not None:
            raise self._error
        return self._found


def _restore_error_cells(path: Path, scan: _ErrorCellScan, grids: list[Grid]) -> None:
    """Put each error cell's text back into its grid (only where calamine left '')."""
    try:
        found = scan.result()
    except (zipfile.BadZipFile, KeyError, SafeET.ParseError) as exc:
        raise LoadError(f"{path}: damaged workbook structure ({exc})") from None
    for grid in grids:
        if grid.rows:
            for row, col, text in found.get(grid.name, ()):
                _put_error(grid, row, col, text)


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → zip member of its XML, via xl/workbook.xml and its rels."""
    workbook = SafeET.fromstring(archive.read("xl/workbook.xml"))
    rels = SafeET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels}
    parts = {}
    for sheet in workbook.iter():
        if sheet.tag.rsplit("}", 1)[-1] != "sheet":
            continue
        target = targets.get(sheet.get(f"{{{_REL_NS}}}id"), "")
        # Excel writes targets relative to xl/; some writers use an absolute "/xl/…"
        member = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        parts[sheet.get("name")] = member
    return parts


def _error_attributes(xml: bytes) -> list[tuple[int, int]]:
    """(start, end) of each whitespace-led t="e" / t='e' attribute, in order: bytes.find
    scans a big sheet's XML ~6× faster than the regex ``\\st=["']e["']`` did."""
    spans = []
    for needle in (b't="e"', b"t='e'"):
        pos = xml.find(needle)
        while pos != -1:
            if pos and xml[pos - 1] in b" \t\n\r\x0b\x0c":
                spans.append((pos - 1, pos + len(needle)))
            pos = xml.find(needle, pos + 1)
    return sorted(spans)


def _error_cells(xml: bytes) -> Iterable[tuple[int, int, str]]:
    """(Excel row, 0-based column, error text) of every <c t="e"> with a value."""
    for attr_start, attr_end in _error_attributes(xml):
        start = xml.rfind(b"<", 0, attr_start)
        end = xml.find(b">", attr_end)
        tag = xml[start:end + 1]
        ref = _CELL_REF.search(tag)
        if ref is None or tag.endswith(b"/>"):
            continue
        close = _CELL_END.search(xml, end)
        value = _VALUE.search(xml, end, close.start() if close else len(xml))
        if value is None:
            continue
        yield int(ref.group(2)), _column_index(ref.group(1).decode()), html.unescape(value.group(1).decode("utf-8"))


def _column_index(letters: str) -> int:
    """'A' → 0, 'Z' → 25, 'AA' → 26."""
    index = 0
    for letter in letters:
        index = index * 26 + (ord(letter) - 64)
    return index - 1


def _put_error(grid: Grid, excel_row: int, column: int, text: str) -> None:
    i, j = excel_row - grid.first_row, column - grid.first_col
    if 0 <= i < len(grid.rows) and 0 <= j < len(grid.rows[i]) and grid.rows[i][j] in ("", None):
        grid.rows[i][j] = text


@dataclass
class Grids:
    """Every sheet of one source, as read: what :func:`cs_xl.load.load_grids` takes."""
    source: str
    sheets: list[Grid] = field(default_factory=list)
    is_csv: bool = False

    def sheet(self, names: Iterable[str]) -> Grid | None:
        """The first sheet whose name is one of ``names`` (case and outer spaces ignored)."""
        wanted = {n.strip().casefold() for n in names}
        return next((g for g in self.sheets if g.name.strip().casefold() in wanted), None)


def read_grids(path, skip: Iterable[str] = ()) -> Grids:
    """Every sheet of an .xlsx/.xlsm (one python-calamine read) or the one table of a CSV.

    Sheets named in ``skip`` are not read (a refresh replaces its generated sheets: the last
    report's 数据质量 alone can hold hundreds of thousands of cells)."""
    path = Path(path)
    check_file(path)
    if path.suffix.lower() == ".csv":
        return Grids(str(path), [_read_csv(path)], is_csv=True)
    return Grids(str(path), _read_workbook(path, frozenset(skip)))
