"""The analyses a SQL history gets from aggregates (帕累托, 优化前后, 客群差异) equal the
records path's on the same records.

A small history written as CSV with the cells that make the text rules matter:
full-width and padded 问题类型 / 备注, blank causes, comments whose keywords are
upper-case or full-width (NFKC, case folding), comments with hits of two classes
(most hits wins, the first class of a tie), feedback of tickets outside the
history.  Expected values: the records path (:mod:`cs_xl.analysis`, the
product's loader over the same files) — an implementation that never sees SQL.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

import datetime as dt

from cs_xl.analysis import compare, pareto, segments
from cs_xl.settings import Change, Settings
from tests.ci import absent
from tests.history_data import pandas_dataset

try:
    import duckdb  # noqa: F401
except ImportError:  # pragma: no cover - the extra is part of [test]
    duckdb = None

ISSUES = ("账户问题", "账户问题 ", "ＡＢＣ问题", "退款", "", "物流")
NOTES = ("系统延迟", "客户未提供完整信息", " 系统延迟", "", "-", "排队")
COMMENTS = ("排队等了很久", "客服态度也一般, 排队", "WAIT too long", "ｗａｉｔ and RUDE", "页面打不开, 系统崩溃",
            "回复很快, 很满意", "", "态度 态度 排队", "system error, page crash, queue")
SETTINGS = Settings(frt_threshold_min=4, pareto_line=0.7)
MID = dt.date(2024, 3, 15)
CHANGES = (Change("新话术", MID, "frt_avg"), Change("新话术", MID, "frt_median"), Change("排班", MID, "frt_rate"),
           Change("流程", MID, "resolve_p90", (("channel", ("电话", "在线")),)),
           Change("回访", dt.date(2024, 3, 10), "csat_rate", (("customer_type", ("ＶＩＰ",)),)),  # feedback via its ticket
           Change("回访", MID, "csat_avg"), Change("太早", dt.date(2023, 1, 1), "frt_avg"),
           Change("太少", MID, "frt_avg", (("issue_type", ("物流",)), ("priority", ("P1",)))),
           Change("没有列", MID, "frt_avg", (("team", ("一组",)),)))
COMPARE = SETTINGS.with_(changes=CHANGES, compare_window_days=10, compare_resamples=300, compare_min_records=5)


def _write(path: Path, header: list[str], rows: list[list]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def write_text_history(folder: Path, seed: int = 3, n: int = 600, m: int = 500) -> Path:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    days = [f"2024-03-{d:02d}" for d in rng.integers(1, 29, n)]
    _write(folder / "tickets.csv",
           ["日期", "工单编号", "客服工号", "渠道", "客户类型", "优先级", "状态", "首次响应时间(分钟)",
            "问题解决时间(分钟)", "问题类型", "备注"],
           [[days[i], f"T{i:04d}", f"A{rng.integers(1, 6)}", str(rng.choice(["电话", "在线", "邮件", "微信"])),
             str(rng.choice(["新客户", "老客户", "VIP", ""])), str(rng.choice(["P1", "P2", "P3", "P4", ""])),
             str(rng.choice(["已解决", "已解决", "处理中"])),
             "" if rng.random() < 0.05 else str(round(float(rng.choice([4, 4.0000001, 3.9]) if rng.random() < 0.1
                                                          else rng.lognormal(1.3, 0.8)), 2)),
             "" if rng.random() < 0.05 else str(round(float(rng.lognormal(5, 1)), 1)),
             str(rng.choice(ISSUES)), str(rng.choice(NOTES))] for i in range(n)])
    _write(folder / "feedback.csv", ["工单编号", "日期", "评分(1-5星)", "评价内容"],
           [[f"T{rng.integers(0, n + 40):04d}", f"2024-03-{rng.integers(1, 29):02d}", str(rng.integers(1, 6)),
             str(rng.choice(COMMENTS))] for _ in range(m)])
    return folder


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    if duckdb is None:
        absent("duckdb is not installed (pip install 'cs_xl[duckdb]')")
    return write_text_history(tmp_path_factory.mktemp("sql_analyses") / "history")


def sql_result(folder: Path, settings: Settings, name: str):
    """The analysis ``name`` of the history through DuckDB (refresh --data's figures)."""
    from cs_xl.backends.duckdb import DuckDBEngine
    from cs_xl.backends.figures import SqlFigures
    from cs_xl.backends.sql import SqlKpis
    engine = DuckDBEngine(folder)
    try:
        return SqlFigures(SqlKpis(engine, settings), settings).result(name, {})
    finally:
        engine.close()


def test_pareto_of_a_history_equals_the_records_path(history):
    want = pareto.pareto(pandas_dataset(history), SETTINGS)
    got = sql_result(history, SETTINGS, "pareto")
    assert [r.by for r in want["rankings"]] == ["issue_type", "note", "feedback_class"]
    assert 0 < want["over"] < want["tickets"] and want["frt_over"] and want["late"]
    assert want["rankings"][2].unclassified and want["rankings"][2].without  # 很满意 and blank comments
    assert got == want


def test_compare_of_a_history_equals_the_records_path(history):
    want = compare.compare(pandas_dataset(history), COMPARE)
    got = sql_result(history, COMPARE, "compare")
    verdicts = {c.method or c.why for c in want}
    assert {"bootstrap", "newcombe", "no_data", "scope_column"} <= verdicts, verdicts
    assert len(got) == len(want) == len(CHANGES)
    for g, w in zip(got, want):
        assert (g.verdict, g.why, g.method, g.days) == (w.verdict, w.why, w.method, w.days), w.measure
        for gw, ww in ((g.before, w.before), (g.after, w.after)):
            assert (gw is None) == (ww is None) and (gw is None or (gw.start, gw.end, gw.records)
                                                     == (ww.start, ww.end, ww.records)), w.measure
            assert gw is None or close(gw.value, ww.value), (w.metric, gw, ww)
        for field in ("change", "relative", "low", "high"):
            assert close(getattr(g, field), getattr(w, field)), (w.metric, field)


def close(a, b) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) <= 1e-9 * max(1, abs(b)))


SEGMENTS = SETTINGS.with_(segment_columns=("customer_type", "channel", "priority"), segment_min_records=20)


def test_segment_gaps_of_a_history_equal_the_records_path(history):
    want = segments.segment_gaps(pandas_dataset(history), SEGMENTS)
    got = sql_result(history, SEGMENTS, "segments")
    assert {g.metric for g in want} == set(segments.KEYS) - {"fcr_rate"} and {g.test for g in want} == {"mann_whitney",
                                                                                         "two_proportion_z"}
    assert [(g.dim, g.value, g.metric, g.n, g.n_rest, g.test, g.flagged, g.worse) for g in got] == \
        [(g.dim, g.value, g.metric, g.n, g.n_rest, g.test, g.flagged, g.worse) for g in want]
    for g, w in zip(got, want):
        for field in ("group", "rest", "difference", "statistic", "p", "effect"):
            assert close(getattr(g, field), getattr(w, field)), (w.dim, w.value, w.metric, field)


def test_the_rank_test_from_counts_is_scipys_mann_whitney():
    """The U, p and r 客群差异 shows (a book's and a history's): scipy's mannwhitneyu on the values."""
    from scipy import stats
    from cs_xl.analysis import significance
    rng = np.random.default_rng(8)
    for size_a, size_b, digits in ((9, 9, 0), (40, 300, 1), (500, 80, 2), (12, 5000, 0), (3, 50, 1)):
        a = np.round(rng.lognormal(1, 1, size_a), digits)
        b = np.round(rng.lognormal(1.2, 1, size_b), digits)
        u, p = stats.mannwhitneyu(a, b, alternative="two-sided")
        values, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
        counted = significance.durations_of_counts(values, np.bincount(inverse[:a.size], minlength=values.size),
                                                   np.bincount(inverse[a.size:], minlength=values.size))
        for test in (significance.durations(a, b), counted):
            assert test.statistic == u and abs(test.p - p) <= 1e-12, (size_a, size_b)
            assert abs(test.effect - (2 * u / (a.size * b.size) - 1)) <= 1e-12
