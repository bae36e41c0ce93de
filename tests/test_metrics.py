"""Metric functions (cs_xl.metrics) against hand-worked cases and independent references.

Every expected value is either worked out by hand (the arithmetic is written
next to it) or computed by a plain pandas / numpy / Python reference written
here, independently of the code under test.
"""
from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from cs_xl import metrics as m
from cs_xl import settings

NAN = float("nan")


def isnan(x) -> bool:
    return isinstance(x, float) and math.isnan(x)


approx = pytest.approx

# ------------------------------------------------------------------ hypothesis strategies

# Durations on a 0.01 grid, like typed minutes/seconds: differences from a
# threshold on the same grid are 0 or ≥ 0.01, far above the tie tolerance.
durations = st.integers(0, 20_000).map(lambda k: k / 100)
maybe_durations = st.lists(st.one_of(durations, st.none()), max_size=40)
yes_no = st.sampled_from(["是", "否", None])
PROPS = hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ------------------------------------------------------------------ percentiles, mean, median

class TestPercentileInc:
    def test_hand_worked_p90(self):
        # n = 4, rank = 0.9·3 = 2.7 → x[2] + 0.7·(x[3] − x[2]) = 3 + 0.7·1 = 3.7
        assert m.percentile_inc([4, 1, 3, 2], 0.9) == approx(3.7)

    def test_ends_are_min_and_max(self):
        assert m.percentile_inc([5, 9, 7], 0) == 5.0
        assert m.percentile_inc([5, 9, 7], 1) == 9.0

    def test_invalid_cells_ignored(self):
        # valid values: 10, 20 (text "x", "#N/A", negative, None ignored); rank 0.5·1 → 15
        assert m.percentile_inc([10, "x", "#N/A", -3, None, "20"], 0.5) == approx(15.0)

    def test_one_value(self):
        assert m.percentile_inc([42], 0.9) == 42.0

    def test_all_blank_is_nan_not_zero(self):
        assert isnan(m.percentile_inc([None, "", "#N/A"], 0.9))
        assert isnan(m.percentile_inc([], 0.5))

    @pytest.mark.parametrize("p", [-0.1, 1.1, 90, "x", None, float("nan")])
    def test_p_outside_unit_interval_raises(self, p):
        with pytest.raises(ValueError, match="p"):
            m.percentile_inc([1, 2, 3], p)

    def test_minutes_kind_reads_units(self):
        # "1h" = 60 min, "30分钟" = 30, "90秒" = 1.5 → sorted 1.5, 30, 60; median = 30
        assert m.percentile_inc(["1h", "30分钟", "90秒"], 0.5, kind="minutes") == approx(30.0)

    @PROPS
    @given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=50), st.floats(0, 1))
    def test_matches_numpy_linear_percentile(self, values, p):
        # numpy's "linear" method is the same definition as PERCENTILE.INC
        expected = np.percentile(np.array(values), p * 100, method="linear")
        assert m.percentile_inc(values, p) == approx(expected, rel=1e-9, abs=1e-9)


class TestMeanMedian:
    def test_mean_ignores_text_and_negatives(self):
        # valid: 1, 2 → (1 + 2)/2
        assert m.mean([1, "2", None, "x", -5]) == 1.5

    def test_median_even_count(self):
        # sorted 1, 2, 10, 20 → (2 + 10)/2
        assert m.median([20, 1, 10, 2]) == approx(6.0)

    def test_median_odd_count(self):
        assert m.median([3, 1, 2]) == 2.0

    def test_empty_is_nan(self):
        assert isnan(m.mean([]))
        assert isnan(m.median(["n/a", None]))

    def test_returns_python_float(self):
        assert type(m.mean(np.array([1, 2]))) is float
        assert type(m.frt_rate(pd.Series([1.0, 5.0]))) is float

    @PROPS
    @given(st.lists(st.one_of(st.floats(-100, 1e6, allow_nan=False), st.none(), st.just("#N/A")), max_size=40))
    def test_mean_median_match_pandas(self, values):
        s = pd.Series([v if isinstance(v, float) else np.nan for v in values], dtype=float)
        s = s[s >= 0]
        if s.empty:
            assert isnan(m.mean(values)) and isnan(m.median(values))
        else:
            assert m.mean(values) == approx(s.mean(), rel=1e-9)
            assert m.median(values) == approx(s.median(), rel=1e-9, abs=1e-9)


# ------------------------------------------------------------------ input handling

class TestInputs:
    def test_mismatched_lengths_raise_naming_columns(self):
        with pytest.raises(ValueError, match="frt=3.*resolve=2"):
            m.handle_avg([1, 2, 3], [1, 2])
        with pytest.raises(ValueError, match="same number of rows"):
            m.sla_rate([1, 2], ["一级"])
        with pytest.raises(ValueError):
            m.answer_rate(["是"], ["否", "否"])

    def test_two_dimensional_ranges_are_flattened(self):
        # an Excel column arrives as rows of one cell: [[1], [2], [5]] → 1, 2, 5; ≤ 3: 2 of 3
        assert m.frt_rate([[1], [2], [5]]) == approx(2 / 3)
        assert m.frt_rate(np.array([[1], [2], [5]], dtype=object)) == approx(2 / 3)
        assert m.frt_rate(pd.DataFrame({"首次响应时间(分钟)": [1, 2, 5]})) == approx(2 / 3)

    def test_single_cell(self):
        assert m.mean(7) == 7.0
        assert isnan(m.mean([None]))  # one blank cell

    def test_missing_required_column_raises(self):
        with pytest.raises(ValueError, match="frt is required"):
            m.frt_rate(None)
        with pytest.raises(ValueError, match="answered is required"):
            m.answer_rate(None)
        with pytest.raises(ValueError, match="start is required"):
            m.offered(None)

    def test_series_index_is_irrelevant(self):
        frt = pd.Series([1.0, 10.0], index=[7, 3])
        prio = pd.Series(["一级", "一级"], index=[100, 200])
        # row-wise by position: 1 ≤ 5 met, 10 ≤ 5 not → 1/2
        assert m.sla_rate(frt, prio) == 0.5

    def test_nullable_dtypes_from_loaded_frames(self):
        # the loader's frames: flags as pandas "boolean", priority as "Int64"
        answered = pd.Series([True, False, pd.NA, True], dtype="boolean")
        assert m.answer_rate(answered) == approx(2 / 3)  # blank row left out: 2 of 3
        prio = pd.Series([1, pd.NA, 1], dtype="Int64")
        # limits 5, 30 (default 三级), 5 → 6 ≤ 5 no, 6 ≤ 30 yes, 4 ≤ 5 yes → 2/3
        assert m.sla_rate([6, 6, 4], prio) == approx(2 / 3)

    def test_inputs_are_not_modified(self):
        frt = [1, "5分钟", None]
        series = pd.Series([1.0, np.nan, 3.0])
        m.frt_rate(frt)
        m.frt_avg(series)
        assert frt == [1, "5分钟", None]
        assert series.isna().tolist() == [False, True, False] and series.iloc[2] == 3.0


# ------------------------------------------------------------------ tickets

class TestVolume:
    def test_dedupes_ids_and_counts_blank_ids(self):
        # distinct ids A, B = 2, plus one blank-id row = 3
        assert m.volume(["A", "A", "B", None]) == 3.0

    def test_numeric_and_text_ids_are_the_same_ticket(self):
        # 1001 typed as a number (1001.0) and as text "1001" → one ticket
        assert m.volume([1001.0, "1001", " 1001 "]) == 1.0

    def test_empty(self):
        assert m.volume([]) == 0.0

    @PROPS
    @given(st.lists(st.one_of(st.sampled_from(["A", "B", "C", "D"]), st.none()), max_size=30))
    def test_matches_pandas(self, ids):
        s = pd.Series(ids, dtype=object)
        assert m.volume(ids) == s.dropna().nunique() + s.isna().sum()


class TestChannelTargets:
    """Seed 004: the FRT target differs per channel (chat 1, phone 3, e-mail 240 by default);
    other channels and rows without a channel fall back to the single threshold."""
    FRT = [0.5, 2, 2, 2, 100, 300, 2, 4]
    CHANNEL = ["在线", "Chat", "电话", "APP", "邮件", "Email", None, "phone call"]
    # target:   1      1       3      3(APP) 240     240     3     3
    # met:      yes    no      yes    yes    yes     no      yes   no   → 5 of 8

    def test_frt_rate_uses_each_rows_channel_target(self):
        assert m.frt_rate(self.FRT, 3, self.CHANNEL) == 5 / 8

    def test_without_a_channel_column_the_single_threshold_applies(self):
        # ≤ 3: 0.5, 2, 2, 2, 2 → 5 of 8 (100 and 300 miss)
        assert m.frt_rate(self.FRT, 3) == 5 / 8
        assert m.frt_rate([100, 2], 3) == 0.5

    def test_e_mail_is_loosest_and_chat_strictest(self):
        assert m.frt_rate([100, 2], 3, ["邮件", "在线"]) == 0.5  # e-mail 100 ≤ 240 met, chat 2 > 1 missed

    def test_channel_limits_by_class_or_channel_word(self):
        by_class = m.frt_rate(self.FRT, 3, self.CHANNEL, {"chat": 2, "phone": 3, "email": 100})
        by_word = m.frt_rate(self.FRT, 3, self.CHANNEL, {"在线": "2分钟", "电话": 3, "邮件": 100})
        # chat ≤ 2: 0.5, 2 met; phone: 2 met, 4 missed; e-mail ≤ 100: 100 met, 300 missed; APP, None ≤ 3 met
        assert by_class == by_word == 6 / 8

    def test_a_class_left_out_falls_back_to_the_threshold(self):
        # no chat target: chat rows use the threshold 3 → 0.5 and 2 met
        assert m.frt_rate(self.FRT, 3, self.CHANNEL, {"phone": 3, "email": 240}) == 6 / 8

    def test_unknown_class_key_is_an_error(self):
        with pytest.raises(ValueError, match="channel class"):
            m.frt_rate([1], 3, ["在线"], {"fax": 10})

    def test_sla_is_the_stricter_of_priority_and_channel(self):
        # 一级 5: chat 2 → min(5, 1) = 1 missed; e-mail 4 → min(5, 240) = 5 met;
        # 三级 30 (blank): chat 0.5 met; e-mail 200 → 30 missed; APP 20 → 30 met
        frt = [2, 4, 0.5, 200, 20]
        prio = ["一级", "一级", None, None, None]
        channel = ["在线", "邮件", "在线", "邮件", "APP"]
        assert m.sla_rate(frt, prio, channel=channel) == 3 / 5
        assert m.sla_rate(frt, prio) == 4 / 5  # without channels: 2, 4 ≤ 5; 0.5, 20 ≤ 30; 200 missed

    def test_channel_words_of_the_vendors_exports(self):
        from cs_xl.schema import channel_class
        assert [channel_class(c) for c in ("Web Widget", "Phone call (incoming)", "Mail", "Channel::WebWidget",
                                            "Channel::Email", "小程序", "官网", "Self service")] == \
            ["chat", "phone", "email", "chat", "email", None, None, None]


class TestFrtRate:
    def test_hand_worked(self):
        # valid: 1, 2, 3, 10 ("x" and None ignored); ≤ 3: 1, 2, 3 → 3/4
        assert m.frt_rate([1, 2, 3, 10, None, "x"], 3) == 0.75

    def test_tie_counts_as_met(self):
        assert m.frt_rate([3.0], 3) == 1.0
        assert m.frt_rate([3.01], 3) == 0.0

    def test_tie_computed_from_timestamps_counts_as_met(self):
        # (B2 − A2)·1440 with Excel serials: 00:05 → 00:08 on day 45000 is 3 minutes,
        # but the float difference comes out a hair above 3
        created = 45000 + 300 / 86400
        answered = 45000 + 480 / 86400
        noisy = (answered - created) * 1440
        assert noisy > 3.0
        assert m.frt_rate([noisy], 3) == 1.0
        # a real excess of a hundredth of a second is not a tie: 3 min + 0.01 s misses
        assert m.frt_rate([3 + 0.01 / 60], 3) == 0.0

    def test_raw_excel_cells(self):
        # "2分钟" = 2, "5 min" = 5, "180秒" = 3, "#N/A" ignored, "１" (full width) = 1 → ≤ 3: 2, 3, 1 → 3/4
        assert m.frt_rate(["2分钟", "5 min", "180秒", "#N/A", "１"], 3) == 0.75

    def test_threshold_default_is_three_minutes(self):
        assert m.frt_rate([2, 3, 4]) == approx(2 / 3)

    def test_threshold_as_text(self):
        assert m.frt_rate([2, 3, 4], "3分钟") == approx(2 / 3)

    @pytest.mark.parametrize("bad", [-1, "abc", None])
    def test_bad_threshold_raises(self, bad):
        with pytest.raises(ValueError, match="threshold"):
            m.frt_rate([1, 2], bad)

    def test_no_valid_value_is_nan(self):
        assert isnan(m.frt_rate([None, "", "#N/A", -4]))

    @PROPS
    @given(maybe_durations, st.integers(0, 2000).map(lambda k: k / 100))
    def test_matches_pandas(self, values, threshold):
        s = pd.Series(values, dtype=float).dropna()
        expected = (s <= threshold).sum() / len(s) if len(s) else NAN
        result = m.frt_rate(values, threshold)
        assert (isnan(result) and isnan(expected)) or result == approx(expected)


class TestDurations:
    def test_frt_statistics(self):
        frt = ["2分钟", 4, None, "#N/A", 9]
        # valid 2, 4, 9: mean 15/3 = 5; median 4; p90 rank 0.9·2 = 1.8 → 4 + 0.8·5 = 8
        assert m.frt_avg(frt) == approx(5.0)
        assert m.frt_median(frt) == 4.0
        assert m.frt_p90(frt) == approx(8.0)

    def test_resolve_statistics(self):
        resolve = ["1h", 30, "1小时30分", -5]
        # valid 60, 30, 90: mean 60; median 60; p90 rank 1.8 → 60 + 0.8·30 = 84
        assert m.resolve_avg(resolve) == approx(60.0)
        assert m.resolve_median(resolve) == approx(60.0)
        assert m.resolve_p90(resolve) == approx(84.0)

    def test_all_blank_is_nan(self):
        for fn in (m.frt_avg, m.frt_median, m.frt_p90, m.resolve_avg, m.resolve_median, m.resolve_p90):
            assert isnan(fn([None, ""]))

    def test_handle_avg_needs_both(self):
        # only row 0 has both: 1 + 10 = 11
        assert m.handle_avg([1, 2, None], [10, None, 5]) == 11.0
        # rows 0, 1: (1 + 10) and (3 + 5) → (11 + 8)/2 = 9.5
        assert m.handle_avg([1, 3], [10, "5分钟"]) == 9.5
        assert isnan(m.handle_avg([1, None], [None, 2]))


class TestSlaRate:
    def test_default_table(self):
        # 一级 5: 4 ≤ 5 met, 6 > 5 missed; blank priority → 三级 30: 20 ≤ 30 met → 2/3
        assert m.sla_rate([4, 6, 20], ["一级", "一级", None]) == approx(2 / 3)

    def test_levels_in_any_spelling(self):
        # L2 → 10: 10 ≤ 10 tie met; P1 → 5: 5.5 missed; 四级 → 30: 31 missed; 2 → 10: 9 met → 2/4
        assert m.sla_rate([10, 5.5, 31, 9], ["L2", "P1", "四级", 2]) == 0.5

    def test_no_priority_column_uses_default_level(self):
        # all 三级 (30): 20, 30 met, 31 missed → 2/3
        assert m.sla_rate([20, 30, 31]) == approx(2 / 3)
        # default level 一级 (5): only 4 met → 1/3
        assert m.sla_rate([4, 30, 31], default_priority=1) == approx(1 / 3)

    def test_unknown_priority_uses_default(self):
        # "紧急情况?" is not a level → 三级 30: 20 met
        assert m.sla_rate([20], ["紧急情况?"]) == 1.0

    def test_custom_table_with_chinese_keys(self):
        sla = {"一级": "2分钟", "二级": 4, "三级": 8}
        # 一级 2: 3 missed; 二级 4: 4 met; 四级 missing → default 三级 8: 8 met → 2/3
        assert m.sla_rate([3, 4, 8], ["一级", "二级", "四级"], sla) == approx(2 / 3)

    def test_rows_without_valid_frt_left_out(self):
        # denominator counts valid frt only: 4 (met) of 4 → 1
        assert m.sla_rate([4, None, "x"], ["一级", "一级", "一级"]) == 1.0
        assert isnan(m.sla_rate([None], ["一级"]))

    def test_bad_table_raises(self):
        with pytest.raises(ValueError, match="unknown priority level"):
            m.sla_rate([1], sla={"九级": 5})
        with pytest.raises(ValueError, match=r"sla\[1\]"):
            m.sla_rate([1], sla={1: -5, 3: 30})
        with pytest.raises(ValueError, match="default priority"):
            m.sla_rate([1], [None], sla={1: 5})  # blank → 三级, which the table lacks

    @PROPS
    @given(st.lists(st.tuples(st.one_of(durations, st.none()), st.sampled_from([1, 2, 3, 4, None, "?"])),
                    max_size=30))
    def test_matches_plain_python(self, rows):
        frt = [r[0] for r in rows]
        prio = [r[1] for r in rows]
        limit_of = {1: 5.0, 2: 10.0, 3: 30.0, 4: 30.0}  # seed 001, written out independently
        valid = [(f, p) for f, p in rows if f is not None]
        met = sum(f <= limit_of.get(p, 30.0) for f, p in valid)
        expected = met / len(valid) if valid else NAN
        result = m.sla_rate(frt, prio)
        assert (isnan(result) and isnan(expected)) or result == approx(expected)


class TestResolution:
    def test_is_resolved_by_status(self):
        status = ["已解决", "处理中", "已关闭", "待确认", "Resolved", " 已解决 ", "ＣＬＯＳＥＤ"]
        assert m.is_resolved(status).tolist() == [True, False, True, False, True, True, True]

    def test_is_resolved_falls_back_to_time_per_row(self):
        # status wins where present ("处理中" with a time is still open); blank status → time
        assert m.is_resolved(["已解决", "处理中", None, None], [5, 5, 7, None]).tolist() == \
            [True, False, True, False]

    def test_is_resolved_from_time_only(self):
        assert m.is_resolved(resolve=[5, None, "x", 0]).tolist() == [True, False, False, True]

    def test_is_resolved_needs_a_column(self):
        with pytest.raises(ValueError):
            m.is_resolved()

    def test_resolution_rate(self):
        # resolved: 已解决, 已关闭 → 2 of 4 rows
        assert m.resolution_rate(["已解决", "处理中", "已关闭", "待确认"]) == 0.5
        # no status column: resolved = valid time → 2 of 3
        assert m.resolution_rate(resolve=[10, None, 3]) == approx(2 / 3)
        assert isnan(m.resolution_rate([]))

    def test_backlog(self):
        # open: 处理中, 待确认, and the blank-status row without a time → 3
        assert m.backlog(["已解决", "处理中", "待确认", None], [5, None, None, None]) == 3.0
        assert m.backlog([]) == 0.0

    def test_backlog_plus_resolved_is_all_rows(self):
        status = ["已解决", "处理中", None, "已关闭", "xyz"]
        resolve = [1, 2, 3, None, None]
        resolved = m.resolution_rate(status, resolve) * len(status)
        assert resolved + m.backlog(status, resolve) == len(status)


class TestOntimeRate:
    def test_default_deadlines(self):
        # 一级 60: 30 on time, 90 late; blank → 三级 1440: 1000 on time → 2/3
        assert m.ontime_rate([30, 90, 1000], ["一级", "一级", None]) == approx(2 / 3)

    def test_only_resolved_rows_count(self):
        # row 1 is 处理中 → left out; rows 0, 2 resolved: 30 ≤ 60 yes, 61 no → 1/2
        status = ["已解决", "处理中", "已关闭"]
        assert m.ontime_rate([30, 10, 61], [1, 1, 1], status=status) == 0.5

    def test_custom_deadlines_and_ties(self):
        # 二级 deadline 120: 120 tie on time, 121 late → 1/2
        assert m.ontime_rate([120, 121], ["二级", "二级"], {2: 120, 3: 500}) == 0.5

    def test_nothing_resolved_is_nan(self):
        assert isnan(m.ontime_rate([None, None], ["一级", "二级"]))


class TestFcrRate:
    def test_flag(self):
        # 是, 否, 是 known (blank left out) → 2/3
        assert m.fcr_rate(["是", "否", "是", None]) == approx(2 / 3)

    def test_contacts_transfer_reopen(self):
        contacts = [1, 1, 1, 2, None]
        transferred = ["否", "是", None, "否", "否"]
        reopened = [None, "否", "是", "否", "否"]
        # row0: 1 contact, not transferred/reopened → first contact
        # row1 transferred, row2 reopened, row3 two contacts → not; row4 unknown → out → 1/4
        assert m.fcr_rate(contacts=contacts, transferred=transferred, reopened=reopened) == 0.25

    def test_flag_wins_and_contacts_fill_blank_flags(self):
        # row0 flag 否 (despite 1 contact) → no; row1 blank flag, 1 contact → yes → 1/2
        assert m.fcr_rate(["否", None], [1, 1]) == 0.5

    def test_denominator_is_resolved_tickets(self):
        # row1 处理中 is not resolved → left out; rows 0, 2: 是, 否 → 1/2
        assert m.fcr_rate(["是", "是", "否"], status=["已解决", "处理中", "已关闭"]) == 0.5

    def test_needs_flag_or_contacts(self):
        with pytest.raises(ValueError):
            m.fcr_rate(status=["已解决"])

    def test_none_known_is_nan(self):
        assert isnan(m.fcr_rate([None, "未评价"]))


# ------------------------------------------------------------------ feedback

class TestSatisfaction:
    def test_csat_avg(self):
        # 1..5 only: 5 and "4星" (= 4) → 4.5; 0 and 9 out of scale
        assert m.csat_avg([5, "4星", 0, 9, None]) == 4.5

    def test_csat_rate(self):
        # valid 5, 4, 3, 1 (7 out of scale) → 4–5: 2 of 4
        assert m.csat_rate([5, 4, 3, 1, 7]) == 0.5
        assert isnan(m.csat_rate([0, 6, None]))

    def test_satisfied_rate(self):
        # 是, 是 of 是/否/是 (未评价 excluded) → 2/3
        assert m.satisfied_rate(["是", "否", "是", "未评价"]) == approx(2 / 3)
        assert m.satisfied_rate(["Y", "N", "yes", "no"]) == 0.5
        assert isnan(m.satisfied_rate(["未评价", None]))

    def test_survey_rate(self):
        # 2 valid ratings (5, 3) of volume 6
        assert m.survey_rate([5, None, 3, 0], 6) == approx(2 / 6)
        assert isnan(m.survey_rate([5], 0))
        with pytest.raises(ValueError, match="volume"):
            m.survey_rate([5], -1)

    def test_nps_hand_worked(self):
        # promoters 10, 9 (2), detractors 6, 0 (2), passive 8 → 100·(2 − 2)/5 = 0
        assert m.nps([10, 9, 8, 6, 0]) == 0.0
        # promoters 3 of 4, detractors 0 → 75; 11 out of scale ignored
        assert m.nps([10, 10, 9, 7, 11]) == 75.0
        assert m.nps([0, 3]) == -100.0
        assert isnan(m.nps([None, "#N/A", 12]))

    @PROPS
    @given(st.lists(st.one_of(st.integers(-2, 12), st.none()), max_size=40))
    def test_nps_matches_plain_python(self, scores):
        valid = [s for s in scores if s is not None and 0 <= s <= 10]
        if not valid:
            assert isnan(m.nps(scores))
            return
        promoters = sum(s >= 9 for s in valid)
        detractors = sum(s <= 6 for s in valid)
        assert m.nps(scores) == approx(100 * (promoters - detractors) / len(valid))

    def test_attitude_avg(self):
        # 5 and 3 valid, 6 out of scale → 4
        assert m.attitude_avg([5, 3, 6]) == 4.0

    def test_complaint_rate(self):
        # 1 是 of 4 rows
        assert m.complaint_rate(["是", "否", None, "否"]) == 0.25
        # 1 是 over a given volume of 10
        assert m.complaint_rate(["是"], volume=10) == 0.1
        assert isnan(m.complaint_rate([]))


class TestRepeatComplaints:
    def test_dates_hand_worked(self):
        customer = ["A", "A", "B", "B", "C"]
        date = ["2024-03-01", "2024-03-08", "2024-03-01", "2024-03-09", "2024-03-02"]
        # A: Δ = 7 days (≤ 7, repeat); B: Δ = 8 (no); C: once → 1 of 3 customers
        assert m.repeat_complaint_rate(customer, date) == approx(1 / 3)

    def test_same_day_second_complaint_is_a_repeat(self):
        assert m.repeat_complaint_rate(["A", "A", "B"], ["2024-03-01"] * 3) == 0.5

    def test_only_complaint_rows_count(self):
        customer = ["A", "A", "B"]
        date = [dt.date(2024, 3, 1), dt.date(2024, 3, 2), dt.date(2024, 3, 5)]
        complaint = ["是", "否", "是"]
        # A's second row is not a complaint → A once, B once → 0/2
        assert m.repeat_complaint_rate(customer, date, complaint) == 0.0

    def test_window_in_days(self):
        customer = ["A", "A"]
        date = ["2024-03-01", "2024-03-04"]
        # Δ = 3: repeat within 3 days, not within 2
        assert m.repeat_complaint_rate(customer, date, days=3) == 1.0
        assert m.repeat_complaint_rate(customer, date, days=2) == 0.0

    def test_repeat_7d_column(self):
        customer = ["A", "A", "B", "C", None]
        complaint = ["是", "是", "是", "否", "是"]
        repeat = [0, 2, None, 5, 3]
        # complaining customers with an id: A (has 2 > 0 → repeat), B (blank → 0) ; C did not complain → 1/2
        assert m.repeat_complaint_rate(customer, complaint=complaint, repeat_7d=repeat) == 0.5

    def test_repeat_7d_without_customer_ids(self):
        # each row its own customer: complaints rows 0, 2; row 0 has 1 > 0 → 1/2
        assert m.repeat_complaint_rate(None, complaint=["是", "否", "是"], repeat_7d=[1, 4, 0]) == 0.5

    def test_undefined_without_dates_or_counts(self):
        assert isnan(m.repeat_complaint_rate(["A"], complaint=["是"]))
        assert isnan(m.repeat_complaint_rate(["A"], [None]))

    @PROPS
    @given(st.lists(st.tuples(st.sampled_from(["A", "B", "C", None]), st.integers(0, 20),
                              st.sampled_from(["是", "否"])), max_size=25),
           st.integers(0, 10))
    def test_matches_pairwise_reference(self, rows, days):
        base = dt.date(2024, 1, 1)
        customer = [r[0] for r in rows]
        date = [base + dt.timedelta(days=r[1]) for r in rows]
        complaint = [r[2] for r in rows]
        # brute force: a customer repeats if two of their complaints are ≤ days apart
        by_customer: dict[str, list[int]] = {}
        for c, d, k in rows:
            if c is not None and k == "是":
                by_customer.setdefault(c, []).append(d)
        repeaters = sum(
            any(abs(ds[i] - ds[j]) <= days for i in range(len(ds)) for j in range(i + 1, len(ds)))
            for ds in by_customer.values())
        expected = repeaters / len(by_customer) if by_customer else NAN
        result = m.repeat_complaint_rate(customer, date, complaint, days=days)
        assert (isnan(result) and isnan(expected)) or result == approx(expected)


# ------------------------------------------------------------------ calls

class TestCallVolumes:
    def test_offered_counts_non_blank_cells(self):
        # the "#N/A" row is still a call record; None is not → 2
        assert m.offered(["2024-03-01 09:00", None, "#N/A"]) == 2.0
        assert m.offered([]) == 0.0

    def test_queued(self):
        # 3 calls − 1 self-served in the IVR
        assert m.queued(["是", "否", None]) == 2.0

    def test_ivr_rate(self):
        # 2 self-served of 4 calls
        assert m.ivr_rate(["是", "否", None, "是"]) == 0.5
        assert isnan(m.ivr_rate([]))


class TestAnswerAbandon:
    def test_answer_rate(self):
        # row 3 self-served → queued rows 0..2: answered 2 of 3
        assert m.answer_rate(["是", "否", "是", "是"], ["否", "否", "否", "是"]) == approx(2 / 3)

    def test_answer_rate_without_ivr(self):
        assert m.answer_rate(["是", "否", "否", "是"]) == 0.5

    def test_abandon_rate(self):
        # 2 unanswered of 4 queued
        assert m.abandon_rate(["是", "否", "否", "是"]) == 0.5

    def test_short_abandons_leave_both_sides(self):
        # short threshold 5 s: the 3 s abandon leaves → 1 abandon (40 s) of 3 calls
        answered = ["是", "否", "否", "是"]
        wait = [10, 3, 40, 5]
        assert m.abandon_rate(answered, wait, short_abandon_s=5) == approx(1 / 3)
        # an abandon at exactly 5 s is not "< 5 s": stays → 2/4
        assert m.abandon_rate(["否", "否", "是", "是"], [5, 40, 1, 1], short_abandon_s=5) == 0.5

    def test_short_abandon_needs_a_valid_wait(self):
        # unknown wait cannot be called short: stays → 1/2; no wait column → unchanged 1/2
        assert m.abandon_rate(["否", "是"], [None, 1], short_abandon_s=5) == 0.5
        assert m.abandon_rate(["否", "是"], short_abandon_s=5) == 0.5

    def test_no_queued_calls_is_nan(self):
        assert isnan(m.answer_rate(["是"], ["是"]))
        assert isnan(m.abandon_rate([]))

    @PROPS
    @given(st.lists(st.tuples(yes_no, yes_no), max_size=40))
    def test_answer_rate_matches_pandas_and_complements_abandon(self, rows):
        df = pd.DataFrame(rows, columns=["answered", "ivr"])
        queued = df[(df["ivr"] != "是") & df["answered"].notna()]
        expected = (queued["answered"] == "是").mean() if len(queued) else NAN
        result = m.answer_rate(df["answered"], df["ivr"])
        assert (isnan(result) and isnan(expected)) or result == approx(expected)
        if not isnan(result):
            assert result + m.abandon_rate(df["answered"], ivr_selfserved=df["ivr"]) == approx(1.0)


class TestWaits:
    def test_asa(self):
        # answered: 10, 30 → 20; the unanswered 99 s is not an answer
        assert m.asa([10, 30, 99], ["是", "是", "否"]) == 20.0
        assert isnan(m.asa([10], ["否"]))

    def test_avg_wait(self):
        # self-served 5 s call left out: (10 + 30)/2
        assert m.avg_wait([10, 30, 5], [None, "否", "是"]) == 20.0
        # waits typed with units: "1分" = 60 s, "30秒" = 30 → 45
        assert m.avg_wait(["1分", "30秒"]) == 45.0

    def test_service_level(self):
        # answered within 20 s: 5, 20 (tie) → 2 of 4 queued (the abandon counts against)
        assert m.service_level([5, 20, 30, 8], ["是", "是", "是", "否"]) == 0.5
        # X = 10: only 5 → 1/4
        assert m.service_level([5, 20, 30, 8], ["是", "是", "是", "否"], seconds=10) == 0.25

    def test_service_level_tie_from_timestamps(self):
        # wait = (answer − arrival)·86400 from Excel serials: 20 s plus float noise still counts
        noisy = (45123.5 + 20 / 86400 - 45123.5) * 86400
        assert noisy > 20
        assert m.service_level([noisy], ["是"]) == 1.0

    def test_service_level_excludes_ivr_and_unknowns(self):
        # row 1 self-served, row 2 answered without a wait → left out; rows 0, 3: 1 within → 1/2
        wait = [5, 1, None, 50]
        answered = ["是", "是", "是", "是"]
        ivr = ["否", "是", "否", "否"]
        assert m.service_level(wait, answered, 20, ivr) == 0.5

    @PROPS
    @given(st.lists(st.tuples(st.one_of(st.integers(0, 120), st.none()), yes_no), max_size=40))
    def test_service_level_matches_pandas(self, rows):
        df = pd.DataFrame(rows, columns=["wait", "answered"]).astype({"wait": float})
        calls = df[df["answered"].notna() & ~((df["answered"] == "是") & df["wait"].isna())]
        hits = ((calls["answered"] == "是") & (calls["wait"] <= 20)).sum()
        expected = hits / len(calls) if len(calls) else NAN
        result = m.service_level(df["wait"], df["answered"])
        assert (isnan(result) and isnan(expected)) or result == approx(expected)


class TestAht:
    def test_missing_parts_are_zero(self):
        # row0 100 + 20 + 30 = 150; row1 200 + 0 + 10 = 210; row2 no talk → (150 + 210)/2
        assert m.aht([100, 200, None], [20, None, 5], [30, 10, 5]) == 180.0

    def test_only_answered_calls(self):
        # row1 not answered → 100 + 20 = 120 only
        assert m.aht([100, 300], [20, 0], None, ["是", "否"]) == 120.0

    def test_talk_only_and_units(self):
        # "2分" = 120 s, 60 → 90
        assert m.aht(["2分", 60]) == 90.0
        assert isnan(m.aht([None, "#N/A"]))


# ------------------------------------------------------------------ Erlang C

def erlang_c_reference(traffic: Fraction, agents: int) -> float:
    """Textbook formula with exact fractions:
    C = (Aᴺ/N! · N/(N−A)) / (Σₖ₌₀ᴺ⁻¹ Aᵏ/k! + Aᴺ/N! · N/(N−A))."""
    top = traffic ** agents / math.factorial(agents) * Fraction(agents) / (agents - traffic)
    bottom = sum(traffic ** k / math.factorial(k) for k in range(agents)) + top
    return float(top / bottom)


def service_level_reference(calls_per_hour: int, aht_s: int, agents: int, target_s: float) -> float:
    a = Fraction(calls_per_hour * aht_s, 3600)
    return 1 - erlang_c_reference(a, agents) * math.exp(-(agents - float(a)) * target_s / aht_s)


class TestErlang:
    def test_published_value(self):
        # A = 10 Erlangs, N = 11 agents: P(wait) ≈ 0.6821 (standard Erlang C table)
        assert m.erlang_c(10, 11) == approx(0.6821, abs=5e-5)

    @PROPS
    @given(st.integers(1, 300).map(lambda k: Fraction(k, 10)), st.integers(1, 40))
    def test_matches_factorial_formula(self, traffic, agents):
        if agents <= traffic:
            assert m.erlang_c(float(traffic), agents) == 1.0
        else:
            assert m.erlang_c(float(traffic), agents) == approx(erlang_c_reference(traffic, agents), rel=1e-9)

    def test_edges(self):
        assert m.erlang_c(0, 3) == 0.0
        assert m.erlang_c(5, 5) == 1.0   # N ≤ A: everyone waits
        with pytest.raises(ValueError, match="agents"):
            m.erlang_c(5, 6.5)
        with pytest.raises(ValueError, match="traffic"):
            m.erlang_c(-1, 3)

    def test_no_overflow_for_large_centres(self):
        # 500 Erlangs, 550 agents: 500^550 and 550! overflow floats; the recurrence does not
        p = m.erlang_c(500, 550)
        assert 0.0 < p < 1.0
        # more agents → less waiting
        assert m.erlang_c(500, 560) < p

    def test_service_level_hand_checked(self):
        # 100 calls/h × 180 s = A = 5 Erlangs; N = 8, t = 20 s
        expected = service_level_reference(100, 180, 8, 20)
        assert m.erlang_service_level(100, 180, 8, 20) == approx(expected, rel=1e-9)
        assert 0.87 < expected < 0.89
        assert m.erlang_service_level(100, 180, 5) == 0.0  # N = A
        assert m.erlang_service_level(0, 180, 1) == 1.0

    def test_agents_needed_is_the_fewest_meeting_target(self):
        # A = 5: SL(7) ≈ 0.74 < 0.8 ≤ SL(8) ≈ 0.88 → 8
        assert service_level_reference(100, 180, 7, 20) < 0.8 <= service_level_reference(100, 180, 8, 20)
        assert m.agents_needed(100, 180, 0.8, 20) == 8.0

    @PROPS
    @given(st.integers(1, 400), st.integers(30, 600), st.sampled_from([0.5, 0.8, 0.9]), st.sampled_from([10, 20, 60]))
    def test_agents_needed_minimal_by_reference(self, calls, aht_s, target, secs):
        n = m.agents_needed(calls, aht_s, target, secs)
        a = calls * aht_s / 3600
        assert n > a
        assert service_level_reference(calls, aht_s, int(n), secs) >= target - 1e-9
        if n - 1 > a:
            assert service_level_reference(calls, aht_s, int(n) - 1, secs) < target + 1e-9

    def test_agents_needed_monotone_in_load(self):
        needed = [m.agents_needed(calls, 240) for calls in range(0, 1001, 50)]
        assert needed[0] == 0.0
        assert all(b >= a for a, b in zip(needed, needed[1:]))
        assert needed[-1] > needed[1]

    def test_agents_needed_monotone_in_target(self):
        levels = [m.agents_needed(200, 300, target) for target in (0.5, 0.7, 0.8, 0.9, 0.95)]
        assert all(b >= a for a, b in zip(levels, levels[1:]))

    def test_agents_needed_cap_gives_nan(self):
        # A = 1000 Erlangs needs more than 50 agents
        assert isnan(m.agents_needed(3600, 1000, max_agents=50))

    def test_agents_needed_bad_arguments(self):
        with pytest.raises(ValueError, match="target_sl"):
            m.agents_needed(100, 180, 1.5)
        with pytest.raises(ValueError, match="aht_s"):
            m.agents_needed(100, 0)


# ------------------------------------------------------------------ catalogue

SPEC_KEYS = (
    "volume", "frt_rate", "frt_avg", "frt_median", "frt_p90", "resolve_avg", "resolve_median",
    "resolve_p90", "handle_avg", "sla_rate", "resolution_rate", "ontime_rate", "backlog", "fcr_rate",
    "csat_avg", "csat_rate", "satisfied_rate", "survey_rate", "nps", "attitude_avg", "complaint_rate",
    "repeat_complaint_rate", "offered", "queued", "answer_rate", "abandon_rate", "asa", "avg_wait",
    "service_level", "aht", "ivr_rate", "agents_needed",
)


class TestFunctions:
    def test_every_metric_has_a_function(self):
        for key in SPEC_KEYS:
            assert callable(getattr(m, key)), key

    def test_default_sla_table_is_seed_001(self):
        # guards the defaults sla_rate relies on: 一级 5, 二级 10, 三级/四级 30 minutes
        assert settings.DEFAULT_SLA_MIN == {1: 5.0, 2: 10.0, 3: 30.0, 4: 30.0}


@pytest.mark.slow
def test_million_rows_vectorised():
    rng = np.random.default_rng(0)
    frt = np.round(rng.exponential(3.0, 1_000_000), 2)  # typed minutes: 0.01 grid
    expected = float((frt <= 3).mean())
    assert m.frt_rate(frt) == approx(expected)
    assert m.frt_p90(frt) == approx(float(np.percentile(frt, 90)))


# ------------------------------------------------------------------ peak queue

def _ts(*clock):
    return pd.to_datetime([f"2024-03-01 {c}" for c in clock])


def test_peak_queue_hand_worked():
    # 09:00:00+60 s and 09:00:30+60 s overlap from 09:00:30 to 09:01:00 → 2; 09:02:00 waits alone
    assert m.peak_queue(_ts("09:00:00", "09:00:30", "09:02:00"), [60, 60, 10]) == 2
    # leaving at 09:01:00 while another joins at 09:01:00 is no overlap
    assert m.peak_queue(_ts("09:00:00", "09:01:00"), [60, 60]) == 1
    # IVR self-served calls never queue; invalid waits and blank starts are left out
    assert m.peak_queue(_ts("09:00:00", "09:00:30", "09:00:40"), [60, 60, 60], ["否", "是", "否"]) == 2
    assert m.peak_queue([None, "2024-03-01 09:00"], [5, "#N/A"]) != m.peak_queue([None], [5])
    assert math.isnan(m.peak_queue([None], [5]))


@hsettings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 600), st.integers(0, 120)), min_size=1, max_size=40))
def test_peak_queue_matches_brute_force(calls):
    start = pd.Timestamp("2024-03-01 09:00") + pd.to_timedelta([c[0] for c in calls], unit="s")
    wait = [c[1] for c in calls]
    # brute force: waiting at second t means start <= t < start + wait
    expected = max(sum(1 for s0, w in calls if s0 <= t < s0 + w) for t in range(0, 721))
    assert m.peak_queue(start, wait) == expected


class TestConversationMetrics:
    """Seed 004's 平均响应时长 and 在线咨询回复率, from message-level data only."""

    def test_avg_response_is_the_mean_of_the_conversations_averages(self):
        # conversation averages 2, 6 and one without messages (blank) → (2 + 6) / 2
        assert m.avg_response([2, "6分钟", None]) == 4

    def test_online_reply_rate_counts_conversations_with_a_human_reply(self):
        # counts 3, 0, 1 and one unknown: 2 of the 3 known were answered
        assert m.online_reply_rate([3, 0, 1, None]) == pytest.approx(2 / 3)

    def test_only_chat_channels_are_online_consultations(self):
        # the phone and e-mail rows leave the denominator: chat rows 1 (answered) and 0 → 1/2
        assert m.online_reply_rate([1, 0, 0, 2], ["在线", "Chat", "电话", "邮件"]) == 0.5

    def test_without_message_data_both_are_null_never_zero(self):
        assert math.isnan(m.avg_response([None, None]))
        assert math.isnan(m.online_reply_rate([None, None]))
        assert math.isnan(m.online_reply_rate([1, 2], ["邮件", "APP"]))  # no online consultation at all
