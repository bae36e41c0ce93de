"""render.layout + render.xlsx draw a hand-made report model; everything is checked on the saved file."""
from __future__ import annotations

import datetime as dt
import math

import openpyxl
import pytest
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

from cs_xl.render.layout import sheet_layout
from cs_xl.render.xlsx import render
from cs_xl.report import (ChartSpec, ColumnSpec, HeatmapBlock, KpiCard, KpiCards, KpiTiles, Report, SheetModel,
                          TableBlock, TextBlock)
from cs_xl.values import NUMBER_FORMATS


def table(rows, name="t"):
    return TableBlock(name, "标题", [ColumnSpec("group", "组", "text"), ColumnSpec("rate", "达标率", "pct"),
                                     ColumnSpec("mins", "分钟", "min"), ColumnSpec("n", "数量", "count")], rows,
                      note="说明文字")


def saved(tmp_path, model: Report, before=()):
    wb = openpyxl.Workbook()
    wb.active.title = "输入"
    for title in before:
        wb.create_sheet(title)
    render(model, wb)
    path = tmp_path / "out.xlsx"
    wb.save(path)
    return openpyxl.load_workbook(path)


def plain(ref: str) -> str:
    return ref.replace("$", "")


def anchor(chart) -> tuple[int, int]:
    """(column, row) of a chart's top-left cell, 1-based."""
    letters, row = coordinate_from_string(chart.anchor)
    return column_index_from_string(letters), row


def find(ws, value):
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == value:
                return cell
    raise AssertionError(f"{value!r} not on sheet {ws.title}")


def test_numbers_get_their_formats_and_undefined_is_an_empty_cell(tmp_path):
    rows = [["甲", 0.9, 2.5, 1200], ["乙", None, math.nan, 0]]
    wb = saved(tmp_path, Report("zh", [SheetModel("s", "表", "标题行", [table(rows)])]))
    ws = wb["表"]
    head = find(ws, "组")
    r = head.row
    assert [c.value for c in ws[r + 1][:4]] == ["甲", 0.9, 2.5, 1200]
    assert ws.cell(r + 1, 2).number_format == "0.0%"
    assert ws.cell(r + 1, 3).number_format == "0.0"
    assert ws.cell(r + 1, 4).number_format == "#,##0"
    # None and NaN are both empty — not 0, not a dash
    assert ws.cell(r + 2, 2).value is None and ws.cell(r + 2, 3).value is None
    # a real 0 stays 0
    assert ws.cell(r + 2, 4).value == 0
    assert ws.cell(r - 1, 1).value == "说明文字"  # the note sits between the title and the header
    assert ws.cell(r + 3, 1).value is None      # the table ends at a blank row
    assert ws["A1"].value == "标题行"


def test_format_table_matches_the_contract():
    assert (NUMBER_FORMATS["pct"], NUMBER_FORMATS["min"], NUMBER_FORMATS["sec"], NUMBER_FORMATS["count"],
            NUMBER_FORMATS["nps"]) == ("0.0%", "0.0", "0", "#,##0", "0.0")


def test_text_that_looks_like_a_formula_is_written_as_text(tmp_path):
    rows = [["=HYPERLINK(\"http://x\")", 0.5, 1.0, 1], ["+1+2", 0.5, 1.0, 1], ["bad\x07char", 0.1, 1, 1]]
    wb = saved(tmp_path, Report("zh", [SheetModel("s", "表", "t", [table(rows)])]))
    ws = wb["表"]
    cell = find(ws, '=HYPERLINK("http://x")')
    assert cell.data_type == "s"  # a formula would load back with data_type "f"
    assert find(ws, "+1+2").data_type == "s"
    assert find(ws, "bad\ufffdchar")  # control characters Excel rejects are replaced, not fatal


def test_dates_are_date_cells(tmp_path):
    block = TableBlock("p", "", [ColumnSpec("d", "日期", "date")], [[dt.date(2024, 3, 1)]])
    ws = saved(tmp_path, Report("zh", [SheetModel("s", "表", "t", [block])]))["表"]
    cell = find(ws, dt.datetime(2024, 3, 1))
    assert cell.number_format == "yyyy-mm-dd"


def test_chart_plots_the_table_cells_with_its_title(tmp_path):
    rows = [["甲", 0.9, 2.5, 10], ["乙", 0.7, 3.5, 20], ["丙", 0.8, 1.0, 5]]
    model = Report("zh", [SheetModel("s", "表", "t", [
        table(rows), ChartSpec("bar", "达标率 按组", "t", "group", ["rate"]),
        ChartSpec("line", "数量走势", "t", "group", ["n", "mins"])])])
    wb = openpyxl.Workbook()
    render(model, wb)
    ws = wb["表"]
    bar, line = ws._charts
    head = find(ws, "组").row
    assert bar.tagname == "barChart" and bar.type == "bar"
    assert line.tagname == "lineChart"
    title = "".join(r.t for p in bar.title.tx.rich.p for r in p.r)
    assert title == "达标率 按组"
    series = bar.series[0]
    assert plain(series.val.numRef.f) == f"'表'!B{head + 1}:B{head + 3}"
    assert plain(series.tx.strRef.f) == f"'表'!B{head}"
    categories = series.cat.strRef or series.cat.numRef
    assert plain(categories.f) == f"'表'!A{head + 1}:A{head + 3}"
    assert len(line.series) == 2
    assert plain(line.series[1].val.numRef.f) == f"'表'!C{head + 1}:C{head + 3}"
    # charts sit to the right of the table (4 columns + a gap), not on top of it, one below the other
    (bar_col, bar_row), (line_col, line_row) = anchor(bar), anchor(line)
    assert bar_col >= 5 and line_col == bar_col and line_row >= bar_row + 15


def test_no_chart_for_an_empty_table_and_next_block_below_charts(tmp_path):
    model = Report("zh", [SheetModel("s", "表", "t", [
        table([], "empty"), ChartSpec("bar", "空", "empty", "group", ["rate"]),
        table([["甲", 0.5, 1, 1]], "one"), ChartSpec("bar", "一", "one", "group", ["rate"]),
        TextBlock(["after"])])])
    wb = openpyxl.Workbook()
    render(model, wb)
    ws = wb["表"]
    assert len(ws._charts) == 1
    chart = ws._charts[0]
    # the text after a charted table starts below the chart, so the chart covers no cells
    assert find(ws, "after").row > anchor(chart)[1] + 14


def test_kpi_cards_show_tick_cross_and_dash_with_conditional_formatting(tmp_path):
    cards = KpiCards("k", "核心指标", ("指标", "数值", "目标", "差距", "达标"), [
        KpiCard("frt_rate", "达标率", 0.95, 0.9, 0.05, True, "pct"),
        KpiCard("avg_wait", "等待", 80.0, 60.0, 20.0, False, "sec"),
        KpiCard("nps", "NPS", None, 30.0, None, None, "nps")])
    ws = saved(tmp_path, Report("zh", [SheetModel("summary", "汇总", "t", [cards])]))["汇总"]
    r = find(ws, "达标率").row
    assert [c.value for c in ws[r][:5]] == ["达标率", 0.95, 0.9, 0.05, "✓"]
    assert [c.value for c in ws[r + 1][:5]] == ["等待", 80, 60, 20, "✗"]
    assert [c.value for c in ws[r + 2][:5]] == ["NPS", None, 30, None, "—"]
    assert ws.cell(r, 2).number_format == "0.0%" and ws.cell(r + 1, 2).number_format == "0"
    rules = {str(rng.sqref): [rule for rule in rng.rules] for rng in ws.conditional_formatting}
    status = rules[f"E{r}:E{r + 2}"]
    assert {tuple(rule.formula) for rule in status} == {('"✓"',), ('"✗"',)}
    assert f"B{r}:B{r + 2}" in rules


def test_heatmap_has_a_colour_scale_over_its_values(tmp_path):
    heat = HeatmapBlock("h", "热力", "星期 \\ 小时", ["周一", "周二"], [0, 1, 2], [[1, 2, 3], [4, 5, None]])
    ws = saved(tmp_path, Report("zh", [SheetModel("load", "时段负荷", "t", [heat])]))["时段负荷"]
    r = find(ws, "周一").row
    assert [c.value for c in ws[r][:4]] == ["周一", 1, 2, 3]
    assert ws.cell(r + 1, 4).value is None
    (rng,) = list(ws.conditional_formatting)
    assert str(rng.sqref) == f"B{r}:D{r + 1}"
    assert rng.rules[0].type == "colorScale"


def test_sheets_go_back_to_their_positions_and_summary_is_active(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "说明"
    for title in ("参数", "输入", "手工表"):
        wb.create_sheet(title)
    model = Report("zh", [SheetModel("summary", "汇总", "t", []), SheetModel("trends", "趋势", "t", [])])
    render(model, wb, positions={"汇总": 1})
    assert wb.sheetnames == ["说明", "汇总", "参数", "输入", "手工表", "趋势"]
    assert wb.active.title == "汇总"
    assert [ws.sheet_view.tabSelected for ws in wb.worksheets].count(True) == 1


def test_unknown_block_is_a_clear_error():
    with pytest.raises(TypeError, match="unknown report block dict on sheet X"):
        sheet_layout(SheetModel("x", "X", "t", [{"not": "a block"}]))


def test_kpi_tiles_are_numbers_coloured_by_their_status(tmp_path):
    tiles = KpiTiles("tiles", [KpiCard("frt_rate", "达标率", 0.68, 0.9, -0.22, False, "pct"),
                               KpiCard("volume", "受理量", 5708, None, None, None, "count"),
                               KpiCard("csat_rate", "满意度", 0.95, 0.85, 0.10, True, "pct")], "目标")
    ws = saved(tmp_path, Report("zh", [SheetModel("summary", "汇总", "t", [tiles])]))["汇总"]
    r = find(ws, "达标率").row
    assert [ws.cell(r + 1, j).value for j in (1, 2, 3)] == [0.68, 5708, 0.95]   # real numbers, not text
    assert ws.cell(r + 2, 1).value == 0.9 and ws.cell(r + 2, 2).value is None
    assert ws.cell(r + 2, 1).number_format == '"目标 "0.0%" ✗"'
    assert ws.cell(r + 2, 3).number_format == '"目标 "0.0%" ✓"'
    fills = [ws.cell(r + 1, j).fill.fgColor.rgb[-6:] for j in (1, 2, 3)]
    assert fills == ["FCE4E4", "EDEDED", "E2F0D9"]  # missed red, no target grey, met green


def test_rate_axis_runs_0_to_100_percent_and_bar_labels_are_never_skipped(tmp_path):
    rows = [[f"客服{i}", 0.6 + i / 100, 1.0, i] for i in range(12)]
    model = Report("zh", [SheetModel("s", "表", "t", [table(rows), ChartSpec("bar", "达标率", "t", "group", ["rate"])])])
    wb = openpyxl.Workbook()
    render(model, wb)
    (chart,) = wb["表"]._charts
    assert (chart.y_axis.scaling.min, chart.y_axis.scaling.max) == (0, 1)
    assert chart.x_axis.tickLblSkip == 1
    assert chart.height >= 12 * 0.38  # one bar's height per agent at least


def test_wrapped_header_row_is_tall_enough_and_main_table_is_frozen(tmp_path):
    long = TableBlock("t", "", [ColumnSpec("id", "工号", "text"),
                                ColumnSpec("rate", "首次响应达标率(≤3分钟)", "pct")], [["A1", 0.5], ["A2", 0.6]])
    model = Report("zh", [SheetModel("agents", "按客服", "t", [long], freeze_table="t", freeze_cols=1)])
    ws = saved(tmp_path, model)["按客服"]
    head = find(ws, "工号").row
    # "首次响应达标率(≤3分钟)" is 22 characters wide; the column is capped at 14, so it takes two lines
    assert ws.column_dimensions["B"].width == 14
    assert ws.row_dimensions[head].height >= 2 * 15
    assert ws.freeze_panes == f"B{head + 1}"


def test_charts_below_a_table_stack_under_it_in_the_first_column(tmp_path):
    rows = [[f"2024-0{m}", 0.5, 1, m] for m in range(1, 7)]
    model = Report("zh", [SheetModel("s", "趋势", "t", [
        table(rows, "month"), ChartSpec("line", "量", "month", "group", ["n"], anchor="below"),
        ChartSpec("line", "率", "month", "group", ["rate"], anchor="below"), TextBlock(["after"])])])
    wb = openpyxl.Workbook()
    render(model, wb)
    ws = wb["趋势"]
    first, second = (anchor(c) for c in ws._charts)
    last_row = find(ws, "2024-06").row
    assert first[0] == second[0] == 1                       # column A: seen without scrolling right
    assert first[1] > last_row and second[1] >= first[1] + 15  # under the table, then under the first chart
    assert find(ws, "after").row > second[1] + 14


def test_wrapped_column_stays_narrow_and_its_rows_grow(tmp_path):
    reason = "时长为负:首次响应早于创建, 该行已剔除并列入数据质量报告以便核对原始导出文件"  # 80 display columns
    block = TableBlock("q", "问题", [ColumnSpec("sheet", "工作表", "text"),
                                     ColumnSpec("reason", "原因", "text", wrap=True)], [["话务记录", reason]])
    ws = saved(tmp_path, Report("zh", [SheetModel("s", "质量", "t", [block])]))["质量"]
    cell = find(ws, reason)
    width = ws.column_dimensions[cell.column_letter].width
    assert width <= 32 and cell.alignment.wrap_text            # capped at 30 + padding, not 80
    assert ws.row_dimensions[cell.row].height >= 15 * 3        # 80 columns over ≤ 31 per line: 3 lines


def test_the_translator_writes_every_part_of_a_hand_made_layout(tmp_path):
    """Parts the report does not use today (merges, a frozen column) are translated too: the
    template and the live writer will lay out with them."""
    from cs_xl.render.layout import Area, Cell, EqualsRule, SheetLayout
    from cs_xl.render.xlsx import write_sheets
    layout = SheetLayout("手工", cells=[Cell(1, 1, "合并标题", style="title"), Cell(2, 2, 1234.5, "#,##0", "center"),
                                      Cell(3, 3, "@user", None, "alert")],
                         merges=[Area(1, 1, 1, 3)], widths={2: 15.5}, heights={1: 24},
                         freeze=(2, 3), conditional=[EqualsRule(Area(2, 2, 4, 2), "x", "bad")])
    wb = openpyxl.Workbook()
    write_sheets(wb, [layout])
    wb.save(tmp_path / "l.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "l.xlsx")["手工"]
    assert [str(r) for r in ws.merged_cells.ranges] == ["A1:C1"]
    assert ws["A1"].font.b and ws["A1"].font.sz == 14
    assert ws["B2"].number_format == "#,##0" and ws["B2"].alignment.horizontal == "center"
    assert ws["C3"].value == "@user" and ws["C3"].data_type == "s" and ws["C3"].font.color.rgb.endswith("C00000")
    assert ws.column_dimensions["B"].width == 15.5 and ws.row_dimensions[1].height == 24
    assert ws.freeze_panes == "C2"
    (rule,) = ws.conditional_formatting
    assert str(rule.sqref) == "B2:B4" and rule.rules[0].formula == ['"x"']
    assert wb.active.title == "手工"


def write_openpyxl(layouts, path):
    """The openpyxl writer: the layouts into a new book."""
    from cs_xl.render.xlsx import write_sheets
    wb = openpyxl.Workbook()
    write_sheets(wb, layouts)
    wb.save(path)


def write_parts(layouts, path):
    """The part writer: the layouts into an existing book (an input sheet, saved by openpyxl)."""
    from cs_xl.book import replace_sheets
    wb = openpyxl.Workbook()
    wb.active.title = "输入"
    wb["输入"]["A1"] = "keep me"
    wb.save(path)
    replace_sheets(path, path, layouts, remove=[], backup=False)


WRITERS = {"openpyxl": write_openpyxl, "parts": write_parts}


def real_layouts():
    from cs_xl.render.layout import report_layouts
    from cs_xl.report import build_report
    from cs_xl.settings import Settings
    from test_report import dataset
    return report_layouts(build_report(dataset(), Settings(), today=dt.date(2024, 4, 30)))


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_the_saved_book_holds_exactly_the_cells_of_its_layouts(tmp_path, writer):
    """Writer conformance on a real report: every layout cell comes back from the saved file with its
    value and number format, no other cell holds a value, and every chart sits at its anchor.
    (The live writer will pass the same check.)"""
    layouts = real_layouts()
    assert sum(len(layout.charts) for layout in layouts) >= 5  # charts are part of what is checked
    WRITERS[writer](layouts, tmp_path / "r.xlsx")
    saved = openpyxl.load_workbook(tmp_path / "r.xlsx")

    def as_saved(value):
        is_day = isinstance(value, dt.date) and not isinstance(value, dt.datetime)
        return dt.datetime.combine(value, dt.time()) if is_day else value

    for layout in layouts:
        ws = saved[layout.name]
        expected = {(c.row, c.col): c for c in layout.cells}
        for (row, col), cell in expected.items():
            got = ws.cell(row, col)
            want = as_saved(cell.value)
            if isinstance(want, float):  # openpyxl writes 15 significant digits
                want = pytest.approx(want, rel=1e-14)
            assert got.value == want, (layout.name, row, col)
            assert got.number_format == (cell.number_format or "General"), (layout.name, row, col)
        extra = [c.coordinate for r in ws.iter_rows() for c in r
                 if c.value is not None and (c.row, c.column) not in expected]
        assert extra == [], layout.name
        saved_anchors = [(c.anchor._from.row + 1, c.anchor._from.col + 1) for c in ws._charts]  # 0-based in the file
        assert saved_anchors == [c.anchor for c in layout.charts], layout.name
