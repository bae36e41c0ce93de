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
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from defusedxml import ElementTree as SafeET

from cs_xl import sheet_pieces, zipcheck
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

PARSE_THREADS = 2  # python-calamine parses a sheet without the GIL: two sheets at once on two cores


class SheetStream:
    """The sheets of one workbook, parsed on worker threads from the moment it is made.

    Iterating yields each sheet's grid as soon as it is parsed (those named in ``first``
    before any other, then the rest as they finish, the biggest having started first), so
    the caller can import, read 参数 and build one table while the next is parsed.
    :meth:`grids` gives every sheet in book order.  Use it as a context manager: leaving
    the block stops the parsing nobody waits for any more.

    A sheet that outweighs all the others together is parsed in pieces on both workers
    (:mod:`cs_xl.sheet_pieces`), so that one sheet does not keep one core busy alone."""

    def __init__(self, path: Path, skip: frozenset[str] = frozenset(), first: Iterable[str] = ()):
        self.path = path
        self._data = data = _read_bytes(path)
        if not zipfile.is_zipfile(io.BytesIO(data)):
            raise LoadError(_not_a_zip_message(path, data))
        zipcheck.check(path, LoadError)  # zip bombs, DOCTYPEs: refused before calamine inflates anything
        first_book = _calamine_book(path, data)
        self._names = [name for name in first_book.sheet_names if name not in skip]
        sizes = _part_sizes(data)
        self._firsts, order = _reading_order(self._names, sizes, first)
        big = _sheet_to_cut(order, self._firsts, sizes)
        # a CalamineWorkbook is not shared between threads: one per worker, the first worker taking
        # the one opened here (opening parses the shared strings: 0.2 s for 400,000 of them)
        self._books, self._spare = threading.local(), [first_book]
        self._parser = ThreadPoolExecutor(PARSE_THREADS, thread_name_prefix="cs_xl sheet")
        # python-calamine returns error cells as '': a thread of its own finds them in the sheet XML,
        # the sheet to cut first (its pieces wait for it), then the smallest first (the order the
        # parsed sheets come back in)
        self._scanner = ThreadPoolExecutor(1, thread_name_prefix="cs_xl error cells")
        self._scans = {name: self._scanner.submit(_scan_sheet, data, name, name == big)
                       for name in sorted(order, key=lambda n: (n != big, sizes.get(n, 0)))}
        # the pieces after the other sheets: they wait for the cut, the others can start at once
        self._jobs = {name: [self._parser.submit(self._parse, name)] for name in order if name != big}
        if big is not None:
            self._jobs[big] = [self._parser.submit(self._parse_piece, big, i) for i in range(PARSE_THREADS)]
        self._sheet_of = {job: name for name, jobs in self._jobs.items() for job in jobs}
        self._grids: dict[str, Grid] = {}

    def _book(self):
        """This worker's own CalamineWorkbook of the file."""
        if not hasattr(self._books, "book"):
            try:
                self._books.book = self._spare.pop()
            except IndexError:
                self._books.book = _calamine_book(self.path, self._data)
        return self._books.book

    def _parse(self, name: str) -> Grid:
        return _sheet_grid(self._book(), name)

    def _parse_piece(self, name: str, i: int):
        """Piece ``i`` of a cut sheet as (start, rows); when the sheet could not be cut, the
        first piece's job parses it whole (a :class:`Grid`) and the others have nothing to do."""
        scan = self._scans[name].result()
        if scan.pieces is None:
            return self._parse(name) if i == 0 else None
        piece, scan.pieces[i] = scan.pieces[i], None
        book = _calamine_book(self.path, piece)
        del piece  # calamine holds its own copy: 60 MB of a 100,000-row sheet less to keep
        return _sheet_cells(book, name)

    def __iter__(self) -> Iterator[Grid]:
        for name in self._firsts:
            if name not in self._grids:
                yield self._take(name)
        rest = [job for job, name in self._sheet_of.items() if name not in self._firsts]
        for job in as_completed(rest):
            name = self._sheet_of[job]
            if name not in self._grids and all(j.done() for j in self._jobs[name]):
                yield self._take(name)

    def _take(self, name: str) -> Grid:
        """The sheet's grid once all its jobs are done, error cells put back."""
        jobs = self._jobs[name]
        grid = _parsed(self.path, jobs[0]) if len(jobs) == 1 else self._joined(name, jobs)
        _restore_error_cells(self.path, self._scans[name], grid)
        self._grids[name] = grid
        return grid

    def _joined(self, name: str, jobs: list) -> Grid:
        """A cut sheet's grid from its pieces; parsed whole when a piece failed or does not fit
        (so a damaged sheet is reported exactly as when it is parsed whole)."""
        try:
            results = [job.result() for job in jobs]
            if isinstance(results[0], Grid):  # not cut
                return results[0]
            start, rows = sheet_pieces.join(results, self._scans[name].result().first_rows)
        except Exception:  # noqa: BLE001 — the whole parse below raises it as the user should see it
            start, rows = None, None
        if rows is None:
            return _whole_sheet(self.path, self._data, name)
        return _grid(name, start, rows)

    def grids(self) -> Grids:
        for _ in self:  # the sheets not yet taken
            pass
        return Grids(str(self.path), [self._grids[name] for name in self._names])

    def close(self) -> None:
        self._parser.shutdown(wait=False, cancel_futures=True)
        self._scanner.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> SheetStream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _sheet_to_cut(order: list[str], firsts: list[str], sizes: dict[str, int]) -> str | None:
    """The sheet to parse in pieces, if any: the biggest, when it outweighs the others together."""
    candidates = [n for n in order if n not in firsts]
    if PARSE_THREADS < 2 or not candidates:
        return None
    big = max(candidates, key=lambda n: sizes.get(n, 0))
    others = [sizes.get(n, 0) for n in order if n != big]
    return big if sheet_pieces.worth_cutting(sizes.get(big, 0), others) else None


def _reading_order(names: list[str], sizes: dict[str, int], first: Iterable[str]) -> tuple[list[str], list[str]]:
    """(the sheets named in ``first``, every sheet in the order to parse it): those first, then
    the biggest first, so the longest parse starts at once and the small ones fill the other core."""
    firsts = [n for n in names if is_sheet_named(n, first)]
    return firsts, firsts + sorted((n for n in names if n not in firsts), key=lambda n: -sizes.get(n, 0))


class _OneSheet:
    """A CSV read as :class:`SheetStream` reads a workbook (its one table, read at once)."""

    def __init__(self, path: Path):
        self._grids = Grids(str(path), [_read_csv(path)], is_csv=True)

    def __iter__(self) -> Iterator[Grid]:
        return iter(self._grids.sheets)

    def grids(self) -> Grids:
        return self._grids

    def __enter__(self) -> _OneSheet:
        return self

    def __exit__(self, *exc) -> None:
        pass


def _calamine_book(path: Path, data: bytes):
    from python_calamine import CalamineWorkbook  # imported late: CSV-only use needs no Rust wheel
    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises its own types (ZipError, XmlError, PasswordError …)
        raise LoadError(_unreadable_zip_message(path, exc)) from None


def _parsed(path: Path, future) -> Grid:
    return _said_as_load_error(path, future.result)


def _said_as_load_error(path: Path, work, *args):
    """``work(*args)``, python-calamine's own errors (ZipError, XmlError, PasswordError …) said
    as a one-line LoadError in the user's words."""
    try:
        return work(*args)
    except LoadError:
        raise
    except Exception as exc:
        raise LoadError(_unreadable_zip_message(path, exc)) from None


def _part_sizes(data: bytes) -> dict[str, int]:
    """Sheet name → uncompressed size of its XML ({} for a structure calamine alone can read)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            sizes = {info.filename: info.file_size for info in archive.infolist()}
            return {name: sizes.get(part, 0) for name, part in _sheet_parts(archive).items()}
    except (zipfile.BadZipFile, KeyError, SafeET.ParseError):
        return {}


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


def _whole_sheet(path: Path, data: bytes, name: str) -> Grid:
    """``name`` parsed whole by a CalamineWorkbook of its own, errors said as the workers' are."""
    return _said_as_load_error(path, lambda: _sheet_grid(_calamine_book(path, data), name))


def _sheet_grid(book, name: str) -> Grid:
    return _grid(name, *_sheet_cells(book, name))


def _sheet_cells(book, name: str) -> tuple[tuple[int, int] | None, list[list[Any]]]:
    """(0-based start, rows) of a sheet's used range as python-calamine reads it; (None, []) when empty."""
    sheet = book.get_sheet_by_name(name)
    if sheet.start is None:
        return None, []
    return sheet.start, sheet.to_python(skip_empty_area=True)


def _grid(name: str, start: tuple[int, int] | None, rows: list[list[Any]]) -> Grid:
    """The grid of cells read from ``start`` (0-based row, column; None: an empty sheet)."""
    return Grid(name, []) if start is None else Grid(name, rows, first_row=start[0] + 1, first_col=start[1])


# python-calamine returns error cells (#N/A, #DIV/0!) as '': they would be read as
# blanks and never reported.  The sheet XML still holds them as <c t="e"><v>#N/A</v>.
_CELL_REF = re.compile(rb"""\br\s*=\s*["']([A-Z]{1,3})(\d+)["']""")
_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")
_CELL_END = re.compile(rb"</(?:\w+:)?c>")
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_WORKBOOK, _WORKBOOK_RELS = "xl/workbook.xml", "xl/_rels/workbook.xml.rels"
_CARRIED_TYPES = ("/styles", "/sharedStrings")


@dataclass
class _Scan:
    """What the scanner found in one sheet's XML: its error cells and, for the sheet to cut, the
    stored workbooks of its pieces (None: parse it whole) and the row each piece starts with."""
    errors: list[tuple[int, int, str]]
    pieces: list[bytes | None] | None = None
    first_rows: list[int] = field(default_factory=list)


def _scan_sheet(data: bytes, sheet: str, cut: bool = False) -> _Scan:
    """The error cells of ``sheet`` as (Excel row, 0-based column, error text), and its pieces
    when ``cut``.

    The sheet XML is inflated a second time (calamine keeps what it parsed), but inflating
    releases the GIL, so on a spare core the scan costs little; the pieces of a cut sheet are
    stored, so calamine does not inflate that sheet at all."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        part = _sheet_parts(archive).get(sheet)
        if part is None or part not in archive.namelist():
            return _Scan([])
        xml = archive.read(part)
        found = sheet_pieces.cut(xml, PARSE_THREADS) if cut else None
        pieces = None if found is None else sheet_pieces.piece_books(archive, part, _carried_parts(archive), found)
    has_errors = b't="e"' in xml or b"t='e'" in xml  # bytes.find is far faster than a regex here
    return _Scan(list(_error_cells(xml)) if has_errors else [], pieces, found.first_rows if found else [])


def _restore_error_cells(path: Path, scan, grid: Grid) -> None:
    """Put each error cell's text back into ``grid`` (only where calamine left '')."""
    try:
        found = scan.result().errors
    except (zipfile.BadZipFile, KeyError, SafeET.ParseError) as exc:
        raise LoadError(f"{path}: damaged workbook structure ({exc})") from None
    if grid.rows:
        for row, col, text in found:
            _put_error(grid, row, col, text)


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → zip member of its XML, via xl/workbook.xml and its rels."""
    workbook = SafeET.fromstring(archive.read(_WORKBOOK))
    targets = {rel.get("Id"): rel.get("Target", "") for rel in SafeET.fromstring(archive.read(_WORKBOOK_RELS))}
    return {sheet.get("name"): _member(targets.get(sheet.get(f"{{{_REL_NS}}}id"), ""))
            for sheet in workbook.iter() if sheet.tag.rsplit("}", 1)[-1] == "sheet"}


def _member(target: str) -> str:
    """The zip member a workbook relationship points to: Excel writes targets relative to xl/,
    some writers an absolute "/xl/…"."""
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))


def _carried_parts(archive: zipfile.ZipFile) -> list[str]:
    """Every part python-calamine reads besides the sheets: the package's content types and rels,
    the workbook part and its rels, its styles (number formats say which numbers are dates) and
    shared strings."""
    rels = SafeET.fromstring(archive.read(_WORKBOOK_RELS))
    names = ["[Content_Types].xml", "_rels/.rels", _WORKBOOK, _WORKBOOK_RELS]
    names += [_member(rel.get("Target", "")) for rel in rels if rel.get("Type", "").endswith(_CARRIED_TYPES)]
    present = set(archive.namelist())
    return [name for name in dict.fromkeys(names) if name in present]


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


def is_sheet_named(name: str, names: Iterable[str]) -> bool:
    """Whether a sheet called ``name`` is one of ``names`` (case and outer spaces ignored)."""
    return name.strip().casefold() in {n.strip().casefold() for n in names}


@dataclass
class Grids:
    """Every sheet of one source, as read: what :func:`cs_xl.load.load_grids` takes."""
    source: str
    sheets: list[Grid] = field(default_factory=list)
    is_csv: bool = False

    def sheet(self, names: Iterable[str]) -> Grid | None:
        """The first sheet whose name is one of ``names`` (case and outer spaces ignored)."""
        return next((g for g in self.sheets if is_sheet_named(g.name, names)), None)


def read_grids(path, skip: Iterable[str] = ()) -> Grids:
    """Every sheet of an .xlsx/.xlsm (one python-calamine read) or the one table of a CSV.

    Sheets named in ``skip`` are not read (a refresh replaces its generated sheets: the last
    report's 数据质量 alone can hold hundreds of thousands of cells)."""
    with stream_sheets(path, skip) as sheets:
        return sheets.grids()


def stream_sheets(path, skip: Iterable[str] = (), first: Iterable[str] = ()) -> SheetStream | _OneSheet:
    """The sheets of a workbook as they are parsed (:class:`SheetStream`), or a CSV's one table:
    what :func:`cs_xl.pipeline.read_path` overlaps its own work with."""
    path = Path(path)
    check_file(path)
    if path.suffix.lower() == ".csv":
        return _OneSheet(path)
    return SheetStream(path, frozenset(skip), first)
