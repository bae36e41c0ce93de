"""Words shown to people, keyed by codes: one table per kind, zh and en side by side.

Code keeps codes (stable, for tests and JSON) and asks this module for the
words.  Data-quality reasons are a code plus arguments (``Reason``): the
English text is the stable string of the JSON output, the Chinese text is
what the 数据质量 sheet of a Chinese book shows; nothing is parsed back from
prose.  This module imports nothing of the project (every layer may use it).
"""
from __future__ import annotations

from typing import Any, Iterable, NamedTuple

# code → (English template, Chinese template); templates take the reason's arguments
REASONS: dict[str, tuple[str, str]] = {
    "excel_error": ("Excel error value", "Excel错误值"),
    "bool_in_number": ("TRUE/FALSE in a numeric column", "数值列中出现TRUE/FALSE"),
    "date_serial": ("date stored as an Excel serial number", "日期以Excel序列号存储"),
    "date_text": ("date stored as text", "日期以文本存储"),
    "date_range": ("date outside {first}-{last}", "日期超出{first}-{last}"),
    "negative": ("negative value", "负数"),
    "not_date": ("not a date", "不是日期"),
    "not_finite": ("not a finite number", "不是有限数值"),
    "not_number": ("not a number", "不是数字"),
    "not_whole": ("not a whole number", "不是整数"),
    "not_yes_no": ("not a yes/no value", "不是是/否值"),
    "number_text": ("number stored as text", "数字以文本存储"),
    "time_as_duration": ("time value read as a duration", "时间值按时长读取"),
    "unit_unknown": ("unit not recognised", "无法识别的单位"),
    "unit_text": ("text with unit '{unit}'", "带单位文本'{unit}'"),
    "unit_to_minutes": ("text with unit '{unit}' converted to minutes", "带单位文本'{unit}'已换算为分钟"),
    "unit_to_seconds": ("text with unit '{unit}' converted to seconds", "带单位文本'{unit}'已换算为秒"),
    "unknown_priority": ("unknown priority", "未知优先级"),
    "from_timestamps": ("computed from timestamps", "由时间戳计算"),
    "from_timestamps_absent": ("computed from timestamps (column absent)", "由时间戳计算(缺少该列)"),
    "future_date": ("date in the future", "未来日期"),
    "missing_column": ("missing required column", "缺少必填列"),
    "missing_value": ("missing required value", "必填值为空"),
    "total_row": ("total/summary row", "合计/汇总行"),
    "frt_before_created": ("negative duration: first response before created", "时长为负:首次响应早于创建"),
    "resolved_before_frt": ("negative duration: resolved before first response", "时长为负:解决早于首次响应"),
    "resolved_before_created": ("resolved before created", "解决早于创建"),
    "duplicate": ("duplicate {key}", "重复的{key}"),
    "duplicate_column": ("duplicate column for {header}, ignored", "与“{header}”重复的列,已忽略"),
    "outside": ("outside {low:.10g}-{high:.10g}", "超出范围{low:.10g}-{high:.10g}"),  # 5256000, not 5.256e+06
    # importers (issue 11): the row is named by source file and line
    "field_count": ("{found} fields where the header has {expected}", "有{found}个字段,表头为{expected}个"),
    "not_json": ("not a JSON record", "不是JSON记录"),
    "excluded": ("excluded: {why}", "已排除:{why}"),
    "phantom_call": ("PHANTOM call (virtual, not a caller)", "PHANTOM虚拟来电(非真实来电)"),
    "duplicate_event": ("exact duplicate event", "完全重复的事件"),
    "no_case": ("no case id", "缺少工单编号"),
    "unmapped_value": ("value not in the map, kept as typed", "值不在映射表中,按原值保留"),
    "logged": ("import: {text}", "导入:{text}"),  # a row of the 导入日志 sheet, in the words of the book that logged it
    "already_in_book": ("{key} already in the workbook, not added again", "{key}已在工作簿中,未重复添加"),
}

# the channel classes of the per-channel first-response targets (schema.CHANNEL_CLASSES)
CHANNEL_CLASS_NAMES: dict[str, tuple[str, str]] = {
    "chat": ("chat", "即时通讯"), "phone": ("phone", "电话"), "email": ("e-mail", "邮件"),
}

ACTIONS: dict[str, tuple[str, str]] = {
    "repaired": ("repaired", "已修正"),
    "dropped": ("dropped", "已剔除"),
    "flagged": ("flagged", "已标记"),
    # shown for an issue whose whole record the loader left out ("dropped" alone reads like one cell)
    "record dropped": ("record dropped", "剔除记录"),
}

LANGS = ("zh", "en")


class Reason(NamedTuple):
    """Why a cell was repaired, dropped or flagged: a code of :data:`REASONS` and its arguments."""
    code: str
    args: tuple = ()

    def text(self, lang: str = "en") -> str:
        """>>> Reason("outside", (("low", 1), ("high", 5))).text("zh")
        '超出范围1-5'
        """
        en, zh = REASONS[self.code]
        return (zh if lang == "zh" else en).format(**dict(self.args))

    def __str__(self) -> str:
        return self.text("en")


def reason(code: str, **args) -> Reason:
    """A :class:`Reason`, checked against the table so a typo fails where it is made."""
    if code not in REASONS:
        raise KeyError(f"unknown data-quality reason code {code!r}")
    return Reason(code, tuple(sorted(args.items())))


def action_text(action: str, lang: str = "en") -> str:
    en, zh = ACTIONS.get(action, (action, action))
    return zh if lang == "zh" else en


# One-line messages of the command line (errors and notes), kept here with the
# other words until the words table consolidates them.  English, like the
# loader's messages; headers and sheet names are quoted as the book has them.
CLI_MESSAGES = {
    "untimed": "{n:,} {noun} records have no time of day ({header}) and are not in the hour view",
    "book_open": ("{path} is open in Excel or LibreOffice (lock file {lock}); close it there, or write "
                  "elsewhere with --out OTHER.xlsx, or add --force if no program has it open (a stale lock)"),
    "reversed_range": "the period runs backwards: from {start} (--from) to {end} (--to); swap them",
    "reversed_period": "the period runs backwards: from {start} to {end} (--from/--to over the 参数 sheet's period)",
    "no_match": "no record has {column} = {wanted}; values in the data: {values}",
    "no_match_in_period": "no record from {start} to {end}; the data runs from {first} to {last}",
    "no_match_together": "no record matches the filters together ({filters})",
    "refresh_needs_workbook": ("{path}: refresh writes its sheets into an Excel workbook (.xlsx/.xlsm), not a "
                               "{suffix} file; make one with `cs-xl template`, paste the rows into its input "
                               "sheets and refresh that (`cs-xl kpis {path}` reads the file as it is)"),
    # cs_xl.zipcheck: a workbook refused before any parser reads it (each follows "FILE: ")
    "zip_damaged": "not a readable .xlsx/.xlsm workbook (damaged zip: {reason})",
    "zip_parts": "refused: the workbook holds {n:,} parts (limit {limit:,}); not a spreadsheet Excel wrote",
    "zip_part_size": ("refused: part {part} inflates to {size:,.0f} MB, more than a full sheet of data "
                      "(limit {limit:,.0f} MB); a zip bomb or a damaged file"),
    "zip_total": ("refused: the parts inflate to {size:,.0f} MB in all (limit {limit:,.0f} MB); "
                  "a zip bomb or a damaged file"),
    "zip_ratio": ("refused: part {part} inflates {ratio:,.0f}-fold ({packed:,.1f} MB → {size:,.0f} MB; "
                  "spreadsheet data packs at most {limit:,.0f}-fold): a zip bomb"),
    "zip_sizes": ("refused: part {part} claims {size:,} bytes but its packed data is {packed:,} bytes, "
                  "which deflate cannot produce; a forged or damaged zip"),
    "xml_doctype": ("refused: XML part {part} declares a DOCTYPE (entity expansion or external entities, "
                    "which Excel never writes); a hostile file"),
    "xml_no_root": ("refused: XML part {part} shows no root element in its first {window:,} bytes "
                    "(padding or a damaged part)"),
}


def cli_message(key: str, **values) -> str:
    return CLI_MESSAGES[key].format(**values)


# ---------------------------------------------------------------- the report's words

# generated sheets: key → (中文 tab name, English tab name)
SHEET_NAMES: dict[str, tuple[str, str]] = {
    "summary": ("汇总", "Summary"),
    "analysis": ("分析报告", "Analysis report"),
    "agents": ("按客服", "By agent"),
    "breakdowns": ("按维度", "Breakdowns"),
    "trends": ("趋势", "Trends"),
    "load": ("时段负荷", "Load"),
    "alerts": ("预警", "Alerts"),
    "staffing": ("人力建议", "Staffing advice"),
    "compare": ("优化前后", "Before-after"),
    "pareto": ("帕累托", "Pareto"),
    "segments": ("客群差异", "Segment gaps"),
    "quality": ("数据质量", "Data quality"),
}


REPORT: dict[str, tuple[str, str]] = {
    "summary_title": ("客户服务 KPI 汇总", "Customer-service KPI summary"),
    "kpi_block": ("核心指标 (对照目标)", "Headline KPIs against targets"),
    "kpi_headers": (("指标", "数值", "目标", "差距", "达标"), ("Metric", "Value", "Target", "Gap", "Met")),
    "targets_block": ("图表数据: 比率指标与目标", "Chart data: rates against targets"),
    "targets_chart": ("比率指标 vs 目标", "Rates vs targets"),
    # 首次响应达标率's label names the targets it is held to (参数): per channel class, then the rest
    "frt_label": ("{name}({targets}分钟)", "{name} ({targets} min)"),
    "frt_target": ("{channel}≤{minutes}", "{channel} ≤ {minutes}"),
    "frt_target_sep": ("、", ", "),
    "frt_other": ("其他", "other"),
    "value": ("数值", "Value"), "target": ("目标", "Target"), "metric": ("指标", "Metric"),
    "period_block": ("统计期间", "Period"),
    "period_start": ("期间开始", "From"), "period_end": ("期间结束", "To"),
    "used_tickets": ("工单记录(使用)", "Ticket records used"),
    "used_feedback": ("反馈记录(使用)", "Feedback records used"),
    "used_calls": ("话务记录(使用)", "Call records used"),
    "out_of_scope": ("范围外记录", "Records out of scope"),
    "dropped": ("剔除记录", "Records dropped"),
    "issues": ("数据问题", "Data-quality issues"),
    "quality_counts": ("数据问题 {issues}: 剔除记录 {records_dropped}; 单元格 已修正 {cells_repaired}, "
                       "已剔除 {cells_dropped} (记录保留); 已标记 {flagged}",
                       "{issues} issues: records dropped {records_dropped}; cells repaired "
                       "{cells_repaired}, cells dropped {cells_dropped} (record kept); flagged {flagged}"),
    "timezone": ("时区", "Time zone"),
    "clock": ("计时规则", "Clock"),
    "as_of": ("数据截至", "Data as of"),
    "alerts": ("预警", "Alerts"),
    "alert_miss": ("{label} 为 {value}, 未达目标 {target}", "{label} is {value}, target {target} not met"),
    "alert_wait": ("平均等待时长 {value} 秒, 超过目标 {target} 秒 × {factor} = {limit} 秒, 立即启动应急预案",
                   "Average wait {value} s exceeds target {target} s × {factor} = {limit} s: start the "
                   "contingency plan"),
    "alert_queue": ("最大排队人数 {value} 人, 超过上限 {limit} 人, 立即启动应急预案",
                    "Peak queue {value} calls exceeds the limit of {limit}: start the contingency plan"),
    "rule_wait": ("平均等待时长(秒) > 目标 × 倍数", "Avg wait (s) > target × factor"),
    "rule_queue": ("最大排队人数 > 上限", "Peak queue > limit"),
    "rule_days": ("预警规则: 触发的日期", "Alert rules: days that broke a rule"),
    "rule_days_note": ("共 {n} 天触发; 显示最近 {shown} 天。", "{n} days in all; the latest {shown} shown."),
    "no_rule_days": ("没有哪一天触发预警规则。", "No day broke an alert rule."),
    "rule": ("规则", "Rule"), "limit": ("上限", "Limit"),
    "no_alerts": ("全部指标达标或无目标。", "Every KPI with a target meets it."),
    "agents_title": ("客服绩效 (按客服)", "Agent scorecard"),
    "agent_id": ("客服工号", "Agent ID"), "agent_name": ("客服姓名", "Agent name"),
    "rank": ("排名", "Rank"),
    "rank_note": ("排名按{label}从高到低; 姓名{masked}。", "Ranked by {label}, best first; names {masked}."),
    "masked": ("已脱敏", "masked"), "unmasked": ("未脱敏", "shown"),
    "tenure_note": ("范围: 入职满 {n} 个月的客服。", "Scope: agents with at least {n} months of tenure."),
    "agents_chart": ("{label} 按客服", "{label} by agent"),
    "breakdowns_title": ("分维度统计", "Breakdowns"),
    "by": ("按{dim}", "By {dim}"),
    "breakdown_chart": ("{label} 按{dim}", "{label} by {dim}"),
    "no_dims": ("数据中没有可分组的列 (客服组、渠道、问题类型、业务模块、优先级、客户类型)。",
                "The data has none of the breakdown columns (team, channel, issue type, module, priority, "
                "customer type)."),
    "trends_title": ("趋势 (环比 / 同比)", "Trends (period over period / year over year)"),
    "grain_day": ("按日", "By day"), "grain_week": ("按周 (ISO)", "By ISO week"),
    "grain_month": ("按月", "By month"),
    "period": ("期间", "Period"),
    "mom": ("{label} 环比", "{label} vs previous"), "yoy": ("{label} 同比", "{label} vs last year"),
    "trend_note": ("环比: 与上一期比较; 同比: 与去年同期比较。受理量为增长率, 比率为百分点差。",
                   "vs previous: against the period before; vs last year: the same period a year earlier. "
                   "Volume as growth rate, rates as percentage-point differences."),
    "trend_chart": ("{grain} {label}", "{label} {grain}"),
    "trend_pair_chart": ("{grain} {first}与{second}", "{first} and {second} {grain}"),
    "partial": ("{label} (部分)", "{label} (partial)"),
    "trend_partial_note": ("标有(部分)的期间不完整(数据只覆盖其中几天), 其环比不代表真实涨跌; "
                           "某期间没有该表记录时数值留空。",
                           "Periods marked (partial) are only partly covered by the data, so their change is not "
                           "a real rise or drop; a period with no records of a table leaves its numbers empty."),
    "load_title": ("时段负荷 (工单 + 来电)", "Load by weekday and hour (tickets + calls)"),
    "heatmap": ("星期 × 小时 到达量", "Arrivals by weekday × hour"),
    "weekday": ("星期", "Weekday"), "hour": ("小时", "Hour"),
    "weekdays": (("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
                 ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")),
    "by_hour": ("按小时到达量", "Arrivals by hour"),
    "heat_scale": ("颜色: 白 = 最少, 黄 = 中位, 红 = 最多 (高峰时段)。",
                   "Colour: white = fewest, yellow = median, red = most (peak hours)."),
    "load_note": ("工单按创建时间、来电按呼入时间计。", "Tickets counted at creation time, calls at call start."),
    "untimed": ("另有 {tickets} 条工单没有创建时间、{calls} 条来电没有呼入时间, 未计入按小时的统计。",
                "{tickets} tickets without a creation time and {calls} calls without a start are not in the "
                "hour views."),
    "staffing": ("建议在线人数 (星期 × 小时, Erlang C)", "Agents needed (weekday × hour, Erlang C)"),
    "staffing_note": ("按该时段平均每小时转人工来电数与平均处理时长, 达到 {sl:.0%} 在 {secs:g} 秒内接通所需的最少人数。",
                      "Fewest agents answering {sl:.0%} of calls within {secs:g} s, from the slot's mean queued "
                      "calls per hour and the average handling time."),
    "quality_title": ("数据质量", "Data quality"),
    "by_reason": ("问题原因统计", "Issues by reason"),
    "reason": ("原因", "Reason"), "action": ("处理", "Action"), "count": ("数量", "Count"),
    "issue_list": ("问题明细", "Issues, cell by cell"),
    "not_listed": ("未列出", "Not listed"),
    "issues_cut_note": ("每个原因最多列出前 {n} 条; 另有 {left_out} 条未列出(各原因的数量见「问题原因统计」的 未列出 列); "
                        "全部明细: cs-xl kpis 工作簿 --json --issues",
                        "The first {n} issues of each reason are listed; {left_out} more are not (per reason: the "
                        "Not listed column of Issues by reason); every issue: cs-xl kpis BOOK --json --issues"),
    "sheet": ("工作表", "Sheet"), "row": ("行号", "Row"), "column": ("列", "Column"),
    "cell_value": ("原值", "Value"),
    "no_issues": ("没有发现数据问题。", "No data-quality issues found."),
    "audit": ("每周核查: 未完成记录", "Weekly audit: incomplete records"),
    "audit_note": ("状态为 处理中/待确认, 或缺少解决时间的记录; 行号为 Excel 行号。",
                   "Records with an open status (处理中/待确认) or no resolution; row numbers as shown in Excel."),
    "audit_sample_note": ("历史数据共 {n:,} 条未完成记录, 此处列出扫描到的前 {shown:,} 条 (各周数量见「预警」)。",
                          "The history holds {n:,} open records; the first {shown:,} of the scan are listed "
                          "(the count per week is on Alerts)."),
    "history_issue_note": ("数据来自历史文件 (cs-xl refresh --data): 上表按原因统计全部问题; 逐个单元格的清单只在"
                           "记录位于工作簿时列出 (可用 cs-xl kpis --engine duckdb --json 查看 data_quality)。",
                           "Records read from a history (cs-xl refresh --data): the table above counts every issue "
                           "by reason; the cell-by-cell list is drawn only when the records are in the workbook "
                           "(cs-xl kpis --engine duckdb --json prints the same data_quality counts)."),
    "week": ("周", "Week"), "ticket_id": ("工单编号", "Ticket ID"), "date": ("日期", "Date"),
    "status": ("状态", "Status"), "issue_type": ("问题类型", "Issue type"),
    "resolve_min": ("问题解决时间(分钟)", "Resolution (min)"), "why": ("原因", "Why"),
    "why_open": ("状态 {status}", "status {status}"),
    "why_unresolved": ("缺少解决时间", "no resolution time"),
    # the two buttons of the macro-enabled workbook (xlwings) and what they say when they cannot run
    "refresh_button": ("刷新报表", "Refresh report"),
    "check_button": ("检查数据", "Check data"),
    "button_failed": ("「{button}」未运行, 工作簿未改动: {message}", "{button} did not run, the workbook is unchanged: {message}"),
}

# the 预警, 人力建议 and 分析报告 sheets (issue 12)
REPORT.update({
    "alerts_title": ("预警 (每条预警及其依据)", "Alerts, each with its evidence"),
    "alerts_count": ("共 {n} 条预警。阈值见 参数 → 预警规则。", "{n} alerts. Thresholds: Settings → Alert rules."),
    "missed_block": ("未达目标的指标", "KPIs missing their targets"),
    "gap": ("差距", "Gap"),
    "hourly_block": ("触发预警规则的小时 (平均等待 > 目标 × 倍数, 或排队人数 > 上限)",
                     "Hours that broke a rule (avg wait > target × factor, or queue > limit)"),
    "hour_start": ("时段开始", "Hour"), "avg_wait_s": ("平均等待(秒)", "Avg wait (s)"),
    "wait_limit": ("等待上限(秒)", "Wait limit (s)"), "peak_queue_n": ("最大排队人数", "Peak queue"),
    "queue_limit": ("排队上限", "Queue limit"),
    "hourly_note": ("共 {n} 个小时; 显示平均等待最长的 {shown} 个。", "{n} hours in all; the {shown} longest waits shown."),
    "falling_block": ("连续变差的指标 (按维度取值, 按月)", "Metrics worse month after month (per dimension value)"),
    "dimension": ("维度", "Dimension"), "dim_value": ("取值", "Value"),
    "months": ("月份", "Months"), "first_value": ("起始值", "First"), "last_value": ("最新值", "Latest"),
    "change": ("变化", "Change"), "values_path": ("逐月数值", "Month by month"),
    "shift_block": ("客服指标偏离自身基线 (最近一周 vs 之前几周平均)",
                    "Agents against their own baseline (latest week vs the mean of the weeks before)"),
    "shift_week": ("最近一周", "Latest week"), "baseline": ("基线(前几周平均)", "Baseline (weeks before)"),
    "latest": ("最近一周数值", "Latest week"), "relative": ("相对变化", "Relative change"),
    "tickets": ("工单数", "Tickets"), "direction": ("方向", "Direction"),
    "worse_word": ("变差", "worse"), "better_word": ("改善", "better"),
    "audit_block": ("每周核查: 未完成记录数", "Weekly audit: incomplete records per week"),
    "open_records": ("未完成记录", "Incomplete records"),
    "audit_weeks_note": ("明细见「数据质量」工作表的每周核查清单。", "The records are listed on the Data quality sheet."),
    "no_alert_rows": ("无。", "None."),
    "staffing_title": ("人力建议 (星期 × 小时)", "Staffing advice (weekday × hour)"),
    "staffing_plan_note": ("所需人数: Erlang C, 达到 {sl:.0%} 在 {secs:g} 秒内接通; 实际在线: 该时段接听来电的不同客服数 "
                           "(按该星期几的天数平均); 缺口 = 所需 − 实际。",
                           "Needed: Erlang C for {sl:.0%} answered within {secs:g} s; working: distinct agents answering "
                           "calls in the slot (mean over the days of that weekday); gap = needed − working."),
    "advice_block": ("增派建议", "Advice"),
    "no_advice": ("没有时段的缺口达到 {gap:g} 人 (每小时来电 ≥ {calls:g} 的时段)。",
                  "No slot (with ≥ {calls:g} calls per hour) is {gap:g} or more agents short."),
    "gap_heatmap": ("人手缺口 (所需 − 实际在线)", "Agent gap (needed − working)"),
    "plan_block": ("各时段明细", "Every slot"),
    "arrivals": ("来电/小时", "Calls per hour"), "aht_s": ("平均处理时长(秒)", "AHT (s)"),
    "needed": ("所需人数", "Needed"), "working": ("实际在线", "Working"), "gap_agents": ("缺口", "Gap"),
    "agent_trends_block": ("客服趋势: 连续第一与基线变化", "Agent trends: streaks and moves against their baseline"),
    "streak_block": ("连续位列团队第一", "First in the team, months in a row"),
    "agent": ("客服", "Agent"),
    "analysis_title": ("分析报告", "Analysis report"),
    "sec_period": ("一、统计期间与范围", "1. Period and scope"),
    "sec_kpis": ("二、核心指标对照目标", "2. Headline KPIs against targets"),
    "sec_findings": ("三、主要发现", "3. Main findings"),
    "sec_advice": ("四、建议", "4. Recommendations"),
    "period_text": ("统计期间 {start} 至 {end}: 工单 {tickets} 条, 反馈 {feedback} 条, 来电 {calls} 条。范围: {scope}。",
                    "Period {start} to {end}: {tickets} tickets, {feedback} feedback answers, {calls} calls. "
                    "Scope: {scope}."),
    "scope_all": ("全部记录", "all records"),
    "scope_tenure": ("入职满 {n} 个月的客服", "agents with at least {n} months of tenure"),
    "kpis_text": ("有目标的 {n} 项指标中 {met} 项达标, {missed} 项未达标 (见「{sheet}」)。",
                  "{met} of {n} KPIs with a target meet it, {missed} miss it (see '{sheet}')."),
    "kpi_missed": ("{label} {value}, 未达目标 {target}", "{label} {value}, target {target} missed"),
    "kpi_met": ("达标: {labels}", "Met: {labels}"),
    "no_findings": ("数据中没有达到阈值的发现。", "Nothing in the data crosses a threshold."),
    "no_recommendations": ("保持当前安排, 持续观察。", "Keep the current arrangements and keep watching."),
    "evidence": (" (依据: 「{sheet}」)", " (evidence: '{sheet}')"),
    "list_sep": ("、", ", "),
    "unit_min": (" 分钟", " min"), "unit_sec": (" 秒", " s"),
    "charts": ("图表", "Charts"),
    "rule_falling": ("规则: 连续 {n} 个月变差且累计变化 ≥ {change} (该取值每月至少 {records} 条记录)。",
                     "Rule: worse {n} months in a row by {change} or more in all (at least {records} records of "
                     "the value a month)."),
    "rule_shift": ("规则: 客服最近一周与之前 {weeks} 周的平均值比较, 相对变化 ≥ {shift} (每周至少 {records} 张工单)。",
                   "Rule: an agent's latest week against the mean of their {weeks} weeks before, a relative change "
                   "of {shift} or more (at least {records} tickets a week)."),
    "rule_streak": ("规则: 连续 {n} 个月位列团队第一 (每月至少 {records} 张工单才参与排名)。",
                    "Rule: first in the team {n} months in a row (ranked with at least {records} tickets a month)."),
    "rule_staffing": ("增派建议: 缺口 ≥ {gap} 人且每小时来电 ≥ {calls} 的时段, 相邻小时合并。",
                      "Advice: slots {gap} or more agents short with {calls} or more calls an hour, adjacent hours "
                      "merged."),
    # 优化前后 (issue 12): each 优化记录 row of 参数 on equal windows before and after its date
    "compare_title": ("优化前后对比 (参数 → 优化记录 逐项评估)", "Before and after each optimisation (Settings → "
                      "Optimisation log)"),
    "compare_note": ("每项措施: 生效日期前后各 {days} 天的记录比较 (数据不足时两侧同样缩短); 比率用 Newcombe 区间, "
                     "平均值/中位数用自助抽样 ({resamples} 次, 固定种子); {confidence} 置信区间不含 0 才判为显著, "
                     "方向按指标 (越高越好 / 越低越好)。任一窗口少于 {records} 条记录时不下结论。",
                     "Each measure: {days} days of records before its effective date against as many from it on "
                     "(both shortened alike where the data ends); rates get Newcombe's interval, means and medians a "
                     "bootstrap ({resamples} resamples, fixed seed); significant only when the {confidence} interval "
                     "excludes 0, read in the metric's direction. No verdict with fewer than {records} records in "
                     "either window."),
    "no_changes": ("参数 → 优化记录 中还没有措施: 填写 措施、生效日期、指标 (可选 范围, 如 问题类型=物流咨询) 后刷新。",
                   "Settings → Optimisation log has no measure yet: enter measure, effective date and metric "
                   "(optionally a scope such as Issue type=Logistics) and refresh."),
    "measure": ("措施", "Measure"), "effective": ("生效日期", "Effective"), "scope": ("范围", "Scope"),
    "window_days": ("窗口天数", "Days each side"), "before": ("优化前", "Before"), "after": ("优化后", "After"),
    "records_ba": ("记录数 前/后", "Records before/after"), "ci_low": ("区间下限", "Interval low"),
    "ci_high": ("区间上限", "Interval high"), "verdict": ("结论", "Verdict"), "param_row": ("参数行", "Settings row"),
    "before_window": ("优化前窗口", "Before window"), "after_window": ("优化后窗口", "After window"),
    "compare_block": ("{label}: 优化前后", "{label}: before and after"),
    "compare_chart": ("{label}: 优化前 vs 优化后", "{label}: before vs after"),
    "verdict_improved": ("显著改善", "significant improvement"),
    "verdict_no_change": ("无显著变化", "no significant change"),
    "verdict_worse": ("显著恶化", "significantly worse"),
    "verdict_not_judged": ("无法判断: {why}", "no verdict: {why}"),
    "why_no_data": ("生效日期前后没有数据", "no data on both sides of the date"),
    "why_too_few": ("窗口记录少于 {n} 条", "fewer than {n} records in a window"),
    "why_scope_column": ("数据中没有范围所指的列", "the data lacks the scope's column"),
    "all_records": ("全部", "all"),
    "pareto_title": ("帕累托: 超时记录的原因 (按数量排序)", "Pareto: causes of the records over target, largest first"),
    "pareto_rule": ("超时 = 首次响应超过该渠道的目标, 或解决超过该优先级的完成时限 (参数 → 指标参数)。{tickets} 张工单中 "
                    "{over} 张超时 (首次响应 {frt_over}, 解决 {late})。关键少数 = 按数量从多到少累计首次达到 {line} 的原因 "
                    "(参数 → 帕累托); 评价内容按 参数 → 反馈分类关键词 归为 流程/人员/工具。",
                    "Over target = first response past its channel's target, or resolved past its priority's deadline "
                    "(Settings → Metric parameters). {over} of {tickets} tickets are over target (first response "
                    "{frt_over}, resolution {late}). Vital few = the causes that, largest first, together reach "
                    "{line} (Settings → Pareto); comments are classed process / people / tools by Settings → "
                    "Feedback classes."),
    "pareto_findings_block": ("主要原因", "Leading causes"),
    "pareto_by_issue_type": ("按问题类型", "By issue type"),
    "pareto_by_note": ("按备注原因", "By cause note"),
    "pareto_by_feedback_class": ("按评价分类 (流程 / 人员 / 工具)", "By feedback class (process / people / tools)"),
    "pareto_noun_issue_type": ("问题类型", "issue type"), "pareto_noun_note": ("备注原因", "cause note"),
    "pareto_noun_feedback_class": ("评价分类", "feedback class"),
    "pareto_without_issue_type": ("另有 {n} 张超时工单没有问题类型。", "{n} more tickets over target have no issue type."),
    "pareto_without_note": ("另有 {n} 张超时工单没有备注。", "{n} more tickets over target have no note."),
    "pareto_without_feedback_class": ("超时工单的反馈中另有 {n} 条没有评价内容。",
                                      "{n} more feedback answers on tickets over target have no comment."),
    "rank_no": ("排名", "Rank"), "cause": ("原因", "Cause"), "share": ("占比", "Share"),
    "cumulative": ("累计占比", "Cumulative share"), "pareto_line_col": ("{line} 线", "{line} line"),
    "vital": ("关键少数", "Vital few"),
    "pareto_unclassified": ("另有 {n} 条评价内容不含任何分类的关键词 (如表扬), 未计入。",
                            "{n} more comments contain no class's keyword (praise, for one) and are not counted."),
    "pareto_chart": ("{by}: 数量与累计占比", "{by}: count and cumulative share"),
    "no_over": ("没有超时的记录 (或工单表没有首次响应时间与解决时间)。",
                "No record is over target (or the tickets carry neither first response nor resolution times)."),
    "no_causes": ("超时工单没有可排序的原因: 工单表没有问题类型、备注或评价内容。",
                  "Over-target tickets have no cause to rank: the tickets carry no issue type, note or comment."),
    "segments_title": ("客群差异 (每个客群与其余记录比较)", "Segment gaps (each segment against the rest)"),
    "segments_rule": ("时长: Mann-Whitney U 检验, 效应量为秩二列相关 r; 比率: 双比例 z 检验, 效应量为 Cohen's h "
                      "(正 = 该组高于其余)。标记 = p < {alpha} 且 |效应量| ≥ {effect}; 记录少于 {records} 条的客群不检验。"
                      "阈值见 参数 → 客群差异。",
                      "Durations: Mann-Whitney U, effect size the rank-biserial r; rates: two-proportion z, effect "
                      "size Cohen's h (positive = the segment higher than the rest). Flagged = p < {alpha} and "
                      "|effect| ≥ {effect}; segments with fewer than {records} records are not tested. Thresholds: "
                      "Settings → Segment gaps."),
    "segment_chart": ("{label}: 该组 vs 其余", "{label}: segment vs rest"),
    "segment_flagged_block": ("显著差异 (已标记)", "Flagged gaps"),
    "no_segment_gaps": ("没有客群的差异既显著又达到效应量阈值。", "No segment differs both significantly and by the "
                        "minimum effect size."),
    "no_segment_dims": ("数据中没有 参数 → 客群维度 所列的列 ({dims})。",
                        "The data has none of the columns of Settings → Segment columns ({dims})."),
    "n_group": ("该组记录数", "Records in segment"), "n_rest": ("其余记录数", "Records in rest"),
    "group_value": ("该组", "Segment"), "rest_value": ("其余", "Rest"), "difference": ("差异", "Difference"),
    "test": ("检验", "Test"), "p_value": ("p 值", "p"), "effect": ("效应量", "Effect size"),
    "flagged": ("标记", "Flagged"), "flag_yes": ("是", "yes"),
    "mann_whitney": ("Mann-Whitney U", "Mann-Whitney U"), "two_proportion_z": ("双比例 z", "two-proportion z"),
    "unit_pp": (" 个百分点", " pp"),
    "charts_missing": ("图表需要 matplotlib: pip install 'cs-xl[charts]'", "Charts need matplotlib: pip install 'cs-xl[charts]'"),
})

# the sentences of the written report: Finding.code → (中文, English); arguments arrive as text
# (:mod:`cs_xl.report.narrative` formats each number by its metric)
FINDINGS: dict[str, tuple[str, str]] = {
    "target_missed": ("{metric} 为 {value}, 未达目标 {target}。", "{metric} is {value}, missing its target of {target}."),
    "hourly_rules": ("{hours} 个小时触发预警规则 (平均等待 > {wait_limit} 秒 或 排队 > {queue_limit} 人), "
                     "最常见于 {weekday} {hour} ({times} 次); 最严重为 {worst_start}, 平均等待 {worst_wait} 秒。",
                     "{hours} hours broke an alert rule (avg wait > {wait_limit} s or queue > {queue_limit}), most "
                     "often on {weekday} at {hour} ({times} times); the worst was {worst_start} with an average "
                     "wait of {worst_wait} s."),
    "audit_open": ("每周核查: 共 {total} 条未完成记录, 其中最近一周 {week} 有 {in_week} 条。",
                   "Weekly audit: {total} incomplete records, {in_week} of them in the latest week {week}."),
    "falling": ("{value} ({dim}) 的{metric}连续 {n} 个月下降: {first_month} {first} → {last_month} {last} "
                "(累计 {change} 个百分点)。",
                "{metric} of {value} ({dim}) fell {n} months in a row: {first} in {first_month} → {last} in "
                "{last_month} ({change} percentage points)."),
    "agent_worse": ("客服 {agent} 的{metric}突然变差: {week} 为 {latest}, 之前 {weeks} 周平均 {baseline} "
                    "(相对变化 {relative})。",
                    "Agent {agent}'s {metric} got worse suddenly: {latest} in {week} against a mean of {baseline} "
                    "over the {weeks} weeks before ({relative} change)."),
    "agent_better": ("客服 {agent} 的{metric}明显改善: {week} 为 {latest}, 之前 {weeks} 周平均 {baseline} "
                     "(相对变化 {relative})。",
                     "Agent {agent}'s {metric} improved markedly: {latest} in {week} against a mean of {baseline} "
                     "over the {weeks} weeks before ({relative} change)."),
    "streak": ("客服 {agent} 的{metric}连续 {n} 个月位列团队第一 ({first_month}–{last_month}, 最近 {last})。",
               "Agent {agent} has been first in the team on {metric} {n} months in a row ({first_month}–"
               "{last_month}, latest {last})."),
    "staffing_gap": ("{weekday} {first_hour}–{end_hour} 需增派 {extra} 名客服: 需要 {needed} 人 "
                     "(达到 {sl} 在 {secs} 秒内接通), 实际平均在线 {working} 人。",
                     "{weekday} {first_hour}–{end_hour}: add {extra} agent(s): {needed} needed to answer {sl} "
                     "within {secs} s, {working} working on average."),
    "change_improved": ("{measure} ({effective} 生效) 后{scope}{metric}由 {before} 变为 {after} ({diff}, 相对 {relative}), "
                        "{confidence} 置信区间 {low} ~ {high}: 显著改善。",
                        "After {measure} (effective {effective}){scope} {metric} went from {before} to {after} ({diff}, "
                        "{relative} relative; {confidence} interval {low} to {high}): a significant improvement."),
    "change_worse": ("{measure} ({effective} 生效) 后{scope}{metric}由 {before} 变为 {after} ({diff}, 相对 {relative}), "
                     "{confidence} 置信区间 {low} ~ {high}: 显著恶化。",
                     "After {measure} (effective {effective}){scope} {metric} went from {before} to {after} ({diff}, "
                     "{relative} relative; {confidence} interval {low} to {high}): significantly worse."),
    "change_flat": ("{measure} ({effective} 生效) 后{scope}{metric}由 {before} 变为 {after} ({diff}), "
                    "{confidence} 置信区间 {low} ~ {high} 含 0: 无显著变化。",
                    "After {measure} (effective {effective}){scope} {metric} went from {before} to {after} ({diff}; "
                    "{confidence} interval {low} to {high} includes 0): no significant change."),
    "pareto_top": ("超时工单中{by}「{cause}」最多: {count} 条, 占 {share} (共 {total} 条; 前 {vital} 个原因累计达到 {line})。",
                   "Among the records over target, the leading {by} is '{cause}': {count} of {total} ({share}); "
                   "the first {vital} cause(s) make up {line}."),
    "segment_gap_worse": ("{value} ({dim}) 的{metric}明显差于其余客户: {group} 对比 {rest} (差异 {diff}, "
                          "p {p}, 效应量 {effect}, {n} 条记录)。",
                          "{metric} of {value} ({dim}) is markedly worse than the rest: {group} against {rest} "
                          "({diff}, p {p}, effect size {effect}, {n} records)."),
    "segment_gap_better": ("{value} ({dim}) 的{metric}明显好于其余客户: {group} 对比 {rest} (差异 {diff}, "
                           "p {p}, 效应量 {effect}, {n} 条记录)。",
                           "{metric} of {value} ({dim}) is markedly better than the rest: {group} against {rest} "
                           "({diff}, p {p}, effect size {effect}, {n} records)."),
}

# what to do about a finding (the 建议 section); codes without a line give no recommendation
RECOMMENDATIONS: dict[str, tuple[str, str]] = {
    "target_missed": ("针对 {metric} 制定改进措施, 每周跟踪至达到 {target}。",
                      "Set actions for {metric} and track them weekly until it reaches {target}."),
    "hourly_rules": ("在 {weekday} {hour} 前后准备应急预案 (弹性排班、IVR 分流)。",
                     "Prepare the contingency plan around {weekday} {hour} (flexible shifts, IVR deflection)."),
    "audit_open": ("本周逐条核查 {in_week} 条未完成记录, 补齐解决时间或状态。",
                   "Check the {in_week} incomplete records of this week one by one; fill in resolution or status."),
    "falling": ("复盘 {value} 的{metric}: 查看 {last_month} 的工单备注与知识库是否需要更新。",
                "Review {metric} of {value}: read the notes of {last_month} and check the knowledge base."),
    "agent_worse": ("与客服 {agent} 一对一沟通{metric}变化的原因, 必要时安排辅导。",
                    "Talk with agent {agent} about the change in {metric}; coach where needed."),
    "streak": ("请客服 {agent} 分享{metric}方面的经验。", "Ask agent {agent} to share what works for {metric}."),
    "staffing_gap": ("{weekday} {first_hour}–{end_hour} 增派 {extra} 名客服。",
                     "Add {extra} agent(s) on {weekday} {first_hour}–{end_hour}."),
    "change_worse": ("复盘「{measure}」: {metric}在生效后变差, 考虑调整或回退该措施。",
                     "Review {measure}: {metric} got worse after it took effect; adjust or roll it back."),
    "change_flat": ("「{measure}」未见{metric}的显著变化: 确认措施已落实, 或延长观察期后再评估。",
                    "{measure} shows no significant change in {metric}: check it is in place, or judge it again "
                    "after a longer period."),
    "pareto_top": ("优先解决{by}「{cause}」: 它占超时记录的 {share}。",
                   "Tackle '{cause}' ({by}) first: {share} of the records over target."),
    "segment_gap_worse": ("为 {value} ({dim}) 客户复盘{metric}: 优化沟通话术、分配熟悉该客群的客服。",
                          "Review {metric} for {value} ({dim}) customers: adapt the scripts and route them to agents "
                          "who know them."),
}

DIM_WORDS = {
    "team": ("客服组", "team"), "channel": ("渠道", "channel"), "issue_type": ("问题类型", "issue type"),
    "module": ("业务模块", "module"), "priority": ("优先级", "priority"),
    "customer_type": ("客户类型", "customer type"),
}


def word(key: str, lang: str) -> Any:
    """A word of the report (:data:`REPORT`) in ``lang``."""
    zh, en = REPORT[key]
    return zh if lang == "zh" else en


def finding_text(code: str, lang: str, table: dict | None = None) -> str | None:
    """The sentence template of a finding code (:data:`FINDINGS`, or ``table``), None when it has none."""
    pair = (FINDINGS if table is None else table).get(code)
    return None if pair is None else pair[0 if lang == "zh" else 1]


def sheet_name(key: str, lang: str) -> str:
    zh, en = SHEET_NAMES[key]
    return zh if lang == "zh" else en


def generated_sheet_names(lang: str) -> list[str]:
    """Tab names of every generated sheet in ``lang``: the only sheets a refresh replaces."""
    return [sheet_name(k, lang) for k in SHEET_NAMES]


def former_sheet_names(lang: str, keys: Iterable[str] | None = None) -> dict[str, tuple[str, ...]]:
    """Where each generated sheet (of ``keys``, default all) goes in ``lang``: where it, or its
    other-language twin, was — so switching 报表语言 renames in place and leaves no stale sheet.

    >>> former_sheet_names("en", ["summary"])
    {'Summary': ('汇总', 'Summary')}
    """
    return {sheet_name(key, lang): tuple(sheet_name(key, other) for other in LANGS)
            for key in (SHEET_NAMES if keys is None else keys)}
