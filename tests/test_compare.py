"""优化前后: planted improvements are found with the right size, noise is not (false-positive
rate measured over many seeds), the intervals agree with hand computations, and the refreshed
workbook shows the sheet, its chart and the sentence of 分析报告."""
from __future__ import annotations

import datetime as dt
import math
import re

import numpy as np
import openpyxl
import pandas as pd
import pytest
import scipy.stats

from cs_xl import catalogue, kpis, sample
from cs_xl.analysis import compare, intervals, run
from cs_xl.dataset import DataSet
from cs_xl.report.build import build_report
from cs_xl.report.narrative import sentence
from cs_xl.settings import Change, Settings

START = pd.Timestamp("2024-03-01")
EFFECTIVE = dt.date(2024, 4, 1)
Z95 = 1.959963984540054  # the 97.5 % point of the standard normal, typed by hand


def planted_tickets(seed: int, factor: float = 1.0, days: int = 61, per_day: int = 40,
                    effective: dt.date = EFFECTIVE, issue_types=("物流咨询", "咨询")) -> pd.DataFrame:
    """Log-normal first responses (median 2.2 min), × ``factor`` from ``effective`` on."""
    rng = np.random.default_rng(seed)
    day = np.repeat(pd.date_range(START, periods=days, freq="D").to_numpy(), per_day)
    created = pd.Series(day) + pd.to_timedelta(rng.integers(8 * 60, 20 * 60, day.size), unit="min")
    frt = rng.lognormal(math.log(2.2), 0.85, day.size)
    frt = np.where(created >= pd.Timestamp(effective), frt * factor, frt)
    return pd.DataFrame({"date": pd.Series(day).dt.normalize(), "created_at": created, "agent_id": "C001",
                         "ticket_id": [f"T{i:06d}" for i in range(day.size)], "frt_min": frt.round(2),
                         "issue_type": rng.choice(list(issue_types), day.size)})


def window(t: pd.DataFrame, first: dt.date, last: dt.date) -> pd.DataFrame:
    """Plain pandas: the tickets created from ``first`` to ``last`` (inclusive)."""
    return t[(t["created_at"] >= pd.Timestamp(first)) & (t["created_at"] < pd.Timestamp(last) + pd.Timedelta(days=1))]


def judged(t: pd.DataFrame, metric: str, settings: Settings = Settings(), **change) -> compare.Comparison:
    return compare.compare_one(DataSet(tickets=t), settings, Change("措施", change.pop("effective", EFFECTIVE),
                                                                     metric, **change))


BEFORE = (EFFECTIVE - dt.timedelta(days=28), EFFECTIVE - dt.timedelta(days=1))
AFTER = (EFFECTIVE, EFFECTIVE + dt.timedelta(days=27))


# ---------------------------------------------------------------- planted changes

def test_faster_responses_are_a_significant_improvement_of_the_rate_with_its_size():
    t = planted_tickets(1, factor=0.6)
    c = judged(t, "frt_rate")
    before, after = ((window(t, *w)["frt_min"] <= 3).mean() for w in (BEFORE, AFTER))
    assert (c.before.start, c.before.end, c.after.start, c.after.end, c.days) == (*BEFORE, *AFTER, 28)
    assert c.before.value == pytest.approx(before, abs=1e-12) and c.after.value == pytest.approx(after, abs=1e-12)
    assert c.change == pytest.approx(after - before, abs=1e-12)
    assert c.relative == pytest.approx(after / before - 1, abs=1e-12)
    assert (c.method, c.verdict) == ("newcombe", "improved")
    # the interval holds the true difference of the planted distributions
    truth = scipy.stats.lognorm.cdf(3 / 0.6, 0.85, scale=2.2) - scipy.stats.lognorm.cdf(3, 0.85, scale=2.2)
    assert c.low < truth < c.high and c.low > 0
    assert c.before.records == len(window(t, *BEFORE)) and c.after.records == len(window(t, *AFTER))


@pytest.mark.parametrize("metric, plain", [("frt_avg", pd.Series.mean), ("frt_median", pd.Series.median)])
def test_faster_responses_improve_the_mean_and_the_median(metric, plain):
    t = planted_tickets(2, factor=0.7)
    c = judged(t, metric)
    before, after = (plain(window(t, *w)["frt_min"]) for w in (BEFORE, AFTER))
    assert c.before.value == pytest.approx(before, abs=1e-12) and c.after.value == pytest.approx(after, abs=1e-12)
    assert c.change == pytest.approx(after - before, abs=1e-12) and c.change < 0
    assert (c.method, c.verdict) == ("bootstrap", "improved")  # lower is better for a response time
    assert c.low < c.change < c.high < 0


def test_slower_responses_are_significantly_worse():
    t = planted_tickets(3, factor=1.5)
    assert judged(t, "frt_avg").verdict == "worse" and judged(t, "frt_rate").verdict == "worse"


def test_the_bootstrap_is_seeded_and_agrees_with_scipys():
    t = planted_tickets(4, factor=0.8)
    first, again = judged(t, "frt_avg"), judged(t, "frt_avg")
    assert (first.low, first.high) == (again.low, again.high)  # the same records, the same interval
    b, a = (window(t, *w)["frt_min"].to_numpy() for w in (BEFORE, AFTER))
    ref = scipy.stats.bootstrap((b, a), lambda x, y, axis: np.mean(y, axis=axis) - np.mean(x, axis=axis),
                                n_resamples=4000, method="percentile", rng=np.random.default_rng(0)).confidence_interval
    width = ref.high - ref.low
    assert abs(first.low - ref.low) < 0.1 * width and abs(first.high - ref.high) < 0.1 * width


def test_a_scope_judges_its_records_only():
    rng = np.random.default_rng(5)
    t = planted_tickets(5)
    logistics = t["issue_type"].eq("物流咨询") & (t["created_at"] >= pd.Timestamp(EFFECTIVE))
    t.loc[logistics, "frt_min"] = (t.loc[logistics, "frt_min"] * 0.5).round(2)
    c = judged(t, "frt_rate", scope=(("issue_type", ("物流咨询",)),))
    part = t[t["issue_type"].eq("物流咨询")]
    assert c.before.value == pytest.approx((window(part, *BEFORE)["frt_min"] <= 3).mean(), abs=1e-12)
    assert c.after.value == pytest.approx((window(part, *AFTER)["frt_min"] <= 3).mean(), abs=1e-12)
    assert c.verdict == "improved" and c.scope == {"issue_type": ("物流咨询",)}
    assert judged(t, "frt_rate", scope=(("issue_type", ("咨询",)),)).verdict == "no_change"
    assert judged(t, "frt_rate", scope=(("channel", ("APP",)),)).why == "scope_column"
    del rng


def test_windows_are_equal_and_clipped_to_the_data():
    t = planted_tickets(6, days=40)  # 2024-03-01 … 04-09: nine days after 04-01
    c = judged(t, "frt_rate")
    assert c.days == 9 and (c.before.start, c.after.end) == (dt.date(2024, 3, 23), dt.date(2024, 4, 9))
    assert judged(t, "frt_rate", effective=dt.date(2025, 1, 1)).why == "no_data"
    assert judged(t, "frt_rate", effective=dt.date(2024, 3, 1)).why == "no_data"  # nothing before
    few = judged(t, "frt_rate", Settings(compare_min_records=10_000))
    assert (few.verdict, few.why, few.low) == ("not_judged", "too_few", None) and few.before.value is not None


# ---------------------------------------------------------------- noise: the false-positive rate

def false_positive_rate(seeds, metric: str) -> float:
    hits = sum(judged(planted_tickets(1000 + seed), metric).verdict != "no_change" for seed in seeds)
    return hits / len(seeds)


# Bounds: with a true rate of 5 %, 200 seeds give ≥ 21 hits with probability < 0.1 %, 40 seeds ≥ 7
# with probability < 0.5 % (binomial tails); the seeds are fixed, so a run never flickers.
@pytest.mark.parametrize("metric, seeds, bound", [("frt_rate", 200, 0.10), ("frt_avg", 40, 0.15)])
def test_noise_is_no_significant_change(metric, seeds, bound):
    rate = false_positive_rate(range(seeds), metric)
    print(f"\n{metric}: false positives on noise {rate:.1%} of {seeds} seeds (95 % intervals: expect ≈ 5 %)")
    assert rate <= bound


@pytest.mark.slow
@pytest.mark.parametrize("metric, seeds", [("frt_rate", 1000), ("frt_avg", 200), ("frt_median", 200)])
def test_false_positive_rate_over_many_seeds(metric, seeds):
    rate = false_positive_rate(range(seeds), metric)
    print(f"\n{metric}: false positives on noise {rate:.1%} of {seeds} seeds (95 % intervals: expect ≈ 5 %)")
    assert 0.02 <= rate <= 0.09 if seeds >= 1000 else 0.01 <= rate <= 0.10


# ---------------------------------------------------------------- the intervals by hand

def wilson_by_hand(k: int, n: int) -> tuple[float, float]:
    p, z2 = k / n, Z95 ** 2
    centre, half = p + z2 / (2 * n), Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return (centre - half) / (1 + z2 / n), (centre + half) / (1 + z2 / n)


@pytest.mark.parametrize("k, n", [(0, 10), (8, 10), (10, 10), (48, 80), (412, 1800)])
def test_wilson_matches_the_formula(k, n):
    assert intervals.wilson(k, n) == pytest.approx(wilson_by_hand(k, n), abs=1e-9)


@pytest.mark.parametrize("k, n, confidence", [(0, 1, 0.95), (3, 7, 0.9), (48, 80, 0.95), (999, 1000, 0.99),
                                             (412, 1800, 0.8)])
def test_wilson_equals_scipys_binomtest_interval(k, n, confidence):
    from scipy.stats import binomtest
    ci = binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    assert intervals.wilson(k, n, confidence) == pytest.approx((ci.low, ci.high), abs=1e-12)


@pytest.mark.parametrize("before, after", [((48, 80), (56, 70)), ((5, 40), (1, 35)), ((0, 20), (0, 25))])
def test_newcombe_matches_the_hand_computation(before, after):
    (k1, n1), (k2, n2) = before, after
    l1, u1 = wilson_by_hand(k1, n1)
    l2, u2 = wilson_by_hand(k2, n2)
    p1, p2 = k1 / n1, k2 / n2
    expected = (p2 - p1 - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2),
                p2 - p1 + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2))
    assert intervals.newcombe(k1, n1, k2, n2) == pytest.approx(expected, abs=1e-9)
    assert expected[0] <= p2 - p1 <= expected[1]


def test_newcombes_published_example():
    # Newcombe (1998), table II, example (a): 56/70 − 48/80, method 10
    assert [round(x, 4) for x in intervals.newcombe(48, 80, 56, 70)] == [0.0524, 0.3339]


# ---------------------------------------------------------------- the registry seam

def test_every_comparable_metric_recomputes_from_its_own_records():
    frames = sample.generate(seed=3)
    ds = DataSet(tickets=frames["tickets"], feedback=frames["feedback"], calls=frames["calls"])
    records = kpis.Records(kpis.table_columns(ds), Settings())
    checked = 0
    for key in catalogue.names():
        drawn = catalogue.get(key).sample(records)
        if not catalogue.comparable(key):
            assert drawn is None, key
            continue
        value = records.value(key)
        if math.isnan(value):
            continue  # e.g. message-level metrics: the demo has no messages
        assert drawn.statistic(drawn.values) == pytest.approx(value, rel=1e-12), key
        checked += 1
    assert checked >= 15
    frt = frames["tickets"]["frt_min"]
    ok = pd.to_numeric(frt, errors="coerce")
    rate = catalogue.get("frt_avg").sample(records)
    # every number pandas reads, plus the planted cells the loader's rules read (full-width "５", "5分钟"); not "#N/A"
    assert rate.kind == "mean" and rate.values.size == ok.notna().sum() + frt.isin(["５", "5分钟"]).sum()


# ---------------------------------------------------------------- analyze, the sheet and the written report

def test_analyze_registers_compare_and_its_findings():
    t = planted_tickets(7, factor=0.6)
    settings = Settings(changes=(Change("知识库更新", EFFECTIVE, "frt_rate"),))
    results = run.analyze(DataSet(tickets=t), settings, names=["compare"])
    assert [c.verdict for c in results["compare"]] == ["improved"]
    assert run.to_json(results)["compare"][0]["before"]["records"] == len(window(t, *BEFORE))
    [finding] = run.findings(results, settings)
    text = sentence(finding, "zh", settings)
    before, after = ((window(t, *w)["frt_min"] <= 3).mean() for w in (BEFORE, AFTER))
    assert text.startswith(f"知识库更新 (2024-04-01 生效) 后首次响应达标率由 {before:.1%} 变为 {after:.1%} "
                           f"(+{(after - before) * 100:.1f} 个百分点, 相对 +{after / before - 1:.1%}), 95% 置信区间 ")
    assert text.endswith("显著改善。 (依据: 「优化前后」)")


def test_refreshed_workbook_shows_the_sheet_its_chart_and_the_sentence(tmp_path):
    from cs_xl.input_stream import save_filled
    from cs_xl.refresh import refresh
    from cs_xl.template import build_template
    t = planted_tickets(8, factor=0.6)
    changes = (Change("知识库更新", EFFECTIVE, "frt_rate"), Change("排班调整", EFFECTIVE, "frt_median"))
    path = tmp_path / "book.xlsx"
    save_filled(build_template("zh", Settings(changes=changes)), {"tickets": t}, path, "zh")
    refresh(path)
    wb = openpyxl.load_workbook(path)
    ws = wb["优化前后"]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    header = next(i for i, r in enumerate(rows) if r[0] == "措施")
    row = dict(zip(rows[header], rows[header + 1]))
    before, after = ((window(t, *w)["frt_min"] <= 3).mean() for w in (BEFORE, AFTER))
    assert row["优化前"] == pytest.approx(before, abs=1e-12) and row["优化后"] == pytest.approx(after, abs=1e-12)
    assert row["变化"] == pytest.approx(after - before, abs=1e-12) and row["结论"] == "显著改善"
    assert row["生效日期"].date() == EFFECTIVE and row["参数行"] == wb["参数"].max_row - 20 - 1
    median_rows = [r for r in rows if r[0] == "排班调整"]
    assert median_rows[0][4] == pytest.approx(window(t, *BEFORE)["frt_min"].median(), abs=1e-12)
    charts = ws._charts
    assert len(charts) == 2 and all(type(c).__name__ == "BarChart" and c.type == "col" for c in charts)
    refs = [s.val.numRef.f for s in charts[0].series]
    assert refs == [f"优化前后!$E${header + 2}", f"优化前后!$F${header + 2}"]  # the 优化前 / 优化后 cells
    report = "\n".join(r[0] for r in wb["分析报告"].iter_rows(values_only=True) if r and r[0])
    claim = re.search(r"知识库更新 \(2024-04-01 生效\) 后首次响应达标率由 ([\d.]+)% 变为 ([\d.]+)% .*显著改善。 "
                      r"\(依据: 「优化前后」\)", report)
    assert claim and (float(claim.group(1)), float(claim.group(2))) == (round(before * 100, 1), round(after * 100, 1))


def test_without_changes_the_sheet_says_where_to_enter_them():
    rep = build_report(DataSet(tickets=planted_tickets(9)), Settings())
    sheet = next(s for s in rep.sheets if s.key == "compare")
    assert any("参数 → 优化记录 中还没有措施" in line for b in sheet.blocks for line in getattr(b, "lines", []))
