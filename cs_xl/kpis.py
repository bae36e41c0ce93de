"""Data set + settings → KPI numbers: the whole period, per group, per period.

This module only *selects* the columns each metric needs and hands them to
:mod:`cs_xl.metrics`; it does no metric arithmetic of its own.  A metric whose
sheet or column is missing is ``nan`` (JSON ``null``), never 0.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from . import metrics, periods
from .coerce import norm_text, priority as parse_priority
from .dataset import ROW, DataSet
from .settings import Settings

KPI_KEYS: tuple[str, ...] = tuple(metrics.CATALOGUE)

PERIODS = ("day", "week", "month", "weekday", "hour")
# groupings that reach calls through the agent who answered them
AGENT_KEYS = ("agent_id", "agent_name", "team", "hire_date")
# call metrics of the queue as a whole: undefined per agent (abandoned calls have no agent)
QUEUE_KEYS = ("queued", "answer_rate", "abandon_rate", "avg_wait", "service_level", "ivr_rate",
              "peak_queue", "agents_needed")
# scope filters of the 参数 sheet: settings field -> ticket column
SCOPE_FIELDS = {
    "teams": "team", "channels": "channel", "customer_types": "customer_type",
    "issue_types": "issue_type", "modules": "module",
}
_AVG_MONTH_DAYS = 365.25 / 12


def _col(frame: pd.DataFrame | None, key: str):
    """The column if the frame has it, else None (metric functions treat None as absent)."""
    if frame is None or key not in frame.columns:
        return None
    return frame[key]


def ticket_kpis(t: pd.DataFrame | None, s: Settings) -> dict[str, float]:
    out = dict.fromkeys(("volume", "frt_rate", "frt_avg", "frt_median", "frt_p90", "resolve_avg",
                         "resolve_median", "resolve_p90", "handle_avg", "sla_rate", "resolution_rate",
                         "ontime_rate", "backlog", "fcr_rate"), np.nan)
    if t is None:
        return out
    ids = _col(t, "ticket_id")
    out["volume"] = metrics.volume(ids) if ids is not None else float(len(t))
    frt, resolve = _col(t, "frt_min"), _col(t, "resolve_min")
    prio, status = _col(t, "priority"), _col(t, "status")
    if frt is not None:
        out["frt_rate"] = metrics.frt_rate(frt, s.frt_threshold_min)
        out["frt_avg"], out["frt_median"], out["frt_p90"] = (
            metrics.frt_avg(frt), metrics.frt_median(frt), metrics.frt_p90(frt))
        out["sla_rate"] = metrics.sla_rate(frt, prio, s.sla_min, s.default_priority)
    if resolve is not None:
        out["resolve_avg"], out["resolve_median"], out["resolve_p90"] = (
            metrics.resolve_avg(resolve), metrics.resolve_median(resolve), metrics.resolve_p90(resolve))
        out["ontime_rate"] = metrics.ontime_rate(resolve, prio, s.resolve_deadline_min, status,
                                                 s.default_priority)
        if frt is not None:
            out["handle_avg"] = metrics.handle_avg(frt, resolve)
    if status is not None or resolve is not None:
        out["resolution_rate"] = metrics.resolution_rate(status, resolve)
        out["backlog"] = metrics.backlog(status, resolve)
    flag, contacts = _col(t, "first_contact_resolved"), _col(t, "contacts")
    if flag is not None or contacts is not None:
        out["fcr_rate"] = metrics.fcr_rate(flag, contacts, _col(t, "transferred"), _col(t, "reopened"),
                                           status, resolve)
    return out


def feedback_kpis(f: pd.DataFrame | None, s: Settings, volume: float) -> dict[str, float]:
    out = dict.fromkeys(("csat_avg", "csat_rate", "satisfied_rate", "survey_rate", "nps", "attitude_avg",
                         "complaint_rate", "repeat_complaint_rate"), np.nan)
    if f is None:
        return out
    rating = _col(f, "rating")
    if rating is not None:
        out["csat_avg"], out["csat_rate"] = metrics.csat_avg(rating), metrics.csat_rate(rating)
        if not np.isnan(volume):  # without a ticket sheet there is nothing to be surveyed against
            out["survey_rate"] = metrics.survey_rate(rating, volume)
    if np.isnan(volume):  # feedback-only books: complaints per feedback record
        volume = float(len(f))
    if (sat := _col(f, "satisfied")) is not None:
        out["satisfied_rate"] = metrics.satisfied_rate(sat)
    if (score := _col(f, "nps")) is not None:
        out["nps"] = metrics.nps(score)
    if (att := _col(f, "attitude")) is not None:
        out["attitude_avg"] = metrics.attitude_avg(att)
    complaint = _col(f, "complaint")
    if complaint is not None:
        out["complaint_rate"] = metrics.complaint_rate(complaint, volume)
    customer, repeat = _col(f, "customer_id"), _col(f, "repeat_7d")
    if customer is not None and (complaint is not None or repeat is not None):
        out["repeat_complaint_rate"] = metrics.repeat_complaint_rate(
            customer, _col(f, "date"), complaint, repeat, s.repeat_days)
    return out


def call_kpis(c: pd.DataFrame | None, s: Settings) -> dict[str, float]:
    out = dict.fromkeys(("offered", "queued", "answer_rate", "abandon_rate", "asa", "avg_wait",
                         "service_level", "aht", "ivr_rate", "peak_queue", "agents_needed"), np.nan)
    if c is None:
        return out
    ivr, answered, wait = _col(c, "ivr_selfserved"), _col(c, "answered"), _col(c, "wait_s")
    out["offered"] = metrics.offered(c[ROW])  # every call record counts, whatever its cells hold
    out["queued"] = metrics.queued(ivr) if ivr is not None else out["offered"]
    if ivr is not None:
        out["ivr_rate"] = metrics.ivr_rate(ivr)
    if wait is not None:
        out["avg_wait"] = metrics.avg_wait(wait, ivr)
        if "start" in c.columns:
            out["peak_queue"] = metrics.peak_queue(c["start"], wait, ivr)
    if answered is not None:
        out["answer_rate"] = metrics.answer_rate(answered, ivr)
        out["abandon_rate"] = metrics.abandon_rate(answered, wait, ivr, s.short_abandon_s)
        if wait is not None:
            out["asa"] = metrics.asa(wait, answered)
            out["service_level"] = metrics.service_level(wait, answered, s.service_level_s, ivr)
        if (talk := _col(c, "talk_s")) is not None:
            out["aht"] = metrics.aht(talk, _col(c, "hold_s"), _col(c, "wrap_s"), answered)
    rate = peak_hourly_arrivals(c)
    if not np.isnan(rate) and not np.isnan(out["aht"]):
        out["agents_needed"] = metrics.agents_needed(rate, out["aht"], s.target_service_level,
                                                     s.service_level_s)
    return out


def peak_hourly_arrivals(c: pd.DataFrame) -> float:
    """Calls per hour in the busiest weekday × hour slot, averaged over the
    days that slot occurred (the slot staffing must cover)."""
    per_slot = slot_arrivals(c)
    return float(per_slot.max()) if len(per_slot) else np.nan


def slot_arrivals(c: pd.DataFrame | None) -> pd.Series:
    """Mean queued calls per hour of each weekday (0 = Monday) × hour slot that had calls:
    calls in the slot / number of days of that weekday with any call.  Empty without call starts."""
    empty = pd.Series(dtype=float, index=pd.MultiIndex.from_tuples([], names=["weekday", "hour"]))
    if c is None or "start" not in c.columns:
        return empty
    start = c["start"].dropna()
    if "ivr_selfserved" in c.columns:  # only calls that asked for an agent need one
        start = start[~c.loc[start.index, "ivr_selfserved"].fillna(False).astype(bool)]
    if start.empty:
        return empty
    per_day_hour = start.groupby([start.dt.normalize(), start.dt.hour]).size()
    days = per_day_hour.index.get_level_values(0)
    per_slot = per_day_hour.groupby([days.day_of_week, per_day_hour.index.get_level_values(1)]).sum()
    days_per_weekday = pd.Series(start.dt.normalize().unique()).dt.day_of_week.value_counts()
    mean_per_slot = per_slot / days_per_weekday.reindex(per_slot.index.get_level_values(0)).to_numpy()
    mean_per_slot.index.names = ["weekday", "hour"]
    return mean_per_slot.astype(float)


def headline(ds: DataSet, settings: Settings | None = None) -> dict[str, float]:
    """Every KPI of the data set; ``nan`` where undefined or where the data lacks the sheet/column."""
    s = settings or Settings()
    out = ticket_kpis(ds.tickets, s)
    out.update(feedback_kpis(ds.feedback, s, out["volume"]))
    out.update(call_kpis(ds.calls, s))
    return {k: out[k] for k in KPI_KEYS}


# ---------------------------------------------------------------- groups

def _period_labels(when: pd.Series, by: str) -> pd.Series:
    if by in periods.GRAINS:  # day / ISO week / month labels are written and read back in one module
        return periods.labels(when, by)
    if by == "weekday":
        return when.dt.day_of_week.astype("Int64")
    return when.dt.hour.astype("Int64")


def record_moment(frame: pd.DataFrame, table: str) -> pd.Series | None:
    """When each record happened, for day / week / month / weekday and the period filter.

    A ticket's moment is its 创建时间 where that cell is filled, else its 日期:
    the template's 创建时间 is optional and a book typed by hand leaves it blank,
    so preferring the *column* would put every such ticket nowhere.  Feedback
    has its 日期, calls their 呼入时间.  None when the table has neither."""
    if table == "calls":
        return frame["start"] if "start" in frame.columns else None
    date = frame["date"] if "date" in frame.columns else None
    created = frame["created_at"] if table == "tickets" and "created_at" in frame.columns else None
    if created is None or date is None:
        return created if date is None else date
    return created.where(created.notna(), date)


def time_of_day(frame: pd.DataFrame, table: str) -> pd.Series | None:
    """The timestamps that carry an hour: tickets' 创建时间, calls' 呼入时间 (a 日期 has no hour)."""
    col = {"tickets": "created_at", "calls": "start"}.get(table)
    return frame[col] if col in frame.columns else None


def untimed_records(ds: DataSet) -> dict[str, int]:
    """Per table that hour-of-day views count (tickets, calls): records without a time of day,
    left out of those views (counting them at hour 0 would invent a midnight peak)."""
    out = {}
    for table in ("tickets", "calls"):
        frame = ds.table(table)
        if frame is not None:
            when = time_of_day(frame, table)
            out[table] = len(frame) if when is None else int(when.isna().sum())
    return out


def _when(frame: pd.DataFrame, table: str, by: str) -> pd.Series | None:
    """The timestamp a table is grouped by for a period key (hours need a time of day)."""
    return time_of_day(frame, table) if by == "hour" else record_moment(frame, table)


def group_labels(ds: DataSet, by: str) -> dict[str, pd.Series | None]:
    """The group label of every row of each table (None: the table can't be grouped by `by`)."""
    labels: dict[str, pd.Series | None] = {}
    for table in ("tickets", "feedback", "calls"):
        frame = ds.table(table)
        if frame is None:
            labels[table] = None
        elif by in PERIODS:
            when = _when(frame, table, by)
            labels[table] = None if when is None else _period_labels(when, by)
        elif by in frame.columns and (table != "feedback" or by in ("customer_id", "ticket_id")):
            labels[table] = frame[by]
        else:
            labels[table] = None
    t = ds.tickets
    if (labels["feedback"] is None and ds.feedback is not None and t is not None and by in t.columns
            and "ticket_id" in t.columns and "ticket_id" in ds.feedback.columns):
        # feedback has no group column of its own: it belongs to its ticket's group
        lookup = t.dropna(subset=["ticket_id"]).drop_duplicates("ticket_id", keep="last").set_index("ticket_id")[by]
        labels["feedback"] = ds.feedback["ticket_id"].map(lookup)
    if labels["calls"] is None and ds.calls is not None and by not in PERIODS and t is not None \
            and by in t.columns and "agent_id" in t.columns and "agent_id" in ds.calls.columns:
        # agent attributes (team, name) reach calls through the agent id, when each agent has one value
        per_agent = t.dropna(subset=["agent_id", by]).groupby("agent_id")[by].agg(
            lambda v: v.iloc[0] if v.nunique() == 1 else None)
        labels["calls"] = ds.calls["agent_id"].map(per_agent.dropna())
    return labels


def has_column(ds: DataSet, key: str) -> bool:
    return key in PERIODS or any(
        f is not None and key in f.columns for f in (ds.tickets, ds.feedback, ds.calls))


def grouped(ds: DataSet, settings: Settings | None, by: str) -> pd.DataFrame:
    """KPIs per value of `by` (a column key or a period): one row per group, columns KPI_KEYS."""
    if not has_column(ds, by):
        raise KeyError(by)
    labels = group_labels(ds, by)
    values = sorted({v for lab in labels.values() if lab is not None for v in lab.dropna().unique()},
                    key=lambda v: (str(type(v)), v))
    rows = {}
    for value in values:
        part = replace(ds, **{table: (None if lab is None else ds.table(table)[lab.eq(value).fillna(False).to_numpy()])
                               for table, lab in labels.items()})
        rows[value] = headline(part, settings)
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(KPI_KEYS))
    if by in AGENT_KEYS:
        # only answered calls carry an agent: queue-level rates per agent would read 100 %
        frame[list(QUEUE_KEYS)] = np.nan
    frame.index.name = by
    return frame


def load_matrix(ds: DataSet) -> pd.DataFrame:
    """Arrivals per weekday (0 = Monday) × hour (0–23): tickets by created_at plus calls by start."""
    stamps = [when.dropna() for table in ("tickets", "calls")
              if (frame := ds.table(table)) is not None and (when := time_of_day(frame, table)) is not None]
    matrix = pd.DataFrame(0, index=pd.RangeIndex(7, name="weekday"), columns=pd.RangeIndex(24, name="hour"))
    if stamps:
        when = pd.concat(stamps)
        counts = when.groupby([when.dt.day_of_week, when.dt.hour]).size()
        for (wd, hr), n in counts.items():
            matrix.loc[wd, hr] = n
    return matrix


# ---------------------------------------------------------------- scope

def _matches(series: pd.Series, wanted, key: str) -> pd.Series:
    if key == "priority":
        levels = {parse_priority(w)[0] for w in wanted}
        return series.isin([lv for lv in levels if lv is not None]).fillna(False)
    norm = {norm_text(w).casefold() for w in wanted}
    return series.map(lambda v: v is not None and not pd.isna(v) and norm_text(v).casefold() in norm)


def _period_mask(when: pd.Series, start, end) -> pd.Series:
    mask = pd.Series(True, index=when.index)
    if start is not None:
        mask &= when >= pd.Timestamp(start)
    if end is not None:
        mask &= when < pd.Timestamp(end) + pd.Timedelta(days=1)
    return mask.fillna(False)


def _tenure_agents(t: pd.DataFrame, months: float, reference) -> set:
    hired = t.dropna(subset=["agent_id", "hire_date"]).groupby("agent_id")["hire_date"].min()
    tenure_months = (pd.Timestamp(reference) - hired).dt.days / _AVG_MONTH_DAYS
    return set(tenure_months[tenure_months >= months].index)


def apply_scope(ds: DataSet, settings: Settings | None = None, where: dict | None = None) -> DataSet:
    """Keep the records inside the period and scope of the settings and `where` (key -> allowed values)."""
    s = settings or Settings()
    filters = {col: list(getattr(s, field)) for field, col in SCOPE_FIELDS.items() if getattr(s, field)}
    for key, wanted in (where or {}).items():
        filters[key] = list(wanted)
    frames = {"tickets": ds.tickets, "feedback": ds.feedback, "calls": ds.calls}
    masks = {k: (None if f is None else pd.Series(True, index=f.index)) for k, f in frames.items()}
    for table, f in frames.items():
        when = None if f is None else record_moment(f, table)
        if when is not None and (s.period_start or s.period_end):
            masks[table] &= _period_mask(when, s.period_start, s.period_end)
    for key, wanted in filters.items():
        for table, f in frames.items():
            if f is not None and key in f.columns:
                masks[table] &= _matches(f[key], wanted, key)
    t = ds.tickets
    if s.min_tenure_months and t is not None and {"agent_id", "hire_date"} <= set(t.columns):
        reference = s.period_end or (t["date"].max() if "date" in t.columns else pd.Timestamp.today())
        keep = _tenure_agents(t, s.min_tenure_months, reference)
        for table, f in frames.items():
            if f is not None and "agent_id" in f.columns:
                masks[table] &= f["agent_id"].isin(keep)
    if t is not None and ds.feedback is not None and "ticket_id" in t.columns \
            and "ticket_id" in ds.feedback.columns and not masks["tickets"].all():
        # feedback follows its ticket: out-of-scope tickets take their feedback with them
        kept_ids = set(t.loc[masks["tickets"], "ticket_id"].dropna())
        has_ticket = ds.feedback["ticket_id"].isin(set(t["ticket_id"].dropna()))
        masks["feedback"] &= ~has_ticket | ds.feedback["ticket_id"].isin(kept_ids)
    return replace(ds, **{k: (None if f is None else f[masks[k].to_numpy()]) for k, f in frames.items()})
