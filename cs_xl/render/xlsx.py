"""Layout → openpyxl: a translator, no placement decisions.

Every position, width, number format, style and chart rule is decided in
:mod:`cs_xl.render.layout`; this module only says each of them in openpyxl's
words (cells, styles, merges, widths, panes, conditional formats, native
charts, print setup).  New books (the template) and, until the part writer
lands, the refresh (:func:`cs_xl.book.replace_sheets`) go through it.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable, Iterable

from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.formatting.rule import CellIsRule, ColorScaleRule
from openpyxl.formatting.rule import FormulaRule as XlFormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from ..report import Report
from . import styles
from .cells import write_text_safe
from .layout import (Cell, ChartLayout, ColorScale, EqualsRule, FormulaRule, PrintSetup, SheetLayout,
                     assert_known_styles, column_letter, report_layouts)

PAPER_SIZES = {"A4": Worksheet.PAPERSIZE_A4}


# ---------------------------------------------------------------- styles

def _given(**attributes) -> dict:
    """Only the attributes a style sets, so openpyxl's defaults stay its defaults."""
    return {k: v for k, v in attributes.items() if v is not None}


def xl_font(font: styles.Font) -> Font:
    return Font(**_given(name=font.name, bold=font.bold, italic=font.italic, size=font.size, color=font.color))


def xl_fill(fill: styles.Fill) -> PatternFill:
    return PatternFill("solid", **_given(fgColor=fill.color, bgColor=fill.background))


def xl_border(border: styles.Border) -> Border:
    sides = {name: getattr(border, name) for name in ("left", "right", "top", "bottom")}
    return Border(**{name: Side(style=e.style, color=e.color) for name, e in sides.items() if e is not None})


def xl_alignment(align: styles.Align) -> Alignment:
    return Alignment(**_given(horizontal=align.horizontal, vertical=align.vertical, wrap_text=align.wrap))


@lru_cache(maxsize=None)
def _xl_style(key: str) -> dict:
    """The openpyxl objects of a style key (font, fill, border, alignment), built once."""
    style = styles.STYLES[key]
    parts = {"font": style.font and xl_font(style.font), "fill": style.fill and xl_fill(style.fill),
             "border": style.border and xl_border(style.border), "alignment": style.align and xl_alignment(style.align)}
    return {k: v for k, v in parts.items() if v is not None}


# ---------------------------------------------------------------- cells and sheet settings

def write_cell(ws: Worksheet, cell: Cell) -> None:
    target = ws.cell(row=cell.row, column=cell.col)
    write_text_safe(target, cell.value)  # text that looks like a formula stays text (formula injection)
    if cell.number_format is not None:
        target.number_format = cell.number_format
    for attribute, value in (_xl_style(cell.style) if cell.style else {}).items():
        setattr(target, attribute, value)


def _conditional_rule(rule):
    if isinstance(rule, EqualsRule):
        text = rule.text.replace('"', '""')
        return CellIsRule(operator="equal", formula=[f'"{text}"'], **_dxf(rule.style))
    if isinstance(rule, FormulaRule):
        return XlFormulaRule(formula=[rule.formula], **_dxf(rule.style))
    if isinstance(rule, ColorScale):
        return ColorScaleRule(start_type="min", start_color=rule.min_color, mid_type="percentile",
                              mid_value=rule.mid_percentile, mid_color=rule.mid_color,
                              end_type="max", end_color=rule.max_color)
    raise TypeError(f"unknown conditional format {type(rule).__name__}")


def _dxf(key: str) -> dict:
    """A conditional format's look: only the font, fill and border of the style count."""
    return {k: v for k, v in _xl_style(key).items() if k in ("font", "fill", "border")}


def write_print_setup(ws: Worksheet, setup: PrintSetup) -> None:
    ws.page_setup.orientation = "landscape" if setup.landscape else "portrait"
    ws.page_setup.paperSize = PAPER_SIZES[setup.paper]
    ws.page_setup.fitToWidth = setup.fit_width
    ws.page_setup.fitToHeight = setup.fit_height
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = setup.centered
    ws.page_margins.left = ws.page_margins.right = setup.margin_side
    ws.page_margins.top = ws.page_margins.bottom = setup.margin_top_bottom
    ws.oddFooter.center.text = setup.footer


# ---------------------------------------------------------------- charts

def _add_series(ws: Worksheet, chart, series_list, cats) -> None:
    for series in series_list:
        name_row, col = series.name
        assert name_row == series.values.first_row - 1, "a series name sits right above its values"
        chart.add_data(Reference(ws, min_col=col, min_row=name_row, max_row=series.values.last_row),
                       titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=cats.first_col, min_row=cats.first_row, max_row=cats.last_row))


def _secondary_lines(ws: Worksheet, spec: ChartLayout, series_list) -> LineChart:
    """The Pareto chart's lines (cumulative share, the 80 % line) on a 0–100 % axis on the right."""
    line = LineChart()
    _add_series(ws, line, series_list, spec.categories)
    line.y_axis.axId = 200
    line.y_axis.scaling.min, line.y_axis.scaling.max = 0, 1
    line.y_axis.number_format = "0%"
    line.y_axis.numFmt.sourceLinked = False
    line.y_axis.crosses = "max"
    line.y_axis.delete = False
    for s in line.series:
        s.smooth = False
        s.marker.symbol = spec.markers or "none"
        s.marker.size = spec.marker_size
    return line


def xl_chart(ws: Worksheet, spec: ChartLayout):
    """A native openpyxl chart saying exactly what ``spec`` decided."""
    if spec.kind == "line":
        chart = LineChart()
    else:
        chart = BarChart()
        chart.type = "bar" if spec.kind == "bar" else "col"
        chart.gapWidth = spec.gap_width
        chart.overlap = spec.overlap
    chart.title = spec.title
    chart.style = spec.style
    bars = len(spec.series) - spec.line_series
    _add_series(ws, chart, spec.series[:bars], spec.categories)
    if spec.line_series:
        chart += _secondary_lines(ws, spec, spec.series[bars:])
    if spec.y_format is not None:
        chart.y_axis.number_format = spec.y_format
        chart.y_axis.numFmt.sourceLinked = False  # the axis format, not the cells' 0.0%
    if spec.y_min is not None or spec.y_max is not None:
        chart.y_axis.scaling.min, chart.y_axis.scaling.max = spec.y_min, spec.y_max
    if spec.markers is not None and spec.kind == "line":
        for s in chart.series:
            s.smooth = False  # a smoothed curve invents values between periods
            s.marker.symbol = spec.markers
            s.marker.size = spec.marker_size
    chart.x_axis.title = spec.x_title
    chart.y_axis.title = spec.y_title
    # openpyxl ≥ 3.1 marks axes as deleted unless told otherwise; Excel then hides them
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    if spec.label_every is not None:
        chart.x_axis.tickLblSkip = spec.label_every
    if spec.legend is None:
        chart.legend = None
    else:
        chart.legend.position = spec.legend
    if spec.reverse_categories:
        chart.x_axis.scaling.orientation = "maxMin"
    chart.width = spec.width_cm
    chart.height = spec.height_cm
    return chart


# ---------------------------------------------------------------- sheets

def write_sheet(wb: Workbook, layout: SheetLayout, index: int | None = None) -> Worksheet:
    """Create the sheet ``layout.name`` (at ``index`` when given) and write every part of the layout."""
    assert_known_styles(layout)
    ws = wb.create_sheet(layout.name, index)
    for cell in layout.cells:
        write_cell(ws, cell)
    for area in layout.merges:
        ws.merge_cells(area.ref)
    for col, width in layout.widths.items():
        ws.column_dimensions[column_letter(col)].width = width
    for row, height in layout.heights.items():
        ws.row_dimensions[row].height = height
    for rule in layout.conditional:
        ws.conditional_formatting.add(rule.area.ref, _conditional_rule(rule))
    for chart in layout.charts:
        row, col = chart.anchor
        ws.add_chart(xl_chart(ws, chart), f"{column_letter(col)}{row}")
    ws.sheet_view.zoomScale = layout.zoom
    if layout.freeze is not None:
        row, col = layout.freeze
        ws.freeze_panes = f"{column_letter(col)}{row}"
    write_print_setup(ws, layout.print_setup)
    return ws


def write_sheets(wb: Workbook, layouts: list[SheetLayout], positions: dict[str, int] | None = None,
                 on_sheet: Callable[[str], None] | None = None) -> list[str]:
    """Write every layout into ``wb``; the first becomes the active (selected) sheet.

    ``positions`` maps a sheet name to the index it should take (where the old
    generated sheet was); other sheets are appended in order.  Returns the
    names written, in ``layouts`` order.
    """
    positions = positions or {}
    placed_first = sorted((positions[s.name], i) for i, s in enumerate(layouts) if s.name in positions)
    # re-insert in ascending index order so earlier insertions don't shift later targets
    order = [layouts[i] for _, i in placed_first] + [s for s in layouts if s.name not in positions]
    written = {}
    for layout in order:
        if on_sheet:
            on_sheet(layout.name)
        index = positions.get(layout.name)
        written[layout.name] = write_sheet(wb, layout, min(index, len(wb.sheetnames)) if index is not None else None)
    if layouts:
        _select(wb, written[layouts[0].name])
    return [s.name for s in layouts]


def _select(wb: Workbook, ws: Worksheet) -> None:
    for sheet in wb.worksheets:
        sheet.sheet_view.tabSelected = False
    wb.active = wb.sheetnames.index(ws.title)
    ws.sheet_view.tabSelected = True


def render(report: Report, wb: Workbook, positions: dict[str, int] | None = None,
           on_sheet: Callable[[str], None] | None = None) -> list[str]:
    """Lay out every sheet of ``report`` and write it into ``wb`` (see :func:`write_sheets`)."""
    return write_sheets(wb, report_layouts(report), positions, on_sheet)


def remove_sheets(wb: Workbook, names: Iterable[str]) -> dict[str, int]:
    """Remove the sheets called ``names`` that exist; returns each removed name's former index."""
    names = set(names)
    former = {title: index for index, title in enumerate(wb.sheetnames) if title in names}
    for title in former:
        wb.remove(wb[title])
    return former
