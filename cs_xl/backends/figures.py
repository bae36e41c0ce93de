"""The report's figures from a history a SQL engine reads (``cs-xl refresh BOOK --data PATH``).

:class:`SqlFigures` answers what the sheet builders ask (:mod:`cs_xl.report.figures`)
with aggregate queries over the scoped views of :class:`.sql.SqlKpis`: KPIs per
group, counts, the weekday × hour load, the staffing slots, the queue per clock
hour, per-period groups for the trend checks, 帕累托's over-target counts per
cause, 优化前后's windows (a rate's counts; a mean's or percentile's values of its
one input column over a window, for the bootstrap).  Only aggregate rows — and
those window columns — come back.

Two lists are per record and are not copied out of a history of millions of rows:

* the data-quality cell list (数据质量 → 问题明细): counts per reason and action are
  shown, with a line saying the cell list needs the records in a workbook;
* the weekly audit list: the first :data:`AUDIT_SHOWN` open tickets of the scan, with
  the total (the per-week counts on 预警 count them all).
"""
from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from .. import catalogue
from ..analysis import alerts, compare, pareto, run, segments, significance, staffing, trends
from ..dataset import ROW
from ..metrics import Sample
from ..schema import TABLES
from ..settings import Settings
from ..sql_forms import GROUP, _queued, _resolved, queue_levels, queued_calls, slot_calls, weekday_days
from ..values import plain
from .sql import SqlKpis, _Shape

TABLE_KEYS = ("tickets", "feedback", "calls")
AUDIT_SHOWN = 500  # open tickets listed on 数据质量 (the rest are counted)
_MS_PER_HOUR = 3_600_000


class SqlFigures:
    """The figures of the scoped history of ``sql`` (see the module docstring)."""
    per_record = False

    def __init__(self, sql: SqlKpis, settings: Settings):
        self.sql, self.settings = sql, settings
        self.d, self.engine = sql.d, sql.engine
        self._slots: tuple | None = None
        self._periods: dict[str, dict[str, set[str]]] = {}  # grain → periods_present (the scope is fixed)

    def _rows(self, query: str) -> list[tuple]:
        return list(self.engine.stream(query))

    def _whole(self, table: str) -> str:
        """The scoped rows of a table as one group (the relation the forms' windows read)."""
        return f"(SELECT *, 0 AS {GROUP} FROM scoped_{table}) AS t"

    # ---------------------------------------------------------------- KPIs

    def headline(self) -> dict[str, float]:
        return self.sql.headline()

    def grouped(self, by: str, keys) -> pd.DataFrame:
        return _frame(self.sql.grouped(by, keys), by, keys)

    def by_hour(self, keys) -> pd.DataFrame | None:
        if not (self.sql.has("tickets", "created_at") or self.sql.has("calls", "start")):
            return None
        return self.grouped("hour", keys)

    def per_period(self, grain: str, by: str, keys, last: int | None = None) -> dict[str, pd.DataFrame]:
        """label → KPIs by ``by`` of that period's records (trends.per_period), every period with
        records (only the ``last`` ones when given); one grouped query for all periods."""
        rows: dict[str, list] = {label: [] for label in sorted(self.periods_present(grain))}
        for label, values in self.sql.grouped(by, keys, within=grain):
            period, _, value = label.partition("|")
            rows.setdefault(period, []).append((int(value) if by == "priority" else value, values))
        periods = sorted(rows)
        return {period: _frame(sorted(rows[period], key=lambda g: (str(type(g[0])), g[0])), by, keys)
                for period in (periods[-last:] if last else periods)}

    def back_from_latest(self, grain: str, by: str, keys, going) -> dict[str, pd.DataFrame]:
        """trends.back_from_latest: the periods from the latest back while ``going`` (all computed at once)."""
        return trends.from_latest(self.per_period(grain, by, keys), going)

    # ---------------------------------------------------------------- shape and counts

    def has_column(self, key: str) -> bool:
        return self.sql.has_column(key)

    def has(self, table: str, *columns: str) -> bool:
        return table in self.sql.clean and all(self.sql.has(table, c) for c in columns)

    def counts(self, which: str = "scoped") -> dict[str, int]:
        found = self.sql.record_counts("scoped" if which == "scoped" else "clean")
        return {t: found.get(t, 0) for t in TABLE_KEYS}

    def moment_range(self) -> tuple[Any, Any] | None:
        spans = [self.engine.one(f"SELECT min(m), max(m) FROM (SELECT {when} AS m FROM scoped_{t}) AS w")
                 for t in self.sql.clean if (when := self.sql.moment(t)) is not None]
        spans = [(lo, hi) for lo, hi in spans if lo is not None]
        if not spans:
            return None
        return min(lo for lo, _ in spans), max(hi for _, hi in spans)

    def periods_present(self, grain: str) -> dict[str, set[str]]:
        """period label → the tables with records in it; one scan per grain, however many trend
        and per-period figures ask (a 10M-row history was scanned seven times for three grains)."""
        if grain not in self._periods:
            present: dict[str, set[str]] = {}
            for table, relation in self.sql.group_labels(grain).items():
                if relation is not None:
                    for (label,) in self._rows(f"SELECT DISTINCT {GROUP} FROM {relation}"):
                        present.setdefault(str(label), set()).add(table)
            self._periods[grain] = present
        return self._periods[grain]

    def agent_names(self) -> dict:
        """agent_id → the name typed last (in file order) for that id."""
        if not (self.sql.has("tickets", "agent_id") and self.sql.has("tickets", "agent_name")):
            return {}
        return dict(self._rows(
            f"SELECT agent_id, max_by(agent_name, _pos) FROM (SELECT agent_id, agent_name, "
            f"{self.d.row_position()} AS _pos FROM scoped_tickets) AS n "
            f"WHERE agent_id IS NOT NULL AND agent_name IS NOT NULL GROUP BY agent_id"))

    def load_matrix(self) -> pd.DataFrame:
        """Arrivals per weekday × hour: tickets by 创建时间 plus calls by 呼入时间 (kpis.load_matrix)."""
        matrix = pd.DataFrame(0, index=pd.RangeIndex(7, name="weekday"), columns=pd.RangeIndex(24, name="hour"))
        stamps = [f"SELECT {self.d.weekday(col)} AS wd, {self.d.hour(col)} AS hr FROM scoped_{table} "
                  f"WHERE {col} IS NOT NULL" for table, col in (("tickets", "created_at"), ("calls", "start"))
                  if self.sql.has(table, col)]
        if stamps:
            for wd, hr, n in self._rows(f"SELECT wd, hr, count(*) FROM ({' UNION ALL '.join(stamps)}) AS s "
                                        f"GROUP BY wd, hr"):
                matrix.loc[int(wd), int(hr)] = int(n)
        return matrix

    def untimed_records(self) -> dict[str, int]:
        out = {}
        for table, col in (("tickets", "created_at"), ("calls", "start")):
            if table in self.sql.clean:
                where = f" WHERE {col} IS NULL" if self.sql.has(table, col) else ""
                out[table] = int(self.engine.one(f"SELECT count(*) FROM scoped_{table}{where}")[0])
        return out

    # ---------------------------------------------------------------- staffing

    def _slot_series(self) -> tuple[pd.Series, pd.Series, pd.Series | None]:
        """Per weekday × hour of queued calls: arrivals per hour, AHT, distinct agents working
        (staffing.slot_plan's three series), from three small aggregates."""
        if self._slots is None:
            self._slots = self._compute_slots()
        return self._slots

    def _compute_slots(self):
        index = pd.MultiIndex.from_tuples([], names=["weekday", "hour"])
        empty = pd.Series(dtype=float, index=index)
        if not self.sql.has("calls", "start"):
            return empty, empty, None
        queued = queued_calls(_Shape(self.sql, "calls"))
        whole = self._whole("calls")
        days = {int(wd): n for _g, wd, n in self._rows(weekday_days(queued, whole, self.d))}
        calls = sorted((int(wd), int(hr), n) for _g, wd, hr, n in self._rows(slot_calls(queued, whole, self.d)))
        arrivals = _series({(wd, hr): n / days[wd] for wd, hr, n in calls})
        aht = self.sql.forms.get("aht")
        ahts = empty if aht is None or not self.sql.has("calls", "talk_s") else _series({
            (int(wd), int(hr)): plain(v) for wd, hr, v in self._rows(
                f"SELECT {self.d.weekday('start')}, {self.d.hour('start')}, {aht.parts['v']} FROM scoped_calls "
                f"WHERE {queued} GROUP BY {self.d.weekday('start')}, {self.d.hour('start')}")})
        working = None
        if self.sql.has("calls", "agent_id"):
            per_hour = (f"SELECT {self.d.weekday('start')} AS wd, {self.d.hour('start')} AS hr, "
                        f"count(DISTINCT agent_id) AS n FROM scoped_calls WHERE {queued} AND agent_id IS NOT NULL "
                        f"GROUP BY CAST(start AS DATE), {self.d.weekday('start')}, {self.d.hour('start')}")
            working = _series({(int(wd), int(hr)): n / days[int(wd)] for wd, hr, n in sorted(
                self._rows(f"SELECT wd, hr, sum(n) FROM ({per_hour}) AS h GROUP BY wd, hr"))})
        return arrivals, ahts, working

    def staffing_matrix(self, aht_s) -> list[list] | None:
        return staffing.matrix_of_arrivals(self._slot_series()[0], self.settings, aht_s)

    # ---------------------------------------------------------------- alerts

    def hourly_values(self) -> pd.DataFrame:
        """avg_wait and peak_queue of every clock hour with a queued call (alerts.hourly_values)."""
        if not (self.sql.has("calls", "start") and self.sql.has("calls", "wait_s")):
            return pd.DataFrame({"avg_wait": [], "peak_queue": []})
        shape = _Shape(self.sql, "calls")
        queued = queued_calls(shape)
        hour = f"CAST(floor({self.d.epoch_ms('start')} / {_MS_PER_HOUR}) AS BIGINT)"
        waits = dict(self._rows(f"SELECT {hour}, avg(wait_s) FROM scoped_calls WHERE {queued} AND wait_s >= 0 "
                                f"GROUP BY {hour}"))
        levels = queue_levels(_queued(shape), self._whole("calls"), self.d)
        peaks = dict(self._rows(f"SELECT CAST(floor(t / {_MS_PER_HOUR}) AS BIGINT), max(level) FROM ({levels}) AS q "
                                f"WHERE step = 1 GROUP BY CAST(floor(t / {_MS_PER_HOUR}) AS BIGINT)"))
        hours = sorted(set(waits) | set(peaks))
        at = pd.DatetimeIndex([pd.Timestamp(int(h) * _MS_PER_HOUR, unit="ms") for h in hours])
        return pd.DataFrame({"avg_wait": [waits.get(h) for h in hours],
                             "peak_queue": [peaks.get(h) for h in hours]}, index=at, dtype=float)

    def audit_weeks(self) -> dict[str, int]:
        """ISO week → open tickets of that week (audit.weekly_counts)."""
        when = self.sql.moment("tickets")
        condition = self._open_condition()
        if when is None or condition is None:
            return {}
        week = self.d.week_label(when)
        return {str(w): int(n) for w, n in sorted(self._rows(
            f"SELECT {week}, count(*) FROM scoped_tickets WHERE {condition} AND {when} IS NOT NULL GROUP BY {week}"))}

    def _open_condition(self) -> str | None:
        """The tickets the backlog counts (audit.audit_records): not resolved by status or time."""
        if not (self.sql.has("tickets", "status") or self.sql.has("tickets", "resolve_min")):
            return None
        return f"NOT {_resolved(self.d, _Shape(self.sql, 'tickets'))}"

    # ---------------------------------------------------------------- analyses

    def result(self, name: str, headline: dict) -> Any:
        s = self.settings
        if name == "alerts":
            by_day = self.grouped("day", alerts.RULE_KEYS) if self.has("calls") else pd.DataFrame()
            return {"limits": alerts.rule_limits(s), "period": alerts.rule_breaches(headline, s),
                    "days": alerts.rule_days(by_day, s),
                    **alerts.alert_checks(headline, s, alerts.breaches_of_hours(self.hourly_values(), s),
                                          self.audit_weeks())}
        if name == "staffing":
            arrivals, ahts, working = self._slot_series()
            plan = staffing.plan_of_slots(arrivals, ahts, working, s, headline.get("aht"))
            return {"agents_needed": self.staffing_matrix(headline.get("aht")),
                    "service_level": s.target_service_level, "service_level_s": s.service_level_s,
                    **staffing.plan_result(plan, s)}
        if name == "trends":
            return trends.trends(self, s)
        if name == "pareto":
            return self.pareto()
        if name == "segments":
            return self.segment_gaps()
        if name == "compare":
            return [self.compare_one(change) for change in s.changes]
        if name == "audit":
            frame, _total = self.audit_records()
            columns = [c for c in run.AUDIT_COLUMNS if c in frame.columns]
            return [{("row" if c == ROW else c): plain(rec[c]) for c in columns} for rec in frame.to_dict("records")]
        raise KeyError(name)

    def pareto(self) -> dict:
        """帕累托 (pareto.pareto) from counts: the tickets frt_rate / ontime_rate count as missed (their
        forms' own conditions), counted per 问题类型, per 备注 and per comment of their feedback; the
        labels and the keyword classes are worked out in Python once per distinct cell
        (pareto.label_counts, pareto.class_counts: NFKC and case folding as for a book)."""
        s = self.settings
        tickets = self.counts()["tickets"]
        missed = {key: form.missed() for key in pareto.OVER_KEYS
                  if (form := self.sql.forms.get(key)) is not None and form.missed() is not None}
        if not tickets or not missed:
            return pareto.pareto_result(tickets, 0, 0, 0, s, [])
        slow = " OR ".join(f"({m})" for m in missed.values())
        over, frt_over, late = (int(n or 0) for n in self.engine.one(
            f"SELECT count(CASE WHEN {slow} THEN 1 END), "
            + ", ".join(f"count(CASE WHEN {missed[k]} THEN 1 END)" if k in missed else "0" for k in pareto.OVER_KEYS)
            + " FROM scoped_tickets"))
        rankings = []
        for by in ("issue_type", "note"):
            if self.sql.has("tickets", by):
                counts, blank = pareto.label_counts(self._rows(
                    f"SELECT {by}, count(*) FROM scoped_tickets WHERE {slow} GROUP BY {by}"))
                rankings.append(pareto.ranked_counts(counts, s.pareto_line, blank, by))
        if self.sql.has("tickets", "ticket_id") and self.sql.has("feedback", "ticket_id"):
            comment = "comment" if self.sql.has("feedback", "comment") else "NULL"
            classes, silent, unclassified = pareto.class_counts(self._rows(
                f"SELECT {comment}, count(*) FROM scoped_feedback WHERE ticket_id IN "
                f"(SELECT ticket_id FROM scoped_tickets WHERE ({slow}) AND ticket_id IS NOT NULL) GROUP BY {comment}"), s)
        else:
            classes, silent, unclassified = {}, 0, 0
        rankings.append(pareto.ranked_counts(classes, s.pareto_line, silent, "feedback_class", unclassified))
        return pareto.pareto_result(tickets, over, frt_over, late, s, rankings)

    def compare_one(self, change) -> compare.Comparison:
        """One 优化记录 row (compare.compare_one): the change's scope and each window as views of the
        scoped history; a rate's window is two counts, a mean's or percentile's the non-blank values
        of its one input over that window (a numpy array: one column of one window, never a table),
        and compare.judge works out the interval as for a book."""
        s, key = self.settings, change.metric
        table = catalogue.get(key).table
        form = self.sql.forms.get(key)
        if not compare.scope_reaches(self, table, change.scope):
            return compare._not_judged(change, s, "scope_column")
        self.sql.scope_views({k: list(v) for k, v in change.scope}, Settings(), "scoped", "change")
        when = self.sql.moment(table)
        first, last = (None, None) if when is None else self.engine.one(f"SELECT min({when}), max({when}) FROM change_{table}")
        days = compare.days_between_records(first, last, change.effective, s.compare_window_days)
        return compare.judge(change, s, days, lambda start, end: self._window(key, form, start, end))

    def _window(self, key: str, form, start, end) -> tuple:
        """(compare.Window, sample) of metric ``key`` from day ``start`` to ``end`` of the change's scope."""
        self.sql.scope_views({}, Settings(period_start=start, period_end=end), "change", "window")
        value = plain(self.sql.headline([key], view="window")[key])
        table = catalogue.get(key).table
        if form is None or not catalogue.comparable(key):
            sample = None
        elif form.conditions is not None:
            met, counted = form.conditions
            successes, records = self.engine.one(
                f"SELECT count(CASE WHEN ({met}) AND ({counted}) THEN 1 END), count(CASE WHEN {counted} THEN 1 END) "
                f"FROM window_{table}")
            sample = compare.ShareCount(int(successes), int(records))
        else:
            values = self.engine.values(f"SELECT {form.values} FROM window_{table} WHERE ({form.values}) IS NOT NULL")
            sample = Sample("percentile" if form.p is not None else "mean", values, form.p)
        return compare.Window(start, end, 0 if sample is None else compare.sample_size(sample), value), sample

    def segment_gaps(self) -> list:
        """客群差异 (segments.segment_gaps) from counts: per 参数 segment column and metric, a share's
        successes and records per segment, a duration's records per distinct value and segment
        (the rank test needs no more: significance.durations_of_counts); the rest of a segment is
        every other labelled record, as for a book."""
        dims = [d for d in self.settings.segment_columns if self.sql.has("tickets", d)]
        out = []
        for dim in dims:
            relations = self.sql.group_labels(dim)  # feedback: its ticket's segment
            for key in segments.KEYS:
                relation, form = relations.get(catalogue.get(key).table), self.sql.forms.get(key)
                if relation is not None and form is not None and catalogue.comparable(key):
                    out += self._gaps(dim, key, form, relation)
        return out

    def _gaps(self, dim: str, key: str, form, relation: str) -> list:
        s = self.settings
        if form.conditions is not None:
            met, counted = form.conditions
            per = {g: (int(x), int(n)) for g, x, n in self._rows(
                f"SELECT {GROUP}, count(CASE WHEN ({met}) AND ({counted}) THEN 1 END), "
                f"count(CASE WHEN {counted} THEN 1 END) FROM {relation} GROUP BY {GROUP}")}
            all_x, all_n = sum(x for x, _n in per.values()), sum(n for _x, n in per.values())
            return [segments.judged_gap(s, dim, g, key, n, all_n - n, x / n, (all_x - x) / (all_n - n),
                                        significance.proportions(x, n, all_x - x, all_n - n))
                    for g, (x, n) in _in_order(per) if segments.enough_records(s, n, all_n - n)]
        rows = self._rows(f"SELECT v, {GROUP}, count(*) FROM (SELECT {form.values} AS v, {GROUP} FROM {relation}) AS s "
                          f"WHERE v IS NOT NULL GROUP BY v, {GROUP}")
        values = np.unique(np.array([float(v) for v, _g, _n in rows], dtype=float))
        counts: dict = {}
        for v, g, n in rows:
            counts.setdefault(g, np.zeros(values.size, dtype=np.int64))[np.searchsorted(values, float(v))] += int(n)
        total = sum(counts.values(), np.zeros(values.size, dtype=np.int64))
        out = []
        for g, inside in _in_order(counts):
            rest = total - inside
            n, n_rest = int(inside.sum()), int(rest.sum())
            if segments.enough_records(s, n, n_rest):
                out.append(segments.judged_gap(s, dim, g, key, n, n_rest, _statistic(form, values, inside),
                                               _statistic(form, values, rest),
                                               significance.durations_of_counts(values, inside, rest)))
        return out

    # ---------------------------------------------------------------- data quality

    def quality_issues(self) -> None:
        return None  # counts only: a history's cells are not listed one by one

    def dropped_rows(self) -> set:
        return set()

    def quality_reasons(self) -> Counter:
        """(source, reason, action) → cells or records, as the 数据质量 by-reason table counts them."""
        self.sql.quality()  # counts every issue once
        out: Counter = Counter()
        for key, clean in self.sql.clean.items():
            for issue in clean.issues:
                if issue.count:
                    action = "record dropped" if issue.column is None and issue.action == "dropped" else issue.action
                    out[(TABLES[key].sheet_names[0], issue.why, action)] += issue.count
        return out

    def quality_counts(self) -> dict[str, int]:
        """Records dropped apart from the cells repaired / dropped / flagged (report.quality_counts)."""
        q = self.sql.quality()
        return {k: q[k] for k in ("issues", "records_dropped", "cells_repaired", "cells_dropped", "flagged")}

    def audit_records(self) -> tuple[pd.DataFrame, int]:
        """The first :data:`AUDIT_SHOWN` open tickets of the scan, and how many there are."""
        condition = self._open_condition()
        if condition is None:
            return pd.DataFrame(), 0
        columns = [c for c in run.AUDIT_COLUMNS if c != ROW and self.sql.has("tickets", c)]
        total = int(self.engine.one(f"SELECT count(*) FROM scoped_tickets WHERE {condition}")[0])
        rows = self._rows(f"SELECT {', '.join(columns)} FROM scoped_tickets WHERE {condition} LIMIT {AUDIT_SHOWN}")
        frame = pd.DataFrame(rows, columns=columns)
        if "date" in frame.columns:  # as the loader types dates: Timestamps
            frame["date"] = pd.to_datetime(frame["date"])
        return frame, total


def _frame(groups: list[tuple[Any, dict]], by: str, keys) -> pd.DataFrame:
    """(label, KPIs) pairs as kpis.grouped's frame: one row per label, one column per key."""
    keys = list(keys)
    frame = pd.DataFrame([[values[k] for k in keys] for _label, values in groups],
                         index=[label for label, _values in groups], columns=keys, dtype=float)
    frame.index.name = by
    return frame


def _in_order(per_segment: dict) -> list:
    """The segments in report order (segments.Segments: by type, then value)."""
    return sorted(per_segment.items(), key=lambda kv: (str(type(kv[0])), kv[0]))


def _statistic(form, values: np.ndarray, counts: np.ndarray) -> float:
    """The metric's aggregation (a mean or a percentile) of ``values`` each counted ``counts`` times."""
    if form.p is None:
        return float(np.dot(values, counts) / counts.sum())
    return Sample("percentile", np.repeat(values, counts), form.p).statistic(np.repeat(values, counts))


def _series(values: dict[tuple[int, int], float]) -> pd.Series:
    index = pd.MultiIndex.from_tuples(list(values), names=["weekday", "hour"])
    return pd.Series(list(values.values()), index=index, dtype=float)


__all__ = ["SqlFigures", "AUDIT_SHOWN"]
