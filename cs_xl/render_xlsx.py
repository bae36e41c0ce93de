"""Draw a report model (:mod:`cs_xl.report`) into an openpyxl workbook.

Layout only: blocks are stacked top to bottom, charts sit to the right of the
table they plot (or below it, stacked, when the model says so).  No metric arithmetic happens here — every number comes from
the model.  Conventions:

* number formats by the model's ``fmt``: pct → ``0.0%``, min → ``0.0``,
  sec → ``0``, count → ``#,##0``, nps → ``0.0`` …;
* an undefined number (``None``/NaN) is an *empty cell*, always — never 0 and
  never a dash, so charts show a gap instead of a false zero;
* text that looks like a formula (``=…``) is written as text, never as a
  formula (SPEC §6, CSV/formula injection);
* charts are native Excel charts (``openpyxl.chart``) titled in the report's
  language; the heatmap gets a colour scale and the KPI cards a ✓/✗ colour.
"""
from __future__ import annotations

import datetime as dt
import math
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Callable

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.formatting.rule import CellIsRule, ColorScaleRule, FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from .template import write_text_safe
from .report import ChartSpec, HeatmapBlock, KpiCards, KpiTiles, Report, SheetModel, TableBlock, TextBlock

NUMBER_FORMATS = {
    "pct": "0.0%", "min": "0.0", "sec": "0", "count": "#,##0", "nps": "0.0", "score": "0.00",
    "int": "0", "date": "yyyy-mm-dd", "text": "General",
    "growth": "+0.0%;-0.0%;0.0%", "delta_pct": "+0.0%;-0.0%;0.0%",
    "delta_min": "+0.0;-0.0;0.0", "delta_sec": "+0;-0;0", "delta_num": "+0.0;-0.0;0.0",
}
AXIS_FORMATS = {"pct": "0%", "count": "#,##0", "min": "0", "sec": "0", "nps": "0", "score": "0.0"}
MET, MISSED, UNKNOWN = "✓", "✗", "—"
# the workbook's body font; a Font without a name renders in a serif fallback in LibreOffice
FONT_NAME = "Calibri"

TITLE_FONT = Font(name=FONT_NAME, bold=True, size=14)
BLOCK_FONT = Font(name=FONT_NAME, bold=True, size=11)
HEADER_FONT = Font(name=FONT_NAME, bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
HEADER_BORDER = Border(bottom=Side(style="thin", color="808080"))
NOTE_FONT = Font(name=FONT_NAME, italic=True, color="666666")
ALERT_FONT = Font(name=FONT_NAME, color="C00000", bold=True)
GOOD_FILL = PatternFill("solid", fgColor="C6EFCE", bgColor="C6EFCE")
BAD_FILL = PatternFill("solid", fgColor="FFC7CE", bgColor="FFC7CE")
GOOD_FONT = Font(name=FONT_NAME, color="006100", bold=True)
BAD_FONT = Font(name=FONT_NAME, color="9C0006", bold=True)

CHART_ROWS = 16          # rows a default-height chart covers (7.5 cm / 0.53 cm per row, rounded up)
CHART_WIDTH_CM = 16.0
CHART_HEIGHT_CM = 7.5
BAR_CM_PER_SERIES = 0.38  # a horizontal bar chart grows by this per bar, so no category label is skipped
BAR_CM_GAP = 0.22
MAX_COL_WIDTH = 40
HEADER_LINE_PT = 15      # height of one line of header text, in points
WRAP_WIDTH = 30          # a wrapped text column (ColumnSpec.wrap) is at most this wide; longer text wraps
CENTERED_FMTS = ("date", "int")  # short codes (dates, row numbers, ranks, hours) read best centred


@dataclass
class Placed:
    """Where a table was drawn: header row, first data row, last data row, column of each key."""
    header_row: int
    first_row: int
    last_row: int
    columns: dict[str, int]
    fmts: dict[str, str]
    right: int               # last column used
    beside: int = 0          # first row free for the next chart anchored beside it (0: header row − 1)
    headers: dict[str, str] = field(default_factory=dict)  # key → header text (axis titles)


# ---------------------------------------------------------------- cells

def cell_value(value: Any) -> Any:
    """A model value as something openpyxl writes faithfully; undefined → None."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalar
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    return value


def write(ws: Worksheet, row: int, col: int, value: Any, fmt: str = "text"):
    cell = ws.cell(row=row, column=col)
    value = cell_value(value)
    write_text_safe(cell, value)  # text that looks like a formula stays text (formula injection)
    if value is not None and not isinstance(value, str):
        if isinstance(value, (dt.date, dt.datetime)) and fmt not in ("date",):
            cell.number_format = NUMBER_FORMATS["date"]
        else:
            cell.number_format = NUMBER_FORMATS.get(fmt, "General")
    if fmt in CENTERED_FMTS:
        cell.alignment = Alignment(horizontal="center")
    return cell


def display_width(value: Any) -> int:
    """Roughly how many character columns a value needs (CJK counts twice; numbers ~10)."""
    if value is None:
        return 0
    if isinstance(value, str):
        return _text_width(value)
    return 10


def _text_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class Widths:
    """Tracks the widest content per column so the sheet gets sensible widths,
    and the header rows whose text wraps (their height is set once widths are known)."""

    def __init__(self):
        self.widths: dict[int, int] = {}
        self.fixed: dict[int, float] = {}                 # columns sized by a block itself (heatmap)
        self.header_rows: dict[int, dict[int, str]] = {}  # row → {column: header text}
        self.wrapped_rows: dict[int, dict[int, str]] = {}  # row → {column: wrapped cell text}

    def see(self, col: int, value: Any) -> None:
        self.see_width(col, display_width(value))

    def see_width(self, col: int, width: int) -> None:
        self.widths[col] = max(self.widths.get(col, 0), width)

    def header(self, row: int, col: int, text: str) -> None:
        self.header_rows.setdefault(row, {})[col] = text

    def wrapped(self, row: int, col: int, text: str) -> None:
        """A wrapped data cell: its column is capped at WRAP_WIDTH and its row grows to show every line."""
        self.see_width(col, min(_text_width(text), WRAP_WIDTH))
        self.wrapped_rows.setdefault(row, {})[col] = text

    def width_of(self, col: int) -> float:
        if col in self.fixed:  # the heatmap's narrow hour columns win over a table sharing them
            return self.fixed[col]
        if col in self.widths:
            return min(MAX_COL_WIDTH, max(8, self.widths[col] + 2))
        return self.fixed.get(col, 8.43)  # Excel's default column width

    def apply(self, ws: Worksheet) -> None:
        for col in set(self.widths) | set(self.fixed):
            ws.column_dimensions[get_column_letter(col)].width = self.width_of(col)
        # a wrapped header or cell needs a taller row, or its second line is drawn over the next row
        for rows in (self.header_rows, self.wrapped_rows):
            for row, texts in rows.items():
                lines = max(math.ceil(_text_width(t) / max(1.0, self.width_of(c) - 1)) for c, t in texts.items())
                if lines > 1:
                    ws.row_dimensions[row].height = max(ws.row_dimensions[row].height or 0,
                                                        HEADER_LINE_PT * lines + 3)


# ---------------------------------------------------------------- blocks

def draw_heading(ws: Worksheet, row: int, text: str, font: Font = BLOCK_FONT) -> int:
    ws.cell(row=row, column=1, value=cell_value(text)).font = font
    return row + 1


def draw_table(ws: Worksheet, row: int, block: TableBlock, widths: Widths) -> tuple[int, Placed]:
    if block.title:
        row = draw_heading(ws, row, block.title)
    if block.note:  # above the header, so the table stays a contiguous range ending at a blank row
        ws.cell(row=row, column=1, value=cell_value(block.note)).font = NOTE_FONT
        row += 1
    header_row = row
    for j, spec in enumerate(block.columns, start=1):
        cell = write(ws, header_row, j, spec.header)
        cell.font, cell.fill, cell.border = HEADER_FONT, HEADER_FILL, HEADER_BORDER
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        widths.see_width(j, min(_text_width(spec.header), 12))  # long headers wrap
        widths.header(header_row, j, spec.header)
    fmts = [spec.fmt for spec in block.columns]
    wraps = [spec.wrap for spec in block.columns]
    for i, values in enumerate(block.rows, start=header_row + 1):
        for j, (value, fmt, wrap) in enumerate(zip(values, fmts, wraps), start=1):
            cell = write(ws, i, j, value, fmt)
            if wrap and isinstance(cell.value, str):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
                widths.wrapped(i, j, cell.value)
            else:
                widths.see(j, value)
    last_row = header_row + len(block.rows)
    placed = Placed(header_row, header_row + 1, last_row, {s.key: j for j, s in enumerate(block.columns, 1)},
                    {s.key: s.fmt for s in block.columns}, len(block.columns),
                    headers={s.key: s.header for s in block.columns})
    return last_row + 1, placed


def _fmt_of_value(fmt: str) -> str:
    return fmt if fmt in NUMBER_FORMATS else "General"


def draw_kpi_cards(ws: Worksheet, row: int, block: KpiCards, widths: Widths) -> tuple[int, Placed]:
    """One line per card: label | value | target | gap | ✓/✗, coloured by conditional formatting."""
    if block.title:
        row = draw_heading(ws, row, block.title)
    header_row = row
    for j, text in enumerate(block.headers, start=1):
        cell = write(ws, header_row, j, text)
        cell.font, cell.fill, cell.border = HEADER_FONT, HEADER_FILL, HEADER_BORDER
        cell.alignment = Alignment(horizontal="left" if j == 1 else "center")
        widths.see(j, text)
    for i, card in enumerate(block.cards, start=header_row + 1):
        fmt = _fmt_of_value(card.fmt)
        gap_fmt = {"pct": "delta_pct", "min": "delta_min", "sec": "delta_sec"}.get(card.fmt, "delta_num")
        write(ws, i, 1, card.label)
        write(ws, i, 2, card.value, fmt).font = Font(name=FONT_NAME, bold=True, size=12)
        write(ws, i, 3, card.target, fmt)
        write(ws, i, 4, card.gap, gap_fmt)
        status = ws.cell(row=i, column=5, value=MET if card.met else MISSED if card.met is False else UNKNOWN)
        status.alignment = Alignment(horizontal="center")
        widths.see(1, card.label)
        for j in (2, 3, 4):
            widths.see(j, 1.0)
    last_row = header_row + len(block.cards)
    if block.cards:
        status_range = f"E{header_row + 1}:E{last_row}"
        ws.conditional_formatting.add(status_range, CellIsRule(operator="equal", formula=[f'"{MET}"'],
                                                               fill=GOOD_FILL, font=GOOD_FONT))
        ws.conditional_formatting.add(status_range, CellIsRule(operator="equal", formula=[f'"{MISSED}"'],
                                                               fill=BAD_FILL, font=BAD_FONT))
        # the value itself turns red/green with its status, so the eye finds misses at once
        value_range = f"B{header_row + 1}:B{last_row}"
        first = header_row + 1
        ws.conditional_formatting.add(value_range, FormulaRule(formula=[f'$E{first}="{MISSED}"'], font=BAD_FONT))
        ws.conditional_formatting.add(value_range, FormulaRule(formula=[f'$E{first}="{MET}"'], font=GOOD_FONT))
    placed = Placed(header_row, header_row + 1, last_row,
                    {"label": 1, "value": 2, "target": 3, "gap": 4, "met": 5}, {}, 5)
    return last_row + 1, placed


TILE_FILLS = {True: PatternFill("solid", fgColor="E2F0D9"), False: PatternFill("solid", fgColor="FCE4E4"),
              None: PatternFill("solid", fgColor="EDEDED")}
TILE_VALUE_FONTS = {True: Font(name=FONT_NAME, bold=True, size=20, color="006100"),
                    False: Font(name=FONT_NAME, bold=True, size=20, color="C00000"),
                    None: Font(name=FONT_NAME, bold=True, size=20, color="1F3864")}
TILE_EDGE = Side(style="thick", color="FFFFFF")


def draw_kpi_tiles(ws: Worksheet, row: int, block: KpiTiles, widths: Widths) -> int:
    """One tile per card, one column each, three rows: label / big value / target ✓✗.

    The tile is green when the target is met, red when missed, grey without a
    target; the target line is a number cell whose format carries the words
    (``"目标 "0.0%" ✗"``), so it stays a number."""
    label_row, value_row, target_row = row, row + 1, row + 2
    for j, card in enumerate(block.cards, start=1):
        fill = TILE_FILLS[card.met]
        mark = MET if card.met else MISSED if card.met is False else ""
        label = ws.cell(label_row, j, cell_value(card.label))
        label.font = Font(name=FONT_NAME, size=10, color="404040", bold=True)
        value = write(ws, value_row, j, card.value, _fmt_of_value(card.fmt))
        value.font = TILE_VALUE_FONTS[card.met]
        target = write(ws, target_row, j, card.target, _fmt_of_value(card.fmt))
        if card.target is not None:
            number = NUMBER_FORMATS.get(card.fmt, "General").split(";")[0]
            target.number_format = f'"{block.target_word} "{number}" {mark}"'
        target.font = Font(name=FONT_NAME, size=9, color="595959")
        for k, cell in enumerate((label, value, target)):
            cell.fill = fill
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=(k == 0))
            cell.border = Border(left=TILE_EDGE, right=TILE_EDGE, top=TILE_EDGE if k == 0 else None,
                                 bottom=TILE_EDGE if k == 2 else None)
        widths.see_width(j, 12)
    ws.row_dimensions[label_row].height = 30
    ws.row_dimensions[value_row].height = 30
    ws.row_dimensions[target_row].height = 16
    return target_row + 1


def draw_heatmap(ws: Worksheet, row: int, block: HeatmapBlock, widths: Widths) -> tuple[int, Placed]:
    if block.title:
        row = draw_heading(ws, row, block.title)
    header_row = row
    corner = write(ws, header_row, 1, block.corner)
    corner.font, corner.fill = HEADER_FONT, HEADER_FILL
    widths.see(1, block.corner)
    for j, label in enumerate(block.col_labels, start=2):
        cell = write(ws, header_row, j, label, "int")
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(horizontal="center")
    for i, (label, values) in enumerate(zip(block.row_labels, block.values), start=header_row + 1):
        write(ws, i, 1, label).font = HEADER_FONT
        for j, value in enumerate(values, start=2):
            write(ws, i, j, value, block.fmt).alignment = Alignment(horizontal="center")
    last_row = header_row + len(block.row_labels)
    last_col = 1 + len(block.col_labels)
    for j in range(2, last_col + 1):
        widths.fixed[j] = 6
    if block.row_labels and block.col_labels:
        cells = f"B{header_row + 1}:{get_column_letter(last_col)}{last_row}"
        ws.conditional_formatting.add(cells, ColorScaleRule(
            start_type="min", start_color="FFFFFF", mid_type="percentile", mid_value=50,
            mid_color="FFEB84", end_type="max", end_color="F8696B"))
    placed = Placed(header_row, header_row + 1, last_row, {}, {}, last_col)
    return last_row + 1, placed


def draw_text(ws: Worksheet, row: int, block: TextBlock) -> int:
    font = {"alert": ALERT_FONT, "heading": BLOCK_FONT}.get(block.style, NOTE_FONT)
    for line in block.lines:
        ws.cell(row=row, column=1, value=cell_value(line)).font = font
        row += 1
    return row


def make_chart(ws: Worksheet, spec: ChartSpec, placed: Placed):
    """A native chart over the table's cells (series titles from the header row).

    Readability rules: rate axes run 0–100 % (a bar from 66 % to 69 % would
    exaggerate a 3-point difference); every category gets its label (bar
    charts grow with their categories instead of skipping labels); lines are
    straight with markers on short series; the category axis is titled with
    the table's header, the value axis with ``spec.y_title`` or the series'
    header when there is one series; a legend sits below when there are two.
    """
    if spec.kind == "line":
        chart = LineChart()
    else:
        chart = BarChart()
        chart.type = "bar" if spec.kind == "bar" else "col"
        chart.gapWidth = 50
        chart.overlap = -10 if len(spec.value_cols) > 1 else 0
    chart.title = spec.title
    chart.style = 10
    for key in spec.value_cols:
        col = placed.columns[key]
        chart.add_data(Reference(ws, min_col=col, min_row=placed.header_row, max_row=placed.last_row),
                       titles_from_data=True)
    cat_col = placed.columns[spec.category_col]
    chart.set_categories(Reference(ws, min_col=cat_col, min_row=placed.first_row, max_row=placed.last_row))
    n = placed.last_row - placed.first_row + 1
    fmt = placed.fmts.get(spec.value_cols[0], "")
    if fmt in AXIS_FORMATS:
        chart.y_axis.number_format = AXIS_FORMATS[fmt]
        chart.y_axis.numFmt.sourceLinked = False  # the axis format, not the cells' 0.0%
    if fmt == "pct":
        chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, 1
    if spec.kind == "line":
        for series in chart.series:
            series.smooth = False  # a smoothed curve invents values between periods
            series.marker.symbol = "circle" if n <= 31 else "none"
            series.marker.size = 5
    if spec.kind != "bar":  # names on a bar chart's side explain themselves; periods and hours need a word
        chart.x_axis.title = placed.headers.get(spec.category_col) or None
    y_title = spec.y_title or (placed.headers.get(spec.value_cols[0]) if len(spec.value_cols) == 1 else "")
    chart.y_axis.title = y_title or None
    # openpyxl ≥ 3.1 marks axes as deleted unless told otherwise; Excel then hides them
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    if spec.kind != "line" or n <= 40:
        chart.x_axis.tickLblSkip = 1  # never hide every other agent / channel name
    if len(spec.value_cols) == 1:
        chart.legend = None
    else:
        chart.legend.position = "b"
    if spec.kind == "bar":
        chart.x_axis.scaling.orientation = "maxMin"  # first row at the top, as in the table
    chart.width = CHART_WIDTH_CM
    per_category = BAR_CM_PER_SERIES * len(spec.value_cols) + BAR_CM_GAP
    chart.height = max(CHART_HEIGHT_CM, 3.0 + per_category * n) if spec.kind == "bar" else CHART_HEIGHT_CM
    return chart


def chart_rows(chart) -> int:
    """Rows a chart covers (at the default 15 pt ≈ 0.53 cm row height, rounded up)."""
    return max(CHART_ROWS, math.ceil(chart.height / 0.5) + 1)


# ---------------------------------------------------------------- sheets

def render_sheet(wb: Workbook, model: SheetModel, index: int | None = None) -> Worksheet:
    """Create the sheet ``model.name`` (at ``index`` when given) and draw every block."""
    ws = wb.create_sheet(model.name, index)
    widths = Widths()
    row = draw_heading(ws, 1, model.title, TITLE_FONT) + 1
    placed: dict[str, Placed] = {}
    floor = row  # rows below this are free of charts
    for block in model.blocks:
        if isinstance(block, ChartSpec):
            # charts "below" a table stack under each other; the others sit beside their table
            top = max(row, floor) if block.anchor == "below" else row
            floor = max(floor, place_chart(ws, block, placed, top))
            continue
        row = max(row, floor)
        if isinstance(block, TableBlock):
            row, placed[block.name] = draw_table(ws, row, block, widths)
        elif isinstance(block, KpiTiles):
            row = draw_kpi_tiles(ws, row, block, widths)
        elif isinstance(block, KpiCards):
            row, placed[block.name] = draw_kpi_cards(ws, row, block, widths)
        elif isinstance(block, HeatmapBlock):
            row, placed[block.name] = draw_heatmap(ws, row, block, widths)
        elif isinstance(block, TextBlock):
            row = draw_text(ws, row, block)
        else:
            raise TypeError(f"unknown report block {type(block).__name__} on sheet {model.name}")
        row += 1
    widths.apply(ws)
    ws.sheet_view.zoomScale = 90
    freeze(ws, model, placed)
    print_setup(ws, model)
    return ws


def freeze(ws: Worksheet, model: SheetModel, placed: dict[str, Placed]) -> None:
    """Freeze the header row (and the first ``freeze_cols`` columns) of the sheet's main table,
    so a long list scrolls under its headers."""
    table = placed.get(model.freeze_table) if model.freeze_table else None
    if table is not None and table.last_row >= table.first_row:
        ws.freeze_panes = f"{get_column_letter(model.freeze_cols + 1)}{table.first_row}"


def print_setup(ws: Worksheet, model: SheetModel) -> None:
    """Landscape A4, one page wide (tables and their charts side by side), narrow margins,
    centred; the dashboard fits on one page; the footer names the sheet and the page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1 if model.one_page else 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    ws.oddFooter.center.text = "&A — &P / &N"


def place_chart(ws: Worksheet, spec: ChartSpec, placed: dict[str, Placed], row: int) -> int:
    """Anchor a chart beside (or below) its table; returns the first row below the chart.

    ``spec.anchor``: ``"right"`` of its own table, ``"below"`` the blocks drawn
    so far, or ``"beside:NAME"`` to the right of another block (the summary's
    chart sits beside the KPI cards while its data table is further down).
    Charts beside the same block stack downwards without overlapping.
    """
    table = placed.get(spec.table_name)
    if table is None or table.last_row < table.first_row:
        return row  # nothing to plot: an empty chart would only confuse
    chart = make_chart(ws, spec, table)
    rows = chart_rows(chart)
    if spec.anchor == "below":
        top, col = row, 1
    else:
        host = placed.get(spec.anchor.partition(":")[2], table) if spec.anchor.startswith("beside:") else table
        top, col = max(1, host.beside or host.header_row - 1), host.right + 2
        host.beside = top + rows + 1
    ws.add_chart(chart, f"{get_column_letter(col)}{max(1, top)}")
    return max(1, top) + rows


def render(report: Report, wb: Workbook, positions: dict[str, int] | None = None,
           on_sheet: Callable[[str], None] | None = None) -> list[str]:
    """Draw every sheet of ``report`` into ``wb``.

    ``positions`` maps a sheet name to the index it should take (where the old
    generated sheet was); other sheets are appended in report order.  The
    summary sheet becomes the active one.  Returns the names drawn.
    """
    positions = positions or {}
    placed_first = sorted((positions[s.name], s) for s in report.sheets if s.name in positions)
    # re-insert in ascending index order so earlier insertions don't shift later targets
    order = [s for _, s in placed_first] + [s for s in report.sheets if s.name not in positions]
    drawn = {}
    for model in order:
        if on_sheet:
            on_sheet(model.name)
        index = positions.get(model.name)
        drawn[model.name] = render_sheet(wb, model, min(index, len(wb.sheetnames)) if index is not None else None)
    first = drawn[report.sheets[0].name] if report.sheets else None
    if first is not None:
        for ws in wb.worksheets:
            ws.sheet_view.tabSelected = False
        wb.active = wb.sheetnames.index(first.title)
        first.sheet_view.tabSelected = True
    return [s.name for s in report.sheets]
