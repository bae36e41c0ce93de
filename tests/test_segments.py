"""Issue 12 (5): 客群差异 — each segment against the rest, with planted facts.

Expected numbers come from the planted frames (plain pandas) and from scipy called directly
on the raw arrays, never from the code under test."""
from __future__ import annotations

import re

import numpy as np
import openpyxl
import pandas as pd
import pytest
from scipy import stats

from cs_xl.analysis import run, segments, significance
from cs_xl.dataset import DataSet
from cs_xl.report import build_report
from cs_xl.settings import Settings
from test_alerts_staffing_report import demo_book  # noqa: F401  (the refreshed demo, a fixture)
from test_pareto import minutes

SHEETS = {"tickets": "响应时间统计表", "feedback": "效果统计表", "calls": "话务记录"}


# ---------------------------------------------------------------- the tests against scipy


def test_mann_whitney_matches_scipy_and_pairwise_rank_biserial():
    rng = np.random.default_rng(1)
    a, b = rng.lognormal(1.0, 0.8, 120), rng.lognormal(0.8, 0.8, 300)
    a[:3] = b[:3]  # ties across the samples
    got = significance.durations(np.append(a, np.nan), b)
    u, p = stats.mannwhitneyu(a, b, alternative="two-sided")
    assert (got.statistic, got.p) == (pytest.approx(u), pytest.approx(p))
    # rank-biserial by its definition: P(a > b) − P(a < b) over every pair
    assert got.effect == pytest.approx(np.sign(a[:, None] - b[None, :]).mean())
    assert got.difference == pytest.approx(a.mean() - b.mean())


def test_two_proportions_match_scipys_chi_square_and_a_hand_worked_case():
    got = significance.proportions(30, 100, 50, 100)
    chi2, p, _, _ = stats.chi2_contingency([[30, 70], [50, 50]], correction=False)
    assert got.p == pytest.approx(p) and got.statistic ** 2 == pytest.approx(chi2)
    # pooled p = 0.4, se = √(0.4·0.6·(1/100 + 1/100)) = 0.069282; z = −0.2 / se
    assert got.statistic == pytest.approx(-0.2 / 0.0692820323)
    # Cohen's h = 2·asin√0.3 − 2·asin√0.5 = 1.159279 − 1.570796
    assert got.effect == pytest.approx(1.1592795 - 1.5707963, abs=1e-6)
    assert significance.proportions(5, 5, 7, 7).p == 1.0  # nothing can differ
    assert significance.proportions(1, 0, 1, 2) is None and significance.durations([], [1.0]) is None


# ---------------------------------------------------------------- planted segments

def tickets(rng: np.random.Generator, slow_factor: float, n: int = 300) -> pd.DataFrame:
    """Three customer types of ``n`` tickets each; 老年客户's first responses × ``slow_factor``."""
    types = np.repeat(np.array(["老年客户", "青年客户", "中年客户"], dtype=object), n)
    frt = rng.lognormal(np.log(2.0), 0.7, types.size) * np.where(types == "老年客户", slow_factor, 1.0)
    return pd.DataFrame({"ticket_id": [f"T{i:05d}" for i in range(types.size)], "agent_id": "A",
                         "date": pd.Timestamp("2024-03-04"), "customer_type": types,
                         "frt_min": np.round(frt, 2), "_row": range(3, 3 + types.size)})


def gaps_of(t: pd.DataFrame, settings: Settings | None = None) -> list[segments.SegmentGap]:
    return segments.segment_gaps(DataSet(tickets=t, sheets=SHEETS), settings or Settings(),
                                 keys=("frt_avg", "frt_rate"))


def test_a_slower_segment_is_flagged_with_its_numbers():
    t = tickets(np.random.default_rng(7), slow_factor=1.8)
    gaps = gaps_of(t)
    old = next(g for g in gaps if g.value == "老年客户" and g.metric == "frt_avg")
    inside, rest = t[t["customer_type"] == "老年客户"]["frt_min"], t[t["customer_type"] != "老年客户"]["frt_min"]
    assert (old.n, old.n_rest) == (300, 600)
    assert (old.group, old.rest) == (pytest.approx(inside.mean()), pytest.approx(rest.mean()))
    assert old.p == pytest.approx(stats.mannwhitneyu(inside, rest, alternative="two-sided").pvalue)
    assert old.flagged and old.worse and old.effect > 0.2
    # the rate: FRT ≤ 3 min (the fallback threshold: no channel column)
    rate = next(g for g in gaps if g.value == "老年客户" and g.metric == "frt_rate")
    x, x_rest = int((inside <= 3).sum()), int((rest <= 3).sum())
    assert (rate.group, rate.rest) == (pytest.approx(x / 300), pytest.approx(x_rest / 600))
    chi2, p, _, _ = stats.chi2_contingency([[x, 300 - x], [x_rest, 600 - x_rest]], correction=False)
    assert rate.p == pytest.approx(p) and rate.flagged and rate.worse
    flagged = [g for g in gaps if g.flagged]
    assert {g.value for g in flagged if g.worse} == {"老年客户"}


def test_a_significant_but_small_gap_is_not_flagged():
    t = tickets(np.random.default_rng(3), slow_factor=1.8)
    strict = Settings(segment_min_effect=0.9)
    old = next(g for g in gaps_of(t, strict) if g.value == "老年客户" and g.metric == "frt_avg")
    assert old.p < 0.05 and not old.flagged  # significant, but below the 参数 effect size


def false_positive_rate(seeds) -> float:
    """Flagged tests / tests on segments drawn from one distribution."""
    flagged = tested = 0
    for seed in seeds:
        gaps = gaps_of(tickets(np.random.default_rng(seed), slow_factor=1.0))
        tested += len(gaps)
        flagged += sum(g.flagged for g in gaps)
    return flagged / tested


def test_equal_segments_are_not_flagged():
    rate = false_positive_rate(range(20))
    print(f"segment gaps: false-positive rate on equal segments, 20 seeds × 6 tests: {rate:.3%}")
    assert rate <= 0.02


@pytest.mark.slow
def test_false_positive_rate_over_many_seeds():
    rate = false_positive_rate(range(500))
    print(f"segment gaps: false-positive rate on equal segments, 500 seeds × 6 tests: {rate:.3%}")
    assert rate <= 0.01


def test_small_segments_are_not_tested_and_feedback_follows_its_ticket():
    t = tickets(np.random.default_rng(5), slow_factor=1.0, n=40)
    f = pd.DataFrame({"ticket_id": t["ticket_id"], "rating": np.where(t["customer_type"] == "老年客户", 2, 5),
                      "_row": range(3, 3 + len(t))})
    ds = DataSet(tickets=t, feedback=f, sheets=SHEETS)
    gaps = segments.segment_gaps(ds, Settings(segment_min_records=41), keys=("csat_rate",))
    assert gaps == []  # 40 records per segment < 41
    csat = segments.segment_gaps(ds, Settings(), keys=("csat_rate",))
    old = next(g for g in csat if g.value == "老年客户")
    assert (old.group, old.rest, old.n, old.n_rest) == (0.0, 1.0, 40, 80)
    assert old.flagged and old.worse


# ---------------------------------------------------------------- the sheet and the written report

def test_sheet_and_report_name_the_flagged_segment():
    t = tickets(np.random.default_rng(7), slow_factor=1.8)
    ds = DataSet(tickets=t, sheets=SHEETS)
    rep = build_report(ds, Settings(), lang="zh")
    seg = next(s for s in rep.sheets if s.key == "segments")
    assert seg.name == "客群差异"
    frt = next(b for b in seg.blocks if getattr(b, "name", None) == "seg_frt_avg")
    rows = {r[1]: dict(zip([c.key for c in frt.columns], r)) for r in frt.rows}
    inside = t[t["customer_type"] == "老年客户"]["frt_min"]
    assert rows["老年客户"]["group"] == pytest.approx(inside.mean()) and rows["老年客户"]["flagged"] == "是"
    young, others = t[t["customer_type"] == "青年客户"]["frt_min"], t[t["customer_type"] != "青年客户"]["frt_min"]
    assert rows["青年客户"]["difference"] == pytest.approx(young.mean() - others.mean())  # faster than a slow rest
    report = next(s for s in rep.sheets if s.key == "analysis")
    lines = [line for b in report.blocks for line in b.lines]
    said = [line for line in lines if "老年客户 (客户类型) 的平均首次响应时间明显差于其余客户" in line]
    assert said and "「客群差异」" in said[0] and f"{inside.mean():.2f} 分钟" in said[0]
    results = run.to_json(run.analyze(ds, Settings(), ["segments"]))
    assert any(g["value"] == "老年客户" and g["flagged"] for g in results["segments"])


def test_segment_columns_come_from_params_and_missing_ones_say_so():
    t = tickets(np.random.default_rng(7), slow_factor=1.8).drop(columns="customer_type").assign(team="一组")
    rep = build_report(DataSet(tickets=t, sheets=SHEETS), Settings(segment_columns=("customer_type",)), lang="en")
    seg = next(s for s in rep.sheets if s.key == "segments")
    assert any("none of the columns of Settings → Segment columns (customer type)" in line
               for b in seg.blocks for line in getattr(b, "lines", []))


# ---------------------------------------------------------------- the refreshed demo, reopened

def input_tickets(wb) -> pd.DataFrame:
    rows = list(wb["响应时间统计表"].iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if r and "客户类型" in r)
    t = pd.DataFrame(rows[header + 1:], columns=rows[header]).dropna(how="all")
    return t.drop_duplicates("工单编号", keep="last")  # the demo's one duplicate id: the later, complete copy


def sheet_table(ws, title: str) -> list[dict]:
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    at = next(i for i, r in enumerate(rows) if r and r[0] == title)
    header = rows[at + 1]
    out = []
    for r in rows[at + 2:]:
        if r[0] is None:
            break
        out.append(dict(zip(header, r)))
    return out


def test_demo_sheet_shows_vip_and_email_gaps_with_the_input_sheets_numbers(demo_book):
    wb = openpyxl.load_workbook(demo_book)
    assert "客群差异" in wb.sheetnames
    ws = wb["客群差异"]
    t = input_tickets(wb)
    frt = t["首次响应时间(分钟)"].map(minutes)  # test_pareto's reading of the demo's dirty cells
    rows = {(r["维度"], r["取值"]): r for r in sheet_table(ws, "平均首次响应时间(分钟)")}
    for dim, column, value in (("客户类型", "客户类型", "VIP"), ("渠道", "渠道", "邮件")):
        inside = frt[t[column] == value].dropna()
        rest = frt[(t[column] != value) & t[column].notna()].dropna()
        row = rows[(dim, value)]
        assert (row["该组记录数"], row["其余记录数"]) == (len(inside), len(rest))
        assert row["该组"] == pytest.approx(inside.mean()) and row["其余"] == pytest.approx(rest.mean())
        assert row["p 值"] == pytest.approx(stats.mannwhitneyu(inside, rest, alternative="two-sided").pvalue)
        assert row["标记"] == "是"
    assert len(ws._charts) >= 1
    # every 客群差异 sentence of 分析报告 carries the numbers of its row on the sheet
    report = "\n".join(r[0] for r in wb["分析报告"].iter_rows(values_only=True) if r and r[0])
    claims = re.findall(r"(\S+) \((\S+)\) 的(\S+?)明显[差好]于其余客户: ([\d.]+)(%| 分钟) 对比 ([\d.]+)\S* "
                        r"\(差异 [^,]+, p [^,]+, 效应量 [^,]+, ([\d,]+) 条记录\)。 \(依据: 「客群差异」\)", report)
    assert claims, report
    titles = {c.value for c in ws["A"] if isinstance(c.value, str)}
    for value, dim, metric, group, unit, rest, n in claims:
        title = next(t for t in titles if t.startswith(metric) and t != ws.title)
        row = next(r for r in sheet_table(ws, title) if (r["维度"], r["取值"]) == (dim, value))
        scale = 100 if unit == "%" else 1
        assert f"{row['该组'] * scale:.{1 if unit == '%' else 2}f}" == group and int(n.replace(",", "")) == row["该组记录数"]
        assert f"{row['其余'] * scale:.{1 if unit == '%' else 2}f}" == rest and row["标记"] == "是"


@pytest.mark.parametrize("z", [0.0, 0.5, 1.96, 3.0, 6.0, 10.0])
def test_two_sided_normal_tail_equals_scipy(z):
    assert significance._two_sided(z) == pytest.approx(2 * stats.norm.sf(z), rel=1e-12, abs=1e-300)


def test_value_counts_count_each_distinct_value_of_both_sides():
    """significance.value_counts against collections.Counter: ties across and within the sides,
    minus zero as zero, whole-minute and fractional values."""
    from collections import Counter
    rng = np.random.default_rng(5)
    a = np.append(np.round(rng.lognormal(1, 1, 300), 1), [-0.0, 0.0, 7.0])
    b = np.append(np.round(rng.lognormal(1.2, 1, 900), 1), [0.0, 7.0, 7.0])
    in_a, in_b = significance.value_counts(a, b)
    count_a, count_b = Counter(a.tolist()), Counter(b.tolist())  # -0.0 == 0.0: one key
    values = sorted(set(count_a) | set(count_b))
    assert in_a.tolist() == [count_a[v] for v in values]
    assert in_b.tolist() == [count_b[v] for v in values]


def test_ranked_counts_each_sides_values_from_one_sort_of_the_whole():
    """segments.Ranked: a side's counts per distinct value of both sides (collections.Counter on the
    raw values), read off the whole's codes; a side whose values are not the whole's at its records
    (a metric that does not read each record alone) gets None, and its test sorts as before."""
    from collections import Counter
    from cs_xl.metrics import Sample
    minutes = np.array([3.0, np.nan, 1.5, 3.0, 7.0, 1.5, 2.0, 9.0])
    labelled = np.array([0, 1, 2, 3, 4, 5, 6])  # record 7 has no segment

    def sample(positions):  # a mean's sample: the valid values and where they are among the records
        values = minutes[positions]
        return Sample("mean", values[~np.isnan(values)], rows=np.flatnonzero(~np.isnan(values)))

    ranked = segments.Ranked(sample(labelled), labelled, len(minutes))
    inside_rows, rest_rows = np.array([0, 4]), np.array([1, 2, 3, 5, 6])
    in_group, in_rest = ranked.pair(sample(inside_rows), inside_rows, sample(rest_rows), rest_rows)
    group, rest = Counter([3.0, 7.0]), Counter([1.5, 3.0, 1.5, 2.0])
    values = sorted(set(group) | set(rest))
    assert in_group.tolist() == [group[v] for v in values] and in_rest.tolist() == [rest[v] for v in values]
    changed = Sample("mean", np.array([3.5, 7.0]), rows=np.array([0, 1]))  # not the whole's 3.0 at record 0
    assert ranked.pair(changed, inside_rows, sample(rest_rows), rest_rows) is None
    outside = np.array([7])  # a record the whole never saw
    assert ranked.counts(sample(outside), outside) is None
