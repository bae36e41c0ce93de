"""render.layout: report blocks → positioned cells, checked against positions computed by hand on
tiny reports, and on a real report against the rule "every number wears its column's format".

No writer is involved: these are the records every writer (openpyxl, the part writer, xlwings)
translates, so what is asserted here holds for all of them.
"""
from __future__ import annotations

import datetime as dt
import math

import pytest

from cs_xl.render.layout import (Area, ChartSeries, ColorScale, EqualsRule, FormulaRule, column_letter,
                                 report_layouts, sheet_layout)
from cs_xl.render.styles import STYLES
from cs_xl.report import (ChartSpec, ColumnSpec, HeatmapBlock, KpiCard, KpiCards, KpiTiles, SheetModel, TableBlock,
                          TextBlock, build_report)
from cs_xl.settings import Settings
from cs_xl.values import NUMBER_FORMATS
from test_report import dataset

LONG_NAME = "乙" * 22  # 44 columns wide: more than the 40 a column may take


def cells(layout) -> dict[tuple[int, int], tuple]:
    """(row, col) → (value, number format, style key)."""
    return {(c.row, c.col): (c.value, c.number_format, c.style) for c in layout.cells}


def tiny_table_sheet(**changes) -> SheetModel:
    table = TableBlock("t", "块", [ColumnSpec("agent", "客服", "text"), ColumnSpec("rate", "达标率", "pct")],
                       [["甲", 0.5], [LONG_NAME, math.nan]], note="注")
    return SheetModel("s", "表", "标题", [table, ChartSpec("bar", "图", "t", "agent", ["rate"])],
                      freeze_table="t", freeze_cols=1, **changes)


def test_a_table_is_title_note_header_rows_with_formats_and_undefined_as_empty():
    got = cells(sheet_layout(tiny_table_sheet()))
    # A1 title, a blank row, then the block: its title, its note, the header, the rows
    assert got == {
        (1, 1): ("标题", None, "title"),
        (3, 1): ("块", None, "heading"),
        (4, 1): ("注", None, "note"),
        (5, 1): ("客服", None, "header"), (5, 2): ("达标率", None, "header"),
        (6, 1): ("甲", None, ""), (6, 2): (0.5, "0.0%", ""),
        (7, 1): (LONG_NAME, None, ""), (7, 2): (None, None, ""),
    }


def test_widths_panes_and_print_setup_of_a_table():
    layout = sheet_layout(tiny_table_sheet())
    # column A: the long name (44) + 2, capped at 40; column B: a number counts 10, + 2
    assert layout.widths == {1: 40, 2: 12}
    assert layout.heights == {}          # "达标率" (6 wide) fits its 12-wide column on one line
    assert layout.freeze == (6, 2)       # first data row, after the first (frozen) column
    assert layout.merges == [] and layout.conditional == []
    assert (layout.print_setup.landscape, layout.print_setup.fit_width, layout.print_setup.fit_height) == (True, 1, 0)
    assert sheet_layout(tiny_table_sheet(one_page=True)).print_setup.fit_height == 1


def test_a_bar_chart_sits_right_of_its_table_over_its_cells():
    (chart,) = sheet_layout(tiny_table_sheet()).charts
    # one row above the header (row 5), two columns right of the table's last column (B)
    assert chart.anchor == (4, 4)
    assert chart.series == [ChartSeries((5, 2), Area(6, 2, 7, 2))]
    assert chart.categories == Area(6, 1, 7, 1)
    # a rate axis runs 0–100 %, in whole percents; a single series needs no legend but names the axis
    assert (chart.y_min, chart.y_max, chart.y_format) == (0, 1, "0%")
    assert (chart.legend, chart.y_title, chart.x_title) == (None, "达标率", None)
    assert chart.reverse_categories and chart.label_every == 1
    assert (chart.height_cm, chart.rows) == (7.5, 16)


def test_a_long_bar_chart_grows_and_the_next_chart_beside_stacks_below_it():
    rows = [[f"客服{i}", i / 40] for i in range(40)]
    table = TableBlock("t", "", [ColumnSpec("agent", "客服", "text"), ColumnSpec("rate", "达标率", "pct"),
                                 ColumnSpec("n", "量", "count")], rows)
    model = SheetModel("s", "表", "标题", [table, ChartSpec("bar", "图1", "t", "agent", ["rate"]),
                                           ChartSpec("col", "图2", "t", "agent", ["rate", "n"])])
    first, second = sheet_layout(model).charts
    # 40 bars × (0.38 + 0.22) cm + 3 cm = 27 cm → 55 rows of 0.5 cm, + 1
    assert first.height_cm == pytest.approx(27.0) and first.rows == 55
    assert first.anchor == (2, 5)                        # header at row 3 (no title, no note)
    assert second.anchor == (2 + 55 + 1, 5)
    assert second.legend == "b" and second.y_title is None and second.x_title == "客服"


def test_kpi_tiles_and_cards_with_their_conditional_formats():
    met = KpiCard("frt_rate", "达标率", 0.95, 0.9, 0.05, True, "pct")
    plain = KpiCard("volume", "受理量", 5708, None, None, None, "count")
    missed = KpiCard("frt_avg", "平均首响", 4.0, 3.0, 1.0, False, "min")
    model = SheetModel("s", "表", "标题", [KpiTiles("tiles", [met, plain], "目标"),
                                           KpiCards("kpis", "指标", ("指标", "值", "目标", "差距", "达标"), [met, missed])])
    layout = sheet_layout(model)
    got = cells(layout)
    # tiles: rows 3 (label), 4 (value), 5 (target), one column per card
    assert got[(3, 1)] == ("达标率", None, "tile_label_good")
    assert got[(4, 1)] == (0.95, "0.0%", "tile_value_good")
    assert got[(5, 1)] == (0.9, '"目标 "0.0%" ✓"', "tile_target_good")  # a number whose format carries the words
    assert got[(4, 2)] == (5708, "#,##0", "tile_value_plain")
    assert got[(5, 2)] == (None, None, "tile_target_plain")
    assert {r: layout.heights[r] for r in (3, 4, 5)} == {3: 30, 4: 30, 5: 16}
    # cards: a blank row after the tiles (row 6), the block title at 7, the header at 8, cards at 9 and 10
    assert got[(7, 1)] == ("指标", None, "heading")
    assert [got[(8, j)][2] for j in range(1, 6)] == ["header_left"] + ["header_center"] * 4
    assert got[(9, 2)] == (0.95, "0.0%", "card_value")
    assert got[(9, 4)] == (0.05, "+0.0%;-0.0%;0.0%", "")
    assert got[(10, 4)] == (1.0, "+0.0;-0.0;0.0", "")
    assert (got[(9, 5)], got[(10, 5)]) == (("✓", None, "center"), ("✗", None, "center"))
    status, value = Area(9, 5, 10, 5), Area(9, 2, 10, 2)
    assert layout.conditional == [EqualsRule(status, "✓", "good"), EqualsRule(status, "✗", "bad"),
                                  FormulaRule(value, '$E9="✗"', "bad_text"), FormulaRule(value, '$E9="✓"', "good_text")]
    assert all(style in STYLES for style in ("good", "bad", "good_text", "bad_text"))


def test_a_heatmap_has_narrow_hour_columns_and_a_colour_scale():
    heat = HeatmapBlock("h", "热图", "星期", ["周一", "周二"], [9, 10], [[1, 2], [3, None]])
    layout = sheet_layout(SheetModel("s", "表", "标题", [heat]))
    got = cells(layout)
    assert got[(4, 1)] == ("星期", None, "header_plain")
    assert got[(4, 2)] == (9, "0", "header_plain_center")
    assert got[(5, 1)] == ("周一", None, "row_label")
    assert got[(5, 2)] == (1, "#,##0", "center") and got[(6, 3)] == (None, None, "center")
    assert layout.widths[2] == layout.widths[3] == 6
    assert layout.conditional == [ColorScale(Area(5, 2, 6, 3), "FFFFFF", 50, "FFEB84", "F8696B")]


def test_text_lines_and_cell_rules():
    model = SheetModel("s", "表", "标题", [TextBlock(["⚠ 一", "=1+1", "bad\x07char"], "alert"), TextBlock(["注"])])
    got = cells(sheet_layout(model))
    # the layout keeps formula-looking text as the text it is (writers store it as text); XML-illegal → U+FFFD
    assert [got[(r, 1)] for r in (3, 4, 5, 7)] == [("⚠ 一", None, "alert"), ("=1+1", None, "alert"),
                                                   ("bad\ufffdchar", None, "alert"), ("注", None, "note")]


def test_column_letters():
    assert [column_letter(c) for c in (1, 26, 27, 52, 703)] == ["A", "Z", "AA", "AZ", "AAA"]


# ---------------------------------------------------------------- a real report

def header_rows(layout, block: TableBlock, after: int) -> int:
    """The first row below ``after`` holding ``block``'s headers, styled as a header."""
    got = cells(layout)
    for row in sorted({r for r, _ in got if r > after}):
        if all(got.get((row, j), (None,))[0] == spec.header and got[(row, j)][2] == "header"
               for j, spec in enumerate(block.columns, 1)):
            return row
    raise AssertionError(f"{block.name}: header row not found on {layout.name}")


def expected_format(value, fmt: str):
    """Independent of the layout: empty and text cells keep General; dates read as dates; numbers by column."""
    if value is None or isinstance(value, str):
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return "yyyy-mm-dd"
    return NUMBER_FORMATS.get(fmt, "General")


def test_every_number_of_a_real_report_wears_its_columns_format():
    rep = build_report(dataset(), Settings(), today=dt.date(2024, 4, 30))
    checked = 0
    for model, layout in zip(rep.sheets, report_layouts(rep)):
        got, row = cells(layout), 0
        for block in (b for b in model.blocks if isinstance(b, TableBlock)):
            row = header_rows(layout, block, row)
            for i, values in enumerate(block.rows, start=row + 1):
                for j, (value, spec) in enumerate(zip(values, block.columns), start=1):
                    value = None if isinstance(value, float) and math.isnan(value) else value
                    written, number_format, _ = got[(i, j)]
                    assert written == value, (layout.name, block.name, i, j)
                    assert number_format == expected_format(value, spec.fmt), (layout.name, block.name, spec.key)
                    checked += isinstance(value, (int, float))
            row += len(block.rows)
    assert checked > 100  # the check saw real numbers, not only empty tables
