"""Every tunable of the tool in one object: thresholds, SLA tables, targets,
alert rules, scope filters.  Defaults follow the seed documents (SPEC §2.4);
the 参数 sheet of the template overrides them (see :mod:`cs_xl.params`).
"""
from __future__ import annotations

import datetime as dt
import os
import zoneinfo
from dataclasses import dataclass, field, replace

from .schema import DEFAULT_FRT_CHANNEL_MIN, DEFAULT_RESOLVE_DEADLINE_MIN, DEFAULT_SLA_MIN  # noqa: F401  (re-exported)

@dataclass(frozen=True)
class Change:
    """One row of 参数's 优化记录 table: a measure that took effect on a date, judged on one
    registry metric, optionally within a scope (column key → allowed values, e.g. one issue type).
    ``row`` is its 参数 row (for messages and the 优化前后 sheet), not part of its identity."""
    measure: str
    effective: dt.date
    metric: str
    scope: tuple[tuple[str, tuple[str, ...]], ...] = ()
    row: int | None = field(default=None, compare=False)


# Seed 001: 效率相关反馈归类为「流程问题」「人员问题」「工具问题」. Class → keywords (Chinese and English);
# a comment takes the class with the most hits.  Users edit the table on 参数.
DEFAULT_FEEDBACK_CLASSES = (
    ("流程", ("排队", "等待", "等了", "太久", "转接", "流程", "手续", "繁琐", "重复", "来回", "步骤", "没人回复",
             "回复慢", "queue", "wait", "transfer", "process", "procedure", "steps", "no reply", "slow reply")),
    ("人员", ("态度", "不耐烦", "不专业", "敷衍", "解释不清", "语气", "不懂", "attitude", "rude", "unprofessional",
             "impatient", "unhelpful", "did not understand")),
    ("工具", ("系统", "卡顿", "卡住", "崩溃", "页面", "打不开", "闪退", "网站", "链接", "报错", "不更新", "system",
             "crash", "page", "website", "link", "error", "bug", "not updated")),
)
FEEDBACK_CLASS_EN = {"流程": "Process", "人员": "People", "工具": "Tools"}  # the English template's names


# Targets per metric key: (value, direction) where direction is ">=" when
# higher is better and "<=" when lower is better.
DEFAULT_TARGETS = {
    "frt_rate": (0.90, ">="),       # 首次响应时间≤3分钟占比达90% (seed 000)
    "answer_rate": (0.90, ">="),    # 高峰期接通率提升至90%以上 (seed 001)
    "avg_wait": (60.0, "<="),       # 平均等待时长…缩短至60秒内 (seed 001)
    "ivr_rate": (0.60, ">="),       # 智能IVR分流率低于60%需优化 (seed 001)
    "sla_rate": (0.90, ">="),
    "resolution_rate": (0.90, ">="),
    "fcr_rate": (0.80, ">="),       # 一线客服负责80%的常规咨询 (seed 001)
    "csat_rate": (0.85, ">="),
    "satisfied_rate": (0.90, ">="),
    "nps": (30.0, ">="),
    "complaint_rate": (0.05, "<="),
    "service_level": (0.80, ">="),  # 80/20 convention
    "abandon_rate": (0.10, "<="),
}


class ClockError(ValueError):
    """SOURCE_DATE_EPOCH is set but is not a time."""


def now(timezone: str) -> dt.datetime:
    """The one clock: the current moment in ``timezone``, or ``SOURCE_DATE_EPOCH`` when it is set."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    zone = zoneinfo.ZoneInfo(timezone)
    if not epoch:
        return dt.datetime.now(zone)
    try:
        return dt.datetime.fromtimestamp(int(epoch), zone)
    except (ValueError, OverflowError, OSError):
        raise ClockError(f"SOURCE_DATE_EPOCH={epoch!r} is not a whole number of seconds since 1970-01-01") from None


@dataclass
class Settings:
    # --- period and scope (None = everything)
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    teams: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    customer_types: tuple[str, ...] = ()
    issue_types: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    min_tenure_months: float | None = None  # 入职满N个月
    # --- metric parameters
    frt_threshold_min: float = 3.0  # the fallback: channels that are not chat, phone or e-mail
    frt_channel_min: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_FRT_CHANNEL_MIN))
    sla_min: dict[int, float] = field(default_factory=lambda: dict(DEFAULT_SLA_MIN))
    resolve_deadline_min: dict[int, float] = field(default_factory=lambda: dict(DEFAULT_RESOLVE_DEADLINE_MIN))
    default_priority: int = 3  # tickets without a priority are 三级 (SPEC §3 sla_rate)
    service_level_s: float = 20.0
    short_abandon_s: float | None = None  # e.g. 5: abandons under 5 s leave the rates
    repeat_days: int = 7
    target_service_level: float = 0.80  # for Erlang C staffing
    # --- targets and alert rules
    targets: dict[str, tuple[float, str]] = field(default_factory=lambda: dict(DEFAULT_TARGETS))
    alert_wait_factor: float = 1.2   # avg wait > target × 1.2 (seed 001)
    alert_queue_max: int = 50        # 排队人数超过50人 (seed 001)
    # --- analysis (issue 12): trend alerts, agents against their own baseline, staffing advice
    trend_periods: int = 2             # a metric × dimension value worse N months in a row (连续两月下降)
    trend_min_change: float = 0.03     # … by at least this much in all (3 percentage points)
    trend_min_records: int = 30        # months with fewer records of the value are not judged
    agent_baseline_weeks: int = 4      # an agent's own baseline: the mean of their N weeks before the latest
    agent_shift: float = 0.25          # latest week 25 % worse (or better) than the baseline → flagged
    agent_min_records: int = 10        # agent-periods with fewer tickets are not judged or ranked
    streak_months: int = 3             # 连续3个月位列团队第一
    staffing_gap_min: float = 1.0      # advise more agents where needed − working ≥ this
    staffing_min_calls: float = 1.0    # … in slots with at least this many queued calls per hour
    # --- before/after (优化前后): equal windows around each 优化记录 date
    compare_window_days: int = 28      # days before and after the date (clipped to the data)
    compare_confidence: float = 0.95   # of the interval of the change
    compare_resamples: int = 2000      # bootstrap resamples for means and medians
    compare_min_records: int = 20      # fewer records in either window: no verdict
    changes: tuple[Change, ...] = ()   # the 优化记录 table
    # --- 客群差异 (issue 12): each segment against the rest
    segment_columns: tuple[str, ...] = ("customer_type", "channel")  # ticket column keys
    segment_alpha: float = 0.05        # significant: p below this
    segment_min_effect: float = 0.2    # … and an effect size (rank-biserial r / Cohen's h) at least this
    segment_min_records: int = 30      # segments (and rests) with fewer records are not tested
    # --- 帕累托 (issue 12): causes of over-target records
    pareto_line: float = 0.80          # the vital few: causes that together first reach this share
    feedback_classes: tuple[tuple[str, tuple[str, ...]], ...] = DEFAULT_FEEDBACK_CLASSES  # 参数's keyword table
    # --- presentation
    mask_names: bool = False
    timezone: str = "Asia/Shanghai"
    # --- clock (issue 11): how minutes are counted from timestamps
    clock_mode: str = "calendar"           # or "business": business hours on China's working days
    business_open: dt.time = dt.time(9, 0)
    business_close: dt.time = dt.time(18, 0)
    lang: str = "zh"

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)

    def today(self) -> dt.date:
        """Today's date in the 参数 timezone (what "future date" and 数据截至 mean for this team).

        ``SOURCE_DATE_EPOCH`` (seconds since 1970, the reproducible-builds convention) fixes the
        clock, so committed pictures and scheduled re-runs do not depend on the day they ran:

        >>> import os
        >>> os.environ["SOURCE_DATE_EPOCH"] = "1717200000"  # 2024-06-01 00:00 UTC
        >>> Settings().today(), Settings(timezone="America/Los_Angeles").today()
        (datetime.date(2024, 6, 1), datetime.date(2024, 5, 31))
        >>> del os.environ["SOURCE_DATE_EPOCH"]
        """
        return now(self.timezone).date()

    def clock(self):
        """The :class:`cs_xl.clock.Clock` of these settings (mode, business hours, timezone)."""
        from .clock import Clock
        return Clock(self.clock_mode, self.business_open, self.business_close, self.timezone)

    def sla_for(self, level) -> float:
        return self.sla_min.get(int(level), self.sla_min[self.default_priority])
