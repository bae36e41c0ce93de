"""Seed 001's alert rules: 当「平均等待时长超过目标值20%」或「排队人数超过50人」时立即启动应急预案.

>>> from cs_xl.settings import Settings
>>> s = Settings().with_(targets={"avg_wait": (30.0, "<=")}, alert_wait_factor=1.2, alert_queue_max=50)
>>> rule_breaches({"avg_wait": 37.0, "peak_queue": 50}, s)
[Breach(key='avg_wait', value=37.0, limit=36.0, day=None)]
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Mapping

import pandas as pd

from ..settings import Settings
from ..values import plain

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
    return [breach for label, values in by_day.iterrows()
            for breach in rule_breaches(values, settings, dt.date.fromisoformat(str(label)))]
