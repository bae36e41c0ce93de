"""The registry of metrics: one entry per KPI, read by everything that lists,
names, formats or computes metrics (kpis, the report's key lists, the CLI
table, the 说明 sheet, the ``CS_*`` formulas, docs/metrics.md).

Modelled on scikit-learn's ``metrics/_scorer.py``: a name → entry dict
(:data:`METRICS`), :func:`get`, :func:`names`, and :func:`register` for
adding one.  An entry says which pure function of :mod:`cs_xl.metrics`
computes the metric, from which table and input columns (in the order the
function takes them), which arguments come from which :class:`Settings`
field, how the value is shown (``fmt``), which direction is better, its
zh/en names and a definition *template* rendered with the current settings
(so 说明 says "≤ 5分钟" when 参数 says 5).

Composite KPIs (a metric built on another one, or on the rows of a table
rather than a column) carry a ``rule``: the one place their logic is
written.  Adding a metric = one function in :mod:`cs_xl.metrics` + one
:func:`register` call (or one entry below).

``python -m cs_xl.metric_docs`` writes ``docs/metrics.md`` from it.
"""
from __future__ import annotations

import functools
import inspect
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from . import metrics, sql_forms
from .dataset import ROW
from .schema import PRIORITIES
from .words import CHANNEL_CLASS_NAMES

TABLES = ("tickets", "feedback", "calls")
FORMATS = ("pct", "min", "sec", "count", "score", "nps")
UDF_PREFIX = "CS_"
# the groupings that reach calls through the agent who answered them (kpis.AGENT_KEYS)
PER_AGENT_NOTE = ("按客服/客服组分组时不计算(放弃的来电没有客服)",
                  "undefined per agent or team (abandoned calls have no agent)")


class Records(Protocol):
    """What a metric is computed over: the records of one group (see :mod:`cs_xl.kpis`)."""
    settings: Any

    def rows(self, table: str) -> int | None: ...  # number of records; None without the table
    def column(self, table: str, key: str): ...     # one column, or None when the table lacks it
    def value(self, key: str) -> float: ...         # another metric over the same records
    # what every group of one data set shares (whether a metric is defined, its settings arguments), made once
    def shared(self, key: tuple, make: Callable[[], Any]) -> Any: ...


@dataclass(frozen=True)
class Parameter:
    """An argument of the metric function taken from a :class:`Settings` field."""
    arg: str    # keyword of the metric function
    field: str  # Settings attribute it comes from


@dataclass(frozen=True)
class Metric:
    """One KPI.  ``needs``: groups of input columns of which at least one
    each must be present for the metric to be defined (default: the first
    input).  ``rule(metric, records)``: the computation of a composite KPI,
    instead of calling ``func`` on the input columns.  ``queue``: a property
    of the call queue as a whole, undefined per agent or team.  ``sql``: the
    same arithmetic as SQL aggregates (:mod:`cs_xl.sql_forms`) for the DuckDB
    and Spark engines; a parity test per metric keeps ``func`` and ``sql`` equal."""
    key: str
    func: Callable[..., float]
    table: str
    inputs: tuple[str, ...]
    fmt: str
    higher_is_better: bool | None  # None: neutral (volumes, staffing)
    zh: str
    en: str
    definition_zh: str             # templates: {field} is a Settings field, rendered with its unit
    definition_en: str
    params: tuple[Parameter, ...] = ()
    needs: tuple[tuple[str, ...], ...] | None = None
    rule: Callable[["Metric", Records], float] | None = None
    queue: bool = False
    sql: Callable[..., Any] | None = None  # its SQL form (cs_xl.sql_forms): the arithmetic of the SQL engines
    column_args: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if self.table not in TABLES:
            raise ValueError(f"{self.key}: table must be one of {TABLES}, got {self.table!r}")
        if self.fmt not in FORMATS:
            raise ValueError(f"{self.key}: fmt must be one of {FORMATS}, got {self.fmt!r}")
        if self.needs is None:
            object.__setattr__(self, "needs", ((self.inputs[0],),) if self.inputs else ())
        object.__setattr__(self, "column_args", _column_args(self))

    @property
    def udf(self) -> str:
        return udf_name(self.key)

    def name(self, lang: str = "zh") -> str:
        return self.zh if lang == "zh" else self.en

    def definition(self, lang: str = "zh", settings=None) -> str:
        """The definition with the current settings' values (defaults when ``settings`` is None)."""
        from .settings import Settings  # lazily: the registry itself does not depend on settings
        s = settings if settings is not None else Settings()
        template = self.definition_zh if lang == "zh" else self.definition_en
        return template.format_map(_FieldTexts(s, lang))

    def arguments(self, settings) -> dict[str, Any]:
        """The function's keyword arguments taken from ``settings``."""
        return {p.arg: getattr(settings, p.field) for p in self.params}

    def defined_on(self, records: Records) -> bool:
        """Whether the records have the table and the input columns the metric needs (the same for
        every group of a data set, so worked out once per grouping)."""
        return records.shared(("defined", self.key), lambda: records.rows(self.table) is not None and all(
            any(records.column(self.table, key) is not None for key in alternatives) for alternatives in self.needs))

    def apply(self, records: Records, **extra) -> float:
        """``func`` over the records' input columns (None where absent) and the settings' parameters."""
        columns = {arg: records.column(self.table, key) for arg, key in zip(self.column_args, self.inputs)}
        arguments = records.shared(("arguments", self.key), lambda: self.arguments(records.settings))
        return float(self.func(**columns, **arguments, **extra))

    def compute(self, records: Records) -> float:
        """The metric over ``records``; nan where undefined or the data lacks its table/columns."""
        if self.rule is not None:
            return float(self.rule(self, records))
        return self.apply(records) if self.defined_on(records) else math.nan


    def sample(self, records: Records) -> metrics.Sample | None:
        """The per-record values the metric aggregates over ``records`` (a share, mean or percentile
        of records, :class:`metrics.Sample`), None for a metric that is not one of those (counts,
        NPS, ratios to another table's volume) — see :func:`comparable`."""
        if not comparable(self.key):
            return None
        if not self.defined_on(records):
            return None
        with metrics.sampling() as seen:
            self.apply(records)
        return seen[0] if len(seen) == 1 else None


def _column_args(m: Metric) -> tuple[str, ...]:
    """Names of the function arguments the input columns bind to: its
    parameters in order, less those the settings fill."""
    taken = {p.arg for p in m.params}
    names = [n for n in inspect.signature(m.func).parameters if n not in taken]
    if len(names) < len(m.inputs):
        raise ValueError(f"{m.key}: {m.func.__name__} takes fewer columns than inputs {m.inputs}")
    return tuple(names[:len(m.inputs)])


# ------------------------------------------------------------------ definition templates

_LEVEL_WORDS = {"zh": dict(enumerate(PRIORITIES, start=1)), "en": {n: f"L{n}" for n in range(1, 5)}}
_UNITS = {  # Settings field → unit (zh, en); a field absent here is shown as a plain number
    "frt_threshold_min": ("分钟", " min"), "service_level_s": ("秒", " s"), "short_abandon_s": ("秒", " s"),
    "repeat_days": ("天", " days"), "alert_queue_max": ("人", ""),
}
_NOT_SET = {"zh": "未设置", "en": "not set"}


def _number(value: float) -> str:
    return f"{value:g}"


def _levels_text(table: dict, lang: str) -> str:
    """{1: 5, 2: 10, 3: 30, 4: 30} → 一级5、二级10、三/四级30分钟 (equal neighbours share one limit)."""
    words = _LEVEL_WORDS[lang]
    runs: list[tuple[list[int], float]] = []
    for level in sorted(table):
        if runs and runs[-1][1] == table[level] and runs[-1][0][-1] == level - 1:
            runs[-1][0].append(level)
        else:
            runs.append(([level], table[level]))
    if lang == "zh":
        parts = [("/".join(words[lv][0] for lv in lvs[:-1]) + ("/" if len(lvs) > 1 else "") + words[lvs[-1]])
                 + _number(limit) for lvs, limit in runs]
        return "、".join(parts) + "分钟"
    return ", ".join("/".join(words[lv] for lv in lvs) + f" {_number(limit)}" for lvs, limit in runs) + " min"


def _channels_text(table: dict, lang: str) -> str:
    """{"chat": 1, "phone": 3, "email": 240} → 即时通讯1、电话3、邮件240分钟."""
    if lang == "zh":
        return "、".join(f"{CHANNEL_CLASS_NAMES[c][1]}{_number(v)}" for c, v in table.items()) + "分钟"
    return ", ".join(f"{CHANNEL_CLASS_NAMES[c][0]} {_number(v)}" for c, v in table.items()) + " min"


def field_text(settings, name: str, lang: str = "zh") -> str:
    """A Settings field as a definition shows it: with its unit, levels named, fractions as %."""
    value = getattr(settings, name)
    if value is None:
        return _NOT_SET[lang]
    if name == "frt_channel_min":
        return _channels_text(value, lang)
    if isinstance(value, dict):
        return _levels_text(value, lang)
    if name == "default_priority":
        return _LEVEL_WORDS[lang][int(value)]
    if name.startswith("target_"):
        return f"{value:.0%}"
    unit = _UNITS.get(name, ("", ""))[0 if lang == "zh" else 1]
    return _number(value) + unit


class _FieldTexts(dict):
    """format_map source: ``{frt_threshold_min}`` → "3分钟"."""

    def __init__(self, settings, lang: str):
        super().__init__()
        self.settings, self.lang = settings, lang

    def __missing__(self, name: str) -> str:
        return field_text(self.settings, name, self.lang)


# ------------------------------------------------------------------ composite rules

def _volume(m: Metric, r: Records) -> float:
    """Without a ticket-id column each row is a ticket (nothing to deduplicate by)."""
    rows = r.rows("tickets")
    if rows is None:
        return math.nan
    return m.apply(r) if r.column("tickets", "ticket_id") is not None else float(rows)


def _survey_rate(m: Metric, r: Records) -> float:
    """Ratings against the ticket volume; without a ticket sheet nothing was surveyed against."""
    volume = r.value("volume")
    if not m.defined_on(r) or math.isnan(volume):
        return math.nan
    return m.apply(r, volume=volume)


def _complaint_rate(m: Metric, r: Records) -> float:
    """Complaints per ticket; a feedback-only book counts complaints per feedback record."""
    if not m.defined_on(r):
        return math.nan
    volume = r.value("volume")
    return m.apply(r, volume=float(r.rows("feedback")) if math.isnan(volume) else volume)


def _queued(m: Metric, r: Records) -> float:
    """Without an IVR column no call was self-served: every offered call queued."""
    if r.rows("calls") is None:
        return math.nan
    return m.apply(r) if m.defined_on(r) else r.value("offered")


def _agents_needed(m: Metric, r: Records) -> float:
    """Erlang C for the busiest weekday × hour slot's mean arrivals and the period's AHT."""
    aht = r.value("aht")
    if math.isnan(aht) or not m.defined_on(r):
        return math.nan
    rate = metrics.peak_hourly_arrivals(r.column("calls", "start"), r.column("calls", "ivr_selfserved"))
    if math.isnan(rate):
        return math.nan
    return float(m.func(rate, aht, **m.arguments(r.settings)))


# ------------------------------------------------------------------ the entries

_P = Parameter
_SLA = (_P("sla", "sla_min"), _P("default_priority", "default_priority"))
_DEADLINES = (_P("deadlines", "resolve_deadline_min"), _P("default_priority", "default_priority"))
_FIRST_CONTACT = ("first_contact_resolved", "contacts", "transferred", "reopened", "status", "resolve_min")

_ENTRIES = (
    # ------------------------------------------------ tickets
    Metric("volume", metrics.volume, "tickets", ("ticket_id",), "count", None, "受理量", "Tickets",
           "按工单编号去重后的工单数(无编号的行各算一单;没有工单编号列时每行一单)",
           "Distinct tickets by ticket ID (rows without an ID count once each; without an ID column, every row)",
           rule=_volume,
           sql=sql_forms.volume),
    Metric("frt_rate", metrics.frt_rate, "tickets", ("frt_min", "channel"), "pct", True, "首次响应达标率",
           "FRT within target",
           "首次响应时间≤该渠道目标的工单数 ÷ 有效首次响应时间的工单数(等于目标算达标);渠道目标{frt_channel_min},"
           "其他渠道或无渠道≤{frt_threshold_min}",
           "Tickets with first response ≤ their channel's target ÷ tickets with a valid first response (ties count "
           "as met); channel targets {frt_channel_min}, other or no channel ≤ {frt_threshold_min}",
           params=(_P("threshold", "frt_threshold_min"), _P("channel_limits", "frt_channel_min")),
           sql=sql_forms.frt_rate),
    Metric("frt_avg", metrics.frt_avg, "tickets", ("frt_min",), "min", False, "平均首次响应时间", "Avg first response",
           "有效首次响应时间(分钟)的平均值", "Mean of valid first-response minutes",
           sql=sql_forms.mean_of_input),
    Metric("frt_median", metrics.frt_median, "tickets", ("frt_min",), "min", False,
           "首次响应时间中位数", "Median first response",
           "有效首次响应时间(分钟)的中位数", "Median of valid first-response minutes",
           sql=sql_forms.median_of_input),
    Metric("frt_p90", metrics.frt_p90, "tickets", ("frt_min",), "min", False, "首次响应时间90分位", "First response P90",
           "有效首次响应时间的第90百分位(同Excel PERCENTILE.INC)",
           "90th percentile of first-response minutes (Excel PERCENTILE.INC)",
           sql=sql_forms.p90_of_input),
    Metric("resolve_avg", metrics.resolve_avg, "tickets", ("resolve_min",), "min", False,
           "平均解决时长", "Avg resolution time",
           "从首次响应到解决的分钟数的平均值", "Mean minutes from first response to resolution",
           sql=sql_forms.mean_of_input),
    Metric("resolve_median", metrics.resolve_median, "tickets", ("resolve_min",), "min", False,
           "解决时长中位数", "Median resolution time",
           "从首次响应到解决的分钟数的中位数", "Median minutes from first response to resolution",
           sql=sql_forms.median_of_input),
    Metric("resolve_p90", metrics.resolve_p90, "tickets", ("resolve_min",), "min", False,
           "解决时长90分位", "Resolution P90",
           "解决时长的第90百分位(同Excel PERCENTILE.INC)", "90th percentile of resolution minutes (Excel PERCENTILE.INC)",
           sql=sql_forms.p90_of_input),
    Metric("handle_avg", metrics.handle_avg, "tickets", ("frt_min", "resolve_min"), "min", False,
           "平均总处理时长", "Avg total handling time",
           "首次响应时间+解决时长的平均值(两者都有的工单)", "Mean of first response + resolution over tickets having both",
           needs=(("frt_min",), ("resolve_min",)),
           sql=sql_forms.handle_avg),
    Metric("sla_rate", metrics.sla_rate, "tickets", ("frt_min", "priority", "channel"), "pct", True, "响应时效达成率",
           "SLA met",
           "首次响应时间≤该优先级时效({sla_min})且≤该渠道目标({frt_channel_min})的工单占比;"
           "无优先级按{default_priority},其他渠道只看优先级时效",
           "Share of tickets answered within their priority's SLA ({sla_min}) and their channel's target "
           "({frt_channel_min}); no priority = {default_priority}, other channels: the priority's SLA only",
           params=_SLA + (_P("channel_limits", "frt_channel_min"),),
           sql=sql_forms.sla_rate),
    Metric("resolution_rate", metrics.resolution_rate, "tickets", ("status", "resolve_min"), "pct", True,
           "问题解决率", "Resolution rate",
           "状态为已解决/已关闭(无状态时有解决时长)的工单 ÷ 工单数",
           "Tickets resolved or closed (or with a resolution time when there is no status) ÷ tickets",
           needs=(("status", "resolve_min"),),
           sql=sql_forms.resolution_rate),
    Metric("ontime_rate", metrics.ontime_rate, "tickets", ("resolve_min", "priority", "status"), "pct", True,
           "按时完成率", "Resolved on time",
           "在该优先级完成时限({resolve_deadline_min})内解决的工单 ÷ 已解决工单;无优先级按{default_priority}",
           "Resolved tickets within their priority's deadline ({resolve_deadline_min}) ÷ resolved tickets; "
           "no priority = {default_priority}",
           params=_DEADLINES,
           sql=sql_forms.ontime_rate),
    Metric("backlog", metrics.backlog, "tickets", ("status", "resolve_min"), "count", False, "未完成工单", "Open tickets",
           "状态为处理中/待确认或尚未解决的工单数(每周稽核清单)",
           "Tickets in progress / pending or not yet resolved (the weekly audit list)",
           needs=(("status", "resolve_min"),),
           sql=sql_forms.backlog),
    Metric("fcr_rate", metrics.fcr_rate, "tickets", _FIRST_CONTACT, "pct", True, "一次解决率", "First contact resolution",
           "首次接触即解决的工单 ÷ 已解决工单(一次解决=是,或联系1次且未转接未重开)",
           "Resolved at first contact ÷ resolved (flag yes, or one contact, not transferred or reopened)",
           needs=(("first_contact_resolved", "contacts"),),
           sql=sql_forms.fcr_rate),
    # ------------------------------------------------ feedback
    Metric("csat_avg", metrics.csat_avg, "feedback", ("rating",), "score", True, "平均评分", "Avg rating",
           "1–5星评分的平均值", "Mean of 1–5 star ratings",
           sql=sql_forms.scale_mean),
    Metric("csat_rate", metrics.csat_rate, "feedback", ("rating",), "pct", True, "满意度(CSAT)", "CSAT",
           "4–5星评价数 ÷ 有效评价数", "4–5 star ratings ÷ valid ratings",
           sql=sql_forms.csat_rate),
    Metric("satisfied_rate", metrics.satisfied_rate, "feedback", ("satisfied",), "pct", True, "满意率", "Satisfied",
           "是 ÷ (是+否),未评价不计", "Yes ÷ (yes + no); not rated excluded",
           sql=sql_forms.satisfied_rate),
    Metric("survey_rate", metrics.survey_rate, "feedback", ("rating",), "pct", True, "评价率", "Survey response rate",
           "有效评分数 ÷ 受理量(没有工单表时不计算)", "Valid ratings ÷ tickets (undefined without a ticket sheet)",
           rule=_survey_rate,
           sql=sql_forms.survey_rate),
    Metric("nps", metrics.nps, "feedback", ("nps",), "nps", True, "净推荐值(NPS)", "NPS",
           "100×(9–10分占比 − 0–6分占比),在0–10分有效回答中", "100 × (share 9–10 − share 0–6) among 0–10 answers",
           sql=sql_forms.nps),
    Metric("attitude_avg", metrics.attitude_avg, "feedback", ("attitude",), "score", True,
           "服务态度评分", "Attitude score", "服务态度1–5分的平均值", "Mean attitude score (1–5)",
           sql=sql_forms.scale_mean),
    Metric("complaint_rate", metrics.complaint_rate, "feedback", ("complaint",), "pct", False, "投诉率", "Complaint rate",
           "投诉数 ÷ 受理量(没有工单表时 ÷ 反馈记录数)",
           "Complaints ÷ tickets (÷ feedback records when there is no ticket sheet)",
           rule=_complaint_rate,
           sql=sql_forms.complaint_rate),
    Metric("repeat_complaint_rate", metrics.repeat_complaint_rate, "feedback",
           ("customer_id", "date", "complaint", "repeat_7d"), "pct", False, "重复投诉率", "Repeat complaint rate",
           "{repeat_days}内再次投诉的投诉客户 ÷ 投诉客户(有日期按日期,否则按重复投诉次数>0)",
           "Complaining customers with another complaint within {repeat_days} ÷ complaining customers "
           "(dates, else repeat count > 0)",
           params=(_P("days", "repeat_days"),), needs=(("customer_id",), ("complaint", "repeat_7d")),
           sql=sql_forms.repeat_complaint_rate),
    # ------------------------------------------------ calls
    Metric("offered", metrics.offered, "calls", (ROW,), "count", None, "呼入量", "Calls offered",
           "全部呼入话务数(每条话务记录算一通)", "All incoming calls (every call record counts)",
           sql=sql_forms.offered),
    Metric("queued", metrics.queued, "calls", ("ivr_selfserved",), "count", None, "转人工量", "Calls queued for an agent",
           "呼入量 − IVR自助完成量(没有IVR列时 = 呼入量)", "Offered − self-served in the IVR (offered without an IVR column)",
           rule=_queued, queue=True,
           sql=sql_forms.queued),
    Metric("answer_rate", metrics.answer_rate, "calls", ("answered", "ivr_selfserved"), "pct", True,
           "人工接通率", "Answer rate", "人工接通数 ÷ 转人工量", "Answered ÷ queued", queue=True,
           sql=sql_forms.answer_rate),
    Metric("abandon_rate", metrics.abandon_rate, "calls", ("answered", "wait_s", "ivr_selfserved"), "pct", False,
           "放弃率", "Abandon rate",
           "(转人工量 − 接通数) ÷ 转人工量;短时放弃秒数({short_abandon_s}):等待少于该秒数即放弃的来电不计入分子分母",
           "(Queued − answered) ÷ queued; short abandon ({short_abandon_s}): calls abandoned in less are left out",
           params=(_P("short_abandon_s", "short_abandon_s"),), queue=True,
           sql=sql_forms.abandon_rate),
    Metric("asa", metrics.asa, "calls", ("wait_s", "answered"), "sec", False, "平均应答速度", "Avg speed of answer",
           "已接通来电的平均等待秒数", "Mean wait (s) of answered calls", needs=(("wait_s",), ("answered",)),
           sql=sql_forms.asa),
    Metric("avg_wait", metrics.avg_wait, "calls", ("wait_s", "ivr_selfserved"), "sec", False, "平均等待时长", "Avg wait",
           "转人工来电(接通或放弃)的平均等待秒数", "Mean wait (s) of queued calls, answered or not", queue=True,
           sql=sql_forms.avg_wait),
    Metric("service_level", metrics.service_level, "calls", ("wait_s", "answered", "ivr_selfserved"), "pct", True,
           "服务水平", "Service level",
           "{service_level_s}内接通数 ÷ 转人工量(80/20标准)", "Answered within {service_level_s} ÷ queued (the 80/20 rule)",
           params=(_P("seconds", "service_level_s"),), needs=(("wait_s",), ("answered",)), queue=True,
           sql=sql_forms.service_level),
    Metric("aht", metrics.aht, "calls", ("talk_s", "hold_s", "wrap_s", "answered"), "sec", False,
           "平均处理时长(AHT)", "Avg handling time",
           "已接通来电的(通话+保持+话后处理)平均秒数,缺项按0",
           "Mean talk + hold + wrap-up (s) of answered calls; missing parts count as 0",
           needs=(("talk_s",), ("answered",)),
           sql=sql_forms.aht),
    Metric("ivr_rate", metrics.ivr_rate, "calls", ("ivr_selfserved",), "pct", True, "IVR分流率", "IVR self-service rate",
           "IVR自助完成量 ÷ 呼入量", "Self-served in the IVR ÷ offered", queue=True,
           sql=sql_forms.ivr_rate),
    Metric("peak_queue", metrics.peak_queue, "calls", ("start", "wait_s", "ivr_selfserved"), "count", False,
           "最大排队人数", "Peak queue",
           "同一时刻在排队等待的转人工来电数的最大值(预警:超过{alert_queue_max})",
           "Most queued calls waiting at the same moment (alert rule: more than {alert_queue_max})",
           needs=(("start",), ("wait_s",)), queue=True,
           sql=sql_forms.peak_queue),
    Metric("agents_needed", metrics.agents_needed, "calls", ("start", "ivr_selfserved"), "count", None,
           "建议在线人数", "Agents needed",
           "按Erlang C,以最繁忙的星期×小时时段的平均来电量和AHT,满足服务水平目标"
           "({target_service_level}在{service_level_s}内接通)所需的最少在线人数",
           "Fewest agents meeting the service-level target ({target_service_level} within {service_level_s}) "
           "by Erlang C, for the busiest weekday × hour slot's mean arrivals and the AHT",
           params=(_P("target_sl", "target_service_level"), _P("target_s", "service_level_s")),
           rule=_agents_needed, queue=True,
           sql=sql_forms.agents_needed),
    # ------------------------------------------------ conversations (message-level exports, seed 004)
    Metric("avg_response", metrics.avg_response, "tickets", ("response_avg_min",), "min", False,
           "平均响应时长", "Avg response time",
           "每个会话中客服每次人工回复的等待分钟数(自客户消息起,不只首次)的平均值,再按会话平均;"
           "没有消息级数据时不计算",
           "Per conversation, the mean wait (min) of every human reply since the customer's message, not only "
           "the first; averaged over conversations (undefined without message-level data)",
           sql=sql_forms.mean_of_input),
    Metric("online_reply_rate", metrics.online_reply_rate, "tickets", ("replies", "channel"), "pct", True,
           "在线咨询回复率", "Online reply rate",
           "至少有1次人工回复的在线咨询 ÷ 全部在线咨询(有渠道列时只计即时通讯渠道;没有消息级数据时不计算)",
           "Online consultations with at least one human reply ÷ all online consultations (chat channels when "
           "there is a channel column; undefined without message-level data)",
           sql=sql_forms.online_reply_rate),
)

METRICS: dict[str, Metric] = {}  # display order


def register(metric: Metric, *, replace: bool = False) -> Metric:
    """Add a metric (at the end of the display order).  A key already
    registered raises ``ValueError`` unless ``replace``."""
    if metric.key in METRICS and not replace:
        raise ValueError(f"metric {metric.key!r} is already registered")
    METRICS[metric.key] = metric
    return metric


def unregister(key: str) -> Metric:
    """Remove a metric (tests that register a temporary one clean up with this)."""
    return METRICS.pop(key)


for _entry in _ENTRIES:
    register(_entry)


def get(key: str) -> Metric:
    """The entry of ``key``; ``KeyError`` naming the known keys otherwise."""
    try:
        return METRICS[key]
    except KeyError:
        raise KeyError(f"unknown metric {key!r}; known metrics: {', '.join(METRICS)}") from None


def names() -> list[str]:
    """Every metric key, in display order (cf. sklearn ``get_scorer_names``)."""
    return list(METRICS)


@functools.lru_cache(maxsize=None)
def comparable(key: str) -> bool:
    """Whether a metric is one share, mean or percentile of records — what a before/after
    comparison can put an interval on.  Probed by running its function over no records:
    a composite KPI (``rule``) or a function aggregating zero or several times is not.

    >>> comparable("frt_rate"), comparable("frt_median"), comparable("volume"), comparable("nps")
    (True, True, False, False)
    """
    import pandas as pd  # lazily: naming and listing metrics (cs-xl --help) loads no pandas
    m = get(key)
    if m.rule is not None:
        return False
    empty = {arg: metrics.Column(pd.Series([], dtype=object)) for arg in m.column_args[:len(m.inputs)]}
    with metrics.sampling() as seen:
        try:
            m.func(**empty, **m.arguments(_default_settings()))
        except (ValueError, TypeError):
            return False
    return len(seen) == 1


def _default_settings():
    from .settings import Settings  # lazily: the registry itself does not depend on settings
    return Settings()


def udf_name(key: str) -> str:
    """The Excel formula of a metric: ``frt_rate`` → ``CS_FRT_RATE``."""
    return UDF_PREFIX + key.upper()


def of_table(table: str) -> list[str]:
    """The metric keys computed from one input table."""
    return [k for k, m in METRICS.items() if m.table == table]
