"""cs_xl.pipeline and the grids seam: every input path (file, live workbook,
importer) gives the loader the same grids and gets the same DataSet.

Expected values are hand-worked from the rows written here."""
from __future__ import annotations

import datetime as dt

import openpyxl
import pandas as pd
import pytest

from cs_xl import pipeline, read_files
from cs_xl.load import LoadError, load, load_grids
from cs_xl.params import ParamsError
from cs_xl.read_files import Grid, Grids, read_grids
from cs_xl.settings import Settings

TITLE = ["客户服务响应时间统计表"]
HEADER = ["日期", "客服工号", "客服姓名", "问题类型", "首次响应时间(分钟)", "问题解决时间(分钟)"]
ROWS = [
    [dt.datetime(2024, 3, 1), "A01", "李娜", "物流咨询", 2, 30],
    [dt.datetime(2024, 3, 1), "A02", "王强", "退换货", "5分钟", 45],   # text with a unit: repaired to 5
    [dt.datetime(2024, 3, 2), "A01", "李娜", "物流咨询", None, 20],    # no first response
    [dt.datetime(2024, 3, 2), "A02", "王强", "投诉", 3, "#N/A"],       # error cell: dropped value
]
# first-response minutes the loader keeps: 2, 5, 3 → within 3 min: 2 and 3 → 2/3
FRT_KEPT = [2.0, 5.0, 3.0]


def live_grid() -> Grids:
    """What an open workbook hands over: the used range from B2 (title row, then header)."""
    return Grids("live book", [Grid("响应时间统计表", [TITLE + [None] * 5, HEADER, *ROWS], first_row=2, first_col=1)])


def saved_book(path, first_row: int = 2, first_col: int = 2, params: list[list] | None = None):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "响应时间统计表"
    for r, row in enumerate([TITLE, HEADER, *ROWS], start=first_row):
        for c, value in enumerate(row, start=first_col):
            if value is None:
                continue
            cell = ws.cell(r, c, value)
            if value == "#N/A":
                cell.data_type = "e"
    if params is not None:
        sheet = wb.create_sheet("参数")
        for row in params:
            sheet.append(row)
    wb.save(path)
    return path


def test_load_grids_of_live_cells_equals_load_of_the_saved_book(tmp_path):
    from_file = load(saved_book(tmp_path / "book.xlsx"), today=dt.date(2024, 6, 30))
    live = load_grids(live_grid(), today=dt.date(2024, 6, 30))
    pd.testing.assert_frame_equal(live.tickets, from_file.tickets)
    assert [(i.row, i.column, i.value, i.action) for i in live.quality.issues] == \
           [(i.row, i.column, i.value, i.action) for i in from_file.quality.issues]
    assert live.tickets["frt_min"].dropna().tolist() == FRT_KEPT
    # Excel rows: header on row 3, so the four records sit on rows 4–7
    assert live.tickets["_row"].tolist() == [4, 5, 6, 7]
    assert live.source == "live book"


def test_read_grids_keeps_the_sheet_position(tmp_path):
    grids = read_grids(saved_book(tmp_path / "book.xlsx", first_row=3, first_col=3))
    [grid] = grids.sheets
    assert (grid.name, grid.first_row, grid.first_col) == ("响应时间统计表", 3, 2)
    assert grid.rows[1] == HEADER and not grids.is_csv


def test_no_input_sheet_in_grids_names_the_source():
    grids = Grids("live book", [Grid("Sheet1", [["a", "b"], [1, 2]])])
    with pytest.raises(LoadError, match="live book"):
        load_grids(grids)


def test_read_path_leaves_the_report_sheets_unread(tmp_path):
    """A refreshed book's generated sheets are no input: a 按客服 sheet that looks like a ticket
    sheet and carries an error cell neither becomes the tickets nor reaches 数据质量."""
    path = saved_book(tmp_path / "book.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["响应时间统计表"].title = "工单备份"  # not a ticket sheet's name: placed by its headers alone
    report_sheet = wb.create_sheet("按客服")
    for row in ([*HEADER, "工单编号"], [dt.datetime(2024, 3, 9), "Z99", "某人", "咨询", 99, 99, "X1"],
                [dt.datetime(2024, 3, 9), "Z99", "某人", "咨询", 98, "#N/A", "X2"]):
        report_sheet.append(row)
    report_sheet["F3"].data_type = "e"
    wb.save(path)
    ds, _settings = pipeline.read_path(path)
    assert ds.sheets == {"tickets": "工单备份"}
    assert ds.tickets["frt_min"].dropna().tolist() == FRT_KEPT
    assert {issue.sheet for issue in ds.quality.issues} == {"工单备份"}
    # read with every sheet, the report sheet (more ticket headers) would have been taken for the tickets
    assert load_grids(read_grids(path), today=dt.date(2024, 6, 30)).sheets == {"tickets": "按客服"}


def test_pipeline_reads_params_from_the_same_grids(tmp_path):
    params = [["参数", "值", "方向", "说明", "key"], ["首次响应达标阈值(分钟)", 5, None, None, "frt_threshold_min"]]
    ds, settings = pipeline.read_path(saved_book(tmp_path / "book.xlsx", params=params))
    assert settings.frt_threshold_min == 5
    # with T = 5 every kept first response (2, 5, 3) is within target
    from cs_xl import kpis
    assert kpis.headline(pipeline.scope(ds, settings), settings)["frt_rate"] == 1.0


def test_bad_params_cell_names_its_excel_cell_when_the_sheet_starts_lower(tmp_path):
    path = tmp_path / "book.xlsx"
    saved_book(path)
    wb = openpyxl.load_workbook(path)
    sheet = wb.create_sheet("参数")
    sheet["C4"], sheet["D4"] = "值", "key"
    sheet["C5"], sheet["D5"] = "abc", "frt_threshold_min"
    wb.save(path)
    with pytest.raises(ParamsError, match=r"参数!C5"):
        pipeline.read_path(path)


def test_refresh_reads_the_book_once(tmp_path, monkeypatch):
    from cs_xl.refresh import refresh
    calls = []
    real = read_files.stream_sheets
    monkeypatch.setattr(pipeline, "stream_sheets", lambda path, **options: calls.append(path) or real(path, **options))
    refresh(saved_book(tmp_path / "book.xlsx"), progress=lambda done, total, message: None)
    assert len(calls) == 1


def test_the_loader_clock_is_the_settings_clock(monkeypatch, tmp_path):
    """A date after the 参数 timezone's today is flagged as future; the day itself is not."""
    monkeypatch.setattr(Settings, "today", lambda self: dt.date(2024, 3, 1))
    ds = load(saved_book(tmp_path / "book.xlsx"))
    future = [(i.row, i.reason) for i in ds.quality.issues if "future" in i.reason]
    assert [row for row, _ in future] == [6, 7]  # the two records of 2024-03-02


def test_one_clock():
    """Only Settings.today reads the system clock: every "today" is the 参数 timezone's."""
    import re
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    clock = re.compile(r"\b(?:datetime\.now|date\.today|Timestamp\.now|Timestamp\.today|time\.time)\(")
    readers = sorted(str(p.relative_to(root)) for p in [*root.glob("cs_xl/**/*.py"), *root.glob("udfs/*.py")]
                     if clock.search(p.read_text(encoding="utf-8")))
    assert readers == ["cs_xl/settings.py"]


# ---------------------------------------------------------------- reading sheets while building tables

def three_table_book(path, params_last: bool = True):
    """A book of the demo generator's first records, one sheet per table, 参数 as its last sheet."""
    from cs_xl import sample, schema
    frames = sample.generate(seed=3, start=pd.Timestamp("2024-03-01"), months=1)
    wb = openpyxl.Workbook(write_only=True)
    for key in ("tickets", "feedback", "calls"):
        table, frame = schema.TABLES[key], frames[key].head(300)
        ws = wb.create_sheet(table.sheet("zh"))
        ws.append([table.column(k).zh for k in frame.columns])
        for row in frame.itertuples(index=False):
            ws.append([None if v is pd.NaT or (isinstance(v, float) and v != v) else v for v in row])
    if params_last:
        params = wb.create_sheet("参数")
        for row in (["值", "key"], ["Asia/Shanghai", "timezone"], ["business", "clock_mode"]):
            params.append(row)
    wb.save(path)
    return path


def test_read_path_equals_reading_every_sheet_then_loading(tmp_path, monkeypatch):
    """Tables built while other sheets are parsed are the tables one load of all sheets builds,
    each built once."""
    from cs_xl import load as load_module
    from cs_xl.params import read_params_from_book
    path = three_table_book(tmp_path / "book.xlsx")
    rules = read_params_from_book(path)
    assert rules.clock_mode == "business"  # 参数 was read: minutes from timestamps are business minutes
    reference = load_grids(read_grids(path), today=rules.today(), clock=rules.clock())
    built = []
    real = load_module._build_table
    monkeypatch.setattr(load_module, "_build_table", lambda table, *a, **k: built.append(table.key) or real(table, *a, **k))
    ds, _ = pipeline.read_path(path)
    assert sorted(built) == ["calls", "feedback", "tickets"]
    for key in ("tickets", "feedback", "calls"):
        pd.testing.assert_frame_equal(ds.table(key), reference.table(key))
    assert [(i.sheet, i.row, i.column, i.reason) for i in ds.quality.issues] == \
           [(i.sheet, i.row, i.column, i.reason) for i in reference.quality.issues]


def test_sheet_stream_gives_settings_first_and_every_sheet_once(tmp_path):
    path = three_table_book(tmp_path / "book.xlsx")
    with read_files.stream_sheets(path, first=["参数"]) as sheets:
        arrived = [grid.name for grid in sheets]
        in_book_order = [grid.name for grid in sheets.grids().sheets]
    assert arrived[0] == "参数"
    assert sorted(arrived) == sorted(in_book_order)
    assert in_book_order == openpyxl.load_workbook(path, read_only=True).sheetnames


def test_an_early_build_is_taken_only_for_the_same_placement_day_and_clock():
    from cs_xl.load import EarlyTables, Placement
    grid = live_grid().sheets[0]
    rules = Settings()
    early = EarlyTables(rules.today(), rules.clock())
    early.offer(grid)
    mapping = {1: "agent_id", 0: "date", 4: "frt_min"}
    placed = next(iter(early._built.values()))[0]
    assert early.take("tickets", placed, rules.today(), early.clock) is not None
    assert early.take("tickets", Placement(grid, placed.header_index, mapping), rules.today(), early.clock) is None
    assert early.take("tickets", placed, rules.today() - dt.timedelta(days=1), early.clock) is None
    assert early.take("tickets", placed, rules.today(), rules.clock()) is None  # another clock object


def test_an_early_build_that_failed_raises_only_when_taken(monkeypatch):
    from cs_xl import load as load_module
    grid = live_grid().sheets[0]
    rules = Settings()
    early = load_module.EarlyTables(rules.today(), rules.clock())
    monkeypatch.setattr(load_module, "_build_table", lambda *a, **k: 1 / 0)
    early.offer(grid)  # nothing raised yet: load_grids might place this table elsewhere
    placed = next(iter(early._built.values()))[0]
    with pytest.raises(ZeroDivisionError):
        early.take("tickets", placed, rules.today(), early.clock)


def test_the_cycle_collector_is_paused_while_a_book_is_read_and_refreshed(tmp_path):
    """Paused during the read (seen from the progress callback) and the refresh, then as it was."""
    import gc
    from cs_xl.refresh import refresh
    path = three_table_book(tmp_path / "book.xlsx")
    seen = []
    for enabled in (True, False):
        (gc.enable if enabled else gc.disable)()
        try:
            pipeline.read_path(path, on_step=lambda message: seen.append(gc.isenabled()))
            after_read = gc.isenabled()
            refresh(path, progress=lambda done, total, message: seen.append(gc.isenabled()))
            assert (after_read, gc.isenabled()) == (enabled, enabled)
        finally:
            gc.enable()
    assert seen and not any(seen)


def test_the_cycle_collector_comes_back_after_a_failed_read(tmp_path):
    import gc
    (tmp_path / "empty.xlsx").write_bytes(b"")
    with pytest.raises(read_files.LoadError):
        pipeline.read_path(tmp_path / "empty.xlsx")
    assert gc.isenabled()
