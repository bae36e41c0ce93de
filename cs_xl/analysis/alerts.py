"""Seed 001's alert rules: 当「平均等待时长超过目标值20%」或「排队人数超过50人」时立即启动应急预案.

>>> from cs_xl.settings import Settings
>>> s = Settings().with_(targets={"avg_wait": (30.0, "<=")}, alert_wait_factor=1.2, alert_queue_max=50)
>>> rule_breaches({"avg_wait": 37.0, "peak_queue": 50}, s)
[Breach(key='avg_wait', value=37.0, limit=36.0, day=None)]
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from .. import kpis, metrics
from ..settings import Settings
from ..values import plain
from .findings import Finding

RULE_KEYS = ("avg_wait", "peak_queue")  # the metrics the rules watch, in the order they are reported


@dataclass(frozen=True)
class Breach:
    """A rule broken: ``value`` of metric ``key`` above ``limit`` (over the period, or on ``day``)."""
    key: str
    value: float
    limit: float
    day: dt.date | None = None


def rule_limits(settings: Settings) -> dict[str, float]:
    """Metric → the limit its value must not exceed:

    * avg_wait   > target(avg_wait) × alert_wait_factor  (no avg-wait target: no wait rule)
    * peak_queue > alert_queue_max
    """
    limits = {"peak_queue": float(settings.alert_queue_max)}
    wait_target = settings.targets.get("avg_wait", (None, "<="))[0]
    if wait_target is not None:
        limits["avg_wait"] = wait_target * settings.alert_wait_factor
    return {k: limits[k] for k in RULE_KEYS if k in limits}


def rule_breaches(values: Mapping, settings: Settings, day: dt.date | None = None) -> list[Breach]:
    """Each rule that ``values`` (a KPI dict or row) breaks: value > limit; undefined breaks nothing."""
    out = []
    for key, limit in rule_limits(settings).items():
        value = plain(values.get(key))
        if value is not None and value > limit:
            out.append(Breach(key, value, limit, day))
    return out


def rule_days(by_day: pd.DataFrame, settings: Settings) -> list[Breach]:
    """Every day (in date order) that broke a rule; ``by_day`` is ``kpis.grouped(…, "day")``."""
    return [breach for label, values in kpis.cells(by_day).items()
            for breach in rule_breaches(values, settings, dt.date.fromisoformat(str(label)))]


@dataclass(frozen=True)
class SlotBreach:
    """An hour (``start`` of the clock hour) whose calls broke a rule: the mean wait of the calls
    queued in it, or the queue (reconstructed from call start + wait) at its longest in it."""
    start: dt.datetime
    avg_wait: float | None
    peak_queue: int | None
    keys: tuple[str, ...]       # the rules broken, in :data:`RULE_KEYS` order


def hourly_values(calls: pd.DataFrame | None) -> pd.DataFrame:
    """avg_wait and peak_queue of every clock hour with a queued call (index: the hour's start).

    The queue is reconstructed over the whole timeline, so a caller still waiting from the
    hour before counts in this one (:func:`cs_xl.metrics.queue_at_joins`)."""
    empty = pd.DataFrame({"avg_wait": [], "peak_queue": []})
    if calls is None or not {"start", "wait_s"} <= set(calls.columns):
        return empty
    ivr = calls["ivr_selfserved"] if "ivr_selfserved" in calls.columns else None
    queue = metrics.queue_at_joins(calls["start"], calls["wait_s"], ivr)
    if not len(queue):
        return empty
    queued = pd.DataFrame({"wait": calls["wait_s"].to_numpy(dtype=float),
                           "start": pd.to_datetime(calls["start"])})
    queued = queued[queued["start"].notna() & queued["wait"].ge(0)]
    if ivr is not None:
        queued = queued[~ivr.loc[queued.index].fillna(False).astype(bool)]
    waits = queued.groupby(queued["start"].dt.floor("h"))["wait"].mean()
    peaks = queue.groupby(queue.index.floor("h")).max()
    return pd.DataFrame({"avg_wait": waits, "peak_queue": peaks}).sort_index()


def hourly_breaches(calls: pd.DataFrame | None, settings: Settings) -> list[SlotBreach]:
    """Every clock hour (in time order) that broke a rule of :func:`rule_limits` (seed 001's
    「平均等待时长超过目标值20%」或「排队人数超过50人」, per hour instead of over the period)."""
    return breaches_of_hours(hourly_values(calls), settings)


def breaches_of_hours(values: pd.DataFrame, settings: Settings) -> list[SlotBreach]:
    """The hours of :func:`hourly_values` (from records or from SQL aggregates) that broke a rule."""
    limits = rule_limits(settings)
    # only the hours over a limit are looked at row by row (a year of calls has 8,760 hours)
    over = np.zeros(len(values), dtype=bool)
    for k, limit in limits.items():
        over |= (values[k] > limit).to_numpy(dtype=bool)
    out = []
    for start, row in values[over].iterrows():
        broken = tuple(k for k, limit in limits.items() if plain(row[k]) is not None and row[k] > limit)
        if broken:
            peak = plain(row["peak_queue"])
            out.append(SlotBreach(start.to_pydatetime(), plain(row["avg_wait"]),
                                  None if peak is None else int(peak), broken))
    return out


def meets(value, target, direction: str) -> bool | None:
    """True when value is on the right side of target (``>=``: at least, ``<=``: at most);
    None when either is undefined."""
    value, target = plain(value), plain(target)
    if value is None or target is None:
        return None
    return value >= target if direction == ">=" else value <= target


def missed_targets(headline: Mapping, settings: Settings) -> list[tuple[str, float, float]]:
    """(metric, value, target) of every KPI with a target it misses, in the order of the targets."""
    return [(key, plain(headline.get(key)), target) for key, (target, direction) in settings.targets.items()
            if meets(headline.get(key), target, direction) is False]


def alert_checks(headline: Mapping, settings: Settings, hourly: list[SlotBreach],
                 audit_weeks: Mapping[str, int]) -> dict:
    """The 预警 sheet's checks as one plain result (what :func:`findings` reads)."""
    return {"missed": missed_targets(headline, settings), "hourly": hourly, "audit_weeks": dict(audit_weeks)}


def findings(checks: Mapping, settings: Settings) -> list[Finding]:
    """Missed targets (heavier the further off), the hours that broke a rule (with where they
    cluster and the worst one) and the open records of the latest audit week, from
    :func:`alert_checks`."""
    out = []
    hourly, audit_weeks = checks["hourly"], checks["audit_weeks"]
    for key, value, target in checks["missed"]:
        miss = abs(value - target) / abs(target) if target else 1.0
        out.append(Finding("target_missed", {"metric": key, "value": value, "target": target},
                           sheet="alerts", weight=min(0.9, 0.6 + miss)))
    if hourly:
        slots = Counter((b.start.weekday(), b.start.hour) for b in hourly)
        (weekday, hour), times = slots.most_common(1)[0]
        worst = max(hourly, key=lambda b: b.avg_wait or 0)
        limits = rule_limits(settings)
        out.append(Finding("hourly_rules", {
            "hours": len(hourly), "queue_hours": sum("peak_queue" in b.keys for b in hourly),
            "wait_limit": limits.get("avg_wait"), "queue_limit": limits["peak_queue"],
            "weekday": weekday, "hour": hour, "times": times,
            "worst_start": worst.start, "worst_wait": worst.avg_wait}, sheet="alerts",
            weight=min(0.85, 0.5 + len(hourly) / 200)))
    if audit_weeks:
        week = list(audit_weeks)[-1]
        out.append(Finding("audit_open", {"total": sum(audit_weeks.values()), "week": week,
                                          "in_week": audit_weeks[week]}, sheet="alerts", weight=0.45))
    return out
