"""Layout → an open workbook, through the xlwings object model: the 「刷新报表」 button's writer.

The same :class:`~cs_xl.render.layout.SheetLayout` records :mod:`cs_xl.render.xlsx` translates for
openpyxl are said here in xlwings' words, so a button press gives the cells ``cs-xl refresh``
writes.  Nothing is decided here: positions, formats, styles and chart rules come from the layout.

One module, both xlwings paths: the classic add-in (COM on Windows/macOS) and xlwings Server/Lite
(Office.js, where every call below is recorded as an action Excel replays).  The book is duck
typed — this module imports no xlwings.

What the live writer does differently from a file writer, and why:

* a generated sheet that exists is *cleared and redrawn in place*, not deleted: the buttons on
  汇总 and any shape the user put on a generated sheet stay, and formulas elsewhere pointing at
  it keep their references;
* cells are *typed* (:func:`cs_xl.render.cells.typed_value`): dates as serial numbers, text Excel
  would reinterpret with the quote prefix;
* values go in one block per sheet and formats/styles per rectangle of equal cells, because on
  the server path every call is one action sent to Excel;
* not available through xlwings and left to Excel's defaults: zoom, print setup, a chart's gap
  width/overlap and label interval (the file writers set them);
* a Pareto chart draws its count bars only: xlwings has no way to put the cumulative-share line on
  a second axis (the table beside it carries the cumulative share and the 80 % line).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from typing import Any, Callable, Iterable, Mapping, Sequence

from . import styles
from .cells import typed_value
from .layout import (DEFAULT_COL_WIDTH, Area, ChartLayout, ColorScale, EqualsRule, FormulaRule, SheetLayout,
                     assert_known_styles, column_letter)

POINTS_PER_CM = 72 / 2.54
DEFAULT_ROW_HEIGHT = 15  # points: Excel's row at the 11 pt body font
CHART_TYPES = {"bar": "bar_clustered", "col": "column_clustered"}
LEGEND_POSITIONS = {"b": "bottom", "t": "top", "r": "right", "l": "left"}


# ---------------------------------------------------------------- rectangles of equal cells

def rectangles(cells: Mapping[tuple[int, int], Any]) -> list[tuple[Area, Any]]:
    """Cover ``{(row, col): key}`` with rectangles of one key each: runs along a row, then equal runs
    on consecutive rows joined — a table's column format becomes one rectangle, not one per cell.

    >>> rectangles({(1, 1): "a", (1, 2): "a", (2, 1): "a", (2, 2): "a", (3, 1): "b"})
    [(Area(first_row=1, first_col=1, last_row=2, last_col=2), 'a'), (Area(first_row=3, first_col=1, last_row=3, last_col=1), 'b')]
    """
    runs: dict[int, list[tuple[int, int, Any]]] = defaultdict(list)  # row → (first col, last col, key)
    for (row, col), key in sorted(cells.items()):
        row_runs = runs[row]
        if row_runs and row_runs[-1][1] == col - 1 and row_runs[-1][2] == key:
            row_runs[-1] = (row_runs[-1][0], col, key)
        else:
            row_runs.append((col, col, key))
    open_areas: dict[tuple[int, int, Any], Area] = {}  # run → its rectangle, while the rows go on
    done: list[tuple[Area, Any]] = []
    for row in sorted(runs):
        current = {}
        for first, last, key in runs[row]:
            area = open_areas.pop((first, last, key), None)
            if area is not None and area.last_row == row - 1:
                current[(first, last, key)] = Area(area.first_row, first, row, last)
            else:
                if area is not None:
                    done.append((area, key))
                current[(first, last, key)] = Area(row, first, row, last)
        done += [(area, run[2]) for run, area in open_areas.items()]
        open_areas = current
    done += [(area, run[2]) for run, area in open_areas.items()]
    return sorted(done, key=lambda pair: (pair[0].first_row, pair[0].first_col))


def _rng(sheet, area: Area):
    return sheet.range((area.first_row, area.first_col), (area.last_row, area.last_col))


# ---------------------------------------------------------------- styles

def _hex(color: str) -> str:
    return "#" + color[-6:]  # openpyxl-style "FFDDEBF7" or "DDEBF7" → "#DDEBF7"


def _set_given(target, **attributes) -> None:
    """Set the attributes given a value; None leaves Excel's own."""
    for name, value in attributes.items():
        if value is not None:
            setattr(target, name, value)


def apply_style(rng, style: styles.Style) -> None:
    """Every attribute ``style`` sets, on every cell of ``rng`` (attributes it leaves None stay Excel's)."""
    font = style.font
    if font is not None:
        _set_given(rng.font, name=font.name, bold=font.bold, italic=font.italic, size=font.size,
                   color=font.color and _hex(font.color))
    if style.fill is not None:
        rng.color = _hex(style.fill.color)
    if style.border is not None:
        _apply_border(rng, style.border)
    align = style.align
    if align is not None:
        _set_given(rng, horizontal_alignment=align.horizontal, vertical_alignment=align.vertical,
                   wrap_text=align.wrap)


def _apply_border(rng, border: styles.Border) -> None:
    """Each cell's edges: a range's outer edge plus its inside lines, so every cell has them."""
    rows, cols = rng.shape
    sides = {"edge_left": border.left, "edge_right": border.right, "edge_top": border.top,
             "edge_bottom": border.bottom}
    if cols > 1:
        sides["inside_vertical"] = border.left or border.right
    if rows > 1:
        sides["inside_horizontal"] = border.top or border.bottom
    for side, edge in sides.items():
        if edge is not None:
            rng.borders[side].line_style = "continuous"
            rng.borders[side].weight = edge.style
            rng.borders[side].color = _hex(edge.color)


# ---------------------------------------------------------------- conditional formats

def _dxf(key: str) -> dict:
    """A conditional format's look, as xlwings takes it: font colour/bold/italic and fill."""
    style = styles.STYLES[key]
    look = {}
    if style.font is not None:
        look.update({k: v for k, v in (("font_color", style.font.color and _hex(style.font.color)),
                                       ("font_bold", style.font.bold), ("font_italic", style.font.italic))
                     if v is not None})
    if style.fill is not None:
        look["fill_color"] = _hex(style.fill.background or style.fill.color)
    return look


def add_conditional(sheet, rule) -> None:
    formats = _rng(sheet, rule.area).conditional_formats
    if isinstance(rule, EqualsRule):
        text = rule.text.replace('"', '""')
        formats.add_cell_value("equal_to", f'"{text}"', **_dxf(rule.style))
    elif isinstance(rule, FormulaRule):
        formats.add_custom(f"={rule.formula}", **_dxf(rule.style))
    elif isinstance(rule, ColorScale):
        formats.add_color_scale([_hex(rule.min_color), _hex(rule.mid_color), _hex(rule.max_color)])
    else:
        raise TypeError(f"unknown conditional format {type(rule).__name__}")


# ---------------------------------------------------------------- charts

def on_server(sheet) -> bool:
    """True for xlwings Server/Lite, whose sheet ``api`` is the JSON Office.js sent (classic: COM)."""
    return isinstance(sheet.api, dict)


def chart_source(sheet, spec: ChartLayout):
    """The range a chart plots: its series' columns from the header row (the series names) down.

    Series side by side are one rectangle: the report places every chart's series in adjacent
    columns (the trend table puts 满意度 just before 首次响应达标率), because Office.js charts take one
    rectangle and xlwings' server actions cannot add a series.  Series apart would be a multi-area
    range on the classic path and, on the web, the first run of adjacent series only."""
    name_row, last_row = spec.series[0].name[0], spec.series[0].values.last_row
    cols = [s.values.first_col for s in spec.series]
    runs = [[cols[0]]]
    for col in cols[1:]:
        if col == runs[-1][-1] + 1:
            runs[-1].append(col)
        else:
            runs.append([col])
    areas = [Area(name_row, run[0], last_row, run[-1]) for run in runs]
    if len(areas) == 1 or on_server(sheet):
        return _rng(sheet, areas[0])
    return sheet.range(",".join(area.ref for area in areas))


def chart_type(spec: ChartLayout) -> str:
    if spec.kind == "line":
        return "line_markers" if spec.markers not in (None, "none") else "line"
    return CHART_TYPES[spec.kind]


def add_chart(sheet, spec: ChartLayout):
    """A native chart of the series' columns (names from the header row above them), categories from
    the category column, placed at the anchor cell with the layout's size and axis rules."""
    if spec.line_series:  # xlwings cannot put a series on a second axis: a Pareto chart draws its bars
        spec = replace(spec, series=spec.series[:len(spec.series) - spec.line_series], line_series=0)
    source = chart_source(sheet, spec)
    row, col = spec.anchor
    chart = sheet.charts.add(source=source, chart_type=chart_type(spec), plot_by="columns",
                             anchor=sheet.range((row, col)), width=spec.width_cm * POINTS_PER_CM,
                             height=spec.height_cm * POINTS_PER_CM, style=spec.style)
    chart.set_x_axis_values(_rng(sheet, spec.categories))
    chart.title = spec.title
    _set_given(chart.value_axis, number_format=spec.y_format, minimum_scale=spec.y_min, maximum_scale=spec.y_max,
               title=spec.y_title or None)
    _set_given(chart.category_axis, title=spec.x_title or None, reverse_order=spec.reverse_categories or None)
    if spec.legend is None:
        chart.legend.visible = False
    else:
        chart.legend.position = LEGEND_POSITIONS[spec.legend]
    return chart


# ---------------------------------------------------------------- sheets

def value_block(layout: SheetLayout) -> tuple[int, int, list[list[Any]]] | None:
    """(first row, first column, rows) of the smallest rectangle holding every cell, typed for Excel;
    None for a sheet without cells."""
    if not layout.cells:
        return None
    rows = [c.row for c in layout.cells]
    cols = [c.col for c in layout.cells]
    top, left = min(rows), min(cols)
    block = [[""] * (max(cols) - left + 1) for _ in range(max(rows) - top + 1)]
    for cell in layout.cells:
        block[cell.row - top][cell.col - left] = typed_value(cell.value)
    return top, left, block


def write_sheet(sheet, layout: SheetLayout) -> None:
    """Draw every part of ``layout`` on the (empty) xlwings ``sheet``."""
    assert_known_styles(layout)
    block = value_block(layout)
    if block is not None:
        top, left, values = block
        sheet.range((top, left), (top + len(values) - 1, left + len(values[0]) - 1)).value = values
    formats = {(c.row, c.col): c.number_format for c in layout.cells if c.number_format is not None}
    for area, number_format in rectangles(formats):
        _rng(sheet, area).number_format = number_format
    for area, key in rectangles({(c.row, c.col): c.style for c in layout.cells if c.style}):
        apply_style(_rng(sheet, area), styles.STYLES[key])
    for area in layout.merges:
        _rng(sheet, area).merge()
    for area, width in rectangles({(1, col): width for col, width in layout.widths.items()}):
        sheet.range(f"{column_letter(area.first_col)}:{column_letter(area.last_col)}").column_width = width
    for row, height in layout.heights.items():
        sheet.range(f"{row}:{row}").row_height = height
    for rule in layout.conditional:
        add_conditional(sheet, rule)
    for chart in layout.charts:
        add_chart(sheet, chart)
    if layout.freeze is not None:
        row, col = layout.freeze
        sheet.freeze_panes.freeze_at(f"{column_letter(col)}{row}")


def clear_sheet(sheet, used_rows: int) -> None:
    """Empty a generated sheet for redrawing, keeping the sheet itself and its shapes (the buttons):
    charts, contents, formats, conditional formats, merges, panes, column widths and the heights of
    the ``used_rows`` first rows go back to a new sheet's."""
    for chart in reversed(list(sheet.charts)):  # from the last: a chart is addressed by its index
        chart.delete()
    cells = sheet.cells
    cells.conditional_formats.clear()
    cells.unmerge()
    sheet.clear()
    sheet.freeze_panes.unfreeze()
    cells.column_width = DEFAULT_COL_WIDTH
    if used_rows:
        sheet.range(f"1:{used_rows}").row_height = DEFAULT_ROW_HEIGHT


def _sheet_names(book) -> list[str]:
    return [s.name for s in book.sheets]


def draw_sheets(book, layouts: Sequence[SheetLayout], remove: Iterable[str],
                former: Mapping[str, Sequence[str]] | None = None,
                used_rows: Callable[[str], int] = lambda name: 0,
                on_sheet: Callable[[str], None] | None = None) -> list[str]:
    """Redraw ``layouts`` in the open ``book``; the live twin of :func:`cs_xl.book.replace_sheets`.

    Each layout goes where the first existing of its ``former[name]`` names is (that sheet is
    renamed when its language changed), cleared and redrawn in place; a layout without one becomes
    a new last sheet.  Other sheets called ``remove`` (stale generated sheets) are deleted; every
    other sheet — input sheets, 参数, 说明, the user's own — is never touched.  ``used_rows(name)``
    says how many rows the old sheet used (their heights are reset).  The first layout's sheet is
    activated.  Returns the names drawn."""
    former = former or {}
    kept = {}
    for layout in layouts:
        old = next((n for n in former.get(layout.name, (layout.name,)) if n in _sheet_names(book)), None)
        if old is not None:
            kept[layout.name] = old
    stale = [n for n in dict.fromkeys(remove) if n in _sheet_names(book) and n not in kept.values()]
    for name in stale:
        book.sheets[name].delete()
    for layout in layouts:
        if on_sheet:
            on_sheet(layout.name)
        if layout.name in kept:
            sheet = book.sheets[kept[layout.name]]
            clear_sheet(sheet, used_rows(kept[layout.name]))
            if sheet.name != layout.name:
                sheet.name = layout.name
        else:
            sheet = book.sheets.add(name=layout.name, after=book.sheets[-1])
        write_sheet(sheet, layout)
    if layouts:
        book.sheets[layouts[0].name].activate()
    return [layout.name for layout in layouts]
