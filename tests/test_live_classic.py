"""The classic add-in path of the buttons (``@xw.sub refresh_report`` → ``xw.Book.caller()`` over COM),
against a recording stand-in of the xlwings object model — Excel's COM cannot run here.

The stand-in keeps what each call leaves in the workbook (cell values as COM stores them, number
formats, charts, merges, panes); the proof is that the generated sheets then hold the cells
``cs-xl refresh`` writes, read the way COM hands a sheet to Python (dates as datetimes).
"""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import openpyxl
import pytest

from cs_xl.read_files import read_grids
from cs_xl.refresh import refresh
from test_live import GENERATED, excel_reads, file_cells, quiet, stored

ROOT = Path(__file__).resolve().parents[1]


def a1(ref: str) -> tuple[int, int]:
    letters, digits = re.fullmatch(r"\$?([A-Z]+)\$?(\d+)", ref).groups()
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return int(digits), col


class Recorder:
    """Any attribute chain (``rng.font.bold = …``, ``rng.borders['edge_top'].weight = …``) accepted."""

    def __getattr__(self, name):
        value = Recorder()
        object.__setattr__(self, name, value)
        return value

    def __getitem__(self, key):
        return self.__getattr__(str(key))


class Range:
    def __init__(self, sheet: "Sheet", first: tuple[int, int], last: tuple[int, int]):
        self.sheet, self.first, self.last = sheet, first, last
        self.font, self.borders = Recorder(), Recorder()
        self.conditional_formats = Formats(sheet)

    @property
    def shape(self):
        return self.last[0] - self.first[0] + 1, self.last[1] - self.first[1] + 1

    @property
    def row(self):
        return self.first[0]

    @property
    def column(self):
        return self.first[1]

    def cells(self):
        return [(r, c) for r in range(self.first[0], self.last[0] + 1) for c in range(self.first[1], self.last[1] + 1)]

    @property
    def value(self):
        rows = range(self.first[0], self.last[0] + 1)
        return [[self.sheet.values.get((r, c)) for c in range(self.first[1], self.last[1] + 1)] for r in rows]

    @value.setter
    def value(self, rows):
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                stored = excel_reads(v)  # COM's Range.Value takes typed input like Office.js
                key = (self.first[0] + i, self.first[1] + j)
                if stored is None:
                    self.sheet.values.pop(key, None)
                else:
                    self.sheet.values[key] = stored

    def options(self, **kwargs):
        assert kwargs == {"ndim": 2}
        return self

    @property
    def number_format(self):
        raise AssertionError("the renderer never reads a format")

    @number_format.setter
    def number_format(self, value):
        for cell in self.cells():
            self.sheet.formats[cell] = value

    def merge(self):
        self.sheet.merges.append((self.first, self.last))

    def unmerge(self):
        self.sheet.merges.clear()


class Formats(list):
    def __init__(self, sheet):
        super().__init__()
        self.sheet = sheet

    def add_cell_value(self, *args, **kwargs):
        self.sheet.conditional.append(("cell_value", args))

    def add_custom(self, *args, **kwargs):
        self.sheet.conditional.append(("custom", args))

    def add_color_scale(self, *args, **kwargs):
        self.sheet.conditional.append(("color_scale", args))

    def clear(self):
        self.sheet.conditional.clear()


class Chart(Recorder):
    def __init__(self, sheet, source, anchor, chart_type):
        object.__setattr__(self, "sheet", sheet)
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "anchor", anchor)
        object.__setattr__(self, "chart_type", chart_type)

    def set_x_axis_values(self, rng):
        object.__setattr__(self, "categories", rng)

    def delete(self):
        self.sheet.chart_list.remove(self)


class Charts:
    def __init__(self, sheet):
        self.sheet = sheet

    def __iter__(self):
        return iter(list(self.sheet.chart_list))

    def add(self, source, chart_type, plot_by, anchor, width, height, style):
        chart = Chart(self.sheet, source, anchor.first, chart_type)
        self.sheet.chart_list.append(chart)
        return chart


class Panes:
    def __init__(self, sheet):
        self.sheet = sheet

    def freeze_at(self, ref):
        self.sheet.frozen = ref

    def unfreeze(self):
        self.sheet.frozen = None


class Sheet:
    def __init__(self, book, name, values=None):
        self.book, self.name, self.api = book, name, object()  # a COM object, not Office.js JSON
        self.values, self.formats, self.merges, self.conditional = dict(values or {}), {}, [], []
        self.chart_list, self.frozen, self.touched = [], None, False
        self.charts, self.freeze_panes = Charts(self), Panes(self)

    def range(self, first, last=None):
        self.touched = True
        if isinstance(first, str):
            if "," in first:  # a multi-area range, as COM accepts it
                return [self.range(part) for part in first.split(",")]
            whole = re.fullmatch(r"([A-Z]+):([A-Z]+)|(\d+):(\d+)", first)
            if whole and whole.group(1):
                return Range(self, (1, a1(whole.group(1) + "1")[1]), (1_048_576, a1(whole.group(2) + "1")[1]))
            if whole:
                return Range(self, (int(whole.group(3)), 1), (int(whole.group(4)), 16_384))
            start, _, end = first.partition(":")
            return Range(self, a1(start), a1(end or start))
        return Range(self, first, last or first)

    @property
    def cells(self):
        return self.range((1, 1), (1_048_576, 16_384))

    @property
    def used_range(self):
        if not self.values:
            return Range(self, (1, 1), (1, 1))
        rows = [r for r, _ in self.values]
        cols = [c for _, c in self.values]
        return Range(self, (min(rows), min(cols)), (max(rows), max(cols)))  # reading touches nothing

    def clear(self):
        self.touched = True
        self.values.clear()
        self.formats.clear()

    def delete(self):
        self.book.sheet_list.remove(self)

    def activate(self):
        self.book.active = self.name


class Sheets:
    def __init__(self, book):
        self.book = book

    def __iter__(self):
        return iter(list(self.book.sheet_list))

    def __len__(self):
        return len(self.book.sheet_list)

    def __getitem__(self, key):
        if isinstance(key, int):
            return self.book.sheet_list[key]
        return next(s for s in self.book.sheet_list if s.name == key)

    def add(self, name, after):
        sheet = Sheet(self.book, name)
        sheet.touched = True
        self.book.sheet_list.insert(self.book.sheet_list.index(after) + 1, sheet)
        return sheet


class Book:
    """A workbook as COM shows it to xlwings: every sheet's cells, dates as datetimes."""

    def __init__(self, path: Path):
        self.name = path.name
        self.sheet_list, self.alerts, self.active = [], [], None
        for grid in read_grids(path).sheets:
            values = {(grid.first_row + i, grid.first_col + 1 + j): v
                      for i, row in enumerate(grid.rows) for j, v in enumerate(row) if v not in ("", None)}
            self.sheet_list.append(Sheet(self, grid.name, values))
        self.sheets = Sheets(self)
        self.app = Recorder()
        object.__setattr__(self.app, "alert", lambda prompt, title=None, **kw: self.alerts.append((prompt, title)))


@pytest.fixture(scope="module")
def classic_udfs():
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("XLWINGS_ON_SERVER", raising=False)
        spec = importlib.util.spec_from_file_location("cs_udfs_live_classic", ROOT / "udfs" / "cs_udfs.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module


def test_classic_sub_draws_the_sheets_cs_xl_refresh_writes(classic_udfs, monkeypatch, tmp_path):
    import xlwings as xw
    from test_refresh import make_book
    path = make_book(tmp_path / "book.xlsx", n=300)
    book = Book(path)
    monkeypatch.setattr(xw.Book, "caller", staticmethod(lambda: book))
    classic_udfs.refresh_report()  # the @xw.sub the VBA's RunPython calls
    expected = tmp_path / "expected.xlsx"
    refresh(path, out=expected, progress=quiet)
    wb = openpyxl.load_workbook(expected)
    assert [s.name for s in book.sheet_list] == wb.sheetnames
    for sheet in book.sheet_list:
        if sheet.name not in GENERATED:
            assert not sheet.touched, sheet.name
            continue
        values, formats = file_cells(wb[sheet.name])
        assert {k: stored(v) for k, v in sheet.values.items()}.keys() == values.keys(), sheet.name
        for key, want in values.items():
            got = stored(sheet.values[key])
            assert got == (pytest.approx(want, rel=1e-12, abs=1e-9) if isinstance(want, float) else want), \
                (sheet.name, key)
        assert {k: v for k, v in sheet.formats.items() if v != "General"} == formats, sheet.name
        assert [c.anchor for c in sheet.chart_list] == [
            (c.anchor._from.row + 1, c.anchor._from.col + 1) for c in wb[sheet.name]._charts], sheet.name
    assert book.active == "汇总" and book.alerts == []


def test_classic_trend_rate_chart_plots_both_series(classic_udfs, monkeypatch, tmp_path):
    """The trend's rate charts plot 满意度 and 首次响应达标率: one rectangle of two columns (the same
    source the web path sends), headed by those two metrics."""
    import xlwings as xw
    from test_refresh import make_book
    book = Book(make_book(tmp_path / "book.xlsx", n=200))
    monkeypatch.setattr(xw.Book, "caller", staticmethod(lambda: book))
    classic_udfs.refresh_report()
    trend = book.sheets["趋势"]
    pairs = [c.source for c in trend.chart_list if not isinstance(c.source, list) and c.source.shape[1] == 2]
    assert len(pairs) == 3  # month, week, day
    for source in pairs:
        row, col = source.first
        headers = [trend.values.get((row, col)), trend.values.get((row, col + 1))]
        assert "满意" in str(headers[0]) and "首次响应达标率" in str(headers[1]), headers


def test_classic_no_input_sheet_is_an_alert(classic_udfs, monkeypatch, tmp_path):
    import xlwings as xw
    wb = openpyxl.Workbook()
    wb.active["A1"] = "nothing"
    wb.save(tmp_path / "empty.xlsx")
    book = Book(tmp_path / "empty.xlsx")
    monkeypatch.setattr(xw.Book, "caller", staticmethod(lambda: book))
    classic_udfs.check_data()
    assert len(book.alerts) == 1 and book.alerts[0][1] == "检查数据"
    assert not any(s.touched for s in book.sheet_list) and len(book.sheet_list) == 1
