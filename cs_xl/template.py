"""The blank standard workbook (seed 000's two templates plus a call log).

Sheets, in order: 说明 (how to use it), 参数 (settings), then the input sheets
响应时间统计表 / 效果统计表 / 话务记录 (English: Read me, Settings, Tickets,
Feedback, Calls).  Each input sheet is a title row, the header row (row 2) and
an Excel Table with drop-downs and number checks on 10,000 rows below the
header.  :func:`fill_inputs` appends records to those Tables.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table, TableStyleInfo

from . import schema
from .params import write_params
from .render.cells import write_text_safe
from .schema import SETTINGS_SHEET, TABLES, Column
from .schema import Table as SchemaTable
from .settings import Settings
from .values import NUMBER_FORMATS, display_width, plain, python_datetime

README_SHEET = {"zh": "说明", "en": "Read me"}
TITLES = {
    "tickets": ("客户服务响应时间统计表", "Customer service response times"),
    "feedback": ("客户服务效果统计表", "Customer service feedback"),
    "calls": ("话务记录", "Call log"),
}
TABLE_NAMES = {"tickets": "Tickets", "feedback": "Feedback", "calls": "Calls"}
TITLE_ROW, HEADER_ROW = 1, 2
VALIDATION_ROWS = 10_000  # rows below the header covered by drop-downs and number checks
TABLE_STYLE = "TableStyleMedium2"

# Drop-down vocabularies per language (the zh ones are schema's; en are labels
# the loader reads as they are, except yes/no and priorities which it maps).
_EN_WORDS = {
    "咨询": "Enquiry", "投诉": "Complaint", "建议": "Suggestion", "技术故障": "Technical fault",
    "物流咨询": "Delivery enquiry", "支付问题": "Payment problem", "产品功能": "Product feature",
    "APP": "APP", "小程序": "Mini program", "官网": "Website", "电话": "Phone", "邮件": "Email", "在线": "Chat",
    "新客户": "New", "老客户": "Returning", "VIP": "VIP",
    "一级": "L1", "二级": "L2", "三级": "L3", "四级": "L4",
    "已解决": "resolved", "处理中": "in progress", "待确认": "pending", "已关闭": "closed",
    "是": "Yes", "否": "No", "未评价": "Not rated",
    "物流": "Logistics", "支付": "Payment",
}
_LISTS = {
    "issue_type": schema.ISSUE_TYPES, "channel": schema.CHANNELS, "customer_type": schema.CUSTOMER_TYPES,
    "module": schema.MODULES, "priority": schema.PRIORITIES, "status": schema.STATUSES,
    "satisfied": schema.YES_NO,
}
# open vocabularies (finer issue types, other channels) warn instead of refusing
_OPEN_LISTS = {"issue_type", "channel", "customer_type", "module"}


def vocabulary(key: str, kind: str, lang: str = "zh") -> tuple[str, ...] | None:
    """The drop-down values of a column, or None when it has no list."""
    words = _LISTS.get(key) or (("是", "否") if kind == "flag" else None)
    if words is None:
        return None
    return tuple(words) if lang == "zh" else tuple(_EN_WORDS.get(w, w) for w in words)


# ------------------------------------------------------------------ validations

def _list_validation(words, strict: bool, lang: str) -> DataValidation:
    return DataValidation(
        type="list", formula1='"' + ",".join(words) + '"', allow_blank=True, showErrorMessage=True,
        errorStyle="stop" if strict else "warning",
        error=("请从下拉列表中选择" if lang == "zh" else "Pick a value from the list")
        if strict else ("不在常用列表中，确认要使用吗？" if lang == "zh" else "Not in the usual list — keep it?"))


def _number_validation(kind: str, bounds, lang: str) -> DataValidation | None:
    zh = lang == "zh"
    if bounds is not None:
        lo, hi = (int(b) for b in bounds)
        return DataValidation(type="decimal", operator="between", formula1=str(lo), formula2=str(hi),
                              allow_blank=True, showErrorMessage=True,
                              error=f"请输入 {lo}–{hi} 之间的数字" if zh else f"Enter a number from {lo} to {hi}")
    if kind in ("minutes", "seconds"):
        return DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                              showErrorMessage=True, error="请输入 ≥ 0 的数字" if zh else "Enter a number ≥ 0")
    if kind == "count":
        return DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                              showErrorMessage=True, error="请输入 ≥ 0 的整数" if zh else "Enter a whole number ≥ 0")
    if kind in ("date", "datetime"):
        return DataValidation(type="date", operator="greaterThan", formula1="DATE(2000,1,1)", allow_blank=True,
                              showErrorMessage=True,
                              error="请输入日期，如 2024-03-01" if zh else "Enter a date such as 2024-03-01")
    return None


def column_validation(column: Column, lang: str = "zh") -> DataValidation | None:
    """The data validation of one input column (list, number range or date), or None."""
    words = vocabulary(column.key, column.kind, lang)
    if words is not None:
        return _list_validation(words, column.key not in _OPEN_LISTS, lang)
    return _number_validation(column.kind, column.bounds, lang)


# ------------------------------------------------------------------ input sheets

_NUMBER_FORMATS = {kind: NUMBER_FORMATS[kind] for kind in ("date", "datetime")}  # by column kind
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="4472C4")
_TITLE_FONT = Font(bold=True, size=14)


def _column_width(column: Column, lang: str) -> float:
    minimum = {"date": 12, "datetime": 19, "text": 10}.get(column.kind, 8)
    if column.key == "note":
        minimum = 24
    return max(minimum, display_width(column.header(lang)) + 3)


def _write_input_sheet(ws, table: SchemaTable, lang: str) -> None:
    columns = table.columns
    last = get_column_letter(len(columns))
    ws.cell(row=TITLE_ROW, column=1, value=TITLES[table.key][0 if lang == "zh" else 1]).font = _TITLE_FONT
    ws.merge_cells(f"A{TITLE_ROW}:{last}{TITLE_ROW}")
    # left-aligned so the title stays above the first (required) columns on screen and on paper
    ws.cell(row=TITLE_ROW, column=1).alignment = Alignment(horizontal="left", vertical="center")
    ws.row_dimensions[TITLE_ROW].height = 24
    for pos, column in enumerate(columns, start=1):
        header = ws.cell(row=HEADER_ROW, column=pos, value=column.header(lang))
        # explicit header look: same as the table style, for viewers without table styles
        header.font, header.fill = _HEADER_FONT, _HEADER_FILL
        header.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        if column.kind in _NUMBER_FORMATS:
            ws.cell(row=HEADER_ROW + 1, column=pos).number_format = _NUMBER_FORMATS[column.kind]
        ws.column_dimensions[get_column_letter(pos)].width = _column_width(column, lang)
        dv = column_validation(column, lang)
        if dv is not None:
            letter = get_column_letter(pos)
            dv.add(f"{letter}{HEADER_ROW + 1}:{letter}{HEADER_ROW + VALIDATION_ROWS}")
            ws.add_data_validation(dv)
    ws.freeze_panes = ws.cell(row=HEADER_ROW + 1, column=1)
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"  # header repeated on printed pages
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    table_obj = Table(displayName=TABLE_NAMES[table.key], ref=f"A{HEADER_ROW}:{last}{HEADER_ROW + 1}",
                      tableStyleInfo=TableStyleInfo(name=TABLE_STYLE, showRowStripes=True))
    ws.add_table(table_obj)


# ------------------------------------------------------------------ 说明

_STEPS_ZH = (
    ("第一步 明确统计周期与范围", "在「参数」表填写统计周期（开始/结束日期，或统计月份如 2024-03 = 自然月）和统计范围"
     "（客服组、入职满N个月、客户类型、渠道、问题类型、业务模块）。留空表示不限。"),
    ("第二步 收集原始数据", "从客服系统导出工单列表（工单编号、客户ID、问题类型、首次响应时间、解决时间、客服工号）"
     "和评价数据（1-5星评分、是否满意、7天内重复投诉次数）；客服系统时间应与北京时间一致，导出时保留工单编号便于去重与关联。"),
    ("第三步 录入模板表格", "把数据粘贴到「响应时间统计表」「效果统计表」「话务记录」，不要改动表头。"
     "首次响应时间：从客户发起到客服首次人工回复（自动回复不计）；问题解决时间：从首次响应到标记已解决；客服姓名可用*代替部分（*小王）。"),
    ("第四步 计算核心指标", "保存并关闭本工作簿，运行 cs-xl refresh 文件名.xlsx：按「参数」表重新生成全部报表表"
     "（工作簿仍在 Excel 中打开时会被拒绝，以免覆盖未保存的内容）；只看指标可运行 cs-xl kpis 文件名.xlsx。"
     "单元格公式如 =CS_FRT_RATE(响应时间统计表!F:F, 3)：在 Excel 中导入 xlwings 函数后即时计算，"
     "无 Excel 时运行 cs-xl calc 文件名.xlsx 计算。"),
    ("第五步 分析报告", "查看 汇总、按客服、按维度、趋势、时段负荷、数据质量 等报表：对比目标、看环比/同比和高峰时段，"
     "定位短板（如“周三下午咨询量激增”），制定并跟踪改进措施。"),
)
_STEPS_EN = (
    ("Step 1 Period and scope", "On the Settings sheet enter the period (start/end dates, or a month such as 2024-03) "
     "and the scope (teams, minimum tenure, customer types, channels, issue types, modules). Blank = everything."),
    ("Step 2 Collect raw data", "Export the ticket list (ticket ID, customer ID, issue type, first response, resolution, "
     "agent ID) and the feedback (1-5 rating, satisfied, repeat complaints in 7 days); keep the ticket ID for dedupe and joins."),
    ("Step 3 Fill in the templates", "Paste the records into Tickets, Feedback and Calls without changing the headers. "
     "First response: from the customer's contact to the first human reply (auto-replies excluded); resolution: from "
     "first response to resolved."),
    ("Step 4 Compute the KPIs", "Save and close the workbook, then run cs-xl refresh book.xlsx: every report sheet is "
     "rebuilt from the input sheets and the Settings sheet (a book still open in Excel is refused, so no unsaved typing "
     "is lost). For the numbers alone: cs-xl kpis book.xlsx. Cell formulas such as =CS_FRT_RATE(Tickets!F:F, 3) "
     "calculate in Excel once the xlwings functions are imported, or without Excel with cs-xl calc book.xlsx."),
    ("Step 5 Analyse and report", "Read the summary, per-agent, breakdown, trend, load and data-quality sheets: compare "
     "with the targets, period-over-period changes and peak hours, and follow up on the gaps."),
)
_SHEETS_ZH = (
    ("参数", "统计周期、范围、达标阈值、各优先级时效、目标值和预警规则"),
    ("响应时间统计表", "每张工单一行（《客户服务响应时间统计表》）；前8列为必填的标准表头，其余列有则填"),
    ("效果统计表", "每条评价一行（《客户服务效果统计表》）：评分、是否满意、推荐意愿、是否投诉"),
    ("话务记录", "每通来电一行：呼入时间、等待时长、是否接通、通话/保持/话后处理时长、IVR分流"),
)
_SHEETS_EN = (
    ("Settings", "period, scope, thresholds, SLA per priority, targets and alert rules"),
    ("Tickets", "one row per ticket; the first 8 columns are the standard headers, the rest optional"),
    ("Feedback", "one row per survey answer: rating, satisfied, likelihood to recommend, complaint"),
    ("Calls", "one row per call: start, wait, answered, talk/hold/wrap, IVR self-service"),
)
_NOTES_ZH = (
    "时长请填数字（分钟或秒，见表头）；“5分钟”“1.5h”之类的文字会被自动换算，并在「数据质量」表中列出。",
    "空白、文字、负数和 #N/A 等错误值不计入指标（也不会当作 0），并在「数据质量」表中逐行说明。",
    "工单编号重复时保留最后一条完整记录；从系统导出的以 =、+、-、@ 开头的内容按文本保存，不会当作公式执行。",
    "本页示例数据仅供参考，不参与统计。",
)
_NOTES_EN = (
    "Durations are numbers (minutes or seconds, see the header); text such as '5 min' or '1.5h' is converted and "
    "listed on the data-quality sheet.",
    "Blanks, text, negative numbers and errors such as #N/A are left out of the metrics (never counted as 0) and "
    "listed row by row on the data-quality sheet.",
    "Duplicate ticket IDs keep the last complete record; imported cells starting with =, +, -, @ are stored as text.",
    "The example rows on this page are not counted.",
)
# the example rows of seed 000 (shown here, never in the input tables)
EXAMPLE_ROWS = (
    (dt.date(2024, 3, 1), "C001", "*小王", "U00123", "物流咨询", 3, 15, None),
    (dt.date(2024, 3, 1), "C002", "*李娜", "U00456", "投诉", 5, 25, "客户情绪激动"),
)


README_WIDTHS = {"A": 22, "B": 52, "C": 20, "D": 10, "E": 10, "F": 10, "G": 10, "H": 14}
LINE_HEIGHT = 15  # points per wrapped line


def _row_height(values, widths: list[float]) -> float | None:
    """Height fitting the longest wrapped text of a row (Excel does not autofit
    rows of a generated file), or None when one line suffices."""
    # ~85 % of the nominal width holds CJK text in common fonts (Excel and LibreOffice)
    lines = max((math.ceil(display_width(v) / max(0.85 * w - 1, 1)) for v, w in zip(values, widths)
                 if isinstance(v, str)), default=1)
    return LINE_HEIGHT * lines if lines > 1 else None


def fit_to_page_width(ws, landscape: bool = False) -> None:
    """Print settings: all columns on one page width, as many pages down as needed."""
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    if landscape:
        ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE


def _write_readme(ws, lang: str, settings: Settings) -> None:
    zh = lang == "zh"
    section = Font(bold=True, size=12, color="1F4E78")
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    thin = Side(style="thin", color="BFBFBF")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    widths = list(README_WIDTHS.values())
    ws["A1"] = "客户服务响应时间与效果统计工具 — 使用说明" if zh else "Customer-service response time and effectiveness tool — read me"
    ws["A1"].font = Font(bold=True, size=16)
    ws["A2"] = ("把客服系统导出的数据录入三张表，保存后运行 cs-xl refresh 文件名.xlsx，即得到首次响应达标率、解决率、满意度、"
                "接通率等指标及分析报表。"
                if zh else "Fill the three input sheets, save, run cs-xl refresh book.xlsx, and get FRT within target, "
                "resolution, satisfaction, answer rate and the analysis sheets.")
    row = 4

    def heading(text):
        nonlocal row
        ws.cell(row=row, column=1, value=text).font = section
        row += 1

    def table(header, rows):
        nonlocal row
        for col, text in enumerate(header, start=1):
            cell = ws.cell(row=row, column=col, value=text)
            cell.font, cell.fill, cell.border = bold, fill, box
        row += 1
        for values in rows:
            for col, value in enumerate(values, start=1):
                cell = ws.cell(row=row, column=col, value=value)
                cell.border = box
                cell.alignment = Alignment(wrap_text=True, vertical="top")
                if isinstance(value, dt.date):
                    cell.number_format = NUMBER_FORMATS["date"]
            height = _row_height(values, widths)
            if height:
                ws.row_dimensions[row].height = height
            row += 1
        row += 1

    heading("操作流程（五步）" if zh else "Workflow (five steps)")
    table(("步骤", "做什么") if zh else ("Step", "What to do"), _STEPS_ZH if zh else _STEPS_EN)
    heading("工作表" if zh else "Sheets")
    table(("工作表", "内容") if zh else ("Sheet", "Contents"), _SHEETS_ZH if zh else _SHEETS_EN)
    heading("指标说明" if zh else "Metrics")
    from .catalogue import METRICS  # lazily: the template module stays importable on its own
    metric_rows = [(m.name(lang), m.definition(lang, settings), key) for key, m in METRICS.items()]
    table(("指标", "定义", "代码") if zh else ("Metric", "Definition", "Key"), metric_rows)
    heading("填写示例（《客户服务响应时间统计表》，仅示例，不计入统计）" if zh
            else "Example rows (Tickets sheet; examples only, not counted)")
    required = [c for c in TABLES["tickets"].columns][:8]
    table([c.header(lang) for c in required], EXAMPLE_ROWS)
    heading("数据要求" if zh else "Data rules")
    for note in (_NOTES_ZH if zh else _NOTES_EN):
        ws.cell(row=row, column=1, value="• " + note)
        row += 1
    for letter, width in README_WIDTHS.items():
        ws.column_dimensions[letter].width = width
    fit_to_page_width(ws, landscape=True)


# ------------------------------------------------------------------ public API

def build_template(lang: str = "zh", settings: Settings | None = None) -> Workbook:
    """The blank standard workbook: 说明, 参数, 响应时间统计表, 效果统计表, 话务记录,
    then the generated sheets (汇总 …) as a refresh of no records draws them."""
    if lang not in ("zh", "en"):
        raise ValueError(f"lang must be 'zh' or 'en', not {lang!r}")
    wb = Workbook()
    readme = wb.active
    readme.title = README_SHEET[lang]
    _write_readme(readme, lang, settings or Settings(lang=lang))
    params = wb.create_sheet(SETTINGS_SHEET[lang])
    write_params(params, settings or Settings(lang=lang), lang)
    fit_to_page_width(params)
    for table in TABLES.values():
        _write_input_sheet(wb.create_sheet(table.sheet(lang)), table, lang)
    _write_live_sheet(wb, lang)
    _write_empty_report(wb, settings or Settings(lang=lang), lang)
    return wb


def _write_live_sheet(wb: Workbook, lang: str) -> None:
    """实时看板: KPI cards as CS_* formulas beside their native equivalents (issue 8)."""
    from .live_sheet import write_live_sheet
    write_live_sheet(wb, lang)


def _write_empty_report(wb: Workbook, settings: Settings, lang: str) -> None:
    """The generated sheets drawn from no records: the 汇总 dashboard shows its
    KPI cards and targets before anything is typed, and a refresh replaces them."""
    from .dataset import DataSet
    from .render.xlsx import render
    from .report import build_report
    render(build_report(DataSet(), settings, lang=lang), wb)
    wb.active = 0  # a blank book opens on 说明: how to use it comes first


def write_template(path, lang: str = "zh") -> Path:
    """Save the blank template to ``path`` (atomically, keeping a .bak of an existing file)."""
    from .book import save_atomic
    return save_atomic(build_template(lang), Path(path))


# ------------------------------------------------------------------ filling

def _cell_value(value, kind: str):
    """A frame value as written to a cell: plain Python (undefined → None), timestamps as
    datetimes, midnight timestamps of date columns as dates; anything else as given."""
    value = python_datetime(plain(value))
    if kind == "date" and isinstance(value, dt.datetime) and value.time() == dt.time(0):
        value = value.date()
    return value


def _find_table(ws, name: str) -> Table:
    if name in ws.tables:
        return ws.tables[name]
    if len(ws.tables) == 1:
        return next(iter(ws.tables.values()))
    raise ValueError(f"sheet {ws.title!r} has no Excel Table named {name!r}")


def _last_used_row(ws, min_row: int, max_row: int, min_col: int, max_col: int) -> int:
    """Last row of the range holding any value (min_row - 1 when all empty)."""
    for r in range(max_row, min_row - 1, -1):
        if any(ws.cell(row=r, column=c).value is not None for c in range(min_col, max_col + 1)):
            return r
    return min_row - 1


def _extend_validations(ws, min_col: int, max_col: int, last_row: int) -> None:
    """Stretch the validations of the Table's columns down to ``last_row``."""
    for dv in ws.data_validations.dataValidation:
        ranges = []
        for rng in dv.sqref.ranges:
            c1, r1, c2, r2 = rng.bounds
            if min_col <= c1 <= max_col and r2 < last_row:
                ranges.append(f"{get_column_letter(c1)}{r1}:{get_column_letter(c2)}{last_row}")
            else:
                ranges.append(rng.coord)
        dv.sqref = " ".join(ranges)


@dataclass
class TableSlot:
    """Where records go in an input sheet's Excel Table: its bounds, the column of each
    frame key and the first free row below the records already there."""
    table: Table
    min_col: int
    header_row: int
    max_col: int
    max_row: int
    positions: dict[str, int]
    start: int

    def grow(self, ws, rows: int) -> int:
        """Stretch the Table, its filter and the validations over ``rows`` new records; returns the last row."""
        last_row = max(self.max_row, self.start + rows - 1)
        self.table.ref = f"{get_column_letter(self.min_col)}{self.header_row}:{get_column_letter(self.max_col)}{last_row}"
        if self.table.autoFilter is not None:
            self.table.autoFilter.ref = self.table.ref
        _extend_validations(ws, self.min_col, self.max_col, last_row)
        return last_row


def table_slot(ws, table: SchemaTable, frame: pd.DataFrame) -> TableSlot:
    """The :class:`TableSlot` of ``frame`` (columns = schema keys) in ``ws``; ValueError naming
    the sheet when a column is no key of the table or the sheet's Table lacks it."""
    unknown = [c for c in frame.columns if c not in table.keys]
    if unknown:
        raise ValueError(f"{ws.title}: columns {unknown} are not keys of the {table.key} table "
                         f"(expected some of {list(table.keys)})")
    xl_table = _find_table(ws, TABLE_NAMES[table.key])
    min_col, header_row, max_col, max_row = range_boundaries(xl_table.ref)
    headers = [ws.cell(row=header_row, column=c).value for c in range(min_col, max_col + 1)]
    positions = {key: min_col + pos for pos, key in table.match_headers(headers).items()}
    missing = [c for c in frame.columns if c not in positions]
    if missing:
        raise ValueError(f"{ws.title}: the Table {xl_table.displayName} has no column for {missing}")
    start = _last_used_row(ws, header_row + 1, max_row, min_col, max_col) + 1
    return TableSlot(xl_table, min_col, header_row, max_col, max_row, positions, start)


def cell_format(value, kind: str) -> str | None:
    """The number format a written value gets: its column's date format for dates in a
    date column (None otherwise: the writer's own default for its type)."""
    fmt = _NUMBER_FORMATS.get(kind)
    return fmt if fmt and isinstance(value, (dt.date, dt.datetime)) else None


def fill_frame(ws, table: SchemaTable, frame: pd.DataFrame, lang: str = "zh") -> int:
    """Append the records of ``frame`` (columns = schema keys) to the Excel
    Table of ``ws``, cell by cell; returns the number of rows written.  (A new
    book's records stream in at save time instead: :mod:`cs_xl.input_stream`.)"""
    slot = table_slot(ws, table, frame)
    kinds = {c.key: c.kind for c in table.columns}
    for key in frame.columns:
        col, kind = slot.positions[key], kinds[key]
        for offset, value in enumerate(frame[key].tolist()):
            value = _cell_value(value, kind)
            if value is None:
                continue
            cell = ws.cell(row=slot.start + offset, column=col)
            write_text_safe(cell, value)
            fmt = cell_format(cell.value, kind)
            if fmt:
                cell.number_format = fmt
    slot.grow(ws, len(frame))
    return len(frame)


def input_sheet(wb: Workbook, key: str, lang: str):
    """The input sheet of table ``key`` in ``wb`` (in either language); ValueError naming what is there."""
    if key not in TABLES:
        raise ValueError(f"unknown table {key!r}; expected one of {list(TABLES)}")
    table = TABLES[key]
    sheet = next((n for n in (table.sheet(lang), *table.sheet_names) if n in wb.sheetnames), None)
    if sheet is None:
        raise ValueError(f"the workbook has no {table.sheet(lang)!r} sheet (sheets: {wb.sheetnames})")
    return wb[sheet]


def fill_inputs(wb: Workbook, frames: dict[str, pd.DataFrame], lang: str = "zh") -> dict[str, int]:
    """Append records to the input Tables of a template workbook.

    ``frames`` maps table keys ("tickets", "feedback", "calls") to frames whose
    columns are schema keys.  Values are written as given (dirty text such as
    "5分钟" included); text starting with =, +, -, @ is written as text.
    Returns the number of rows written per table."""
    return {key: fill_frame(input_sheet(wb, key, lang), TABLES[key], frame, lang) for key, frame in frames.items()}
