"""The 参数 (Settings) sheet ⇄ :class:`cs_xl.settings.Settings`.

Layout (one row per tunable, grouped under bold section headings)::

    参数            | 值    | 方向 | 说明                       | key
    统计周期
    开始日期        | 2024-03-01 |  | …                          | period_start
    …
    目标
    首次响应达标率   | 90%   | ≥    | …                          | target.frt_rate

The last column holds a stable machine key, so reading does not depend on
the language of the labels; the 方向 (≥/≤) column is used by the target rows
only (a target needs both a value and a direction).  A blank value means
"use the default"; anything unreadable raises :class:`ParamsError` naming
sheet, cell and label.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable


from . import coerce
from .schema import ALIASES, PRIORITIES, SETTINGS_SHEET, TABLES, TICKETS, normalize_header
from .settings import DEFAULT_TARGETS, FEEDBACK_CLASS_EN, Change, Settings


class ParamsError(ValueError):
    """A value on the 参数 sheet that cannot be read."""


# ------------------------------------------------------------------ metric names

@dataclass(frozen=True)
class _UnknownMetric:
    """Stand-in for a target whose key is not in the metric registry."""
    key: str

    @property
    def zh(self) -> str:
        return self.key

    en = zh

    @property
    def fmt(self) -> str:
        return "pct" if self.key.endswith("_rate") else "count"


def _metric(key: str):
    """The catalogue entry of a metric key (names, format) — imported lazily
    so the 参数 sheet can be read without loading the metric engine first."""
    from .catalogue import METRICS
    return METRICS.get(key) or _UnknownMetric(key)


# ------------------------------------------------------------------ the rows

@dataclass(frozen=True)
class TableColumn:
    """A column of a table held in 参数: its key, how a cell is read (a :class:`Param` kind, or
    ``text`` / ``metric`` / ``scope``) and its header in either language."""
    key: str
    kind: str
    zh: str
    en: str
    required: bool = True

    def header(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class ParamTable:
    """A table held in 参数 under its own keyed row (kind ``table``): the next row names the
    columns (zh or en headers, any order), then one row per item down to the next keyed row,
    section heading or the sheet's end; blank rows are skipped.  ``make(cells, row)`` turns a
    row's parsed cells (column key → value, None when blank) into the item :class:`Settings`
    holds; ``cells(item, lang)`` gives the writer its cell values back."""
    columns: tuple[TableColumn, ...]
    make: Callable[[dict, int], Any]
    cells: Callable[[Any, str], dict]


@dataclass(frozen=True)
class Param:
    key: str
    kind: str  # date month list columns number minutes seconds int fraction priority flag timezone lang target
    #            clock_mode time table
    zh: str
    en: str
    note_zh: str = ""
    note_en: str = ""
    table: ParamTable | None = None  # kind "table": the rows under this one

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def note(self, lang: str) -> str:
        return self.note_zh if lang == "zh" else self.note_en


LEVEL_ZH = dict(enumerate(PRIORITIES, start=1))  # 1 → 一级 … 4 → 四级, the schema's words
LEVEL_EN = {1: "L1", 2: "L2", 3: "L3", 4: "L4"}
LEVEL_NOTE = {1: ("紧急", "urgent"), 2: ("重要", "important"), 3: ("普通", "normal"), 4: ("低频", "low")}


def _level_rows(prefix: str, zh: str, en: str, note_zh: str, note_en: str) -> list[Param]:
    return [Param(f"{prefix}.{n}", "minutes", f"{zh} {LEVEL_ZH[n]}（{LEVEL_NOTE[n][0]}）",
                  f"{en} {LEVEL_EN[n]} ({LEVEL_NOTE[n][1]})", note_zh, note_en) for n in range(1, 5)]


CHANNEL_ROWS = {  # class → (zh label, en label, zh note, en note); defaults: schema.DEFAULT_FRT_CHANNEL_MIN
    "chat": ("首次响应目标 即时通讯(分钟)", "FRT target chat (min)",
             "渠道含 在线/聊天/微信/chat/widget 等；要求最高，默认1分钟",
             "channel naming chat/messaging/widget…; strictest, default 1"),
    "phone": ("首次响应目标 电话(分钟)", "FRT target phone (min)",
              "渠道含 电话/热线/phone/call 等；默认3分钟", "channel naming phone/call/voice…; default 3"),
    "email": ("首次响应目标 邮件(分钟)", "FRT target e-mail (min)",
              "渠道含 邮件/邮箱/mail；最宽松，默认240分钟（半个工作日）",
              "channel naming mail; loosest, default 240 (half a working day)"),
}


def _channel_rows() -> list[Param]:
    return [Param(f"frt_channel_min.{cls}", "minutes", *texts) for cls, texts in CHANNEL_ROWS.items()]


def _target_rows(extra: Iterable[str] = ()) -> list[Param]:
    keys = list(DEFAULT_TARGETS) + [k for k in extra if k not in DEFAULT_TARGETS]
    return [Param(f"target.{k}", "target", _metric(k).zh, _metric(k).en,
                  "目标值；方向 ≥ 表示越高越好，≤ 表示越低越好",
                  "target; ≥ means higher is better, ≤ lower is better") for k in keys]


# ------------------------------------------------------------------ the 优化记录 table

def _scope_column(key: str):
    """The schema column of a scope key (the first table having it)."""
    return next(t.column(key) for t in TABLES.values() if key in t.keys)


def scope_text(scope, lang: str) -> str:
    """((issue_type, (物流咨询,)),) → 问题类型=物流咨询 (several columns joined by ``;``).

    >>> scope_text((("issue_type", ("物流咨询",)), ("channel", ("APP", "小程序"))), "zh")
    '问题类型=物流咨询; 渠道=APP,小程序'
    """
    return "; ".join(f"{_scope_column(key).header(lang)}={','.join(values)}" for key, values in scope)


def _change_cells(change: Change, lang: str) -> dict:
    """A :class:`Change` as the cells of its 优化记录 row (the metric by name, the scope by header)."""
    metric = _metric(change.metric)
    return {"measure": change.measure, "effective": change.effective,
            "metric": metric.zh if lang == "zh" else metric.en, "scope": scope_text(change.scope, lang) or None}


def _make_change(cells: dict, row: int) -> Change:
    return Change(cells["measure"], cells["effective"], cells["metric"], cells["scope"] or (), row)


CHANGES_TABLE = ParamTable(
    (TableColumn("measure", "text", "措施", "Measure"),
     TableColumn("effective", "date", "生效日期", "Effective date"),
     TableColumn("metric", "metric", "指标", "Metric"),
     TableColumn("scope", "scope", "范围(可选)", "Scope (optional)", required=False)),
    _make_change, _change_cells)


# ------------------------------------------------------------------ the 反馈分类关键词 table

def _class_cells(item: tuple[str, tuple[str, ...]], lang: str) -> dict:
    name, keywords = item
    return {"name": FEEDBACK_CLASS_EN.get(name, name) if lang == "en" else name, "keywords": ",".join(keywords)}


FEEDBACK_CLASS_ZH = {en: zh for zh, en in FEEDBACK_CLASS_EN.items()}
FEEDBACK_CLASSES_TABLE = ParamTable(
    (TableColumn("name", "text", "分类", "Class"),
     TableColumn("keywords", "list", "关键词", "Keywords")),
    # the English names of the default classes read back as the classes they name (one identity, two languages)
    lambda cells, row: (FEEDBACK_CLASS_ZH.get(cells["name"], cells["name"]), cells["keywords"]), _class_cells)


def sections(extra_targets: Iterable[str] = ()) -> list[tuple[str, str, list[Param]]]:
    """(zh heading, en heading, rows) of the sheet, in display order; the 目标
    section has one row per default target plus ``extra_targets``."""
    return [
        ("统计周期", "Period", [
            Param("period_start", "date", "开始日期", "Start date", "留空 = 不限", "blank = no limit"),
            Param("period_end", "date", "结束日期", "End date", "含当天；留空 = 不限", "inclusive; blank = no limit"),
            Param("period_month", "month", "统计月份（自然月）", "Month (calendar)",
                  "如 2024-03；填写后按自然月统计，开始/结束日期留空",
                  "e.g. 2024-03: the whole calendar month; leave start/end blank"),
        ]),
        ("统计范围", "Scope", [
            Param("teams", "list", "客服组", "Teams", "多个用逗号分隔，如 在线一组,在线二组；留空 = 全部",
                  "comma-separated; blank = all"),
            Param("channels", "list", "渠道", "Channels", "如 APP,小程序,官网", "e.g. APP, web"),
            Param("customer_types", "list", "客户类型", "Customer types", "如 新客户,老客户,VIP", "e.g. new, returning, VIP"),
            Param("issue_types", "list", "问题类型", "Issue types", "如 咨询,投诉,建议,技术故障", "e.g. enquiry, complaint"),
            Param("modules", "list", "业务模块", "Modules", "如 物流,支付,产品功能", "e.g. logistics, payment"),
            Param("min_tenure_months", "number", "入职满N个月", "Min. tenure (months)",
                  "只统计入职满N个月的客服（需入职日期列）；留空 = 全部",
                  "only agents hired at least N months ago (needs hire date); blank = all"),
        ]),
        ("指标参数", "Metric parameters", [
            Param("frt_threshold_min", "minutes", "首次响应达标阈值(分钟)", "FRT threshold (min)",
                  "首次响应时间≤此值算达标（默认3分钟）；下面三类以外的渠道（APP、小程序、官网…）及无渠道时使用",
                  "FRT ≤ this counts as met (default 3); for channels other than the three below, or none"),
            *_channel_rows(),
            *_level_rows("sla_min", "响应时效(分钟)", "Response SLA (min)",
                         "首次响应承诺时限", "first-response commitment"),
            *_level_rows("resolve_deadline_min", "完成时限(分钟)", "Resolution deadline (min)",
                         "自首次响应起的解决时限", "resolution deadline from first response"),
            Param("default_priority", "priority", "无优先级时按", "Default priority",
                  "没有填写优先级的工单按此级别计算时效", "level used for tickets without a priority"),
            Param("service_level_s", "seconds", "服务水平秒数X", "Service level X (s)",
                  "X秒内接通算达标（80/20中的20）", "answered within X s (the 20 of 80/20)"),
            Param("target_service_level", "fraction", "服务水平目标(排班测算)", "Service level target (staffing)",
                  "Erlang C 建议在线人数使用（80/20中的80%）", "used by Erlang C staffing (the 80 of 80/20)"),
            Param("short_abandon_s", "seconds", "短时放弃秒数", "Short abandon (s)",
                  "等待不足N秒即挂断的来电不计入接通率/放弃率；留空 = 不排除",
                  "calls abandoned within N s leave the rates; blank = none"),
            Param("repeat_days", "int", "重复投诉天数", "Repeat complaint days",
                  "同一客户N天内再次投诉算重复投诉", "another complaint within N days counts as repeat"),
        ]),
        ("目标", "Targets", _target_rows(extra_targets)),
        ("预警规则", "Alert rules", [
            Param("alert_wait_factor", "number", "等待时长预警倍数", "Wait alert factor",
                  "平均等待时长 > 目标 × 此倍数时预警（超过目标20% = 1.2）",
                  "alert when avg wait > target × factor (20 % over = 1.2)"),
            Param("alert_queue_max", "int", "排队人数上限", "Queue alert limit",
                  "排队人数超过此值时启动应急预案", "alert when the queue exceeds this"),
            Param("trend_periods", "int", "连续下降预警月数", "Falling-trend months",
                  "某维度取值(如 物流咨询)的指标连续N个月变差时预警", "alert when a metric of a dimension value "
                  "(e.g. one issue type) gets worse N months in a row"),
            Param("trend_min_change", "fraction", "连续下降最小累计幅度", "Falling-trend minimum change",
                  "N个月累计变差至少此幅度(百分点)才预警", "… by at least this much in all (percentage points)"),
            Param("trend_min_records", "int", "趋势判断最少记录数", "Trend minimum records",
                  "某月该取值记录少于此数时不判断", "months with fewer records of the value are not judged"),
            Param("agent_baseline_weeks", "int", "客服基线周数", "Agent baseline (weeks)",
                  "客服最近一周与其之前N周的平均值比较", "an agent's latest week against the mean of their N weeks before"),
            Param("agent_shift", "fraction", "客服偏离基线幅度", "Agent shift from baseline",
                  "平均响应时间或满意率较自身基线变差超过此比例时预警", "alert when an agent's FRT or CSAT is this much "
                  "worse than their own baseline"),
            Param("agent_min_records", "int", "客服最少工单数(每期)", "Agent minimum tickets (per period)",
                  "工单少于此数的客服-期间不判断、不排名", "agent-periods with fewer tickets are not judged or ranked"),
            Param("streak_months", "int", "连续第一月数", "Streak months",
                  "连续N个月位列团队第一时写入分析报告", "N months in a row first in the team is reported"),
            Param("staffing_gap_min", "number", "增派人手阈值(人)", "Staffing gap to advise (agents)",
                  "所需人数 − 实际在线人数 ≥ 此值的时段建议增派", "advise more agents where needed − working ≥ this"),
            Param("staffing_min_calls", "number", "增派建议最少来电(每小时)", "Staffing advice minimum calls/h",
                  "平均每小时转人工来电少于此数的时段不给增派建议", "no advice for slots with fewer queued calls per hour"),
        ]),
        ("客群差异", "Segment gaps", [
            Param("segment_columns", "columns", "客群维度(列)", "Segment columns",
                  "按这些工单列分组, 每组与其余记录比较, 如 客户类型,渠道", "ticket columns whose groups are each "
                  "compared with the rest, e.g. Customer type, Channel"),
            Param("segment_alpha", "fraction", "显著性水平", "Significance level",
                  "p 值低于此值算显著 (时长: Mann-Whitney U; 比率: 双比例 z 检验)",
                  "p below this is significant (durations: Mann-Whitney U; rates: two-proportion z)"),
            Param("segment_min_effect", "number", "最小效应量", "Minimum effect size",
                  "显著且效应量 (秩二列相关 r / Cohen's h) 至少为此值才标记; 0.2 = 小效应",
                  "flag only significant gaps with an effect size (rank-biserial r / Cohen's h) of at least this; "
                  "0.2 = small"),
            Param("segment_min_records", "int", "客群最少记录数", "Segment minimum records",
                  "记录少于此数的客群不检验", "segments with fewer records are not tested"),
        ]),
        ("帕累托", "Pareto", [
            Param("pareto_line", "fraction", "帕累托累计线", "Pareto line",
                  "按数量排序的原因累计占比首次达到此值的为关键少数（默认80%）",
                  "the vital few: causes that, largest first, together reach this share (default 80 %)"),
            Param("feedback_classes", "table", "反馈分类关键词", "Feedback classes",
                  "下方每行一类：分类、关键词（逗号分隔，中英文均可）；评价内容含关键词最多的类为其分类",
                  "one class per row below: class, keywords (comma-separated, any language); a comment takes "
                  "the class with the most keyword hits", FEEDBACK_CLASSES_TABLE),
        ]),
        ("计时规则", "Clock", [
            Param("clock_mode", "clock_mode", "计时方式", "Clock",
                  "由时间戳计算时长：自然时间 或 工作时间（仅计工作日的工作时段，按中国法定节假日及调休）",
                  "minutes from timestamps: calendar, or business (working hours on China's working days, "
                  "statutory holidays and make-up days)"),
            Param("business_open", "time", "工作时间开始", "Business hours open", "默认 09:00", "default 09:00"),
            Param("business_close", "time", "工作时间结束", "Business hours close", "默认 18:00", "default 18:00"),
        ]),
        ("显示", "Display", [
            Param("mask_names", "flag", "客服姓名脱敏", "Mask agent names", "是：李娜 → *娜", "Yes: 李娜 → *娜"),
            Param("timezone", "timezone", "时区", "Time zone", "默认 Asia/Shanghai（北京时间）", "default Asia/Shanghai"),
            Param("lang", "lang", "报表语言", "Report language", "中文 或 English", "中文 or English"),
        ]),
        ("优化前后对比", "Before/after", [
            Param("compare_window_days", "int", "对比窗口(天)", "Window (days)",
                  "生效日期前后各取N天比较（数据不足时两侧取相同的较短天数）",
                  "N days before and after the effective date (both shortened alike where the data ends)"),
            Param("compare_confidence", "fraction", "置信水平", "Confidence level",
                  "变化的置信区间；区间不含0才判为显著", "of the change's interval; significant only when it "
                  "excludes 0"),
            Param("compare_resamples", "int", "自助抽样次数", "Bootstrap resamples",
                  "平均值/中位数类指标的区间按自助抽样(bootstrap)计算，固定种子可复现",
                  "means and medians get a bootstrap interval (fixed seed: reproducible)"),
            Param("compare_min_records", "int", "对比最少记录数", "Minimum records per window",
                  "任一窗口记录少于此数时不下结论", "fewer records in either window: no verdict"),
            Param("changes", "table", "优化记录", "Optimisation log",
                  "下方每行一项措施：措施、生效日期、指标(如 一次解决率 或 fcr_rate)、范围(可选，如 问题类型=物流咨询)",
                  "one measure per row below: measure, effective date, metric (e.g. First contact resolution or "
                  "fcr_rate), optional scope (e.g. Issue type=Logistics)", CHANGES_TABLE),
        ]),
    ]


def all_params() -> dict[str, Param]:
    return {p.key: p for _, _, rows in sections() for p in rows}


def param_for(key: str) -> Param | None:
    """The row definition of ``key``; any ``target.<metric>`` is accepted."""
    if key.startswith("target.") and len(key) > len("target."):
        return _target_rows([key.split(".", 1)[1]])[-1] if key.split(".", 1)[1] not in DEFAULT_TARGETS \
            else all_params()[key]
    return all_params().get(key)


HEADERS = {"zh": ("参数", "值", "方向", "说明", "key"), "en": ("Parameter", "Value", "Direction", "Description", "key")}
TITLE = {"zh": "参数设置（修改“值”列；留空 = 默认值）", "en": "Settings (edit the Value column; blank = default)"}
COL_LABEL, COL_VALUE, COL_DIR, COL_NOTE, COL_KEY = range(5)
YES = {"zh": "是", "en": "Yes"}
NO = {"zh": "否", "en": "No"}
LANG_NAMES = {"zh": "中文", "en": "English"}
CLOCK_NAMES = {"calendar": {"zh": "自然时间", "en": "calendar"}, "business": {"zh": "工作时间", "en": "business"}}
GE, LE = "≥", "≤"


# ------------------------------------------------------------------ Settings ⇄ cell values

def _value_of(settings: Settings, param: Param, lang: str) -> Any:
    """The cell value showing ``param`` of ``settings`` (None = blank)."""
    key = param.key
    if key == "period_month":
        return None  # start/end carry the period; the month is an input shortcut
    if "." in key and not key.startswith("target."):
        name, level = key.split(".")
        return getattr(settings, name).get(int(level) if level.isdigit() else level)
    if key.startswith("target."):
        target = settings.targets.get(key.split(".", 1)[1])
        return None if target is None else target[0]
    value = getattr(settings, key)
    if param.kind == "list":
        return ",".join(value) or None
    if param.kind == "columns":
        return ",".join(TICKETS.column(k).header(lang) for k in value) or None
    if param.kind == "flag":
        return YES[lang] if value else NO[lang]
    if param.kind == "priority":
        return (LEVEL_ZH if lang == "zh" else LEVEL_EN)[value]
    if param.kind == "lang":
        return LANG_NAMES.get(value, value)
    if param.kind == "clock_mode":
        return CLOCK_NAMES[value][lang]
    if param.kind == "time":
        return f"{value:%H:%M}"
    return value


def _number_format(param: Param) -> str | None:
    if param.kind in ("date",):
        return "yyyy-mm-dd"
    if param.kind == "month":
        return "@"  # text: Excel would turn 2024-03 into a date otherwise
    if param.kind == "fraction":
        return "0%"
    if param.kind == "target":
        return "0%" if _metric(param.key.split(".", 1)[1]).fmt == "pct" else "0.##"
    return None


def write_params(ws, settings: Settings | None = None, lang: str = "zh") -> None:
    """Lay out ``settings`` on the (empty) worksheet ``ws`` as the 参数 sheet."""
    from openpyxl.styles import Alignment, Font, PatternFill  # the writer only: reading needs no openpyxl
    settings = settings or Settings()
    bold = Font(bold=True)
    heading_fill = PatternFill("solid", fgColor="DDEBF7")
    grey = Font(color="A6A6A6", size=9)
    ws["A1"] = TITLE[lang]
    ws["A1"].font = Font(bold=True, size=14)
    for col, text in enumerate(HEADERS[lang], start=1):
        cell = ws.cell(row=2, column=col, value=text)
        cell.font = bold
        cell.fill = PatternFill("solid", fgColor="BDD7EE")
    validations = _param_validations(lang)
    row = 3
    for heading_zh, heading_en, params in sections(settings.targets):
        cell = ws.cell(row=row, column=1, value=heading_zh if lang == "zh" else heading_en)
        cell.font = bold
        for col in range(1, 6):
            ws.cell(row=row, column=col).fill = heading_fill
        row += 1
        for param in params:
            if param.table is not None:
                row = _write_table(ws, row, param, getattr(settings, param.key), lang, validations)
                continue
            ws.cell(row=row, column=1, value=param.label(lang))
            value_cell = ws.cell(row=row, column=2, value=_value_of(settings, param, lang))
            value_cell.alignment = Alignment(horizontal="left")
            fmt = _number_format(param)
            if fmt:
                value_cell.number_format = fmt
            if param.kind == "target":
                target = settings.targets.get(param.key.split(".", 1)[1])
                direction = ws.cell(row=row, column=3, value=None if target is None else
                                    (GE if target[1] == ">=" else LE))
                validations["direction"].add(direction)
            ws.cell(row=row, column=4, value=param.note(lang))
            ws.cell(row=row, column=5, value=param.key).font = grey
            if param.kind in validations:
                validations[param.kind].add(value_cell)
            row += 1
    for dv in validations.values():
        if dv.sqref:
            ws.add_data_validation(dv)
    for col, width in zip("ABCDE", (30, 22, 16, 60, 26)):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A3"


TABLE_ROWS_FREE = 20  # blank rows kept below a table's items (formatted, validated) for typing more


def _write_table(ws, row: int, param: Param, items, lang: str, validations: dict) -> int:
    """A table's keyed row (its name and note), its header row, one row per item and
    :data:`TABLE_ROWS_FREE` blank rows for more; returns the next row."""
    from openpyxl.styles import Font, PatternFill
    ws.cell(row=row, column=1, value=param.label(lang)).font = Font(bold=True)
    ws.cell(row=row, column=4, value=param.note(lang))
    ws.cell(row=row, column=5, value=param.key).font = Font(color="A6A6A6", size=9)
    header_fill = PatternFill("solid", fgColor="F2F2F2")
    for col, column in enumerate(param.table.columns, start=1):
        cell = ws.cell(row=row + 1, column=col, value=column.header(lang))
        cell.font, cell.fill = Font(bold=True), header_fill
    first = row + 2
    for r, item in enumerate(items, start=first):
        cells = param.table.cells(item, lang)
        for col, column in enumerate(param.table.columns, start=1):
            ws.cell(row=r, column=col, value=cells.get(column.key))
    last = first + len(items) + TABLE_ROWS_FREE - 1
    for col, column in enumerate(param.table.columns, start=1):
        fmt = _number_format(Param("", column.kind, "", ""))
        for r in range(first, last + 1):
            if fmt:
                ws.cell(row=r, column=col).number_format = fmt
        if column.kind in validations:
            letter = "ABCDE"[col - 1]
            validations[column.kind].add(f"{letter}{first}:{letter}{last}")
    return last + 1


def _param_validations(lang: str) -> dict:
    """One DataValidation per value kind (cells are added while writing)."""
    from openpyxl.worksheet.datavalidation import DataValidation

    def dv(**kw):
        return DataValidation(allow_blank=True, showErrorMessage=True, **kw)
    levels = ",".join((LEVEL_ZH if lang == "zh" else LEVEL_EN).values())
    err = "请输入 ≥ 0 的数字" if lang == "zh" else "Enter a number ≥ 0"
    return {
        "flag": dv(type="list", formula1=f'"{YES[lang]},{NO[lang]}"'),
        "priority": dv(type="list", formula1=f'"{levels}"'),
        "lang": dv(type="list", formula1=f'"{LANG_NAMES["zh"]},{LANG_NAMES["en"]}"'),
        "clock_mode": dv(type="list", formula1='"' + ",".join(n[lang] for n in CLOCK_NAMES.values()) + '"'),
        "direction": dv(type="list", formula1=f'"{GE},{LE}"'),
        "date": dv(type="date", operator="greaterThan", formula1="DATE(2000,1,1)"),
        "number": dv(type="decimal", operator="greaterThanOrEqual", formula1="0", error=err),
        "minutes": dv(type="decimal", operator="greaterThanOrEqual", formula1="0", error=err),
        "seconds": dv(type="decimal", operator="greaterThanOrEqual", formula1="0", error=err),
        "target": dv(type="decimal", operator="greaterThanOrEqual", formula1="0", error=err),
        "fraction": dv(type="decimal", operator="between", formula1="0", formula2="1"),
        "int": dv(type="whole", operator="greaterThanOrEqual", formula1="1"),
    }


# ------------------------------------------------------------------ reading

_LIST_SEP = re.compile(r"[,，、;；]")
_MONTH = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$|^(\d{4})(\d{2})$")


class _Cell:
    """Where a value came from, for error messages."""

    def __init__(self, sheet: str, row: int, col: int, label: str):
        self.sheet, self.row, self.col, self.label = sheet, row, col, label

    def error(self, value: Any, problem: str) -> ParamsError:
        from openpyxl.utils import get_column_letter  # only on the error path
        return ParamsError(f"{self.sheet}!{get_column_letter(self.col + 1)}{self.row} {self.label}: "
                           f"{value!r} {problem}")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _parse_with(parser, value, where: _Cell, problem: str):
    parsed, issue = parser(value)
    if parsed is None:
        raise where.error(value, problem if issue is None else f"{problem} ({issue.reason})")
    return parsed


def _parse_number(value, kind: str, where: _Cell) -> float:
    parser = {"minutes": coerce.minutes, "seconds": coerce.seconds}.get(kind, coerce.number)
    return _parse_with(parser, value, where, "is not a number ≥ 0")


def _parse_fraction(value, where: _Cell) -> float:
    """0.9, '90%' or 90 → 0.9 (a share cannot exceed 1, so 90 unambiguously means 90 %)."""
    if isinstance(value, str) and value.strip().endswith(("%", "％")):
        return _parse_with(coerce.number, value.strip()[:-1], where, "is not a percentage") / 100
    number = _parse_with(coerce.number, value, where, "is not a number")
    if number > 1:
        if number > 100:
            raise where.error(value, "is not a share (0–1 or 0–100 %)")
        return number / 100
    return number


def _parse_int(value, where: _Cell) -> int:
    return int(_parse_with(coerce.count, value, where, "is not a whole number ≥ 0"))


def _parse_month(value, where: _Cell) -> tuple[dt.date, dt.date]:
    """'2024-03' / 2024年3月 / 202403 / a date in the month (or its serial number, as Office.js
    sends a date cell) → (first day, last day)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not 100000 <= value <= 999999:
        value = _parse_with(coerce.day, value, where, "is not a month like 2024-03")
    if isinstance(value, (dt.date, dt.datetime)):
        year, month = value.year, value.month
    else:
        m = _MONTH.match(coerce.norm_text(value))
        if not m:
            raise where.error(value, "is not a month like 2024-03")
        year, month = (int(m.group(1)), int(m.group(2))) if m.group(1) else (int(m.group(3)), int(m.group(4)))
        if not 1 <= month <= 12:
            raise where.error(value, "is not a month like 2024-03")
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def _parse_direction(value, where: _Cell) -> str:
    text = unicodedata.normalize("NFKC", str(value)).strip().replace(" ", "")
    if text in ("≥", ">=", ">", "≧", "高于", "higher"):
        return ">="
    if text in ("≤", "<=", "<", "≦", "低于", "lower"):
        return "<="
    raise where.error(value, "is not ≥ or ≤")


def _parse_lang(value, where: _Cell) -> str:
    text = coerce.norm_text(value).casefold()
    if text in ("zh", "中文", "chinese", "简体中文", "cn"):
        return "zh"
    if text in ("en", "english", "英文", "英语"):
        return "en"
    raise where.error(value, "is not 中文 or English")


def _parse_timezone(value, where: _Cell) -> str:
    text = str(value).strip()
    try:
        zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise where.error(value, "is not a time zone name such as Asia/Shanghai") from None
    return text


def _parse_clock_mode(value, where: _Cell) -> str:
    text = coerce.norm_text(value).casefold()
    for mode, names in CLOCK_NAMES.items():
        if text in {mode, names["zh"], names["en"], "自然" if mode == "calendar" else "工作"}:
            return mode
    raise where.error(value, "is not 自然时间 or 工作时间 (calendar or business)")


_TIME = re.compile(r"^(\d{1,2})[:：](\d{2})$")


def _parse_time(value, where: _Cell) -> dt.time:
    """A time of day: 09:00, 9:00, a datetime.time or an Excel day fraction (0.375)."""
    if isinstance(value, dt.time):
        return value
    if isinstance(value, dt.datetime):
        return value.time()
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < 1:
        minutes = round(value * 24 * 60)
        return dt.time(minutes // 60, minutes % 60)
    m = _TIME.match(coerce.norm_text(value))
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise where.error(value, "is not a time of day such as 09:00")
    return dt.time(int(m.group(1)), int(m.group(2)))


def _parse_columns(value, where: _Cell) -> tuple[str, ...]:
    """Ticket column headers (客户类型, Channel, customer_type …) → their schema keys."""
    keys = []
    for name in (p.strip() for p in _LIST_SEP.split(coerce.norm_text(value)) if p.strip()):
        key = ALIASES["tickets"].get(normalize_header(name))
        if key is None:
            raise where.error(value, f"names {name!r}, not a column of the {TICKETS.sheet_zh}/{TICKETS.sheet_en} "
                                     f"sheet (e.g. {TICKETS.column('customer_type').zh}, "
                                     f"{TICKETS.column('channel').zh})")
        keys.append(key)
    return tuple(dict.fromkeys(keys))


def _parse_value(param: Param, value, where: _Cell):
    kind = param.kind
    if kind == "date":
        return _parse_with(coerce.day, value, where, "is not a date").date()
    if kind == "month":
        return _parse_month(value, where)
    if kind == "list":
        return tuple(p.strip() for p in _LIST_SEP.split(coerce.norm_text(value)) if p.strip())
    if kind == "columns":
        return _parse_columns(value, where)
    if kind in ("number", "minutes", "seconds"):
        return _parse_number(value, kind, where)
    if kind == "int":
        return _parse_int(value, where)
    if kind == "fraction":
        return _parse_fraction(value, where)
    if kind == "target":
        metric = param.key.split(".", 1)[1]
        return _parse_fraction(value, where) if _metric(metric).fmt == "pct" else _parse_number(value, "number", where)
    if kind == "priority":
        return _parse_with(coerce.priority, value, where, "is not a priority (一级…四级)")
    if kind == "flag":
        return _parse_with(coerce.flag, value, where, "is not 是/否")
    if kind == "timezone":
        return _parse_timezone(value, where)
    if kind == "clock_mode":
        return _parse_clock_mode(value, where)
    if kind == "time":
        return _parse_time(value, where)
    if kind == "lang":
        return _parse_lang(value, where)
    raise AssertionError(kind)


def _parse_metric(value, where: _Cell) -> str:
    """A registry key or a metric's zh/en name → its key; only metrics a before/after comparison
    can judge (a share, mean or percentile of records)."""
    from .catalogue import METRICS, comparable
    text = normalize_header(value)
    key = next((k for k, m in METRICS.items() if text in {normalize_header(n) for n in (k, m.zh, m.en)}), None)
    if key is None:
        raise where.error(value, "is not a metric (a key such as fcr_rate, or a name such as 一次解决率)")
    if not comparable(key):
        raise where.error(value, "is a count or composite KPI; before/after compares rates, means and "
                                 "medians of records (e.g. 一次解决率, 平均首次响应时间)")
    return key


def _scope_key(name) -> str | None:
    """The schema key of a column named in a scope (key, zh or en header, or an alias)."""
    norm = normalize_header(name)
    for table in TABLES.values():
        for column in table.columns:
            if norm in {normalize_header(n) for n in column.names}:
                return column.key
    return None


def _parse_scope(value, where: _Cell) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """问题类型=物流咨询; 渠道=APP,小程序 → ((issue_type, (物流咨询,)), (channel, (APP, 小程序)))."""
    scope = []
    for part in re.split(r"[;；\n]", str(value)):
        if not part.strip():
            continue
        name, eq, wanted = unicodedata.normalize("NFKC", part).partition("=")
        key = _scope_key(name) if eq else None
        values = tuple(v.strip() for v in _LIST_SEP.split(wanted) if v.strip())
        if key is None or not values:
            raise where.error(value, "is not a scope such as 问题类型=物流咨询 (a column of the input sheets = "
                                     "its value; several joined by ;)")
        scope.append((key, values))
    return tuple(scope)


def _parse_table_cell(column: TableColumn, value, where: _Cell):
    if column.kind == "text":
        return coerce.norm_text(value)
    if column.kind == "metric":
        return _parse_metric(value, where)
    if column.kind == "scope":
        return _parse_scope(value, where)
    return _parse_value(Param(column.key, column.kind, column.zh, column.en), value, where)


class _TableReader:
    """Reads the rows under a table's keyed row: first its header row, then one item per row."""

    def __init__(self, param: Param, sheet: str, row: int, label: str):
        self.param, self.sheet, self.row, self.label = param, sheet, row, label
        self.positions: dict[str, int] | None = None  # column key → sheet column
        self.headers: dict[str, str] = {}
        self.items: list = []

    def read(self, row: list, excel_row: int) -> None:
        if all(_blank(v) for v in row):
            return
        if self.positions is None:
            self._read_header(row, excel_row)
            return
        cells = {}
        for column in self.param.table.columns:
            at = self.positions.get(column.key)
            raw = row[at] if at is not None and at < len(row) else None
            where = _Cell(self.sheet, excel_row, at if at is not None else 0,
                          f"{self.label} · {self.headers.get(column.key, column.zh)}")
            if _blank(raw):
                if column.required:
                    raise where.error(raw, "is missing (every row needs " + ", ".join(
                        self.headers.get(c.key, c.zh) for c in self.param.table.columns if c.required) + ")")
                cells[column.key] = None
            else:
                cells[column.key] = _parse_table_cell(column, raw, where)
        self.items.append(self.param.table.make(cells, excel_row))

    def _read_header(self, row: list, excel_row: int) -> None:
        texts = [normalize_header(v) if not _blank(v) else "" for v in row]
        positions, headers = {}, {}
        for column in self.param.table.columns:
            names = {normalize_header(n) for n in (column.zh, column.en, column.key)}
            at = next((c for c, text in enumerate(texts) if text in names), None)
            if at is not None:
                positions[column.key], headers[column.key] = at, str(row[at]).strip()
        missing = [c.zh for c in self.param.table.columns if c.required and c.key not in positions]
        if missing:
            first = next(c for c, v in enumerate(row) if not _blank(v))
            raise _Cell(self.sheet, excel_row, first, self.label).error(
                row[first], "is not the table's header row: the row under 「" + self.label + "」 names its columns ("
                + ", ".join(f"{c.zh}/{c.en}" for c in self.param.table.columns) + f"); missing {', '.join(missing)}")
        self.positions, self.headers = positions, headers


def _heading_index() -> set[str]:
    """The section headings of the sheet (zh and en), normalised: where a table's rows end."""
    return {normalize_header(h) for zh, en, _rows in sections() for h in (zh, en)}


def _find_header(rows: list[list]) -> tuple[int, dict[int, int]]:
    """Index of the header row and its column positions (label, value, direction, key)."""
    names = {role: {HEADERS["zh"][role], HEADERS["en"][role]} for role in range(5)}
    for r, row in enumerate(rows):
        texts = [coerce.norm_text(v).casefold() if not _blank(v) else "" for v in row]
        found = {}
        for role, options in names.items():
            options = {coerce.norm_text(o).casefold() for o in options}
            for c, text in enumerate(texts):
                if text in options:
                    found[role] = c
                    break
        if COL_VALUE in found and (COL_KEY in found or COL_LABEL in found):
            return r, found
    raise ParamsError("the sheet has no header row with 值/Value and key (or 参数/Parameter) columns")


def _label_index() -> dict[str, str]:
    """Normalised zh/en label → key, for rows whose key cell was cleared."""
    index = {}
    for param in all_params().values():
        for label in (param.zh, param.en):
            index[coerce.norm_text(label).casefold()] = param.key
    return index


def read_params(rows: Iterable[Iterable], sheet: str = "参数", first_row: int = 1, first_col: int = 0) -> Settings:
    """Settings from the cell values of a 参数 sheet (a 2-D list from
    python-calamine ``to_python(skip_empty_area=False)`` or openpyxl values).

    ``first_row`` is the Excel row number of ``rows[0]`` and ``first_col``
    the 0-based Excel column of ``rows[i][0]`` (for messages).
    Blank values keep the defaults of :class:`Settings`."""
    rows = [[None] * first_col + list(r) for r in rows]  # positions = Excel columns, for messages
    header_at, cols = _find_header(rows)
    labels = _label_index()
    headings = _heading_index()
    values: dict[str, Any] = {}
    directions: dict[str, str] = {}
    table: _TableReader | None = None  # the table whose rows are being read
    for r in range(header_at + 1, len(rows)):
        row = rows[r]
        cell = lambda role: row[cols[role]] if role in cols and cols[role] < len(row) else None  # noqa: E731
        label = cell(COL_LABEL)
        key = cell(COL_KEY)
        if table is not None:
            if _blank(key) and not (normalize_header(label) in headings
                                   and all(_blank(v) for c, v in enumerate(row) if c != cols.get(COL_LABEL))):
                table.read(row, first_row + r)
                continue
            values[table.param.key] = tuple(table.items)
            table = None
        key = str(key).strip() if not _blank(key) else labels.get(coerce.norm_text(label).casefold()) if not _blank(label) else None
        if key is None:
            continue  # section headings and notes
        excel_row = first_row + r
        label_text = str(label).strip() if not _blank(label) else key
        param = param_for(key)
        if param is None:
            raise _Cell(sheet, excel_row, cols.get(COL_KEY, 0), label_text).error(key, "is not a known parameter key")
        if param.table is not None:
            table = _TableReader(param, sheet, excel_row, label_text)
            values[key] = ()
            continue
        raw = cell(COL_VALUE)
        if not _blank(raw):
            values[key] = _parse_value(param, raw, _Cell(sheet, excel_row, cols[COL_VALUE], label_text))
            values[f"@{key}"] = (excel_row, raw)
        if param.kind == "target" and COL_DIR in cols and not _blank(cell(COL_DIR)):
            directions[key] = _parse_direction(cell(COL_DIR), _Cell(sheet, excel_row, cols[COL_DIR], label_text))
    if table is not None:
        values[table.param.key] = tuple(table.items)
    return _settings_from(values, directions, sheet, cols)


def _settings_from(values: dict, directions: dict, sheet: str, cols: dict) -> Settings:
    base = Settings()
    changes: dict[str, Any] = {}
    sla, deadlines, targets = dict(base.sla_min), dict(base.resolve_deadline_min), dict(base.targets)
    channel_min = dict(base.frt_channel_min)
    for key, value in values.items():
        if key.startswith("@") or key == "period_month":
            continue
        if key.startswith("target."):
            metric = key.split(".", 1)[1]
            default = targets.get(metric, (None, ">="))
            targets[metric] = (value, directions.get(key, default[1]))
        elif key.startswith("sla_min."):
            sla[int(key.split(".")[1])] = value
        elif key.startswith("resolve_deadline_min."):
            deadlines[int(key.split(".")[1])] = value
        elif key.startswith("frt_channel_min."):
            channel_min[key.split(".")[1]] = value
        else:
            changes[key] = value
    for key, direction in directions.items():  # direction changed, value left blank
        metric = key.split(".", 1)[1]
        if key not in values and metric in targets:
            targets[metric] = (targets[metric][0], direction)
    if "period_month" in values:
        _apply_month(values, changes, sheet, cols)
    _check_period_order(values, changes, sheet, cols)
    settings = base.with_(sla_min=sla, resolve_deadline_min=deadlines, frt_channel_min=channel_min,
                          targets=targets, **changes)
    if settings.business_open >= settings.business_close:
        row, raw = values.get("@business_close") or values.get("@business_open")
        where = _Cell(sheet, row, cols[COL_VALUE], all_params()["business_close"].zh)
        raise where.error(raw, f"business hours must close after they open ({settings.business_open:%H:%M})")
    return settings


def _check_period_order(values: dict, changes: dict, sheet: str, cols: dict) -> None:
    """An end date before the start date selects nothing: say so at the end date's cell
    rather than let every report sheet come out empty."""
    start, end = changes.get("period_start"), changes.get("period_end")
    if start is not None and end is not None and end < start and "@period_end" in values:
        row, _raw = values["@period_end"]
        where = _Cell(sheet, row, cols[COL_VALUE], all_params()["period_end"].zh)
        raise where.error(str(end), f"is before the start date {start}; swap them")


def _apply_month(values: dict, changes: dict, sheet: str, cols: dict) -> None:
    """统计月份 fills start/end; typed start/end dates that disagree are an error."""
    first, last = values["period_month"]
    row, raw = values["@period_month"]
    for key, bound in (("period_start", first), ("period_end", last)):
        if key in changes and changes[key] != bound:
            where = _Cell(sheet, row, cols[COL_VALUE], all_params()["period_month"].zh)
            raise where.error(raw, f"conflicts with {key} {changes[key]}; clear one of them")
        changes[key] = bound


def read_params_from_grids(grids) -> Settings | None:
    """Settings from the 参数/Settings sheet among already-read grids
    (:class:`cs_xl.read_files.Grids`), or None when there is no such sheet."""
    grid = grids.sheet(SETTINGS_SHEET.values())
    if grid is None:
        return None
    return read_params(grid.rows, sheet=grid.name, first_row=grid.first_row, first_col=grid.first_col)


def read_params_from_book(path) -> Settings | None:
    """Settings from the 参数/Settings sheet of an .xlsx/.xlsm, or None when
    the book has no such sheet."""
    from .read_files import read_grids
    return read_params_from_grids(read_grids(Path(path)))
