"""Agents needed per weekday × hour: Erlang C on each slot's mean queued calls per hour."""
from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from .. import kpis, metrics
from ..settings import Settings
from ..values import plain
from .findings import Finding

WEEKDAYS, HOURS = 7, 24


def staffing_matrix(arrivals: pd.Series, settings: Settings, aht_s) -> list[list]:
    """Agents needed per weekday (rows, 0 = Monday) × hour (columns 0–23): Erlang C
    (:func:`cs_xl.metrics.agents_needed`) on the slot's mean queued calls per hour
    (``arrivals``, from :func:`cs_xl.kpis.slot_arrivals`) and the period's AHT, to answer
    ``target_service_level`` of calls within ``service_level_s``.  None where the slot had no calls."""
    matrix: list[list] = [[None] * HOURS for _ in range(WEEKDAYS)]
    for (weekday, hour), rate in arrivals.items():
        matrix[int(weekday)][int(hour)] = plain(metrics.agents_needed(
            rate, aht_s, settings.target_service_level, settings.service_level_s))
    return matrix


def agents_needed_by_slot(calls: pd.DataFrame | None, settings: Settings, aht_s) -> list[list] | None:
    """The staffing matrix of a call table, or None without a positive AHT or any queued call."""
    return matrix_of_arrivals(kpis.slot_arrivals(calls), settings, aht_s)


def matrix_of_arrivals(arrivals: pd.Series, settings: Settings, aht_s) -> list[list] | None:
    """:func:`staffing_matrix`, or None without a positive AHT or any queued call."""
    aht_s = plain(aht_s)
    if aht_s is None or not aht_s > 0:
        return None
    if not arrivals.size:
        return None
    return staffing_matrix(arrivals, settings, aht_s)


# ---------------------------------------------------------------- 人力建议: needed against working

@dataclass(frozen=True)
class Slot:
    """One weekday × hour of the staffing plan (means over the days of that weekday with calls)."""
    weekday: int                 # 0 = Monday
    hour: int
    arrivals: float              # queued calls per hour
    aht: float | None            # seconds: the slot's answered calls, else the period's
    needed: int | None           # Erlang C agents for the service-level target
    working: float | None        # distinct agents answering calls in the slot (None: calls carry no agent)
    gap: float | None            # needed − working


@dataclass(frozen=True)
class Advice:
    """A run of adjacent hours on one weekday short of agents: add ``extra`` from
    ``first_hour``:00 to ``end_hour``:00 (周三 14:00–17:00 需增派 1 名客服)."""
    weekday: int
    first_hour: int
    end_hour: int                # exclusive
    extra: int                   # ⌈largest gap of the run⌉
    gap_total: float             # sum of the run's gaps (how much the advice matters)
    needed: int                  # the largest need of the run
    working: float               # agents working in that hour


def _queued_calls(calls: pd.DataFrame) -> pd.DataFrame:
    """Calls that reached the queue (not IVR self-served) with a start time."""
    keep = calls["start"].notna()
    if "ivr_selfserved" in calls.columns:
        keep &= ~calls["ivr_selfserved"].fillna(False).astype(bool)
    return calls[keep]


def _slot_of(start: pd.Series) -> pd.MultiIndex:
    return pd.MultiIndex.from_arrays([start.dt.day_of_week, start.dt.hour], names=["weekday", "hour"])


def slot_aht(calls: pd.DataFrame) -> pd.Series:
    """Mean handling time (talk + hold + wrap, :func:`cs_xl.metrics.aht`) of each slot's answered calls."""
    if "talk_s" not in calls.columns:
        return pd.Series(dtype=float)
    # each column coerced once for every call, then cut per slot (168 slots coercing their own
    # cells cost seconds at 100k calls); coercion is cell by cell, so the values are the same
    whole = {k: metrics.Column(calls[k]) for k in ("talk_s", "hold_s", "wrap_s", "answered") if k in calls.columns}
    slots = calls.groupby(_slot_of(calls["start"])).indices
    out = {}
    for slot in sorted(s for s in slots if not pd.isna(s[0]) and not pd.isna(s[1])):
        col = lambda k: whole[k].take(slots[slot]) if k in whole else None  # noqa: E731
        out[slot] = metrics.aht(col("talk_s"), col("hold_s"), col("wrap_s"), col("answered"))
    return pd.Series(out, dtype=float)


def slot_working(calls: pd.DataFrame) -> pd.Series:
    """Distinct agents answering calls in each slot: per weekday × hour, the sum over days of
    that day-hour's distinct agents / the days of that weekday with any queued call (the same
    days :func:`cs_xl.metrics.slot_arrivals` averages over)."""
    days = calls["start"].dt.normalize()
    days_per_weekday = days.drop_duplicates().dt.day_of_week.value_counts()
    handled = calls[calls["agent_id"].notna()]
    frame = pd.DataFrame({"day": handled["start"].dt.normalize(), "hour": handled["start"].dt.hour,
                          "agent": handled["agent_id"]})
    per_hour = frame.groupby(["day", "hour"])["agent"].nunique().reset_index()
    per_hour["weekday"] = per_hour["day"].dt.day_of_week
    totals = per_hour.groupby(["weekday", "hour"])["agent"].sum()
    return totals / days_per_weekday.reindex(totals.index.get_level_values(0)).to_numpy()


def slot_plan(calls: pd.DataFrame | None, settings: Settings, period_aht) -> list[Slot]:
    """Every weekday × hour with queued calls, in weekday then hour order: arrivals, AHT,
    agents needed (Erlang C, :func:`cs_xl.metrics.agents_needed`), agents working, gap."""
    if calls is None or "start" not in calls.columns:
        return []
    queued = _queued_calls(calls)
    working = slot_working(queued) if "agent_id" in queued.columns else None
    return plan_of_slots(kpis.slot_arrivals(calls), slot_aht(queued), working, settings, period_aht)


def plan_of_slots(arrivals: pd.Series, ahts: pd.Series, working: pd.Series | None, settings: Settings,
                  period_aht) -> list[Slot]:
    """The plan from per-slot series (weekday, hour → value), from records or from SQL aggregates:
    arrivals per hour, the slot's AHT (else the period's), agents working (None: calls carry no agent)."""
    period_aht = plain(period_aht)
    plan = []
    for (weekday, hour), rate in arrivals.items():
        aht = plain(ahts.get((weekday, hour))) or period_aht
        needed = plain(metrics.agents_needed(rate, aht, settings.target_service_level, settings.service_level_s)) \
            if aht else None
        have = None if working is None else float(working.get((weekday, hour), 0.0))
        gap = None if needed is None or have is None else needed - have
        plan.append(Slot(int(weekday), int(hour), float(rate), aht,
                         None if needed is None else int(needed), have, gap))
    return plan


def advice(plan: list[Slot], settings: Settings) -> list[Advice]:
    """Runs of adjacent hours (same weekday) whose gap ≥ ``staffing_gap_min`` and whose calls reach
    ``staffing_min_calls`` per hour (one stray night call is no case for a shift), largest total
    gap first: where and when to add agents."""
    short = sorted((s for s in plan if s.gap is not None and s.gap >= settings.staffing_gap_min
                    and s.arrivals >= settings.staffing_min_calls),
                   key=lambda s: (s.weekday, s.hour))
    runs: list[list[Slot]] = []
    for slot in short:
        if runs and runs[-1][-1].weekday == slot.weekday and runs[-1][-1].hour == slot.hour - 1:
            runs[-1].append(slot)
        else:
            runs.append([slot])
    out = []
    for run in runs:
        worst = max(run, key=lambda s: s.gap)
        out.append(Advice(run[0].weekday, run[0].hour, run[-1].hour + 1, math.ceil(worst.gap - 1e-9),
                          sum(s.gap for s in run), worst.needed, worst.working))
    return sorted(out, key=lambda a: -a.gap_total)


def staffing_plan(calls: pd.DataFrame | None, settings: Settings, period_aht) -> dict:
    """人力建议 as one plain result: every slot, and the advice drawn from them."""
    return plan_result(slot_plan(calls, settings, period_aht), settings)


def plan_result(plan: list[Slot], settings: Settings) -> dict:
    return {"plan": plan, "advice": advice(plan, settings)}


def findings(result: dict, settings: Settings) -> list[Finding]:
    """One finding per advice of :func:`staffing_plan` (人力建议); none without a gap."""
    advised = result["advice"]
    if not advised:
        return []
    largest = max(a.gap_total for a in advised)
    return [Finding("staffing_gap", {"weekday": a.weekday, "first_hour": a.first_hour, "end_hour": a.end_hour,
                                     "extra": a.extra, "needed": a.needed, "working": round(a.working, 1),
                                     "sl": settings.target_service_level, "secs": settings.service_level_s},
                    sheet="staffing", weight=0.55 + 0.35 * a.gap_total / largest, kind="advice")
            for a in advised]
