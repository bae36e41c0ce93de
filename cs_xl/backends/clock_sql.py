"""Business minutes between two timestamps in SQL: the rule of :class:`cs_xl.clock.Clock`
(business hours on working days; China's statutory holidays off, 调休 make-up days on)
as per-row arithmetic, so the SQL engines fill a history's minutes as the loader fills a book's.

The business time up to a moment *t* is

    F(t) = (working days before t's day) × (length of the business day)
           + (t's day is a working day) × (the part of the business hours before t's time of day)

and the business minutes from *a* to *b* are (F(b) − F(a)) / 60 — the sum
:meth:`Clock.minutes` adds day by day.  Working days before a day are Monday–Friday,
counted in closed form from :data:`EPOCH`, plus the calendar's exceptions before it
(a holiday on a weekday −1, a make-up weekend day +1).  Over the history's span the
exceptions make a step function of the day number, written as a balanced ``CASE`` over
it: a dozen comparisons per row on every engine, and no join (a join would lose the file
order the duplicate-id rule reads).

>>> import datetime as dt
>>> [(EPOCH + dt.timedelta(days=n)).isoformat() for n, _ in exceptions(dt.date(2024, 2, 1), dt.date(2024, 2, 29))]
['2024-02-04', '2024-02-12', '2024-02-13', '2024-02-14', '2024-02-15', '2024-02-16', '2024-02-18']
"""
from __future__ import annotations

import datetime as dt

from ..clock import Clock, is_working_day

EPOCH = dt.date(1900, 1, 1)  # a Monday, on the first day a cleaned date may have (coerce._FIRST_YEAR)
_US_PER_DAY = 86_400_000_000


def exceptions(first: dt.date, last: dt.date) -> list[tuple[int, int]]:
    """(day number since :data:`EPOCH`, +1 for a working weekend day / −1 for a weekday off)
    of the days ``first``..``last`` whose working status is not Monday–Friday's."""
    out = []
    for n in range((first - EPOCH).days, (last - EPOCH).days + 1):
        day = EPOCH + dt.timedelta(days=n)
        weekday = day.weekday() < 5
        if is_working_day(day) != weekday:
            out.append((n, -1 if weekday else 1))
    return out


def runs(first: dt.date, last: dt.date) -> tuple[list[tuple[int, int]], int]:
    """The step function over ``first``..``last``: (first day number, code) of each run of days
    with one code — 2 × (exceptions before the day, counted from ``first``, plus ``offset``)
    + (the day itself is an exception) — and ``offset`` (the holidays of the span, so no code
    is negative)."""
    found = exceptions(first, last)
    offset = sum(1 for _, sign in found if sign < 0)
    out, before = [((first - EPOCH).days, 2 * offset)], offset
    for n, sign in found:
        out.append((n, 2 * before + 1))
        before += sign
        out.append((n + 1, 2 * before))
    merged: list[tuple[int, int]] = []
    for n, code in out:
        if merged and merged[-1][0] == n:
            merged[-1] = (n, code)
        elif not merged or merged[-1][1] != code:
            merged.append((n, code))
    return merged, offset


class BusinessDays:
    """The SQL of F(t) for a clock over a span of days, in two layers of columns: per moment
    ``name``, :meth:`day_columns` (its day number ``name_n``, microseconds into the day
    ``name_u``), then :meth:`code_column` (its step code ``name_c``); :meth:`minutes` reads them."""

    def __init__(self, clock: Clock, dialect, first: dt.date, last: dt.date):
        self.clock, self.d = clock, dialect
        self.steps, self.offset = runs(first, last)
        self.opens_us = _us(clock.opens)
        self.length_us = _us(clock.closes) - self.opens_us

    def day_columns(self, moment: str, name: str) -> dict[str, str]:
        d = self.d
        day = f"CAST(({moment}) AS DATE)"
        epoch = d.moment(dt.datetime.combine(EPOCH, dt.time()), "DATE")
        return {f"{name}_n": d.days_between(epoch, day),
                f"{name}_u": f"({d.epoch_us(moment)} - {d.epoch_us(f'CAST({day} AS TIMESTAMP)')})"}

    def code_column(self, name: str) -> dict[str, str]:
        return {f"{name}_c": self._tree(f"{name}_n", self.steps)}

    def _tree(self, n: str, steps: list[tuple[int, int]]) -> str:
        if len(steps) == 1:
            return str(steps[0][1])
        middle = len(steps) // 2
        return (f"CASE WHEN {n} < {steps[middle][0]} THEN {self._tree(n, steps[:middle])} "
                f"ELSE {self._tree(n, steps[middle:])} END")

    def elapsed_us(self, name: str) -> str:
        """F of the moment ``name`` in microseconds (from an origin that cancels in a difference)."""
        n, u, code = f"{name}_n", f"{name}_u", f"{name}_c"
        weeks = f"floor({n} / 7)"
        days_before = f"({weeks} * 5 + least({n} - {weeks} * 7, 5) + floor({code} / 2) - {self.offset})"
        working = f"CASE WHEN ({n} - {weeks} * 7 < 5) <> ({code} - floor({code} / 2) * 2 = 1) THEN 1 ELSE 0 END"
        today = f"least(greatest({u} - {self.opens_us}, 0), {self.length_us})"
        return f"({days_before} * {self.length_us} + {working} * {today})"

    def minutes(self, earlier: str, later: str) -> str:
        return f"({self.elapsed_us(later)} - {self.elapsed_us(earlier)}) / 60000000.0"


def _us(time: dt.time) -> int:
    return ((time.hour * 60 + time.minute) * 60 + time.second) * 1_000_000 + time.microsecond
