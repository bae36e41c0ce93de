"""Periods: the labels of days, ISO weeks and months, and the calendar between them.

One module writes period labels (``kpis`` groups by them) and reads them back
(the report's 环比 / 同比 and partial-period marks), so the two can never
disagree.  Labels are what users see and what ``--by`` prints in JSON:
day ``2024-03-01``, ISO week ``2024-W09``, month ``2024-03``.

>>> previous("2024-W01", "week"), previous("2024-03", "month"), year_ago("2024-02-29", "day") is None
('2023-W52', '2024-02', True)
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

GRAINS = ("day", "week", "month")


def labels(when: pd.Series, grain: str) -> pd.Series:
    """The period label of every timestamp of ``when`` (NaT → missing)."""
    if grain == "day":
        return when.dt.strftime("%Y-%m-%d")
    if grain == "week":
        iso = when.dt.isocalendar()
        return iso["year"].astype("string") + "-W" + iso["week"].astype("string").str.zfill(2)
    if grain == "month":
        return when.dt.strftime("%Y-%m")
    raise ValueError(f"unknown period grain {grain!r}; choose from {', '.join(GRAINS)}")


def label_of(day: dt.date, grain: str) -> str:
    """The label of the day / ISO week / month holding ``day``.

    >>> label_of(dt.date(2024, 12, 30), "week"), label_of(dt.date(2024, 12, 30), "month")
    ('2025-W01', '2024-12')
    """
    if grain == "day":
        return day.isoformat()
    if grain == "week":
        iso = day.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    return f"{day.year}-{day.month:02d}"


def span(label: str, grain: str) -> tuple[dt.date, dt.date]:
    """First and last day of a period (ISO week Monday–Sunday, calendar month).

    >>> span("2024-02", "month")
    (datetime.date(2024, 2, 1), datetime.date(2024, 2, 29))
    """
    if grain == "day":
        day = dt.date.fromisoformat(label)
        return day, day
    if grain == "week":
        year, week = (int(p) for p in label.split("-W"))
        monday = dt.date.fromisocalendar(year, week, 1)
        return monday, monday + dt.timedelta(days=6)
    year, month = (int(p) for p in label.split("-"))
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return dt.date(year, month, 1), following - dt.timedelta(days=1)


def previous(label: str, grain: str) -> str:
    """The period just before: the one holding the day before this one's first day."""
    first, _ = span(label, grain)
    return label_of(first - dt.timedelta(days=1), grain)


def year_ago(label: str, grain: str) -> str | None:
    """The same period one year earlier; None when it does not exist (29 Feb, ISO week 53)."""
    if grain == "day":
        day = dt.date.fromisoformat(label)
        try:
            return day.replace(year=day.year - 1).isoformat()
        except ValueError:
            return None
    if grain == "week":
        year, week = (int(p) for p in label.split("-W"))
        try:
            dt.date.fromisocalendar(year - 1, week, 1)
        except ValueError:
            return None
        return f"{year - 1}-W{week:02d}"
    year, month = (int(p) for p in label.split("-"))
    return f"{year - 1}-{month:02d}"


def is_partial(label: str, grain: str, start, end) -> bool:
    """True when the period is not wholly inside [start, end] (the report's date range)."""
    first, last = span(label, grain)
    return (start is not None and first < _as_date(start)) or (end is not None and last > _as_date(end))


def _as_date(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value
