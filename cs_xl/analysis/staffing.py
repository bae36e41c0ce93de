"""Agents needed per weekday × hour: Erlang C on each slot's mean queued calls per hour."""
from __future__ import annotations

import pandas as pd

from .. import kpis, metrics
from ..settings import Settings
from ..values import plain

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
    aht_s = plain(aht_s)
    if aht_s is None or not aht_s > 0:
        return None
    arrivals = kpis.slot_arrivals(calls)
    if not arrivals.size:
        return None
    return staffing_matrix(arrivals, settings, aht_s)
