"""Durations between timestamps: calendar minutes or business minutes, in one timezone.

The clock rules of issue 11, in one place:

* **Timezone.**  Timestamps carrying an offset (``+01:00``, ``Z``) are
  converted to the workbook's timezone (参数 时区, default Asia/Shanghai);
  naive timestamps are taken as already in that timezone.  The result is
  naive wall-clock time, which is what the workbook stores.
* **Calendar minutes** are plain elapsed minutes.
* **Business minutes** count only the part of the interval that lies inside
  business hours (default 09:00–18:00) on working days.  Working days come
  from the ``chinese-calendar`` package: mainland China's statutory holidays
  (春节, 国庆 …) are days off and the 调休 make-up weekends are working days.
  That package covers 2004–2026; outside those years Monday–Friday are the
  working days (there is no official calendar to follow).

>>> import datetime as dt
>>> c = Clock(mode="business")
>>> c.minutes(dt.datetime(2024, 3, 1, 17, 30), dt.datetime(2024, 3, 4, 9, 30))  # Fri 17:30 → Mon 09:30
60.0
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

MODES = ("calendar", "business")
DEFAULT_HOURS = (dt.time(9, 0), dt.time(18, 0))
DEFAULT_TIMEZONE = "Asia/Shanghai"


@lru_cache(maxsize=None)
def is_working_day(day: dt.date) -> bool:
    """Mainland China working day: statutory holidays off, 调休 make-up weekends on."""
    import chinese_calendar  # the maintained calendar of 国务院办公厅 holiday notices
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:  # year outside the package's table: plain Monday–Friday
        return day.weekday() < 5


@dataclass(frozen=True)
class Clock:
    """How durations are measured: ``mode`` calendar/business, business hours, timezone."""
    mode: str = "calendar"
    opens: dt.time = DEFAULT_HOURS[0]
    closes: dt.time = DEFAULT_HOURS[1]
    timezone: str = DEFAULT_TIMEZONE

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"clock mode must be one of {MODES}, not {self.mode!r}")
        if self.opens >= self.closes:
            raise ValueError(f"business hours must open before they close: {self.opens}–{self.closes}")

    def describe(self, lang: str = "zh") -> str:
        """The rule in words, shown next to the numbers (hours shown even when unused, so the
        sheet states every clock setting in force)."""
        hours = f"{self.opens:%H:%M}–{self.closes:%H:%M}"
        if self.mode == "calendar":
            return f"自然时间(分钟)(工作时间 {hours} 未启用), 时区 {self.timezone}" if lang == "zh" else \
                f"calendar minutes (business hours {hours} not applied), timezone {self.timezone}"
        return (f"工作时间 {hours}(中国法定节假日及调休), 时区 {self.timezone}" if lang == "zh" else
                f"business minutes {hours} (China statutory holidays and make-up days), timezone {self.timezone}")

    def minutes(self, start, end) -> float:
        """Minutes from ``start`` to ``end`` (naive, workbook time); NaN when either is missing."""
        if pd.isna(start) or pd.isna(end):
            return float("nan")
        start, end = pd.Timestamp(start).to_pydatetime(), pd.Timestamp(end).to_pydatetime()
        if self.mode == "calendar" or end <= start:
            return (end - start).total_seconds() / 60  # reversed pairs keep their sign: the loader reports them
        return self._business_seconds(start, end) / 60

    def _business_seconds(self, start: dt.datetime, end: dt.datetime) -> float:
        total = 0.0
        day = start.date()
        while day <= end.date():
            if is_working_day(day):
                opens, closes = dt.datetime.combine(day, self.opens), dt.datetime.combine(day, self.closes)
                overlap = (min(end, closes) - max(start, opens)).total_seconds()
                total += max(overlap, 0.0)
            day += dt.timedelta(days=1)
        return total

    def between(self, start: pd.Series, end: pd.Series) -> pd.Series:
        """:meth:`minutes` of each pair (vectorised in calendar mode)."""
        if self.mode == "calendar":
            return (end - start).dt.total_seconds() / 60
        values = [self.minutes(a, b) for a, b in zip(start, end)]
        return pd.Series(np.asarray(values, dtype=float), index=start.index)

    def localise(self, moments: pd.Series) -> pd.Series:
        """Timestamps → naive wall-clock time of this clock's timezone (see module doc)."""
        return to_timezone(moments, self.timezone)


def to_timezone(moments: pd.Series, timezone: str) -> pd.Series:
    """Aware timestamps converted to ``timezone`` and made naive; naive ones unchanged."""
    if isinstance(moments.dtype, pd.DatetimeTZDtype):
        return moments.dt.tz_convert(timezone).dt.tz_localize(None)
    return moments


def parse_moments(text: pd.Series, timezone: str, fmt: str | None = None,
                  ignore_offset: bool = False) -> pd.Series:
    """Timestamp text → naive moments in ``timezone``; unreadable text → NaT.

    ``fmt`` is a strptime format (day-first exports need one) or ``"epoch"``
    (Unix seconds, converted from UTC); without it
    ISO 8601 is tried first, then pandas' per-value parser.  Offsets in the
    text are honoured (converted) unless ``ignore_offset``: some exports print
    ``+00:00`` on local times (SOURCE.md of the helpdesk log), and then the
    wall clock is the truth."""
    text = text.astype("string").str.strip()
    if fmt == EPOCH:  # instants: converted like any timestamp with an offset
        parsed = pd.to_datetime(pd.to_numeric(text, errors="coerce"), unit="s", utc=True)
        return parsed.dt.tz_convert(timezone).dt.tz_localize(None).astype("datetime64[ns]")
    if ignore_offset:
        text = text.str.replace(_OFFSET, "", regex=True)
    has_offset = text.str.contains(_OFFSET, regex=True, na=False)
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    for aware in (False, True):
        part = text[has_offset == aware]
        if part.empty:
            continue
        parsed = _to_datetime(part, fmt, aware)
        if aware:
            parsed = parsed.dt.tz_convert(timezone).dt.tz_localize(None)
        out[part.index] = parsed.astype("datetime64[ns]")
    return out


_OFFSET = r"(?:Z|[+-]\d{2}:?\d{2})$"
EPOCH = "epoch"  # timestamp_format of exports in Unix seconds


def _to_datetime(text: pd.Series, fmt: str | None, aware: bool) -> pd.Series:
    parsed = pd.to_datetime(text, format=fmt or "ISO8601", errors="coerce", utc=aware)
    retry = parsed.isna() & text.notna() & (text != "")
    if fmt is None and retry.any():  # not ISO: let pandas read each value (slow, so only these)
        parsed[retry] = pd.to_datetime(text[retry], format="mixed", errors="coerce", utc=aware)
    return parsed
