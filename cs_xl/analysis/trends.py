"""Trends that call for attention, as plain results (预警 and the agent trends of seed 000).

* :func:`falling` — a metric of one dimension value worse ``trend_periods`` months in a
  row (物流咨询 × 一次解决率 连续两月下降);
* :func:`agent_shifts` — an agent's latest week against their own baseline, the mean of
  their ``agent_baseline_weeks`` weeks before (某客服人员平均响应时间突然延长);
* :func:`agent_streaks` — agents first in the team on a metric for ``streak_months``
  months in a row up to the latest month (CSAT 连续3个月位列团队第一).

Every number comes from :func:`cs_xl.kpis.grouped` of the records of one period, so a
value here is the value the 按维度 / 按客服 sheets show for that period.  The scope of
参数 (tenure included) has already been applied to the data set handed in.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from .. import catalogue, kpis
from ..dataset import DataSet
from ..settings import Settings
from ..values import plain
from .findings import Finding

FALLING_KEYS = ("fcr_rate", "frt_rate", "resolution_rate", "csat_rate")  # rates watched per dimension value
FALLING_DIMS = ("issue_type", "module", "channel", "team", "customer_type")
SHIFT_KEYS = ("frt_avg", "csat_rate")   # seed 000: 平均响应时间突然延长; satisfaction
STREAK_KEYS = ("csat_rate", "frt_rate", "fcr_rate")
COUNT_KEY = "volume"                    # records of a group: tickets


# ---------------------------------------------------------------- one grouped frame per period

def period_labels(ds: DataSet, grain: str) -> list[str]:
    """The labels of ``grain`` (month / week) that have records, in time order."""
    return list(period_parts(ds, grain))


def _rows(frame: pd.DataFrame | None, positions) -> pd.DataFrame | None:
    """The rows of ``frame`` at ``positions`` (None: the table cannot be dated, so it is in no period)."""
    if frame is None or positions is None:
        return None
    return frame.iloc[positions]


def period_parts(ds: DataSet, grain: str) -> "Periods":
    """label → the records of that period, in time order, each table by its own moment (feedback
    by its date, as the 趋势 sheet counts it; a survey answered in the month after its ticket's
    month belongs to no group of the ticket's columns then — a handful at month ends).

    The rows are labelled and split once per data set and grain: the trend checks ask for the same
    months for five dimensions, and labelling every record again per period cost most of a
    100k-ticket refresh's analysis."""
    memo = ("period_parts", grain)
    if memo not in ds.memo:
        positions = kpis.group_positions(ds, grain)
        # undated records belong to no period; a table that cannot be dated has no rows in any
        ds.memo[memo] = Periods(ds, {t: None if positions[t] is None else {str(k): v for k, v in positions[t].items()}
                                     for t in _TABLES})
    return ds.memo[memo]


_TABLES = ("tickets", "feedback", "calls")


class Periods(Mapping):
    """label → the records of one period (a :class:`DataSet`), labels in time order.  A period's
    rows are cut on first use: the agent check reads the last five weeks of fifty."""

    def __init__(self, ds: DataSet, positions: dict[str, dict[str, np.ndarray] | None]):
        self._ds, self._positions = ds, positions
        self._labels = sorted({label for p in positions.values() if p for label in p})
        self._known = set(self._labels)
        self._parts: dict[str, DataSet] = {}

    def __getitem__(self, label: str) -> DataSet:
        part = self._parts.get(label)
        if part is None:
            if label not in self._known:
                raise KeyError(label)
            none = np.empty(0, dtype=np.intp)
            part = self._parts[label] = replace(self._ds, **{
                t: None if self._positions[t] is None else _rows(self._ds.table(t), self._positions[t].get(label, none))
                for t in _TABLES})
        return part

    def __iter__(self):
        return iter(self._labels)

    def __len__(self) -> int:
        return len(self._labels)




def per_period(ds: DataSet, settings: Settings, grain: str, by: str, keys, last: int | None = None
               ) -> dict[str, pd.DataFrame]:
    """label → :func:`cs_xl.kpis.grouped` by ``by`` of the records of that period (only the ``last``
    periods when given: a check that reads five weeks need not compute fifty)."""
    out = {}
    labels = period_labels(ds, grain)
    for label in labels[-last:] if last else labels:
        part = period_parts(ds, grain)[label]
        if kpis.has_column(part, by):
            out[label] = kpis.grouped(part, settings, by, keys=list(keys))
    return out


def back_from_latest(ds: DataSet, settings: Settings, grain: str, by: str, keys, going) -> dict[str, pd.DataFrame]:
    """:func:`per_period`'s frames, computed from the latest period back only while ``going(frames)``
    (the frames so far, in time order) says an earlier period could still change the answer: the
    checks below read runs that end at the latest period, which rarely reach back more than a few."""
    parts = period_parts(ds, grain)
    frames: dict[str, pd.DataFrame] = {}
    for label in reversed(list(parts)):
        if kpis.has_column(parts[label], by):
            frames[label] = kpis.grouped(parts[label], settings, by, keys=list(keys))
            if not going(dict(reversed(frames.items()))):
                break
    return dict(reversed(frames.items()))


def from_latest(frames: dict[str, pd.DataFrame], going) -> dict[str, pd.DataFrame]:
    """The frames of :func:`back_from_latest` out of frames already computed for every period."""
    kept: dict[str, pd.DataFrame] = {}
    for label in reversed(list(frames)):
        kept[label] = frames[label]
        if not going(dict(reversed(kept.items()))):
            break
    return dict(reversed(kept.items()))


class _Records:
    """What the checks ask of the data, answered from a data set's records; a SQL history's
    figures (:class:`cs_xl.backends.figures.SqlFigures`) answer the same questions from aggregates."""

    def __init__(self, ds: DataSet, settings: Settings):
        self.ds, self.settings = ds, settings

    def has(self, table: str, column: str) -> bool:
        return self.ds.has(table, column)

    def has_column(self, key: str) -> bool:
        return kpis.has_column(self.ds, key)

    def per_period(self, grain: str, by: str, keys, last: int | None = None) -> dict[str, pd.DataFrame]:
        return per_period(self.ds, self.settings, grain, by, keys, last)

    def back_from_latest(self, grain: str, by: str, keys, going) -> dict[str, pd.DataFrame]:
        return back_from_latest(self.ds, self.settings, grain, by, keys, going)


def _source(ds, settings: Settings):
    return ds if hasattr(ds, "per_period") else _Records(ds, settings)


def worse(key: str, value, base) -> bool:
    """``value`` is worse than ``base`` for metric ``key`` (lower for a higher-is-better metric)."""
    return value < base if catalogue.get(key).higher_is_better else value > base


# ---------------------------------------------------------------- falling N months in a row

@dataclass(frozen=True)
class Falling:
    """``key`` of ``dim`` = ``value`` got worse every month from ``months[0]`` to ``months[-1]``."""
    dim: str
    value: Any
    key: str
    months: tuple[str, ...]
    values: tuple[float, ...]

    @property
    def change(self) -> float:
        return self.values[-1] - self.values[0]


def _run_of_worse(key: str, series: list[tuple[str, float | None, float | None]], settings: Settings):
    """The longest run ending at the last month in which each month is worse than the one
    before (months with fewer than ``trend_min_records`` records end the run)."""
    run = []
    for label, value, count in reversed(series):
        if value is None or (count or 0) < settings.trend_min_records:
            break
        if run and not worse(key, run[-1][1], value):
            break
        run.append((label, value))
    return list(reversed(run))


def falling(ds: DataSet, settings: Settings, dims=FALLING_DIMS, keys=FALLING_KEYS) -> list[Falling]:
    """Every metric × dimension value worse ``trend_periods`` months (or more) in a row up to
    the latest month, by at least ``trend_min_change`` in all; the largest fall first."""
    def runs(frames: dict[str, pd.DataFrame]):
        # read cell by cell below: DataFrame.at per value × metric × month cost the check a tenth of its time
        rows = {label: kpis.cells(frame) for label, frame in frames.items()}
        for value in sorted({v for frame in frames.values() for v in frame.index}, key=str):
            for key in keys:
                yield value, key, _run_of_worse(key, _series(rows, value, key), settings)

    def going(frames: dict[str, pd.DataFrame]) -> bool:  # a run as long as the months so far may go on
        return any(len(run) == len(frames) for _value, _key, run in runs(frames))

    out, source = [], _source(ds, settings)
    for dim in (d for d in dims if source.has("tickets", d)):
        frames = source.back_from_latest("month", dim, (*keys, COUNT_KEY), going)
        for value, key, run in runs(frames):
            if len(run) > settings.trend_periods and abs(run[-1][1] - run[0][1]) >= settings.trend_min_change:
                out.append(Falling(dim, plain(value), key, tuple(r[0] for r in run), tuple(r[1] for r in run)))
    return sorted(out, key=lambda f: -abs(f.change))


def _series(rows: dict[str, dict], value, key: str) -> list[tuple[str, float | None, float | None]]:
    """(month, value of ``key``, records) of the group ``value`` in each month's :func:`cs_xl.kpis.cells`
    (None where it has none)."""
    return [(label, plain(groups[value][key]) if value in groups else None,
             plain(groups[value][COUNT_KEY]) if value in groups else None)
            for label, groups in rows.items()]


# ---------------------------------------------------------------- agents against their own baseline

@dataclass(frozen=True)
class AgentShift:
    """``key`` of ``agent`` in ``week`` against the mean of their ``baseline_weeks``."""
    agent: Any
    key: str
    week: str
    latest: float
    baseline: float
    baseline_weeks: tuple[str, ...]
    tickets: int
    worse: bool

    @property
    def change(self) -> float:
        """Relative change against the baseline (+0.4 = 40 % higher)."""
        return self.latest / self.baseline - 1


def agent_shifts(ds: DataSet, settings: Settings, keys=SHIFT_KEYS) -> list[AgentShift]:
    """Agents whose latest-week value moved ``agent_shift`` (relative) or more from their own
    baseline, worse first then better, the largest move first.  Weeks with fewer than
    ``agent_min_records`` tickets of the agent are not used."""
    source = _source(ds, settings)
    if not source.has_column("agent_id"):
        return []
    frames = source.per_period("week", "agent_id", (*keys, COUNT_KEY), last=settings.agent_baseline_weeks + 1)
    labels = list(frames)
    if len(labels) < 2:
        return []
    latest, base_labels = labels[-1], labels[-1 - settings.agent_baseline_weeks:-1]
    out = []
    for agent in frames[latest].index:
        def usable(label):
            f = frames[label]
            return agent in f.index and (plain(f.at[agent, COUNT_KEY]) or 0) >= settings.agent_min_records
        if not usable(latest):
            continue
        for key in keys:
            now = plain(frames[latest].at[agent, key])
            base = [v for label in base_labels if usable(label)
                    and (v := plain(frames[label].at[agent, key])) is not None]
            if now is None or not base or not sum(base):
                continue
            baseline = sum(base) / len(base)
            if abs(now / baseline - 1) >= settings.agent_shift:
                out.append(AgentShift(plain(agent), key, latest, now, baseline, tuple(base_labels),
                                      int(plain(frames[latest].at[agent, COUNT_KEY])), worse(key, now, baseline)))
    return sorted(out, key=lambda s: (not s.worse, -abs(s.change)))


# ---------------------------------------------------------------- streaks at the top

@dataclass(frozen=True)
class Streak:
    """``agent`` ranked first in the team on ``key`` in each of ``months`` (up to the latest)."""
    agent: Any
    key: str
    months: tuple[str, ...]
    values: tuple[float, ...]


def month_leaders(frame: pd.DataFrame, key: str, settings: Settings) -> set:
    """The agents with the best ``key`` of a month among those with ``agent_min_records`` tickets (ties share)."""
    ranked = frame[frame[COUNT_KEY].fillna(0) >= settings.agent_min_records][key].dropna()
    if ranked.empty:
        return set()
    best = ranked.max() if catalogue.get(key).higher_is_better else ranked.min()
    return set(ranked.index[ranked == best])


def agent_streaks(ds: DataSet, settings: Settings, keys=STREAK_KEYS) -> list[Streak]:
    """Agents first on a metric ``streak_months`` months (or more) in a row up to the latest month."""
    source = _source(ds, settings)
    if not source.has_column("agent_id"):
        return []

    def going(frames: dict[str, pd.DataFrame]) -> bool:  # a latest leader first in every month so far
        first = list(frames.values())
        return any(all(agent in month_leaders(f, key, settings) for f in first[:-1])
                   for key in keys for agent in month_leaders(first[-1], key, settings))

    frames = source.back_from_latest("month", "agent_id", (*keys, COUNT_KEY), going)
    labels = list(frames)
    out = []
    for key in keys:
        leaders = [month_leaders(frames[label], key, settings) for label in labels]
        for agent in sorted(leaders[-1], key=str) if leaders else ():  # ties in a stable order, not a set's
            n = 0
            while n < len(labels) and agent in leaders[-1 - n]:
                n += 1
            if n >= settings.streak_months:
                months = tuple(labels[-n:])
                out.append(Streak(plain(agent), key, months,
                                  tuple(plain(frames[m].at[agent, key]) for m in months)))
    return sorted(out, key=lambda s: -len(s.months))


# ---------------------------------------------------------------- findings

def trends(ds: DataSet, settings: Settings) -> dict:
    """Every trend check as one plain result (what :func:`findings` reads)."""
    return {"falling": falling(ds, settings), "agent_shifts": agent_shifts(ds, settings),
            "agent_streaks": agent_streaks(ds, settings)}


def findings(result: dict, settings: Settings) -> list[Finding]:
    """Falls and worse shifts are issues (预警); better shifts and streaks are good news (按客服)."""
    fallen, shifts, streaks = result["falling"], result["agent_shifts"], result["agent_streaks"]
    out = [Finding("falling", {"dim": f.dim, "value": f.value, "metric": f.key, "n": len(f.months) - 1,
                               "first_month": f.months[0], "last_month": f.months[-1],
                               "first": f.values[0], "last": f.values[-1], "change": f.change},
                   sheet="alerts", weight=min(0.95, 0.6 + 2 * abs(f.change)), kind="issue")
           for f in fallen]
    out += [Finding("agent_worse" if s.worse else "agent_better",
                    {"agent": s.agent, "metric": s.key, "week": s.week, "latest": s.latest,
                     "baseline": s.baseline, "weeks": len(s.baseline_weeks), "relative": s.change},
                    sheet="alerts" if s.worse else "agents",
                    weight=min(0.9, 0.5 + abs(s.change) / 2) if s.worse else 0.35, kind="issue" if s.worse
                    else "improvement")
            for s in shifts]
    out += [Finding("streak", {"agent": s.agent, "metric": s.key, "n": len(s.months), "last": s.values[-1],
                               "first_month": s.months[0], "last_month": s.months[-1]},
                    sheet="agents", weight=0.4 + 0.05 * len(s.months), kind="info")
            for s in streaks]
    return out
