"""客群差异: each metric per segment (客户类型, 渠道, any column of 参数's 客群维度), each segment
against the rest of the records, with a significance test and an effect size
(seed 000: 「老年客户咨询的响应时间明显长于年轻客户」).

Each side's values are the records the registry's metric aggregates (:meth:`cs_xl.catalogue.Metric.sample`:
one definition of the arithmetic, per-channel targets and priority deadlines included):

* means and percentiles of minutes (首次响应时间, 解决时长): Mann-Whitney U on the minutes
  (:func:`cs_xl.analysis.significance.durations`);
* shares (首次响应达标率, 按时完成率, 一次解决率, 满意度): successes / records of each side, two-proportion z
  (:func:`cs_xl.analysis.significance.proportions`).

A gap is *flagged* only when it is significant (p < ``segment_alpha``) **and** its effect size
reaches ``segment_min_effect`` — with thousands of tickets a difference of a few seconds is
"significant" and still not worth a manager's time.  Segments (and rests) with fewer than
``segment_min_records`` records are not tested.  Feedback belongs to its ticket's segment.

A SQL history (``cs-xl refresh --data``) gives the same gaps from counts: a share's successes and
records per segment, a duration's records per distinct value and segment
(:func:`cs_xl.analysis.significance.durations_of_counts`: the same U, p and r); :func:`judged_gap`
judges both.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import catalogue, kpis
from ..dataset import DataSet
from ..settings import Settings
from ..values import plain
from . import significance
from .findings import Finding

# means of minutes (Mann-Whitney), then shares of records (two-proportion z); any metric of
# catalogue.comparable() would do
KEYS = ("frt_avg", "resolve_avg", "frt_rate", "ontime_rate", "fcr_rate", "csat_rate")


@dataclass(frozen=True)
class SegmentGap:
    """``metric`` of the records with ``dim`` = ``value`` against every other record with a ``dim``."""
    dim: str
    value: Any
    metric: str
    n: int                 # records the metric counts in the segment (valid minutes / the rate's denominator)
    n_rest: int
    group: float           # the metric in the segment
    rest: float            # … and in the rest
    difference: float      # group − rest (minutes, or a share: 0.05 = 5 percentage points)
    test: str              # mann_whitney | two_proportion_z
    statistic: float
    p: float
    effect: float          # rank-biserial r (durations) or Cohen's h (rates), signed group − rest
    flagged: bool          # p < segment_alpha and |effect| ≥ segment_min_effect
    worse: bool            # the segment fares worse than the rest on this metric


def segment_dims(ds: DataSet, settings: Settings) -> list[str]:
    """The 参数 segment columns the tickets carry, in the order of 参数."""
    return [d for d in settings.segment_columns if ds.has("tickets", d)]


def _side(columns: dict, settings: Settings, key: str, positions: np.ndarray):
    """The metric's per-record sample over the records at ``positions`` of its table."""
    metric = catalogue.get(key)
    return metric.sample(kpis.Records(columns, settings, {metric.table: positions}))


def _test(inside, rest, counts=None) -> significance.GroupTest | None:
    if inside.kind == "share":
        return significance.proportions(int(inside.values.sum()), inside.values.size,
                                        int(rest.values.sum()), rest.values.size)
    return significance.durations(inside.values, rest.values, counts)


class Ranked:
    """A duration metric's distinct values over every labelled record, and each record's code among
    them: sorted once per column and metric, where each segment's rank test sorted the 100k values of
    both its sides again (half of 客群差异's time).

    A side's counts are read off its records' codes when its values are the whole's at those records
    (the metric reads each record alone, as the durations do), else :meth:`counts` is None and the
    test sorts the side's values as before."""

    def __init__(self, whole, positions: np.ndarray, rows: int):
        self.values, codes = np.unique(whole.values, return_inverse=True)
        self._code_at = np.full(rows, -1)  # per record of the table; -1: no value
        self._code_at[positions[whole.rows]] = codes.ravel()

    def counts(self, side, positions: np.ndarray) -> np.ndarray | None:
        """How many of ``side``'s values (a sample over the records at ``positions``) each value has."""
        codes = self._code_at[positions[side.rows]]
        if (codes < 0).any() or not np.array_equal(self.values[codes], side.values):
            return None
        return np.bincount(codes, minlength=self.values.size)

    def pair(self, inside, inside_rows: np.ndarray, rest, rest_rows: np.ndarray):
        """:func:`significance.value_counts` of the two sides, or None (see the class)."""
        in_group, in_rest = self.counts(inside, inside_rows), self.counts(rest, rest_rows)
        if in_group is None or in_rest is None:
            return None
        present = (in_group + in_rest) > 0  # the distinct values of these two sides only
        return in_group[present], in_rest[present]


def _ranked(columns: dict, settings: Settings, key: str, segments: "Segments") -> Ranked | None:
    """The :class:`Ranked` values of a duration metric over every labelled record (None for a rate)."""
    labelled = np.flatnonzero(segments.known)
    whole = _side(columns, settings, key, labelled)
    if whole is None or whole.kind == "share" or whole.rows is None:
        return None
    return Ranked(whole, labelled, len(segments.codes))


class Segments:
    """The segment values of one table's rows, in report order, each value's rows found by an integer
    code: the labels are hashed once per column, not compared as text once per value and metric."""

    def __init__(self, labels: pd.Series):
        codes, uniques = pd.factorize(labels.reset_index(drop=True))  # equal labels share a code; blank: -1
        self.codes = np.asarray(codes)
        self.known = self.codes >= 0
        self.values = sorted(((value, code) for code, value in enumerate(uniques)),
                             key=lambda pair: (str(type(pair[0])), pair[0]))

    def sides(self):
        """(value, positions of its rows, positions of every other labelled row) per segment."""
        for value, code in self.values:
            inside = self.codes == code
            yield value, np.flatnonzero(inside), np.flatnonzero(self.known & ~inside)


def metric_gaps(settings: Settings, dim: str, key: str, columns: dict, segments_of: dict) -> list[SegmentGap]:
    """``key`` of every segment of ``dim`` against the rest; ``segments_of``: each table's
    :class:`Segments` (None: the table has no segments of ``dim``; feedback: its ticket's segment)."""
    segments = segments_of.get(catalogue.get(key).table)
    if segments is None:
        return []
    out, ranked = [], _ranked(columns, settings, key, segments)
    for value, inside_rows, rest_rows in segments.sides():
        inside = _side(columns, settings, key, inside_rows)
        rest = _side(columns, settings, key, rest_rows)
        if inside is None or rest is None or not enough_records(settings, inside.values.size, rest.values.size):
            continue
        counts = ranked and ranked.pair(inside, inside_rows, rest, rest_rows)
        out.append(judged_gap(settings, dim, value, key, inside.values.size, rest.values.size,
                              inside.statistic(inside.values), rest.statistic(rest.values),
                              _test(inside, rest, counts)))
    return out


def enough_records(settings: Settings, n: int, n_rest: int) -> bool:
    """Whether a segment and its rest have records enough to be tested."""
    return min(n, n_rest) >= settings.segment_min_records


def judged_gap(settings: Settings, dim: str, value, key: str, n: int, n_rest: int, group: float, other: float,
               test: significance.GroupTest) -> SegmentGap:
    """One segment's gap, flagged and judged worse or not (also a SQL history's, from its counts)."""
    flagged = test.p < settings.segment_alpha and abs(test.effect) >= settings.segment_min_effect
    worse = group < other if catalogue.get(key).higher_is_better else group > other
    return SegmentGap(dim, plain(value), key, int(n), int(n_rest), group, other, group - other, test.test,
                      test.statistic, test.p, test.effect, bool(flagged), bool(worse))


def segment_gaps(ds: DataSet, settings: Settings, keys=KEYS) -> list[SegmentGap]:
    """Every segment × metric tested, per 参数 segment column, in column then metric order."""
    columns = kpis.table_columns(ds)  # each column coerced once for every segment and metric
    tables = {catalogue.get(key).table for key in keys}  # only these tables' labels are needed
    out = []
    for dim in segment_dims(ds, settings):
        # once per column, for every metric (feedback: its ticket's segment, kpis.table_labels)
        segments_of = {table: None if (labels := kpis.table_labels(ds, dim, table)) is None else Segments(labels)
                       for table in tables}
        out += [gap for key in keys for gap in metric_gaps(settings, dim, key, columns, segments_of)]
    return out


def findings(gaps: list[SegmentGap] | None, settings: Settings) -> list[Finding]:
    """One finding per flagged gap: an issue where the segment fares worse, information where
    better; heavier with the effect size."""
    return [Finding("segment_gap_worse" if g.worse else "segment_gap_better",
                    {"dim": g.dim, "value": str(g.value), "metric": g.metric, "group": g.group, "rest": g.rest,
                     "diff": g.difference, "p": g.p, "effect": g.effect, "n": g.n},
                    sheet="segments", weight=min(0.85, 0.5 + abs(g.effect) / 3) if g.worse else 0.4,
                    kind="issue" if g.worse else "info")
            for g in gaps or () if g.flagged]
