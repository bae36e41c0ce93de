"""Seeded, realistic demo data for the template (``cs-xl demo``).

Three months of an online customer-service department: 12 agents in two
teams, ≈ 5,700 tickets, feedback for ≈ 60 % of them and ≈ 8,000 calls.  The
shapes follow the seeds: log-normal response times (median ≈ 2 min, so about
two thirds are answered within 3 minutes), VIPs served faster, a Wednesday
afternoon rush (seed 000: 周三下午咨询量激增) that slows everybody down, an
optimisation on :data:`OPTIMISATION_DATE` after which responses get faster
(for the before/after analysis), tickets still 处理中/待确认, repeat
complainers, and a documented handful of dirty cells (:data:`DIRTY_ROWS`)
of the kinds real exports contain.

Everything is drawn from one ``numpy.random.Generator``: the same seed gives
the same frames.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from .settings import DEFAULT_RESOLVE_DEADLINE_MIN, Change, Settings

DEFAULT_START = "2024-03-01"
DEFAULT_MONTHS = 3

# (agent_id, name, team, hire date, speed factor on response times)
# C006, C011 and C012 joined less than 3 months before the default period.
AGENTS = (
    ("C001", "李娜", "在线一组", "2021-04-12", 0.85),
    ("C002", "王强", "在线一组", "2020-09-01", 0.95),
    ("C003", "张伟", "在线一组", "2022-03-07", 1.00),
    ("C004", "刘洋", "在线一组", "2022-11-14", 1.05),
    ("C005", "陈静", "在线一组", "2023-05-22", 1.00),
    ("C006", "杨帆", "在线一组", "2024-01-08", 1.35),
    ("C007", "赵敏", "在线二组", "2019-07-15", 0.90),
    ("C008", "黄磊", "在线二组", "2021-10-18", 1.00),
    ("C009", "周婷", "在线二组", "2022-06-06", 0.95),
    ("C010", "吴昊", "在线二组", "2023-02-20", 1.10),
    ("C011", "徐丽", "在线二组", "2024-02-19", 1.40),
    ("C012", "孙浩", "在线二组", "2023-12-18", 1.30),
)

TICKETS_PER_DAY = 66.0
CALLS_PER_DAY = 94.0
# share of a day's contacts per hour of the day (sums to 1)
_HOURS = np.array([2, 1, 1, 1, 1, 2, 4, 10, 30, 62, 72, 70, 48, 60, 68, 66, 62, 52, 36, 30, 26, 20, 12, 6], float)
HOUR_SHARE = _HOURS / _HOURS.sum()
WEEKDAY_FACTOR = np.array([1.10, 1.00, 1.05, 1.00, 0.95, 0.70, 0.60])  # Mon..Sun
PEAK_WEEKDAY, PEAK_HOURS = 2, range(13, 18)  # Wednesday 13:00–17:59
PEAK_VOLUME = 1.9   # arrivals in the Wednesday-afternoon rush × this
PEAK_SLOWDOWN = 1.6  # response times in the rush × this
HOLIDAY_FACTOR = 0.6

FRT_MEDIAN_MIN = 2.2     # before the optimisation, before the modifiers
FRT_SIGMA = 0.85
OPTIMISATION_EFFECT = 0.72  # FRT × this from the optimisation date on
VIP_FACTOR = 0.6
RESOLVE_MEDIAN_MIN = 25.0
RESOLVE_SIGMA = 0.9

CHANNELS = {"APP": 0.30, "小程序": 0.20, "官网": 0.10, "电话": 0.20, "邮件": 0.05, "在线": 0.15}
CUSTOMER_TYPES = {"新客户": 0.35, "老客户": 0.55, "VIP": 0.10}
ISSUE_TYPES = {"物流咨询": 0.24, "咨询": 0.22, "支付问题": 0.14, "产品功能": 0.12, "技术故障": 0.10,
               "投诉": 0.12, "建议": 0.06}
ISSUE_MODULE = {"物流咨询": "物流", "支付问题": "支付", "产品功能": "产品功能"}
MODULES = ("物流", "支付", "产品功能")
PRIORITY_SHARE = (0.05, 0.15, 0.60, 0.20)  # 一级..四级
LEVEL_NAMES = ("一级", "二级", "三级", "四级")
RESOLVE_TYPE_FACTOR = {"技术故障": 3.0, "投诉": 1.8, "支付问题": 1.5}
CAUSES = {"高峰排队": 0.35, "系统延迟": 0.25, "客户未提供完整信息": 0.20, "需二线支持": 0.10,
          "物流信息未更新": 0.06, "客户情绪激动": 0.04}
# what customers write about a slow ticket, by its cause note (seed 001's 效率相关反馈: 流程/人员/工具)
CAUSE_COMMENTS = {
    "高峰排队": ("排队等了很久才有人回复", "等待时间太长了"),
    "系统延迟": ("系统一直卡顿, 页面打不开", "APP闪退, 提交了好几次都报错"),
    "客户未提供完整信息": ("要求重复提交资料, 手续太繁琐", "来回补充信息, 步骤太多"),
    "需二线支持": ("转接了好几次才解决", "被转接来转接去"),
    "物流信息未更新": ("物流页面信息一直不更新", "查询物流的页面报错"),
    "客户情绪激动": ("客服态度敷衍, 不耐烦", "客服语气不好"),
}
PEOPLE_COMMENTS = ("客服解释不清楚, 不专业", "客服态度一般, 有点敷衍")
PRAISE_COMMENTS = ("回复很快, 很满意", "问题解决了, 谢谢", "服务很好")
N_CUSTOMERS = 2500
N_REPEAT_COMPLAINERS = 15
YES, NO, NOT_RATED = "是", "否", "未评价"


def _period(start, months: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First day of the period and the day after its last day."""
    first = pd.Timestamp(start).normalize()
    return first, first + pd.DateOffset(months=months)


def optimisation_date(start=DEFAULT_START, months: int = DEFAULT_MONTHS) -> dt.date:
    """The Monday on or before the middle of the period: the day the
    (simulated) response-time optimisation went live."""
    first, end = _period(start, months)
    middle = first + (end - first) / 2
    return (middle - pd.Timedelta(days=middle.weekday())).date()


OPTIMISATION_DATE = optimisation_date()


def demo_changes(lang: str = "zh", start=DEFAULT_START, months: int = DEFAULT_MONTHS) -> tuple[Change, ...]:
    """The demo's 参数 → 优化记录: the planted optimisation judged on the two things it changed
    (first responses, call waits), and a knowledge-base update for 物流咨询 that planted
    nothing — a manager sees 显著改善 next to 无显著变化."""
    day = optimisation_date(start, months)
    zh = lang == "zh"
    return (Change("响应流程优化(话术模板)" if zh else "Response process (reply templates)", day, "frt_rate"),
            Change("IVR 分流与排班优化" if zh else "IVR routing and rota", day, "avg_wait"),
            Change("物流知识库更新" if zh else "Logistics knowledge base", day, "fcr_rate",
                   (("issue_type", ("物流咨询",)),)))


class DirtyRow(NamedTuple):
    table: str       # tickets | feedback | calls
    record_id: str   # ticket_id (tickets, feedback) or call_id
    column: str      # schema key
    value: object    # what the cell holds
    expect: str      # what the loader should do with it


# (table, day offset, daily sequence number, column, dirty value, clean value it stands for, expectation)
_DIRTY_SPEC = (
    ("tickets", 2, 1, "frt_min", "5", 5.0, "number stored as text: repaired to 5 min"),
    ("tickets", 3, 1, "frt_min", "５", 5.0, "full-width digit: repaired to 5 min"),
    ("tickets", 4, 1, "frt_min", "5分钟", 5.0, "text with unit: repaired to 5 min"),
    ("tickets", 5, 1, "resolve_min", "3 min", 3.0, "text with unit: repaired to 3 min"),
    ("tickets", 6, 1, "resolve_min", "1.5h", 90.0, "hours: repaired to 90 min"),
    ("tickets", 7, 1, "frt_min", "#N/A", None, "Excel error: dropped from FRT metrics and reported"),
    ("tickets", 8, 1, "resolve_min", -12.0, None, "negative duration: dropped and reported"),
    ("tickets", 9, 1, "date", "<date as text>", None, "date stored as text (2024/3/10): repaired"),
    ("tickets", 10, 1, "priority", "L1", 1, "priority variant: read as 一级"),
    ("tickets", 11, 1, "priority", "P2", 2, "priority variant: read as 二级"),
    ("tickets", 12, 1, "priority", "紧急", 1, "priority word: read as 一级"),
    ("tickets", 13, 1, "priority", "五级", None, "unknown priority: reported; SLA uses the default level"),
    ("tickets", 14, 1, "first_contact_resolved", "Y", True, "yes/no variant: read as 是"),
    ("tickets", 15, 1, "transferred", "N", False, "yes/no variant: read as 否"),
    ("tickets", 16, 1, "first_contact_resolved", "×", False, "yes/no variant: read as 否"),
    ("tickets", 17, 1, "reopened", "TRUE", True, "yes/no variant: read as 是"),
    ("tickets", 18, 1, "note", "=SUM(1,1)", None, "formula-like text: stored and read as text, never run"),
    ("tickets", 20, 1, "ticket_id", "<duplicate>", None,
     "duplicate ticket id: an earlier incomplete copy (处理中) precedes the complete record; keep the last complete "
     "record, report the other"),
    ("feedback", 2, 2, "rating", "5星", 5.0, "rating with unit: repaired to 5"),
    ("feedback", 3, 2, "rating", "#N/A", None, "Excel error: dropped from rating metrics and reported"),
    ("feedback", 4, 2, "satisfied", "Y", True, "yes/no variant: read as 是"),
    ("feedback", 5, 2, "satisfied", "N", False, "yes/no variant: read as 否"),
    ("feedback", 6, 2, "nps", "９", 9.0, "full-width digit: repaired to 9"),
    ("feedback", 7, 2, "complaint", "×", False, "yes/no variant: read as 否"),
    ("calls", 2, 1, "wait_s", "2分", 120.0, "text with unit: repaired to 120 s"),
    ("calls", 3, 1, "wait_s", -5.0, None, "negative duration: dropped and reported"),
    ("calls", 4, 1, "answered", "√", True, "yes/no variant: read as 是"),
    ("calls", 5, 1, "answered", "×", False, "yes/no variant: read as 否 (abandoned)"),
    ("calls", 6, 1, "talk_s", "#N/A", None, "Excel error: dropped from AHT and reported"),
    ("calls", 7, 1, "ivr_selfserved", "Y", True, "yes/no variant: read as 是"),
    ("calls", 8, 1, "priority", "P1", 1, "priority variant: read as 一级"),
)


def _record_id(table: str, day: pd.Timestamp, seq: int) -> str:
    """Ticket ids are T+yyyymmdd+4-digit sequence of the day; call ids CL+…"""
    return f"{'CL' if table == 'calls' else 'T'}{day:%Y%m%d}{seq:04d}"


def dirty_rows(start=DEFAULT_START) -> list[DirtyRow]:
    """The dirty cells :func:`generate` plants for a period starting at ``start``."""
    first = pd.Timestamp(start).normalize()
    rows = []
    for table, offset, seq, column, value, _clean, expect in _DIRTY_SPEC:
        day = first + pd.Timedelta(days=offset)
        record = _record_id(table, day, seq)
        if value == "<date as text>":
            value = f"{day.year}/{day.month}/{day.day}"
        elif value == "<duplicate>":
            value = record
        rows.append(DirtyRow(table, record, column, value, expect))
    return rows


DIRTY_ROWS = dirty_rows()


# ------------------------------------------------------------------ arrivals

def _is_holiday(day: dt.date) -> bool:
    """Mainland statutory holiday (weekends are handled by WEEKDAY_FACTOR)."""
    import chinese_calendar  # a dependency: the demo must be the same on every install

    try:
        return chinese_calendar.is_holiday(day) and day.weekday() < 5
    except NotImplementedError:  # year outside the calendar's range
        return False


def arrival_rates(days: pd.DatetimeIndex, per_day: float) -> np.ndarray:
    """Expected arrivals per (day, hour): per_day × weekday factor × hour
    share, × PEAK_VOLUME on Wednesday afternoons, × HOLIDAY_FACTOR on holidays."""
    weekday = WEEKDAY_FACTOR[days.day_of_week][:, None]
    rates = per_day * weekday * HOUR_SHARE[None, :]
    peak = np.zeros((len(days), 24), bool)
    peak[np.ix_(days.day_of_week == PEAK_WEEKDAY, list(PEAK_HOURS))] = True
    rates = np.where(peak, rates * PEAK_VOLUME, rates)
    holiday = np.array([_is_holiday(d.date()) for d in days])
    return np.where(holiday[:, None], rates * HOLIDAY_FACTOR, rates)


def _arrivals(rng: np.random.Generator, start, months: int, per_day: float) -> pd.Series:
    """Sorted arrival moments (whole seconds) of a Poisson process with the
    weekday × hour rates of :func:`arrival_rates`."""
    first, end = _period(start, months)
    days = pd.date_range(first, end - pd.Timedelta(days=1), freq="D")
    counts = rng.poisson(arrival_rates(days, per_day)).ravel()
    slot_start = (days.values[:, None] + (np.arange(24) * 3600).astype("timedelta64[s]")[None, :]).ravel()
    moments = np.repeat(slot_start, counts) + rng.integers(0, 3600, counts.sum()).astype("timedelta64[s]")
    return pd.Series(np.sort(moments)).astype("datetime64[ns]")


def _in_peak(moments: pd.Series) -> np.ndarray:
    return ((moments.dt.day_of_week == PEAK_WEEKDAY) & moments.dt.hour.isin(list(PEAK_HOURS))).to_numpy()


def _daily_ids(table: str, moments: pd.Series) -> pd.Series:
    day = moments.dt.normalize()
    seq = day.groupby(day).cumcount() + 1
    prefix = "CL" if table == "calls" else "T"
    return prefix + day.dt.strftime("%Y%m%d") + seq.map("{:04d}".format)


def _pick(rng: np.random.Generator, shares: dict, n: int) -> np.ndarray:
    return rng.choice(np.array(list(shares), dtype=object), size=n, p=np.array(list(shares.values())))


# ------------------------------------------------------------------ tickets

def _minutes(values) -> pd.Series:
    return pd.to_timedelta(np.round(np.asarray(values, float) * 60), unit="s")


def _tickets(rng: np.random.Generator, start, months: int, volume: float = 1.0) -> pd.DataFrame:
    created = _arrivals(rng, start, months, TICKETS_PER_DAY * volume)
    n = len(created)
    agents = pd.DataFrame(AGENTS, columns=["agent_id", "agent_name", "team", "hire_date", "speed"])
    # newer agents take a smaller share of the queue
    weight = np.where(agents["speed"] > 1.2, 0.6, 1.0)
    who = rng.choice(len(agents), size=n, p=weight / weight.sum())
    t = pd.DataFrame({"created_at": created})
    t["date"] = created.dt.normalize()
    for col in ("agent_id", "agent_name", "team"):
        t[col] = agents[col].to_numpy()[who]
    t["hire_date"] = pd.to_datetime(agents["hire_date"]).to_numpy()[who]
    t["customer_id"] = ["U%05d" % i for i in rng.integers(1, N_CUSTOMERS + 1, n)]
    t["issue_type"] = _pick(rng, ISSUE_TYPES, n)
    module = rng.choice(np.array(MODULES, dtype=object), n)
    t["module"] = [ISSUE_MODULE.get(i, m) for i, m in zip(t["issue_type"], module)]
    t["channel"] = _pick(rng, CHANNELS, n)
    t["customer_type"] = _pick(rng, CUSTOMER_TYPES, n)
    level = rng.choice(4, size=n, p=PRIORITY_SHARE) + 1
    t["priority"] = np.array(LEVEL_NAMES, dtype=object)[level - 1]

    # first response: log-normal, modified by agent, VIP, priority, channel, rush and optimisation
    log_frt = np.log(FRT_MEDIAN_MIN) + FRT_SIGMA * rng.standard_normal(n)
    log_frt += np.log(agents["speed"].to_numpy()[who])
    log_frt += np.where(t["customer_type"] == "VIP", np.log(VIP_FACTOR), 0)
    log_frt += np.where(level == 1, np.log(0.7), 0)
    log_frt += np.where(t["channel"] == "邮件", np.log(2.5), 0)
    log_frt += np.where(_in_peak(created), np.log(PEAK_SLOWDOWN), 0)
    after = (created >= pd.Timestamp(optimisation_date(start, months))).to_numpy()
    log_frt += np.where(after, np.log(OPTIMISATION_EFFECT), 0)
    t["frt_min"] = np.maximum(np.round(np.exp(log_frt), 1), 0.1)

    # resolution: from first response; some tickets still open (more near the end)
    log_res = np.log(RESOLVE_MEDIAN_MIN) + RESOLVE_SIGMA * rng.standard_normal(n)
    log_res += np.log(t["issue_type"].map(RESOLVE_TYPE_FACTOR).fillna(1.0).to_numpy())
    log_res += np.where(level == 1, np.log(0.5), 0)
    _, end = _period(start, months)
    days_left = ((end - created).dt.total_seconds() / 86400).to_numpy()
    open_p = np.where(days_left < 3, 0.35, 0.03)
    is_open = rng.random(n) < open_p
    t["resolve_min"] = np.where(is_open, np.nan, np.maximum(np.round(np.exp(log_res), 1), 0.1))
    t["status"] = np.where(is_open, rng.choice(np.array(["处理中", "待确认"], dtype=object), n, p=[0.6, 0.4]),
                           rng.choice(np.array(["已解决", "已关闭"], dtype=object), n, p=[0.7, 0.3]))

    contacts = rng.choice([1, 2, 3], size=n, p=[0.78, 0.16, 0.06])
    transferred = rng.random(n) < 0.08
    reopened = (rng.random(n) < 0.04) & ~is_open
    fcr = (contacts == 1) & ~transferred & ~reopened
    t["contacts"] = contacts
    t["transferred"] = np.where(transferred, YES, NO)
    t["reopened"] = np.where(reopened, YES, NO)
    t["first_contact_resolved"] = np.where(is_open, None, np.where(fcr, YES, NO))

    deadline = pd.Series(level).map(DEFAULT_RESOLVE_DEADLINE_MIN).to_numpy()
    slow = (t["frt_min"].to_numpy() > 5) | (np.nan_to_num(t["resolve_min"].to_numpy(), nan=0) > deadline)
    cause = _pick(rng, CAUSES, n)
    t["note"] = np.where(slow & (rng.random(n) < 0.8), cause,
                         np.where((t["issue_type"] == "投诉") & (rng.random(n) < 0.2), "客户情绪激动", None))
    t["due_at"] = created + _minutes(deadline)
    t["ticket_id"] = _daily_ids("tickets", created)
    _set_times(t, t.index)
    return t


def _set_times(t: pd.DataFrame, idx) -> None:
    """first_response_at = created_at + frt_min; resolved_at = first_response_at + resolve_min."""
    t.loc[idx, "first_response_at"] = t.loc[idx, "created_at"] + _minutes(t.loc[idx, "frt_min"]).to_numpy()
    t.loc[idx, "resolved_at"] = t.loc[idx, "first_response_at"] + _minutes(t.loc[idx, "resolve_min"]).to_numpy()


def _plant_repeat_complaints(rng: np.random.Generator, t: pd.DataFrame) -> list[str]:
    """Give a few customers a second complaint within 7 days; returns their ticket ids."""
    complaints = t.index[t["issue_type"] == "投诉"].to_numpy()
    chosen = rng.choice(complaints[:-50], size=N_REPEAT_COMPLAINERS, replace=False)
    ids = []
    for first in chosen:
        created = t.at[first, "created_at"]
        later = t.index[(t["issue_type"] == "投诉") & (t["created_at"] > created + pd.Timedelta(days=1))
                        & (t["created_at"] < created + pd.Timedelta(days=6))]
        if len(later):
            second = later[0]
            t.at[second, "customer_id"] = t.at[first, "customer_id"]
            ids += [t.at[first, "ticket_id"], t.at[second, "ticket_id"]]
    return ids


# ------------------------------------------------------------------ feedback

def _feedback(rng: np.random.Generator, t: pd.DataFrame, forced: set[str], complainers: set[str]) -> pd.DataFrame:
    """Survey answers for ≈ 60 % of tickets (all of ``forced``); ratings fall
    as first response grows; ``complainers``' tickets carry a complaint."""
    resolved = t["resolve_min"].notna().to_numpy()
    forced = forced | complainers
    has = (rng.random(len(t)) < np.where(resolved, 0.64, 0.2)) | t["ticket_id"].isin(forced).to_numpy()
    f = t.loc[has, ["ticket_id", "customer_id", "created_at", "resolved_at", "frt_min", "issue_type"]].copy()
    n = len(f)
    when = f["resolved_at"].fillna(f["created_at"]) + pd.to_timedelta(rng.integers(0, 36, n), unit="h")
    f["date"] = when.dt.normalize()
    latent = (4.6 - 0.45 * np.maximum(f["frt_min"].to_numpy() - 2, 0) ** 0.8
              - np.where(f["issue_type"] == "投诉", 1.0, 0) + 0.7 * rng.standard_normal(n))
    rating = np.clip(np.round(latent), 1, 5)
    rated = (rng.random(n) > 0.08) | f["ticket_id"].isin(forced).to_numpy()
    f["rating"] = np.where(rated, rating, np.nan)
    satisfied = np.where(rating >= 4, YES, np.where(rating <= 2, NO, np.where(rng.random(n) < 0.4, YES, NO)))
    f["satisfied"] = np.where(rated, satisfied, NOT_RATED)
    nps = np.clip(np.round(2 * rating - 0.5 + 1.2 * rng.standard_normal(n)), 0, 10)
    f["nps"] = np.where(rated & (rng.random(n) > 0.15), nps, np.nan)
    f["attitude"] = np.where(rated, np.clip(np.round(rating + 0.6 * rng.standard_normal(n)), 1, 5), np.nan)
    complaint = ((f["issue_type"] == "投诉").to_numpy() & (rating <= 3)) | ((rating <= 2) & (rng.random(n) < 0.3))
    complaint |= f["ticket_id"].isin(complainers).to_numpy()
    f["complaint"] = np.where(complaint, YES, NO)
    f["repeat_7d"] = repeat_counts(f["customer_id"], f["date"], complaint)
    return f[["ticket_id", "customer_id", "date", "rating", "satisfied", "nps", "attitude", "complaint", "repeat_7d"]]


def comments(rng: np.random.Generator, t: pd.DataFrame, f: pd.DataFrame) -> np.ndarray:
    """评价内容 of each survey answer: most low ratings of a ticket with a cause note say what went
    wrong in the words of that cause (排队 → 流程, 系统 → 工具, 态度 → 人员), some blame the agent;
    some good ratings praise; the rest leave the comment blank."""
    note = f["ticket_id"].map(t.drop_duplicates("ticket_id", keep="last").set_index("ticket_id")["note"])
    rating = pd.to_numeric(f["rating"], errors="coerce").to_numpy()
    n = len(f)
    draw, pick = rng.random(n), rng.integers(0, 6, n)
    out = np.full(n, None, dtype=object)
    for i, (cause, r) in enumerate(zip(note, rating)):
        if r <= 3 and cause in CAUSE_COMMENTS and draw[i] < 0.75:
            texts = PEOPLE_COMMENTS if draw[i] < 0.1 else CAUSE_COMMENTS[cause]
            out[i] = texts[pick[i] % len(texts)]
        elif r <= 2 and draw[i] < 0.3:
            out[i] = PEOPLE_COMMENTS[pick[i] % len(PEOPLE_COMMENTS)]
        elif r >= 4 and draw[i] < 0.2:
            out[i] = PRAISE_COMMENTS[pick[i] % len(PRAISE_COMMENTS)]
    return out


def repeat_counts(customers: pd.Series, dates: pd.Series, complaint: np.ndarray, days: int = 7) -> np.ndarray:
    """For each complaint: other complaints of the same customer within ± ``days``; 0 for non-complaints."""
    frame = pd.DataFrame({"c": customers.to_numpy(), "d": dates.to_numpy(), "pos": np.arange(len(customers))})
    frame = frame[complaint]
    pairs = frame.merge(frame, on="c")
    near = (pairs["pos_x"] != pairs["pos_y"]) & ((pairs["d_x"] - pairs["d_y"]).abs() <= pd.Timedelta(days=days))
    counts = pairs[near].groupby("pos_x").size()
    out = np.zeros(len(customers), dtype=int)
    out[counts.index.to_numpy()] = counts.to_numpy()
    return out


# ------------------------------------------------------------------ calls

def _calls(rng: np.random.Generator, start, months: int, volume: float = 1.0) -> pd.DataFrame:
    begin = _arrivals(rng, start, months, CALLS_PER_DAY * volume)
    n = len(begin)
    c = pd.DataFrame({"call_id": _daily_ids("calls", begin), "start": begin})
    ivr = rng.random(n) < 0.60
    mean_wait = np.where(_in_peak(begin), 35.0 * 2.5, 35.0)
    mean_wait = np.where((begin >= pd.Timestamp(optimisation_date(start, months))).to_numpy(), mean_wait * 0.8, mean_wait)
    wait = rng.exponential(mean_wait)
    patience = rng.exponential(300.0, n)
    answered = ~ivr & (wait <= patience)
    abandoned = ~ivr & ~answered
    c["wait_s"] = np.where(ivr, np.nan, np.round(np.where(answered, wait, patience)))
    c["answered"] = np.where(answered, YES, NO)
    talk = np.round(np.exp(np.log(210) + 0.5 * rng.standard_normal(n)))
    hold = np.where(rng.random(n) < 0.3, np.round(rng.exponential(40, n)), 0.0)
    wrap = np.round(20 + rng.exponential(30, n))
    c["talk_s"] = np.where(answered, talk, np.nan)
    c["hold_s"] = np.where(answered, hold, np.nan)
    c["wrap_s"] = np.where(answered, wrap, np.nan)
    ids = np.array([a[0] for a in AGENTS], dtype=object)
    c["agent_id"] = np.where(answered, rng.choice(ids, n), None)
    c["priority"] = np.array(LEVEL_NAMES, dtype=object)[rng.choice(4, size=n, p=PRIORITY_SHARE)]
    c["ivr_selfserved"] = np.where(ivr, YES, NO)
    c["outcome"] = np.where(ivr, "IVR", np.where(abandoned, "HANG", "AGENT"))
    return c


def _call_state(column: str, clean) -> str:
    """The call state a dirty cell needs: IVR-served for the IVR flag, abandoned
    for 'not answered', answered otherwise (so wait/talk cells make sense)."""
    if column == "ivr_selfserved":
        return "ivr"
    return "abandoned" if column == "answered" and clean is False else "answered"


def _force_call(c: pd.DataFrame, i, state: str, wait: float = 40.0) -> None:
    """Make call ``i`` answered / abandoned / IVR-served (consistent columns)."""
    c.loc[i, ["ivr_selfserved", "answered", "outcome"]] = {
        "answered": [NO, YES, "AGENT"], "abandoned": [NO, NO, "HANG"], "ivr": [YES, NO, "IVR"]}[state]
    c.loc[i, "wait_s"] = np.nan if state == "ivr" else wait
    for col, value in (("talk_s", 180.0), ("hold_s", 0.0), ("wrap_s", 45.0)):
        c.loc[i, col] = value if state == "answered" else np.nan
    c.loc[i, "agent_id"] = AGENTS[0][0] if state == "answered" else None


# ------------------------------------------------------------------ dirty cells

def _plant_dirty(t: pd.DataFrame, f: pd.DataFrame, c: pd.DataFrame, start) -> pd.DataFrame:
    """Write the cells of :func:`dirty_rows` into the frames (first forcing the
    clean record the dirty text stands for); returns tickets with the duplicate."""
    frames = {"tickets": t, "feedback": f, "calls": c}
    id_col = {"tickets": "ticket_id", "feedback": "ticket_id", "calls": "call_id"}
    duplicate = None
    for row, spec in zip(dirty_rows(start), _DIRTY_SPEC):
        frame = frames[row.table]
        hits = frame.index[frame[id_col[row.table]] == row.record_id]
        if not len(hits):
            raise RuntimeError(f"sample: record {row.record_id} for a dirty cell is missing")
        i, clean = hits[0], spec[5]
        if frame[row.column].dtype != object:
            frame[row.column] = frame[row.column].astype(object)
        if row.table == "tickets":
            _force_ticket(t, i, row.column, clean)
        elif row.table == "calls" and row.column != "priority":
            _force_call(c, i, _call_state(row.column, clean), clean if row.column == "wait_s" and clean else 40.0)
        if row.column == "ticket_id":
            duplicate = i
            continue
        frame.at[i, row.column] = row.value
    if duplicate is not None:  # an earlier, incomplete copy of the record
        copy = t.loc[[duplicate]].copy()
        copy[["resolve_min", "resolved_at", "first_contact_resolved"]] = [np.nan, pd.NaT, None]
        copy["status"] = "处理中"
        t = pd.concat([t.loc[:duplicate - 1], copy, t.loc[duplicate:]], ignore_index=True)
    return t


def _force_ticket(t: pd.DataFrame, i, column: str, clean) -> None:
    """Resolve ticket ``i`` and set the clean minute value the dirty text stands for."""
    if pd.isna(t.at[i, "resolve_min"]):
        t.at[i, "resolve_min"] = 20.0
        t.at[i, "status"] = "已解决"
        t.at[i, "first_contact_resolved"] = YES
    if column in ("frt_min", "resolve_min") and clean is not None:
        t.at[i, column] = clean
    _set_times(t, [i])


# ------------------------------------------------------------------ public API

TICKET_COLUMNS = ("date", "agent_id", "agent_name", "customer_id", "issue_type", "frt_min", "resolve_min", "note",
                  "ticket_id", "team", "channel", "customer_type", "module", "priority", "status",
                  "first_contact_resolved", "contacts", "transferred", "reopened", "hire_date", "created_at",
                  "first_response_at", "resolved_at", "due_at", "replies", "response_avg_min")
# replies / response_avg_min come from message-level exports only: the demo's typed tickets leave them blank


def generate(seed: int = 7, start=DEFAULT_START, months: int = DEFAULT_MONTHS,
             volume: float = 1.0) -> dict[str, pd.DataFrame]:
    """Demo records: {"tickets", "feedback", "calls"} → frames whose columns
    are schema keys, including the dirty cells of :func:`dirty_rows`.  ``volume`` scales the
    arrivals per day (a benchmark's 100,000 tickets in one realistic year rather than four)."""
    rng = np.random.default_rng(seed)
    tickets = _tickets(rng, start, months, volume)
    repeaters = _plant_repeat_complaints(rng, tickets)
    feedback_ids = {r.record_id for r in dirty_rows(start) if r.table == "feedback"}
    for r in dirty_rows(start):  # tickets carrying dirty feedback must be resolved first
        if r.table == "feedback":
            _force_ticket(tickets, tickets.index[tickets["ticket_id"] == r.record_id][0], "", None)
    feedback = _feedback(rng, tickets, feedback_ids, set(repeaters))
    calls = _calls(rng, start, months, volume)
    feedback = feedback.reset_index(drop=True)
    # comments from a generator of their own: the records drawn above stay those of the seed
    feedback["comment"] = comments(np.random.default_rng([seed, 12]), tickets, feedback)
    tickets = _plant_dirty(tickets, feedback, calls, start)
    return {"tickets": tickets.reindex(columns=list(TICKET_COLUMNS)), "feedback": feedback, "calls": calls}


def write_demo_inputs(path, seed: int = 7, lang: str = "zh") -> Path:
    """The standard template filled with :func:`generate` (inputs only; the
    summary sheets are added by a refresh)."""
    from .input_stream import save_filled
    from .template import build_template

    settings = Settings(lang=lang, changes=demo_changes(lang))  # 参数 as shipped, plus the demo's 优化记录
    save_filled(build_template(lang, settings), generate(seed), Path(path), lang)  # records streamed, not cell by cell
    return Path(path)
