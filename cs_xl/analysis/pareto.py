"""帕累托: why records go over target, causes ranked by count (seed 002: 使用帕累托分析,
聚焦80%的问题来源; seed 001: 反馈归类为 流程/人员/工具).

A ticket is *over target* when the registry counts it against 首次响应达标率 (first response past
its channel's target) or against 按时完成率 (resolved past its priority's deadline): the records
behind those two rates, read through :meth:`cs_xl.catalogue.Metric.sample` — the metrics' own
arithmetic, nothing re-implemented here.  Among them the causes are ranked three ways:

* by 问题类型 (issue type);
* by 备注 (the cause notes agents type: 系统延迟, 客户未提供完整信息 …);
* by feedback class: the 评价内容 comments of those tickets' feedback, classified 流程 / 人员 / 工具
  by the keyword table of 参数 (a comment takes the class with the most keyword hits); comments no
  keyword classes (「回复很快, 很满意」) are counted apart, not ranked as a cause.

A SQL history (``cs-xl refresh --data``) gives the same rankings from counts: its engine counts the
over-target tickets with the two rates' own SQL conditions (:meth:`cs_xl.sql_forms.Form.missed`) per
distinct cell, and :func:`label_counts` / :func:`class_counts` label and classify those cells here.

Each ranking carries count, share and cumulative share; the *vital few* are the causes that,
in rank order, first reach the 参数 line (80 %).

>>> [(c.cause, c.count, round(c.cumulative, 2), c.vital) for c in ranked(pd.Series(list("aaaabbc"))).causes]
[('a', 4, 0.57, True), ('b', 2, 0.86, True), ('c', 1, 1.0, False)]
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from .. import catalogue, kpis
from ..coerce import norm_text
from ..dataset import DataSet
from ..settings import Settings
from .findings import Finding

OVER_KEYS = ("frt_rate", "ontime_rate")   # first response past target; resolution past deadline
BY = ("issue_type", "note", "feedback_class")


@dataclass(frozen=True)
class Cause:
    cause: Any            # the issue type, note or feedback class
    count: int
    share: float          # of the ranking's total
    cumulative: float     # share of this cause and every cause ranked above it
    vital: bool           # among the causes that, in rank order, first reach the line


@dataclass(frozen=True)
class Ranking:
    by: str               # issue_type | note | feedback_class
    causes: tuple[Cause, ...]
    total: int            # over-target records (feedback comments) with a cause
    without: int          # … without one: blank 备注 / 问题类型, no comment
    unclassified: int = 0  # comments no keyword of 参数 classes

    @property
    def vital(self) -> int:
        return sum(c.vital for c in self.causes)


def over_target(ds: DataSet, settings: Settings) -> dict[str, np.ndarray]:
    """Per ticket row, for each of :data:`OVER_KEYS`: counted by that rate but not met."""
    t = ds.tickets
    out: dict[str, np.ndarray] = {}
    if t is None:
        return out
    records = kpis.Records(kpis.table_columns(ds), settings)
    for key in OVER_KEYS:
        sample = catalogue.get(key).sample(records)
        if sample is not None:
            flags = np.zeros(len(t), dtype=bool)
            flags[sample.rows[sample.values == 0]] = True
            out[key] = flags
    return out


def ranked(labels: pd.Series, line: float = 0.8, without: int = 0, by: str = "", unclassified: int = 0) -> Ranking:
    """Causes of ``labels`` (one per record) by count, largest first (ties by name)."""
    return ranked_counts(labels.value_counts().to_dict(), line, without, by, unclassified)


def ranked_counts(counts: Mapping[Any, int], line: float = 0.8, without: int = 0, by: str = "",
                  unclassified: int = 0) -> Ranking:
    """Causes by their record counts (cause → count; a SQL history's counts), largest first (ties by name).

    >>> [(c.cause, c.count, c.vital) for c in ranked_counts({"b": 2, "a": 2, "c": 1}, 0.3).causes]
    [('a', 2, True), ('b', 2, False), ('c', 1, False)]
    """
    order = sorted(((cause, int(n)) for cause, n in counts.items() if n), key=lambda kv: (-kv[1], str(kv[0])))
    total = sum(n for _cause, n in order)
    causes, running = [], 0
    for cause, count in order:
        before = running / total
        running += count
        causes.append(Cause(cause, count, count / total, running / total, before < line))
    return Ranking(by, tuple(causes), total, without, unclassified)


def classify(comment: Any, classes: Iterable[tuple[str, tuple[str, ...]]]) -> str | None:
    """The class whose keywords a comment contains most often (the first of a tie), None without any.

    >>> classify("排队等了很久, 客服态度也一般", (("流程", ("排队", "等")), ("人员", ("态度",))))
    '流程'
    >>> classify("Thanks!", (("流程", ("wait",)),)) is None
    True
    """
    text = norm_text(comment).casefold()
    best, hits = None, 0
    for name, keywords in classes:
        n = sum(text.count(k.casefold()) for k in keywords if k)
        if n > hits:
            best, hits = name, n
    return best


def cause_text(value: Any) -> str | None:
    """A cell as stripped text, blank as None (the label a cause is counted under)."""
    return None if value is None or value != value or not str(value).strip() else norm_text(value)


def _texts(values: pd.Series) -> pd.Series:
    """Cells as stripped text, blanks as None."""
    return _each_distinct(values, cause_text)


def label_counts(counted: Iterable[tuple[Any, int]]) -> tuple[Counter, int]:
    """(cell, records) pairs — a SQL history's ``GROUP BY`` of a column — as cause → records and
    the records without a cause (blank), under the labels :func:`_texts` gives the cells."""
    out: Counter = Counter()
    for value, n in counted:
        out[cause_text(value)] += int(n)
    return out, out.pop(None, 0)


def class_counts(comments: Iterable[tuple[Any, int]], settings: Settings) -> tuple[Counter, int, int]:
    """(comment, answers) pairs as class → answers, the answers without a comment and those no
    keyword classes (:func:`classify`, once per distinct comment)."""
    texts, silent = label_counts(comments)
    out: Counter = Counter()
    for text, n in texts.items():
        out[classify(text, settings.feedback_classes)] += n
    return out, silent, out.pop(None, 0)


def _each_distinct(values: pd.Series, fn) -> pd.Series:
    """``values.map(fn)``, with ``fn`` called once per distinct text: a column of 100k causes or
    comments holds a few hundred.  Blank cells (None, NaN) map to None.  A column with
    other cells than text is mapped cell by cell (``1 == 1.0 == True`` would share one answer).

    >>> _each_distinct(pd.Series(["a", None, "b", "a"]), lambda v: v and v.upper()).tolist()
    ['A', None, 'B', 'A']
    """
    codes, uniques = pd.factorize(values)  # blanks: -1, the last entry below
    if not all(u.__class__ is str for u in uniques):
        return values.map(fn)
    answers = np.empty(len(uniques) + 1, dtype=object)
    answers[:] = [*map(fn, uniques), None]
    return pd.Series(answers[codes], index=values.index, dtype=object)


def feedback_classes(ds: DataSet, settings: Settings, slow: np.ndarray) -> tuple[pd.Series, int]:
    """The class of each comment on an over-target ticket's feedback, and how many such answers
    carry no comment."""
    f, t = ds.feedback, ds.tickets
    if f is None or "ticket_id" not in f.columns or "ticket_id" not in t.columns:
        return pd.Series(dtype=object), 0
    slow_ids = set(t["ticket_id"].to_numpy()[slow]) - {None}
    on_slow = f[f["ticket_id"].isin(slow_ids)]
    comments = _texts(on_slow["comment"]) if "comment" in f.columns else pd.Series(None, index=on_slow.index)
    said = comments.dropna()
    classes = settings.feedback_classes
    return _each_distinct(said, lambda c: classify(c, classes)), int(comments.isna().sum())


def pareto(ds: DataSet, settings: Settings) -> dict:
    """帕累托 as one plain result: how many tickets are over target (and why: FRT, resolution),
    and the three rankings of their causes."""
    t = ds.tickets
    flags = over_target(ds, settings)
    if t is None or not flags:
        return pareto_result(0 if t is None else len(t), 0, 0, 0, settings, [])
    slow = np.logical_or.reduce(list(flags.values()))
    rankings = []
    for by in ("issue_type", "note"):
        if by in t.columns:
            labels = _texts(t[by][slow])
            rankings.append(ranked(labels.dropna(), settings.pareto_line, int(labels.isna().sum()), by))
    classes, silent = feedback_classes(ds, settings, slow)
    rankings.append(ranked(classes.dropna(), settings.pareto_line, silent, "feedback_class",
                           int(classes.isna().sum())))
    return pareto_result(len(t), int(slow.sum()), int(flags.get("frt_rate", slow & False).sum()),
                         int(flags.get("ontime_rate", slow & False).sum()), settings, rankings)


def pareto_result(tickets: int, over: int, frt_over: int, late: int, settings: Settings, rankings) -> dict:
    """The plain result of :func:`pareto` (also a SQL history's, from its counts); rankings
    without a cause are left out."""
    return {"tickets": tickets, "over": over, "frt_over": frt_over, "late": late, "line": settings.pareto_line,
            "rankings": [r for r in rankings if r.total]}


def findings(result: dict | None, settings: Settings) -> list[Finding]:
    """The top cause of each ranking, heavier the larger its share (none without a result)."""
    if result is None:
        return []
    return [Finding("pareto_top", {"by": r.by, "cause": r.causes[0].cause, "count": r.causes[0].count,
                                   "share": r.causes[0].share, "total": r.total, "vital": r.vital,
                                   "line": result["line"], "over": result["over"]},
                    sheet="pareto", weight=min(0.8, 0.45 + r.causes[0].share / 2), kind="issue")
            for r in result["rankings"] if r.causes]
