"""The 「刷新报表」/「检查数据」 buttons on the xlwings Server/Lite path, proven without Excel.

A workbook file is turned into the JSON Office.js sends (every sheet's used range anchored at A1,
dates as serial numbers, blanks as ""), the button script runs through
``xlwings.server.custom_scripts_call`` on ``xw.Book(json=…)``, and the actions it returns are
replayed onto a small model of the workbook (:class:`Replay`, written here from the action
names' documented meaning, not from cs_xl).  The replayed generated sheets must hold the cells
``cs-xl refresh`` writes — values and number formats — and no action may aim at an input sheet.
"""
from __future__ import annotations

import asyncio
import copy
import datetime as dt
import posixpath
import importlib.util
import math
import os
import re
import shutil
import zipfile
from xml.etree import ElementTree
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # before xlwings is first imported

import openpyxl
import pandas as pd
import pytest

from cs_xl import sample
from cs_xl.refresh import refresh
from cs_xl.words import generated_sheet_names

ROOT = Path(__file__).resolve().parents[1]
EPOCH = dt.datetime(1899, 12, 30)
GENERATED = set(generated_sheet_names("zh")) | set(generated_sheet_names("en"))


def quiet(done, total, message):
    pass


# ------------------------------------------------------------------ Office.js's side

def officejs_value(value):
    """A cell value as Office.js ``range.values`` gives it: dates as serials, blanks as ""."""
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        return (value - EPOCH).total_seconds() / 86400
    if isinstance(value, dt.date):
        return float((value - EPOCH.date()).days)
    if isinstance(value, dt.time):
        return (value.hour * 3600 + value.minute * 60 + value.second) / 86400
    return value


def _rels(z: zipfile.ZipFile, part: str) -> dict[str, str]:
    """Relationship id → target part of ``part`` (targets resolved against its folder)."""
    folder, name = posixpath.split(part)
    rels = f"{folder}/_rels/{name}.rels"
    if rels not in z.namelist():
        return {}
    out = {}
    for rel in ElementTree.fromstring(z.read(rels)):
        target = rel.get("Target")
        out[rel.get("Id")] = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
            posixpath.join(folder, target))
    return out


def chart_counts(path: Path) -> dict[str, int]:
    """Sheet name → how many charts its drawing holds (read from the package, as Excel knows them)."""
    r_id = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    with zipfile.ZipFile(path) as z:
        sheets = _rels(z, "xl/workbook.xml")
        counts = {}
        for sheet in ElementTree.fromstring(z.read("xl/workbook.xml")).iter():
            if sheet.tag.endswith("}sheet"):
                drawings = [t for t in _rels(z, sheets[sheet.get(r_id)]).values() if "/drawings/" in t]
                counts[sheet.get("name")] = sum(
                    sum("/charts/" in t for t in _rels(z, d).values()) for d in drawings)
    return counts


def from_a1(grid) -> list[list]:
    """A grid's rows padded to start at A1, as Office.js sends a sheet's values."""
    width = grid.first_col + max((len(r) for r in grid.rows), default=0)
    rows = [[""] * width for _ in range(grid.first_row - 1)]
    rows += [[""] * grid.first_col + list(r) + [""] * (width - grid.first_col - len(r)) for r in grid.rows]
    return rows


def payload(path: Path) -> dict:
    """The JSON xlwings' Office.js client posts for a script call on the book at ``path``: the cells
    as the file reader sees them (calamine; error cells as their text, as Office.js sends them),
    dates turned into serial numbers."""
    import xlwings
    from cs_xl.read_files import read_grids
    charts = chart_counts(path)
    sheets = []
    for grid in read_grids(path).sheets:
        values = [[officejs_value(v) for v in row] for row in from_a1(grid)] or [[]]
        sheets.append({"name": grid.name, "values": values, "pictures": [], "tables": [], "shapes": [],
                       "charts": [{"name": f"Chart {i}", "chart_type": "BarClustered", "left": 0, "top": 0,
                                   "width": 355, "height": 211} for i in range(1, charts.get(grid.name, 0) + 1)],
                       "pivot_tables": [], "show_gridlines": True, "visibility": "Visible"})
    return {"client": "Office.js", "version": xlwings.__version__,
            "book": {"name": path.name, "active_sheet_index": 0, "selection": "A1"},
            "names": [], "sheets": sheets}


@pytest.fixture(scope="module")
def server_udfs():
    import xlwings
    if not xlwings.__pro__:
        pytest.skip("xlwings was imported before XLWINGS_LICENSE_KEY was set (run this file on its own)")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XLWINGS_ON_SERVER", "true")
        spec = importlib.util.spec_from_file_location("cs_udfs_live_server", ROOT / "udfs" / "cs_udfs.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module


def press(module, path: Path, script: str = "refresh_report") -> tuple[dict, list[dict]]:
    """Run the button ``script`` on the book at ``path`` as xlwings Server does; (payload, actions)."""
    import xlwings as xw
    from xlwings.server import custom_scripts_call
    data = payload(path)
    book = xw.Book(json=copy.deepcopy(data))  # the script's book changes its JSON as it goes
    returned = asyncio.run(custom_scripts_call(module, script, typehint_to_value={xw.Book: book}))
    return data, returned.json()["actions"]


# ------------------------------------------------------------------ Excel's side: a replay model

@dataclass
class Sheet:
    name: str
    values: dict = field(default_factory=dict)      # (row, col) 1-based → value as Excel stores it
    formats: dict = field(default_factory=dict)     # (row, col) → number format
    charts: list = field(default_factory=list)      # dicts: type, source, anchor, title …
    conditional: list = field(default_factory=list)
    merges: list = field(default_factory=list)
    frozen: str | None = None
    widths: dict = field(default_factory=dict)
    touched: bool = False                            # any action aimed at it


def excel_reads(value):
    """What Excel stores for a value it is given through ``range.values`` (as if typed)."""
    if value == "":
        return None
    if isinstance(value, str):
        if value.startswith("'"):
            return value[1:]                          # the quote prefix: text, prefix hidden
        assert not value.startswith(("=", "+", "-", "@")), f"{value!r} would run as a formula"
        for parse in (float, pd.Timestamp):
            try:
                parse(value)
            except (ValueError, TypeError):
                continue
            raise AssertionError(f"{value!r} would be read as a number or date, not text")
        assert value.upper() not in ("TRUE", "FALSE"), f"{value!r} would become a boolean"
    return value


class Replay:
    """Applies xlwings' recorded actions the way xlwings.js applies them in Excel."""

    def __init__(self, data: dict):
        self.sheets = []
        for s in data["sheets"]:
            sheet = Sheet(s["name"], charts=[dict(c) for c in s["charts"]])
            for i, row in enumerate(s["values"], start=1):
                for j, v in enumerate(row, start=1):
                    if v not in ("", None):
                        sheet.values[(i, j)] = v
            self.sheets.append(sheet)
        self.alerts = []
        self.active = None

    def target(self, action) -> Sheet:
        sheet = self.sheets[action["sheet_position"]]
        sheet.touched = True
        return sheet

    @staticmethod
    def cells(action):
        r0, c0 = action["start_row"] + 1, action["start_column"] + 1
        return [(r0 + i, c0 + j) for i in range(action["row_count"]) for j in range(action["column_count"])]

    def apply(self, actions: list[dict]) -> None:
        for action in actions:
            getattr(self, "do_" + action["func"])(action)

    # sheets
    def do_addSheet(self, a):
        self.sheets.insert(a["args"][0], Sheet(a["args"][1], touched=True))

    def do_sheetDelete(self, a):
        sheet = self.target(a)
        self.sheets.remove(sheet)

    def do_setSheetName(self, a):
        self.target(a).name = a["args"][0]

    def do_activateSheet(self, a):
        self.active = self.sheets[a["args"][0]].name  # 0-based

    def do_sheetClear(self, a):
        sheet = self.target(a)
        sheet.values.clear()
        sheet.formats.clear()

    def do_clearConditionalFormats(self, a):
        self.target(a).conditional.clear()

    def do_rangeUnmerge(self, a):
        self.target(a).merges.clear()

    def do_freezePaneUnfreeze(self, a):
        self.target(a).frozen = None

    def do_freezePaneAtRange(self, a):
        self.target(a).frozen = a["args"][0]

    # cells
    def do_setValues(self, a):
        sheet = self.target(a)
        r0, c0 = a["start_row"] + 1, a["start_column"] + 1
        assert len(a["values"]) == a["row_count"] and all(len(r) == a["column_count"] for r in a["values"])
        for i, row in enumerate(a["values"]):
            for j, v in enumerate(row):
                stored = excel_reads(v)
                if stored is None:
                    sheet.values.pop((r0 + i, c0 + j), None)
                else:
                    sheet.values[(r0 + i, c0 + j)] = stored

    def do_setNumberFormat(self, a):
        sheet = self.target(a)
        for cell in self.cells(a):
            sheet.formats[cell] = a["args"][0]

    def do_setColumnWidth(self, a):
        sheet = self.target(a)
        if a["row_count"] < 1_048_576:
            raise AssertionError("a column width is set on whole columns")
        for j in range(a["column_count"]):
            sheet.widths[a["start_column"] + 1 + j] = a["args"][0]

    def do_rangeMerge(self, a):
        self.target(a).merges.append((a["start_row"], a["start_column"], a["row_count"], a["column_count"]))

    def do_addConditionalFormat(self, a):
        self.target(a).conditional.append(a["args"][0])

    def do_alert(self, a):
        self.alerts.append(a["args"][0])

    # formatting that does not change what a cell holds
    def _look(self, a):
        self.target(a)

    do_setFontProperty = do_setRangeColor = do_setHorizontalAlignment = do_setVerticalAlignment = _look
    do_setWrapText = do_setRowHeight = do_setBorderProperty = _look

    # charts: Office.js addresses a chart by its index on the sheet
    def do_addChart(self, a):
        name, kind, sheet_name, source, _, _, width, height, plot_by, anchor, style = a["args"]
        sheet = self.target(a)
        assert sheet_name == sheet.name
        sheet.charts.append({"name": name, "type": kind, "source": source, "anchor": anchor, "width": width,
                             "height": height, "plot_by": plot_by})

    def do_deleteChart(self, a):
        del self.target(a).charts[a["args"][0]]

    def _chart(self, a) -> dict:
        return self.target(a).charts[a["args"][0]]

    def do_setChartXAxisValues(self, a):
        self._chart(a)["categories"] = a["args"][2]

    def do_setChartTitle(self, a):
        self._chart(a)["title"] = a["args"][1]

    def do_setChartAxis(self, a):
        self._chart(a).setdefault("axes", {}).setdefault(a["args"][1], {}).update(a["args"][2])

    def do_setChartLegend(self, a):
        self._chart(a).setdefault("legend", {})[a["args"][1]] = a["args"][2]

    def sheet(self, name: str) -> Sheet:
        return next(s for s in self.sheets if s.name == name)


# ------------------------------------------------------------------ comparing with cs-xl refresh

def stored(value):
    """An openpyxl-read value as Excel stores it: dates as serial numbers."""
    if isinstance(value, dt.datetime):
        return (value - EPOCH).total_seconds() / 86400
    return value


def file_cells(ws) -> tuple[dict, dict]:
    values, formats = {}, {}
    for row in ws.iter_rows():
        for c in row:
            if c.value is not None:
                values[(c.row, c.column)] = stored(c.value)
            if c.number_format != "General":
                formats[(c.row, c.column)] = c.number_format
    return values, formats


def assert_same_sheet(replayed: Sheet, ws) -> None:
    values, formats = file_cells(ws)
    assert set(replayed.values) == set(values), ws.title
    for key, want in values.items():
        got = replayed.values[key]
        if isinstance(want, float):
            assert got == pytest.approx(want, rel=1e-12, abs=1e-9), (ws.title, key)
        else:
            assert got == want, (ws.title, key)
    assert {k: v for k, v in replayed.formats.items() if v != "General"} == formats, ws.title
    file_anchors = [f"${openpyxl.utils.get_column_letter(c.anchor._from.col + 1)}${c.anchor._from.row + 1}"
                    for c in ws._charts]
    assert [c["anchor"] for c in replayed.charts] == file_anchors, ws.title
    assert [c.get("title") for c in replayed.charts] == [chart_title(c) for c in ws._charts], ws.title
    assert replayed.frozen == ws.freeze_panes, ws.title


def chart_title(chart) -> str:
    return "".join(run.t for p in chart.title.tx.rich.p for run in (p.r or []))


# ------------------------------------------------------------------ the demo workbook

@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """The demo workbook, refreshed by ``cs-xl refresh`` (its generated sheets are the expectation)."""
    path = tmp_path_factory.mktemp("live") / "demo.xlsx"
    sample.write_demo_inputs(path)
    refresh(path, progress=quiet)
    return path


@pytest.fixture(scope="module")
def demo_pressed(server_udfs, demo):
    data, actions = press(server_udfs, demo)
    replay = Replay(data)
    replay.apply(actions)
    return data, actions, replay


def test_refresh_button_draws_the_sheets_cs_xl_refresh_writes(demo, demo_pressed):
    _, _, replay = demo_pressed
    wb = openpyxl.load_workbook(demo)
    generated = [name for name in wb.sheetnames if name in GENERATED]
    assert len(generated) == len(generated_sheet_names("zh"))
    assert [s.name for s in replay.sheets] == wb.sheetnames  # redrawn in place: order unchanged
    for name in generated:
        assert_same_sheet(replay.sheet(name), wb[name])
    assert replay.active == "汇总"


def test_refresh_button_never_aims_at_an_input_sheet(demo_pressed):
    data, actions, replay = demo_pressed
    touched = {s.name for s in replay.sheets if s.touched}
    assert touched == GENERATED & {s["name"] for s in data["sheets"]}
    for sheet in replay.sheets:
        if sheet.name not in GENERATED:
            original = next(s for s in data["sheets"] if s["name"] == sheet.name)
            assert len(original["values"]) >= max((r for r, _ in sheet.values), default=0)


def test_refresh_button_adds_native_charts_with_the_layout_rules(demo_pressed):
    _, actions, replay = demo_pressed
    added = [a for a in actions if a["func"] == "addChart"]
    deleted = [a for a in actions if a["func"] == "deleteChart"]
    assert len(added) >= 5 and len(deleted) == len(added)  # the old charts go, the new ones come
    summary = replay.sheet("汇总").charts
    assert summary[0]["type"] == "BarClustered" and summary[0]["plot_by"] == "Columns"
    assert summary[0]["axes"]["value"] == {"number_format": "0%", "minimum_scale": 0.0, "maximum_scale": 1.0}
    assert summary[0]["axes"]["category"]["reverse_order"] is True
    trends = replay.sheet("趋势").charts
    assert {c["type"] for c in trends} <= {"Line", "LineMarkers"} and trends


def _columns_of(address: str) -> list[int]:
    """'$E$5:$F$20' (or 'E5:F20', a single cell, a sheet-qualified ref) → [5, 6]."""
    refs = re.findall(r"\$?([A-Z]+)\$?\d+", address.rpartition("!")[2])
    first, last = (openpyxl.utils.column_index_from_string(c) for c in (refs[0], refs[-1]))
    return list(range(first, last + 1))


def test_web_charts_plot_every_series_the_file_charts_plot(demo, demo_pressed):
    """Office.js adds a chart from one rectangle and xlwings has no action adding a series, so each
    chart's source must hold all its series: the columns plotted after a press are, chart for chart,
    the series columns of the charts ``cs-xl refresh`` wrote — two on the trend's rate charts."""
    _, _, replay = demo_pressed
    wb = openpyxl.load_workbook(demo)
    checked = 0
    for name in GENERATED & set(wb.sheetnames):
        file_series = [sorted(_columns_of(s.val.numRef.f)[0] for s in chart.series) for chart in wb[name]._charts]
        live_series = [_columns_of(c["source"]) for c in replay.sheet(name).charts]
        assert live_series == file_series, name
        checked += len(file_series)
    trend_pairs = [c for c in replay.sheet("趋势").charts if len(_columns_of(c["source"])) == 2]
    assert len(trend_pairs) == 3 and checked >= 10  # month, week and day: 满意度 and 首次响应达标率 each


def test_check_button_writes_only_the_quality_sheet(server_udfs, demo):
    data, actions = press(server_udfs, demo, "check_data")
    replay = Replay(data)
    replay.apply(actions)
    assert {s.name for s in replay.sheets if s.touched} == {"数据质量"}
    assert_same_sheet(replay.sheet("数据质量"), openpyxl.load_workbook(demo)["数据质量"])


# ------------------------------------------------------------------ a book typed by hand

HAND_HEADERS = ["日期", "工单编号", "客服工号", "客服姓名", "问题类型", "首次响应时间(分钟)", "是否解决"]
HAND_ROWS = [
    [dt.date(2024, 3, 1), "T001", "A01", "李娜", "物流咨询", 2, "是"],
    [dt.date(2024, 3, 1), "T002", "A02", "王强", "退款", "5分钟", "否"],
    [dt.date(2024, 3, 2), "T003", "A01", "李娜", "物流咨询", None, "是"],
    ["2024/3/2", "T004", "A02", "王强", "退款", 1.5, "是"],
    [dt.date(2024, 3, 3), "T005", "A01", "李娜", "账户", "abc", "是"],
    [dt.date(2024, 3, 3), "T005", "A01", "李娜", "账户", 4, "是"],
]


@pytest.fixture(scope="module")
def hand_typed(tmp_path_factory) -> Path:
    """A book somebody typed: one ticket sheet with a title row, dates as dates and as text, a
    text minute, a blank, a bad cell and a duplicate id; no 参数 sheet, no generated sheet."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "响应时间统计表"
    ws.append(["三月工单 (手工录入)"])
    ws.append(HAND_HEADERS)
    for row in HAND_ROWS:
        ws.append(row)
    for cell in ws["A"][2:]:
        cell.number_format = "yyyy/m/d"
    wb.create_sheet("我的笔记")["B2"] = "不要动这里"
    path = tmp_path_factory.mktemp("hand") / "hand.xlsx"
    wb.save(path)
    return path


def test_hand_typed_book_gets_the_sheets_cs_xl_refresh_writes(server_udfs, hand_typed, tmp_path):
    data, actions = press(server_udfs, hand_typed)
    replay = Replay(data)
    replay.apply(actions)
    expected_path = tmp_path / "expected.xlsx"
    refresh(hand_typed, out=expected_path, progress=quiet)
    wb = openpyxl.load_workbook(expected_path)
    assert [s.name for s in replay.sheets] == wb.sheetnames  # new sheets after the user's
    for name in wb.sheetnames[2:]:
        assert_same_sheet(replay.sheet(name), wb[name])
    assert not replay.sheet("响应时间统计表").touched and not replay.sheet("我的笔记").touched


def test_serial_dates_are_dates_not_repairs(server_udfs, hand_typed):
    """Office.js sends the date cells as numbers: the live grids read them as the dates they are
    (no 'date stored as serial number' repair); the text date and the bad cells are reported."""
    data, actions = press(server_udfs, hand_typed, "check_data")
    assert isinstance(data["sheets"][0]["values"][2][0], float)  # what Office.js sent: a serial
    replay = Replay(data)
    replay.apply(actions)
    quality = replay.sheet("数据质量")
    texts = [v for v in quality.values.values() if isinstance(v, str)]
    assert not any("序列号" in t for t in texts)
    assert any("文本" in t and "日期" in t for t in texts) or "2024/3/2" in texts
    assert "abc" in texts and "T005" in texts


# ------------------------------------------------------------------ errors the user can fix

def test_no_input_sheet_is_a_message_and_nothing_is_written(server_udfs, tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "随便"
    wb.active["A1"] = "no tickets here"
    path = tmp_path / "empty.xlsx"
    wb.save(path)
    data, actions = press(server_udfs, path)
    assert [a["func"] for a in actions] == ["alert"]
    message, title = actions[0]["args"][:2]
    assert title == "刷新报表" and "未运行" in message and "\n" not in message and "Traceback" not in message


def test_bad_params_cell_is_a_message_naming_the_cell(server_udfs, hand_typed, tmp_path):
    from cs_xl.params import write_params
    path = tmp_path / "bad.xlsx"
    wb = openpyxl.load_workbook(hand_typed)
    ws = wb.create_sheet("参数", 0)
    write_params(ws)
    cell = next(c for row in ws.iter_rows() for c in row if c.value == "首次响应达标阈值(分钟)")
    ws.cell(cell.row, cell.column + 1).value = "三分钟左右"
    wb.save(path)
    _, actions = press(server_udfs, path, "check_data")
    assert [a["func"] for a in actions] == ["alert"]
    message = actions[0]["args"][0]
    assert "参数" in message and "三分钟左右" in message and "检查数据" in message


# ------------------------------------------------------------------ the macro workbook survives a press

def test_pressing_refresh_in_the_xlsm_keeps_buttons_conf_and_sheets(server_udfs, tmp_path):
    """The live refresh redraws generated sheets in place: no sheet is deleted, no shape (the
    buttons) is touched, 说明 (where the buttons are) and xlwings.conf are never aimed at."""
    from cs_xl.macro_book import XLWINGS_CONF, build_macro_template
    from cs_xl.template import fill_inputs
    from test_refresh import frames
    path = tmp_path / "book.xlsm"
    wb = build_macro_template("zh")
    fill_inputs(wb, frames(200), "zh")
    wb.save(path)
    data, actions = press(server_udfs, path)
    replay = Replay(data)
    replay.apply(actions)
    funcs = {a["func"] for a in actions}
    assert not funcs & {"sheetDelete", "deleteShape", "deletePicture", "addSheet"}
    assert [s.name for s in replay.sheets] == [s["name"] for s in data["sheets"]]
    assert {s.name for s in replay.sheets if s.touched} == GENERATED & {s["name"] for s in data["sheets"]}
    assert not replay.sheet("说明").touched and not replay.sheet(XLWINGS_CONF).touched


def serial_column_as_officejs_sends_it() -> list:
    """A date column as Office.js sends a 100k-row sheet's: serials (random days and times, ties at
    half a second, the ends of the supported years) among blanks, text dates, error cells and the
    odd number or boolean typed into it."""
    import numpy as np
    rng = np.random.default_rng(5)
    # Python floats, as json.loads gives them (a numpy float would take the parser)
    values = rng.uniform(1, 109_575, 5000).tolist() + [float(d) + (s + 0.5) / 86400 for d, s in
                                                       zip(rng.integers(40_000, 50_000, 500), rng.integers(0, 86_400, 500))]
    last = (dt.datetime(2262, 1, 1) - EPOCH).total_seconds() / 86400  # the first moment past 2261
    values += [1.0, 60.0, 61.0, 367.0, 367 - 0.4 / 86400, last, last - 0.6 / 86400, last - 0.4 / 86400,
               109_574.99999, 109_575.0, 200_000.0, 2_958_465.9, 2_958_466.0, 0.5, 0.0, -3.0,
               float("inf"), 45_352, 45_352.25, 10 ** 12]
    values += ["", "", None, float("nan"), "2024/3/1", "2024-03-01 09:30", "3/1/2024", "#N/A", "#VALUE!",
               "abc", "-", True, False, dt.datetime(2024, 3, 1, 9, 30), dt.date(2024, 3, 2)]
    return values


def test_serial_numbers_in_a_date_column_read_as_the_cell_parser_reads_them():
    """The vectorised reading of serial numbers gives, cell for cell, the value and the problem the
    one-cell parsers give — blanks, text dates, errors, half seconds and the ends of the range too."""
    from cs_xl import coerce
    mixed = serial_column_as_officejs_sends_it()
    # a column of serials and blanks only (what Office.js sends for a date column typed right) and
    # one with a few odd cells: the serials of both are read in one step, the odd cells one by one
    pure = [v for v in mixed if type(v) in (float, int) or v in ("", None)]
    for values in (mixed, pure):
        for kind, parse in (("datetime", coerce.moment), ("date", coerce.day)):
            assert coerce._group_converter(float, kind) is coerce._serial_cells  # the fast path is taken
            typed, problems = coerce.coerce_values(values, kind)
            by_position = {pos: problem for pos, _, problem in problems}
            for pos, value in enumerate(values):
                want, problem = parse(value)
                got = typed.iloc[pos]
                assert (pd.isna(got) and want is None) or got == want, (kind, value, got, want)
                assert by_position.get(pos) == problem, (kind, value)
    for values in (mixed, pure):  # the loader's mostly-typed path takes the serials
        assert coerce._mostly_typed(coerce._object_array(values), "datetime") is not None


def test_serial_fast_path_on_its_own_matches_the_parser():
    """``_serial_cells`` itself (numbers only, every one distinct) against the parser, value by value."""
    import numpy as np
    from cs_xl import coerce
    numbers = [v for v in serial_column_as_officejs_sends_it() if type(v) in (float, int)]  # NaN: a blank
    for kind, parse in (("datetime", coerce.moment), ("date", coerce.day)):
        typed, problems = coerce._serial_cells(np.array(numbers, dtype=object), kind)
        found = dict(problems)
        for pos, value in enumerate(numbers):  # each serial is a repair or a drop; a NaN is blank
            want, want_problem = parse(value)
            assert found.get(pos) == want_problem, (kind, value)
            assert (np.isnat(typed[pos]) and want is None) or pd.Timestamp(typed[pos]) == want, (kind, value)


# ------------------------------------------------------------------ timing

@pytest.mark.benchmark
@pytest.mark.parametrize("n", [100_000])
def test_button_time_against_the_headless_refresh(server_udfs, tmp_path, n):
    """The 「刷新报表」 press on the server path (pipeline over the sent cells + recording the actions +
    the JSON answer) as a ratio to ``cs-xl refresh`` of the same book, measured in the same run."""
    import json
    import time

    import xlwings as xw
    from xlwings.server import custom_scripts_call
    from test_refresh import make_book
    path = make_book(tmp_path / "big.xlsx", n=n, user_content=False)
    headless = refresh(shutil.copy(path, tmp_path / "headless.xlsx"), progress=quiet).seconds
    data = payload(path)
    book = xw.Book(json=data)
    t0 = time.perf_counter()
    answer = json.dumps(asyncio.run(custom_scripts_call(server_udfs, "refresh_report",
                                                        typehint_to_value={xw.Book: book})).json())
    button = time.perf_counter() - t0
    actions = json.loads(answer)["actions"]
    print(f"\n「刷新报表」 on {n:,} tickets (+{n // 2:,} feedback, {n:,} calls), server path: {button:.1f} s, "
          f"{len(actions):,} actions, {len(answer) / 1e6:.1f} MB of JSON; cs-xl refresh {headless:.1f} s; "
          f"ratio {button / headless:.2f}")
    assert any(a["func"] == "addChart" for a in actions)
