"""优化前后: each row of 参数's 优化记录 judged on equal windows before and after its date.

For a :class:`cs_xl.settings.Change` (措施, 生效日期, 指标, 范围) the records of
the metric's table inside the scope are cut into ``compare_window_days`` days
before the date and as many from the date on — both shortened alike where the
data ends, so the windows stay equal.  Each window's value is the registry's
(:mod:`cs_xl.kpis`: the number every other sheet would show for those records);
its per-record values come from the same computation
(:meth:`cs_xl.catalogue.Metric.sample`), and the interval of the change from
:mod:`.intervals`: Newcombe's for a rate, a seeded bootstrap for a mean,
median or percentile.  The verdict reads the interval with the metric's
direction: 显著改善 / 显著恶化 when it excludes 0, else 无显著变化.

A SQL history (``cs-xl refresh --data``) is judged by the same :func:`judge`: its engine cuts the
windows out of the scoped history and gives a rate's two counts (:class:`ShareCount`) or the
non-blank values of a mean's / percentile's one input over a window (a numpy array of one column).
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .. import catalogue, kpis
from ..dataset import DataSet
from ..metrics import Sample
from ..settings import Change, Settings
from ..values import plain
from . import intervals
from .findings import Finding

VERDICTS = ("improved", "no_change", "worse", "not_judged")


@dataclass(frozen=True)
class Window:
    start: dt.date
    end: dt.date               # inclusive
    records: int               # records the metric counted (its sample size)
    value: float | None


@dataclass(frozen=True)
class Comparison:
    """One 优化记录 row judged.  ``change`` = after − before (percentage points as a fraction for a
    rate), ``relative`` = after / before − 1, ``low``/``high`` the interval of ``change``;
    ``verdict`` one of :data:`VERDICTS`, with ``why`` (no_data / too_few / scope_column) when
    not judged."""
    measure: str
    effective: dt.date
    metric: str
    scope: dict                # column key → allowed values (empty: all records)
    row: int | None
    days: int
    before: Window | None
    after: Window | None
    change: float | None
    relative: float | None
    low: float | None
    high: float | None
    method: str                # newcombe | bootstrap | "" (not judged)
    confidence: float
    verdict: str
    why: str = ""


def _day(stamp) -> dt.date:
    return pd.Timestamp(stamp).date()


def scope_reaches(ds, table: str, scope) -> bool:
    """Every scope column can select the metric's records (feedback reaches ticket columns
    through its ticket, as the scope of 参数 does); ``ds`` anything with ``has(table, *columns)``
    (a data set, a SQL history's figures)."""
    def reaches(key: str) -> bool:
        return ds.has(table, key) or (table == "feedback" and ds.has("tickets", key, "ticket_id")
                                      and ds.has("feedback", "ticket_id"))
    return all(reaches(key) for key, _values in scope)


def window_days(ds: DataSet, table: str, effective: dt.date, wanted: int) -> int:
    """Days in each window: ``wanted``, shortened alike to the days of data on either side."""
    frame = ds.table(table)
    when = None if frame is None else kpis.record_moment(frame, table)
    if when is None or when.dropna().empty:
        return 0
    return days_between_records(when.min(), when.max(), effective, wanted)


def days_between_records(first, last, effective: dt.date, wanted: int) -> int:
    """:func:`window_days` of the first and last record moment (None: no records)."""
    if first is None or last is None:
        return 0
    return max(0, min(wanted, (effective - _day(first)).days, (_day(last) - effective).days + 1))


def _measure(ds: DataSet, settings: Settings, key: str, start: dt.date, end: dt.date):
    """(window, per-record sample) of metric ``key`` over the records from ``start`` to ``end``."""
    part = kpis.apply_scope(ds, Settings(period_start=start, period_end=end))
    records = kpis.Records(kpis.table_columns(part), settings)
    sample = catalogue.get(key).sample(records)
    n = 0 if sample is None else int(sample.values.size)
    return Window(start, end, n, plain(records.value(key))), sample


def _verdict(key: str, low: float, high: float) -> str:
    if low <= 0 <= high:
        return "no_change"
    up = low > 0
    return "improved" if up == bool(catalogue.get(key).higher_is_better) else "worse"


def _not_judged(change: Change, settings: Settings, why: str, days: int = 0, before=None, after=None) -> Comparison:
    diff = None if before is None or before.value is None or after.value is None else after.value - before.value
    return Comparison(change.measure, change.effective, change.metric, dict(change.scope), change.row, days, before,
                      after, diff, _relative(before, after), None, None, "", settings.compare_confidence, "not_judged", why)


def _relative(before: Window | None, after: Window | None) -> float | None:
    if before is None or after is None or not before.value or after.value is None:
        return None
    return after.value / before.value - 1


@dataclass(frozen=True)
class ShareCount:
    """A share's records counted, not listed (a SQL history's window): what Newcombe's interval needs."""
    successes: int
    records: int
    kind: str = "share"


def _tally(sample) -> tuple[int, int]:
    """(successes, records) of a share's sample."""
    if isinstance(sample, ShareCount):
        return sample.successes, sample.records
    return int(sample.values.sum()), int(sample.values.size)


def sample_size(sample) -> int:
    return sample.records if isinstance(sample, ShareCount) else int(sample.values.size)


def interval(before: Sample | ShareCount, after: Sample | ShareCount, settings: Settings) -> tuple[str, float, float]:
    """(method, low, high) of after − before: Newcombe's interval for a share of records, else a
    bootstrap of the metric's own aggregation (mean, median, percentile)."""
    if before.kind == "share":
        return "newcombe", *intervals.newcombe(*_tally(before), *_tally(after), settings.compare_confidence)
    return "bootstrap", *intervals.bootstrap_difference(before.values, after.values, before.statistic,
                                                        settings.compare_confidence, settings.compare_resamples)


def compare_one(ds: DataSet, settings: Settings, change: Change) -> Comparison:
    """One 优化记录 row on the records of ``ds`` (already inside the period and scope of 参数)."""
    metric = catalogue.get(change.metric)
    if not scope_reaches(ds, metric.table, change.scope):
        return _not_judged(change, settings, "scope_column")
    scoped = kpis.apply_scope(ds, Settings(), where={k: list(v) for k, v in change.scope})
    days = window_days(scoped, metric.table, change.effective, settings.compare_window_days)
    return judge(change, settings, days, lambda start, end: _measure(scoped, settings, change.metric, start, end))


def judge(change: Change, settings: Settings, days: int, measure) -> Comparison:
    """The row judged on ``days``-day windows; ``measure(first day, last day)`` → (Window, the
    metric's sample over those days: a :class:`Sample`, or a :class:`ShareCount` for a share)."""
    if days < 1:
        return _not_judged(change, settings, "no_data")
    step = dt.timedelta(days=1)
    before, b = measure(change.effective - days * step, change.effective - step)
    after, a = measure(change.effective, change.effective + (days - 1) * step)
    if b is None or a is None or min(before.records, after.records) < max(2, settings.compare_min_records):
        return _not_judged(change, settings, "too_few", days, before, after)
    method, low, high = interval(b, a, settings)
    return Comparison(change.measure, change.effective, change.metric, dict(change.scope), change.row, days, before,
                      after, after.value - before.value, _relative(before, after), low, high, method,
                      settings.compare_confidence, _verdict(change.metric, low, high))


def compare(ds: DataSet, settings: Settings) -> list[Comparison]:
    """Every row of 优化记录, in the table's order."""
    return [compare_one(ds, settings, change) for change in settings.changes]


def result(scoped: DataSet, settings: Settings, headline: dict) -> list[Comparison]:
    """The :data:`cs_xl.analysis.run.ANALYSES` entry."""
    return compare(scoped, settings)


# ---------------------------------------------------------------- findings

FINDING_CODES = {"improved": "change_improved", "worse": "change_worse", "no_change": "change_flat"}
KINDS = {"improved": "improvement", "worse": "issue", "no_change": "info"}


def finding_args(c: Comparison) -> dict[str, Any]:
    """The numbers a sentence about ``c`` carries (``diff`` = after − before, in the metric's unit)."""
    return {"measure": c.measure, "effective": c.effective, "metric": c.metric, "scope": tuple(c.scope.items()), "days": c.days,
            "before": c.before.value, "after": c.after.value, "diff": c.change, "relative": c.relative,
            "low": c.low, "high": c.high, "confidence": c.confidence}


def findings(result: list[Comparison], settings: Settings) -> list[Finding]:
    """A significant change is a finding of its own (improvement or issue), weighted by its size
    against the value before; no significant change is stated, lightly."""
    out = []
    for c in result:
        if c.verdict not in FINDING_CODES:
            continue
        size = abs(c.relative) if c.relative is not None and math.isfinite(c.relative) else 0.0
        weight = 0.3 if c.verdict == "no_change" else min(0.9, 0.55 + size)
        out.append(Finding(FINDING_CODES[c.verdict], finding_args(c), sheet="compare", weight=weight,
                           kind=KINDS[c.verdict]))
    return out


