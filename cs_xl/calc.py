"""``cs-xl calc``: evaluate every formula cell of a workbook headless and cache the results.

    formula cells (sheet XML, only the parts that hold formulas)  →  compiled one by
    one with the ``formulas`` engine (native Excel functions + the CS_* functions of
    cs_xl.excel_functions)  →  inputs sliced from the data read with calamine, whole
    columns trimmed to the used rows  →  results written into a copy as cached
    values (every other part of the file copied with the same content)

Only the formula cells are evaluated: a whole-workbook model of a 100k-row
book costs 20–73 s, the formula cells alone about a second.  A formula that
cannot be evaluated (a function the engine lacks, a defined name, a circular
reference) gets an Excel error as its cached value and a message naming the
cell — never a number.
"""
from __future__ import annotations

import datetime as dt
import html
import logging
import re
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from . import excel_functions, zipcheck
from .criteria import ERROR_CODES, excel_serial
from .udf_args import UdfError

MAX_ROWS = 1_048_576
_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
       "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
       "rel": "http://schemas.openxmlformats.org/package/2006/relationships"}
_FORMULA_TAG = re.compile(rb"<f[\s>/]")
_F_ELEMENT = re.compile(rb"<f\b([^>]*?)(?:/>|>(.*?)</f>)", re.S)
_ATTR = re.compile(rb'([\w:]+)="([^"]*)"')
_VALUE_ELEMENTS = re.compile(rb"<v\s*/>|<v>.*?</v>|<is>.*?</is>", re.S)
_FUNCTION_NAME = re.compile(r"(?<![\w.])([A-Za-z_][\w.]*)\s*\(")
_ERROR_CELL = re.compile(rb'<c r="([A-Z]+\d+)"[^>]*?t="e"[^>]*>(?:<f[^>]*?(?:/>|>.*?</f>))?<v>([^<]*)</v>', re.S)
_REF = re.compile(r"^\$?([A-Z]{1,3})?\$?(\d+)?(?::\$?([A-Z]{1,3})?\$?(\d+)?)?$")


class CalcError(Exception):
    """The workbook cannot be read as an .xlsx package."""


@dataclass
class FormulaCell:
    sheet: str
    ref: str
    row: int                      # 1-based
    col: int                      # 1-based
    text: str                     # formula without the leading "="
    value: Any = None             # result: number, text, bool or an error code ("#N/A")
    problem: str | None = None    # why the formula could not be evaluated
    warning: str | None = None    # a CS_* function's message for its error value
    state: str = "new"            # new → busy → done

    @property
    def where(self) -> str:
        return f"{self.sheet}!{self.ref}"


@dataclass
class CalcResult:
    path: Path
    cells: list[FormulaCell]
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def problems(self) -> list[str]:
        return [f"{c.where}: {c.problem}" for c in self.cells if c.problem]

    @property
    def warnings(self) -> list[str]:
        return [f"{c.where}: {c.warning}" for c in self.cells if c.warning]

    def __str__(self) -> str:
        bad = len(self.problems)
        return (f"calculated {len(self.cells) - bad} of {len(self.cells)} formula cells of {self.path.name}"
                f"{f'; {bad} could not be evaluated' if bad else ''}; {self.seconds:.1f} s → {self.path}")


# ------------------------------------------------------------------ reading the package

def _xml(data: bytes):
    from defusedxml import ElementTree  # untrusted workbooks: no entity expansion
    return ElementTree.fromstring(data)


def sheet_parts(package: zipfile.ZipFile) -> list[tuple[str, str]]:
    """(sheet name, part path) in workbook order."""
    workbook = _xml(package.read("xl/workbook.xml"))
    rels = _xml(package.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels.findall("rel:Relationship", _NS)}
    out = []
    for sheet in workbook.findall("m:sheets/m:sheet", _NS):
        target = targets.get(sheet.get(f"{{{_NS['r']}}}id"), "")
        part = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
        out.append((sheet.get("name"), part))
    return out


def _cell_spans(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of every <c> element holding a formula; found from its <f> tag
    so a data sheet of 100k cells is not parsed cell by cell."""
    spans = []
    for match in _FORMULA_TAG.finditer(data):
        start = data.rfind(b"<c ", 0, match.start())
        end = data.find(b"</c>", match.start())
        if start >= 0 and end >= 0 and (not spans or start >= spans[-1][1]):
            spans.append((start, end + len(b"</c>")))
    return spans


def _attrs(tag: bytes) -> dict[str, str]:
    return {k.decode(): html.unescape(v.decode("utf-8")) for k, v in _ATTR.findall(tag)}


def _ref_position(ref: str) -> tuple[int, int]:
    from openpyxl.utils.cell import coordinate_from_string, column_index_from_string
    letters, row = coordinate_from_string(ref)
    return row, column_index_from_string(letters)


def formula_cells(sheet: str, data: bytes) -> list[tuple[FormulaCell, tuple[int, int]]]:
    """The formula cells of one sheet part, shared formulas translated to each cell."""
    from openpyxl.formula.translate import Translator
    masters: dict[str, tuple[str, str]] = {}
    out = []
    for start, end in _cell_spans(data):
        element = data[start:end]
        ref = _attrs(element[:element.index(b">")])["r"]
        f = _F_ELEMENT.search(element)
        f_attrs, text = _attrs(f.group(1)), html.unescape((f.group(2) or b"").decode("utf-8"))
        if f_attrs.get("t") == "shared":
            if text:
                masters[f_attrs["si"]] = (text, ref)
            elif f_attrs.get("si") in masters:
                master, origin = masters[f_attrs["si"]]
                text = Translator("=" + master, origin=origin).translate_formula(ref)[1:]
        row, col = _ref_position(ref)
        out.append((FormulaCell(sheet, ref, row, col, text), (start, end)))
    return out


# ------------------------------------------------------------------ cell values

def _engine_value(cell):
    """A calamine value as the formula engine expects it: blanks EMPTY, dates serials."""
    if cell.__class__ is float:  # most cells: numbers pass as they are
        return cell
    if cell is None or (cell.__class__ is str and cell == ""):
        return _EMPTY()
    if isinstance(cell, (dt.date, dt.datetime)):
        return excel_serial(cell)
    if isinstance(cell, dt.time):
        return (cell.hour * 3600 + cell.minute * 60 + cell.second) / 86400.0
    if isinstance(cell, dt.timedelta):
        return cell.total_seconds() / 86400.0
    if isinstance(cell, str) and cell in ERROR_CODES:
        return _xl_error(cell)
    return cell


def _EMPTY():
    import schedula
    return schedula.EMPTY


def _xl_error(code: str):
    from formulas.tokens.operand import Error
    return Error.errors.get(code, Error.errors["#VALUE!"])


class _Omitted(int):
    """An argument left out (``=CS_FRT_RATE(F:F, 3, , , E:E, "x")``): 0 to the
    engine's own functions, as in Excel; None (the default) to the CS_* ones,
    as xlwings passes it."""


def _cell_from_engine(value):
    """An engine value as a raw cell for the CS_* functions: EMPTY or omitted → None, errors → "#N/A"."""
    if value.__class__ is float:
        return value
    if value.__class__ is _Omitted:
        return None
    import schedula
    from formulas.tokens.operand import XlError
    if value is schedula.EMPTY:
        return None
    if isinstance(value, XlError):
        return str(value)
    return value


def _raw_cells(arg, converted: dict):
    """A range argument as raw cells (2-D lists), converted once per array: a dashboard
    passes the same whole column to many CS_* cells."""
    if not isinstance(arg, np.ndarray):
        return _cell_from_engine(arg)
    key = id(arg)
    if key not in converted:
        if arg.ndim == 2 and arg.shape[1] == 1:  # a column: a flat list, as Office.js would send it
            cells = [_cell_from_engine(v) for v in arg.ravel().tolist()]
        else:
            cells = [[_cell_from_engine(v) for v in row] for row in arg.tolist()]
        converted[key] = (arg, cells)
    return converted[key][1]


def _plain(value):
    """A result as a cell value: first element of an array, errors as codes, numpy unwrapped."""
    import schedula
    from formulas.tokens.operand import XlError
    if isinstance(value, np.ndarray):
        value = value.ravel()[0] if value.size else schedula.EMPTY
    if value is schedula.EMPTY:
        return 0.0  # a reference to a blank cell shows 0, as in Excel
    if isinstance(value, XlError):
        return str(value)
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, np.floating)):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return "#NUM!"
    return value


# ------------------------------------------------------------------ the CS_* functions in the engine

_LAST_WARNING: dict[str, str] = {}
_CONVERTED: dict[int, tuple] = {}  # id(array) → (array, raw cells); cleared per calc run


def _engine_function(name: str):
    def call(*args):
        plain = [_raw_cells(a, _CONVERTED) for a in args]
        try:
            value = excel_functions.call(name, *plain)
        except UdfError as exc:
            _LAST_WARNING["message"] = str(exc)
            return _xl_error(exc.code)
        if isinstance(value, list):  # CS_BREAKDOWN: a spilled table
            return np.array([[_xl_error(v) if isinstance(v, str) and v in ERROR_CODES else v for v in row]
                             for row in value], dtype=object)
        return _xl_error(value) if isinstance(value, str) else value
    call.__name__ = name
    return call


def register_functions() -> None:
    """Make every CS_* function known to the ``formulas`` engine (idempotent)."""
    import formulas
    from formulas.functions import wrap_func
    from formulas.tokens.operand import Empty
    from .calc_functions import FUNCTIONS as EXCEL_RULES
    Empty.compile = staticmethod(lambda: _Omitted(0))  # the engine's omitted argument is a plain 0
    table = formulas.get_functions()
    for name, fn in EXCEL_RULES.items():  # where the engine departs from Excel
        table[name] = wrap_func(fn, ranges=True)
    for name in excel_functions.names():
        table[name] = wrap_func(_engine_function(name), ranges=True)


# ------------------------------------------------------------------ evaluation

@dataclass
class _Ref:
    sheet: str
    min_row: int
    min_col: int
    max_row: int | None   # None: to the end of the used rows (whole column)
    max_col: int | None   # None: to the last used column (whole row)


def _split_sheet(name: str) -> tuple[str | None, str]:
    if "!" not in name:
        return None, name
    sheet, ref = name.rsplit("!", 1)
    if sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    return sheet, ref


def _parse_ref(name: str, here: str, sheets: dict[str, str]) -> _Ref:
    from openpyxl.utils.cell import column_index_from_string
    sheet, ref = _split_sheet(name)
    sheet = sheets.get((sheet or here).casefold())
    m = _REF.match(ref.upper())
    if sheet is None or m is None or not any(m.groups()):
        raise _NotEvaluable(f"uses {name!r}, which is not a cell or range of this workbook "
                            "(defined names and table references are not supported by cs-xl calc)")
    c1, r1, c2, r2 = m.groups()
    if ":" not in ref:
        c2, r2 = c1, r1
    col = lambda letters: None if letters is None else column_index_from_string(letters)  # noqa: E731
    return _Ref(sheet, int(r1) if r1 else 1, col(c1) or 1,
                int(r2) if r2 else None, col(c2))


class _NotEvaluable(Exception):
    pass


class WholeColumn(np.ndarray):
    """A whole-column range cut to the used rows; ``rows`` is what it spans in Excel
    (COUNTIF(A:A, "<>x") counts the blank tail too)."""
    rows: int = 0


class Workbook:
    """Cell values (calamine) plus the formula cells evaluated so far."""

    def __init__(self, path: Path, cells: list[FormulaCell], parts: dict[str, bytes]):
        from python_calamine import CalamineWorkbook
        self._book = CalamineWorkbook.from_path(str(path))
        self._parts = parts  # sheet name → its XML, for the error cells calamine reads as blanks
        self.sheets = {n.casefold(): n for n in parts}
        self._grids: dict[str, list] = {}
        self.formulas = {(c.sheet, c.row, c.col): c for c in cells}
        self._compiled: dict[str, Any] = {}
        self._arrays: dict[tuple, np.ndarray] = {}

    def grid(self, sheet: str) -> list:
        if sheet not in self._grids:
            grid = self._book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
            xml = self._parts[sheet]
            for ref, code in (_ERROR_CELL.findall(xml) if b't="e"' in xml else ()):
                row, col = _ref_position(ref.decode())
                if row <= len(grid) and col <= len(grid[row - 1]):
                    grid[row - 1][col - 1] = code.decode()
            self._grids[sheet] = grid
        return self._grids[sheet]

    def used_height(self) -> int:
        """Rows a whole column spans here: the tallest sheet loaded (so F:F and E:E of
        two sheets keep the same size, as in Excel)."""
        return max((len(g) for g in self._grids.values()), default=0)

    def values(self, ref: _Ref) -> np.ndarray:
        """The engine's array for a reference; built once per range (dashboards reuse F:F)."""
        key = (ref.sheet, ref.min_row, ref.min_col, ref.max_row, ref.max_col)
        if key not in self._arrays:
            self._arrays[key] = self._build(ref)
        return self._arrays[key]

    def _build(self, ref: _Ref) -> np.ndarray:
        grid = self.grid(ref.sheet)
        last_row = ref.max_row or max(self.used_height(), 1)
        last_col = ref.max_col or max((len(r) for r in grid[:1]), default=1)
        height, width = last_row - ref.min_row + 1, last_col - ref.min_col + 1
        rows = grid[ref.min_row - 1:last_row]
        out = np.empty((height, width), dtype=object)
        for j, c in enumerate(range(ref.min_col - 1, last_col)):
            column = [_engine_value(row[c]) if c < len(row) else _engine_value(None) for row in rows]
            column += [_engine_value(None)] * (height - len(column))  # explicit ranges below the data
            out[:, j] = column
        for cell in self._formulas_inside(ref):  # formula results computed in this run
            out[cell.row - ref.min_row, cell.col - ref.min_col] = _engine_value(cell.value)
        if ref.max_row is None:
            out = out.view(WholeColumn)
            out.rows = MAX_ROWS - ref.min_row + 1
        return out

    def evaluate(self, cell: FormulaCell) -> None:
        if cell.state == "done":
            return
        if cell.state == "busy":
            raise _NotEvaluable(f"circular reference through {cell.where}")
        cell.state = "busy"
        try:
            cell.value = self._result(cell)
        except _NotEvaluable as exc:
            cell.problem = str(exc)
            cell.value = "#NAME?" if "not supported" in str(exc) else "#VALUE!"
        finally:
            cell.state = "done"

    def load_referenced(self) -> None:
        """Read every sheet a formula refers to before evaluating any: whole columns
        then have one height for the whole run."""
        for cell in self.formulas.values():
            try:
                for name in self._compile(cell.text).inputs:
                    self.grid(_parse_ref(name, cell.sheet, self.sheets).sheet)
            except _NotEvaluable:
                continue  # reported when the cell is evaluated

    def _result(self, cell: FormulaCell):
        fn = self._compile(cell.text)
        refs = [_parse_ref(name, cell.sheet, self.sheets) for name in fn.inputs]
        for ref in refs:
            for other in self._formulas_inside(ref):
                self.evaluate(other)
                if other.problem:
                    raise _NotEvaluable(f"depends on {other.where}, which could not be evaluated")
        _LAST_WARNING.clear()
        try:
            value = fn(*[self.values(ref) for ref in refs])
        except Exception as exc:  # the engine's own failure: never guess a number
            raise _NotEvaluable(f"the formula engine failed on ={cell.text}: {exc}") from None
        if _LAST_WARNING:
            cell.warning = _LAST_WARNING["message"]
        return _plain(value)

    def _formulas_inside(self, ref: _Ref) -> list[FormulaCell]:
        last_row, last_col = ref.max_row or MAX_ROWS, ref.max_col or 16_384
        return [c for (s, r, col), c in self.formulas.items()
                if s == ref.sheet and ref.min_row <= r <= last_row and ref.min_col <= col <= last_col]

    def _compile(self, text: str):
        if text not in self._compiled:
            self._compiled[text] = _compile(text)
        return self._compiled[text]


def _compile(text: str):
    import formulas
    known = formulas.get_functions()
    for name in _FUNCTION_NAME.findall(_without_strings(text)):
        if name.upper() not in known:
            raise _NotEvaluable(f"the function {name.upper()} is not supported by cs-xl calc")
    try:
        return formulas.Parser().ast("=" + text)[1].compile()
    except Exception as exc:
        raise _NotEvaluable(f"cannot read the formula ={text}: {exc}") from None


def _without_strings(text: str) -> str:
    return re.sub(r'"(?:[^"]|"")*"', '""', text)


# ------------------------------------------------------------------ writing the copy

def _value_xml(value) -> tuple[str | None, bytes]:
    """(t attribute, <v> element) of a cached value."""
    if isinstance(value, bool):
        return "b", b"<v>%d</v>" % int(value)
    if isinstance(value, (int, float)):
        return None, f"<v>{float(value)!r}</v>".encode()
    text = str(value)
    if text in ERROR_CODES:
        return "e", f"<v>{text}</v>".encode()
    return "str", f"<v>{html.escape(text, quote=False)}</v>".encode("utf-8")


def _cached(element: bytes, value) -> bytes:
    """The <c> element with ``value`` as its cached value (formula kept as it is)."""
    close = element.index(b">")
    tag = re.sub(rb'\s+t="[^"]*"', b"", element[:close])
    t, v = _value_xml(value)
    if t:
        tag += f' t="{t}"'.encode()
    body = _VALUE_ELEMENTS.sub(b"", element[close + 1:-len(b"</c>")])
    return tag + b">" + body + v + b"</c>"


def _patched(data: bytes, cells: list[tuple[FormulaCell, tuple[int, int]]]) -> bytes:
    out, last = [], 0
    for cell, (start, end) in sorted(cells, key=lambda item: item[1][0]):
        out += [data[last:start], _cached(data[start:end], cell.value)]
        last = end
    out.append(data[last:])
    return b"".join(out)


class _Package:
    """A copy of the source zip with some parts replaced; ``save(path)`` for book.save_atomic."""

    def __init__(self, source: Path, replaced: dict[str, bytes]):
        self.source, self.replaced = source, replaced

    def save(self, path) -> None:
        # level 1: the data sheets are re-deflated, and level 6 costs seconds at 100k rows
        with zipfile.ZipFile(self.source) as src, zipfile.ZipFile(path, "w", compresslevel=1) as dst:
            for info in src.infolist():
                data = self.replaced.get(info.filename)
                dst.writestr(info, data if data is not None else src.read(info.filename), compresslevel=1)


# ------------------------------------------------------------------ public API

def default_output(path: Path) -> Path:
    return path.with_name(f"{path.stem}_calc{path.suffix}")


def calc(path, out=None) -> CalcResult:
    """Evaluate every formula cell of the workbook ``path``; write the copy to ``out``
    (default ``BOOK_calc.xlsx`` beside it).  Raises :class:`CalcError` for a file that
    is not an .xlsx/.xlsm package."""
    from .book import save_atomic
    started = time.perf_counter()
    path = Path(path)
    target = Path(out) if out is not None else default_output(path)
    timings: dict[str, float] = {}
    zipcheck.check(path, CalcError)  # zip bombs, DOCTYPEs: refused before anything is inflated
    try:
        package = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise CalcError(f"{path}: not a readable .xlsx/.xlsm workbook ({exc})") from exc
    with package:
        parts = sheet_parts(package)
        found, xml = {}, {}
        for sheet, part in parts:
            data = xml[sheet] = package.read(part)
            if _FORMULA_TAG.search(data):
                found[part] = (data, formula_cells(sheet, data))
    timings["find"] = time.perf_counter() - started
    cells = [cell for _, items in found.values() for cell, _ in items]
    _quiet_engine_logs()
    register_functions()
    book = Workbook(path, cells, xml)
    _CONVERTED.clear()
    t0 = time.perf_counter()
    book.load_referenced()
    timings["read"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for cell in cells:
        book.evaluate(cell)
    timings["evaluate"] = time.perf_counter() - t0
    _CONVERTED.clear()
    t0 = time.perf_counter()
    replaced = {part: _patched(data, items) for part, (data, items) in found.items()}
    save_atomic(_Package(path, replaced), target, backup=target != path)
    timings["write"] = time.perf_counter() - t0
    return CalcResult(target, cells, time.perf_counter() - started, timings)


def _quiet_engine_logs() -> None:
    """schedula logs a traceback for every failing formula; cs-xl calc reports them itself."""
    for name in ("schedula", "formulas"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
