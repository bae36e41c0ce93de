"""The part writer (render/parts.py + ooxml/): the same sheets as the openpyxl writer, written into an
existing book whose other parts stay byte for byte.  Every check reads the saved file back."""
from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from ci import absent
from cs_xl.book import backup_path, replace_sheets
from cs_xl.render.layout import Area, Cell, ChartLayout, ChartSeries, EqualsRule, SheetLayout
from test_render_xlsx import real_layouts, write_openpyxl, write_parts


def last6(color) -> str | None:
    """An RGB colour without its alpha byte (openpyxl writes 00RRGGBB, XlsxWriter FFRRGGBB)."""
    return None if color is None or color.rgb is None or not isinstance(color.rgb, str) else color.rgb[-6:]


def font_of(font) -> tuple:
    # a font without a size is drawn at the default 11 pt
    return bool(font.b), bool(font.i), font.sz or 11.0, last6(font.color), font.name


def fill_of(fill) -> tuple:
    return (fill.fill_type, last6(fill.fgColor)) if fill.fill_type else (None, None)


def side_of(side) -> tuple:
    return (side.style, last6(side.color)) if side is not None and side.style else (None, None)


def border_of(border) -> tuple:
    return tuple(side_of(getattr(border, side)) for side in ("left", "right", "top", "bottom"))


def align_of(align) -> tuple:
    return align.horizontal, align.vertical, bool(align.wrap_text)


def ref(text) -> str:
    return text.replace("$", "").replace("'", "")


def title_of(title) -> str | None:
    if title is None or title.tx is None or title.tx.rich is None:
        return None
    return "".join(run.t for p in title.tx.rich.p for run in (p.r or []))


def chart_of(chart) -> dict:
    series = [(ref(s.tx.strRef.f), ref(s.val.numRef.f), ref((s.cat.strRef or s.cat.numRef).f),
               s.marker.symbol if s.marker else None, s.marker.size if s.marker else None, bool(s.smooth))
              for s in chart.series]
    anchor = chart.anchor._from
    return {"type": chart.tagname, "bar": getattr(chart, "barDir", None), "title": title_of(chart.title),
            "series": series, "anchor": (anchor.row, anchor.col), "style": chart.style,
            "gap": getattr(chart, "gapWidth", None), "overlap": getattr(chart, "overlap", None) or 0,  # 0 when absent
            "x_title": title_of(chart.x_axis.title), "y_title": title_of(chart.y_axis.title),
            "y_range": (chart.y_axis.scaling.min, chart.y_axis.scaling.max),
            # a source-linked axis format is the cells' own (XlsxWriter writes General, openpyxl nothing)
            "y_format": None if not chart.y_axis.numFmt or chart.y_axis.numFmt.sourceLinked
            else chart.y_axis.numFmt.formatCode,
            "label_every": chart.x_axis.tickLblSkip, "reversed": chart.x_axis.scaling.orientation,
            "legend": chart.legend.position if chart.legend else None}


def chart_size(path: Path, sheet: str) -> list[tuple[int, int]]:
    """(cx, cy) in EMU of every chart anchor of ``sheet``, from the drawing part itself."""
    import re
    wb = openpyxl.load_workbook(path)
    index = wb.sheetnames.index(sheet)
    with zipfile.ZipFile(path) as z:
        drawings = [n for n in z.namelist() if n.startswith("xl/drawings/drawing")]
        found = []
        for name in drawings:
            found += re.findall(r'<xdr:ext cx="(\d+)" cy="(\d+)"', z.read(name).decode())
    return sorted((int(a), int(b)) for a, b in found) if index >= 0 else []


def _or_one(value):
    return 1 if value is None else value


def look_of(path: Path, layouts) -> dict:
    """Everything a reader sees of the layouts' sheets: cells with their styles, sheet settings, charts."""
    wb = openpyxl.load_workbook(path)
    out = {}
    for layout in layouts:
        ws = wb[layout.name]
        cells = {}
        for cell in layout.cells:
            got = ws.cell(cell.row, cell.col)
            cells[cell.row, cell.col] = (got.value, got.number_format, got.data_type, bool(got.quotePrefix),
                                         font_of(got.font), fill_of(got.fill), border_of(got.border),
                                         align_of(got.alignment))
        conditional = sorted((str(rng.sqref), rule.type, rule.operator, tuple(rule.formula or ()),
                              # a conditional format cannot change the font's name (Excel greys it out),
                              # so XlsxWriter leaves it out of the dxf where openpyxl writes it
                              font_of(rule.dxf.font)[:4] if rule.dxf and rule.dxf.font else None,
                              last6(rule.dxf.fill.bgColor) if rule.dxf and rule.dxf.fill else None,
                              tuple((v.type, None if v.type in ("min", "max") else v.val)  # min/max take no value
                                    for v in rule.colorScale.cfvo) if rule.colorScale else None,
                              tuple(last6(c) for c in rule.colorScale.color) if rule.colorScale else None)
                             for rng in ws.conditional_formatting for rule in rng.rules)
        setup, margins = ws.page_setup, ws.page_margins
        out[layout.name] = {
            "cells": cells, "merges": sorted(str(r) for r in ws.merged_cells.ranges),
            "widths": {k: v.width for k, v in ws.column_dimensions.items() if v.customWidth},
            "heights": {k: v.height for k, v in ws.row_dimensions.items() if v.height is not None},
            "freeze": ws.freeze_panes, "zoom": ws.sheet_view.zoomScale, "conditional": conditional,
            # fitToWidth/fitToHeight default to 1 when absent (XlsxWriter leaves defaults out)
            "print": (setup.orientation, str(setup.paperSize), _or_one(setup.fitToWidth), _or_one(setup.fitToHeight),
                      ws.sheet_properties.pageSetUpPr.fitToPage, ws.print_options.horizontalCentered,
                      margins.left, margins.right, margins.top, margins.bottom, ws.oddFooter.center.text),
            "charts": [chart_of(c) for c in ws._charts]}
    out["active"] = wb.active.title
    out["selected"] = [ws.title for ws in wb.worksheets if ws.sheet_view.tabSelected]
    return out


def hand_made() -> list[SheetLayout]:
    """Parts the report does not use today: merges, a frozen column, a formula-looking text, a date
    without a format, a boolean, a conditional format on a merged title's sheet."""
    chart = ChartLayout("col", "手工图", (8, 5), 12.0, 6.0, [ChartSeries((2, 2), Area(3, 2, 4, 2))], Area(3, 1, 4, 1),
                        gap_width=50, overlap=0, legend="b", x_title="组", y_title="值")
    return [SheetLayout("手工", cells=[Cell(1, 1, "合并标题", style="title"), Cell(2, 2, "值", style="header"),
                                     Cell(3, 1, "甲"), Cell(3, 2, 1234.5, "#,##0", "center"),
                                     Cell(4, 1, "乙"), Cell(4, 2, 0.25, "0.0%"), Cell(3, 3, "@user", None, "alert"),
                                     Cell(5, 1, dt.datetime(2024, 3, 1, 8, 30)), Cell(5, 2, True),
                                     Cell(6, 1, None, None, "tile_target_bad")],
                        merges=[Area(1, 1, 1, 3)], widths={2: 15.5}, heights={1: 24},
                        freeze=(2, 3), conditional=[EqualsRule(Area(2, 2, 4, 2), "x", "bad")], charts=[chart])]


@pytest.mark.parametrize("layouts", [real_layouts, hand_made], ids=["report", "hand-made"])
def test_both_writers_give_the_same_cells_styles_settings_and_charts(tmp_path, layouts):
    layouts = layouts()
    write_openpyxl(layouts, tmp_path / "openpyxl.xlsx")
    write_parts(layouts, tmp_path / "parts.xlsx")
    want, got = look_of(tmp_path / "openpyxl.xlsx", layouts), look_of(tmp_path / "parts.xlsx", layouts)
    for name in [layout.name for layout in layouts]:
        for key in want[name]:
            if key == "cells":
                for where, cell in want[name]["cells"].items():
                    assert got[name]["cells"][where] == cell, (name, where)
            else:
                assert got[name][key] == want[name][key], (name, key)
    assert got["active"] == want["active"] == layouts[0].name
    assert got["selected"] == [layouts[0].name]
    sizes = {(round(l.width_cm * 360000), round(l.height_cm * 360000)) for layout in layouts for l in layout.charts}
    assert set(chart_size(tmp_path / "parts.xlsx", layouts[0].name)) == sizes


def test_ooxml_doctests():
    import doctest
    import cs_xl.ooxml.content_types, cs_xl.ooxml.package, cs_xl.ooxml.relationships, cs_xl.ooxml.worksheet
    modules = [cs_xl.ooxml.content_types, cs_xl.ooxml.package, cs_xl.ooxml.relationships, cs_xl.ooxml.worksheet]
    results = [doctest.testmod(m) for m in modules]
    assert sum(r.failed for r in results) == 0 and sum(r.attempted for r in results) >= 8
