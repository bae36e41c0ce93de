"""kpis: column selection, grouping and scope, checked against plain pandas."""
import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from cs_xl import catalogue, kpis, metrics
from cs_xl.dataset import DataSet
from cs_xl.settings import Settings


def _tickets():
    # 6 tickets, two teams; FRT ≤ 3 in rows 0, 1, 3 (3 counts as met); row 5 has no FRT
    return pd.DataFrame({
        "ticket_id": ["T1", "T2", "T3", "T4", "T5", "T6"],
        "date": pd.to_datetime(["2024-03-01", "2024-03-01", "2024-03-02", "2024-04-01", "2024-04-02", "2024-04-02"]),
        "created_at": pd.to_datetime(["2024-03-01 09:10", "2024-03-01 14:00", "2024-03-02 14:30",
                                      "2024-04-01 10:00", "2024-04-02 14:05", "2024-04-02 15:00"]),
        "agent_id": ["C001", "C002", "C001", "C003", "C002", "C003"],
        "team": ["一组", "二组", "一组", "二组", "二组", "二组"],
        "channel": ["APP", "电话", "APP", "官网", "APP", "电话"],
        "frt_min": [1.0, 3.0, 7.0, 2.0, 12.0, np.nan],
        "resolve_min": [10.0, np.nan, 50.0, 30.0, 100.0, np.nan],
        "priority": pd.array([1, 2, 3, pd.NA, 1, 4], dtype="Int64"),
        "status": ["已解决", "处理中", "已关闭", "已解决", "已解决", "待确认"],
        "hire_date": pd.to_datetime(["2023-01-01", "2024-03-15", "2023-01-01", "2023-06-01", "2024-03-15", "2023-06-01"]),
        "_row": [3, 4, 5, 6, 7, 8],
    })


def _feedback():
    return pd.DataFrame({
        "ticket_id": ["T1", "T2", "T3", "T5"],
        "customer_id": ["U1", "U2", "U1", "U3"],
        "date": pd.to_datetime(["2024-03-01", "2024-03-01", "2024-03-03", "2024-04-02"]),
        "rating": [5.0, 2.0, 4.0, np.nan],
        "satisfied": pd.array([True, False, True, None], dtype="boolean"),
        "nps": [10.0, 3.0, 8.0, 9.0],
        "complaint": pd.array([False, True, True, False], dtype="boolean"),
        "_row": [3, 4, 5, 6],
    })


def _calls():
    return pd.DataFrame({
        "start": pd.to_datetime(["2024-03-06 14:00", "2024-03-06 14:20", "2024-03-06 15:00", "2024-03-07 09:00"]),
        "wait_s": [10.0, 40.0, 5.0, 0.0],
        "answered": pd.array([True, False, True, False], dtype="boolean"),
        "talk_s": [100.0, np.nan, 200.0, np.nan],
        "ivr_selfserved": pd.array([False, False, False, True], dtype="boolean"),
        "agent_id": ["C001", None, "C002", None],
        "_row": [3, 4, 5, 6],
    })


@pytest.fixture
def ds():
    return DataSet(tickets=_tickets(), feedback=_feedback(), calls=_calls(), source="test")


def test_headline_hand_worked(ds):
    k = kpis.headline(ds)
    assert list(k) == catalogue.names()
    assert k["volume"] == 6
    assert k["frt_rate"] == pytest.approx(3 / 5)          # 1, 3, 2 ≤ 3 of 5 valid
    assert k["frt_avg"] == pytest.approx((1 + 3 + 7 + 2 + 12) / 5)
    assert k["resolution_rate"] == pytest.approx(4 / 6)   # 已解决/已关闭 rows 0, 2, 3, 4
    assert k["backlog"] == 2                              # 处理中 + 待确认
    # SLA: P1 1≤5 ✓, P2 3≤10 ✓, P3 7≤30 ✓, blank→P3 2≤30 ✓, P1 12≤5 ✗ → 4/5
    assert k["sla_rate"] == pytest.approx(4 / 5)
    assert k["csat_rate"] == pytest.approx(2 / 3)         # ratings 5, 2, 4
    assert k["satisfied_rate"] == pytest.approx(2 / 3)
    assert k["nps"] == pytest.approx(100 * (2 / 4 - 1 / 4))  # 10, 9 promoters; 3 detractor
    assert k["complaint_rate"] == pytest.approx(2 / 6)    # complaints / ticket volume
    assert k["offered"] == 4
    assert k["ivr_rate"] == pytest.approx(1 / 4)
    assert k["answer_rate"] == pytest.approx(2 / 3)       # 2 answered of 3 queued
    assert k["asa"] == pytest.approx((10 + 5) / 2)
    assert k["aht"] == pytest.approx((100 + 200) / 2)
    assert math.isnan(k["fcr_rate"])                      # no FCR columns → undefined, not 0
    assert math.isnan(k["attitude_avg"])


def test_missing_tables_are_nan_not_zero():
    k = kpis.headline(DataSet(calls=_calls()))
    assert math.isnan(k["volume"]) and math.isnan(k["frt_rate"]) and math.isnan(k["csat_rate"])
    assert k["offered"] == 4


def test_threshold_setting_changes_frt_rate(ds):
    k = kpis.headline(ds, Settings(frt_threshold_min=10))
    assert k["frt_rate"] == pytest.approx(4 / 5)


def test_grouped_by_team_matches_pandas(ds):
    frame = kpis.grouped(ds, None, "team")
    t = _tickets()
    expected = t.groupby("team").apply(lambda g: (g.frt_min <= 3).sum() / g.frt_min.notna().sum())
    for team, value in expected.items():
        assert frame.loc[team, "frt_rate"] == pytest.approx(value)
    assert frame.loc["一组", "volume"] == 2 and frame.loc["二组", "volume"] == 4
    # feedback reaches its team through ticket_id: 一组 has T1 (5) and T3 (4) → 2/2 satisfied ratings
    assert frame.loc["一组", "csat_rate"] == pytest.approx(1.0)
    assert frame.loc["二组", "csat_rate"] == pytest.approx(0.0)


def test_grouped_by_month_and_week(ds):
    by_month = kpis.grouped(ds, None, "month")
    assert list(by_month.index) == ["2024-03", "2024-04"]
    assert by_month.loc["2024-03", "volume"] == 3
    assert by_month.loc["2024-03", "offered"] == 4
    by_week = kpis.grouped(ds, None, "week")
    assert "2024-W09" in by_week.index  # 2024-03-01 is in ISO week 9


def test_grouped_unknown_column(ds):
    with pytest.raises(KeyError):
        kpis.grouped(ds, None, "module")


def test_scope_period_and_where(ds):
    s = Settings(period_start=dt.date(2024, 3, 1), period_end=dt.date(2024, 3, 31))
    scoped = kpis.apply_scope(ds, s)
    assert len(scoped.tickets) == 3 and len(scoped.feedback) == 3 and len(scoped.calls) == 4
    app = kpis.apply_scope(ds, Settings(), {"channel": ["app"]})
    assert sorted(app.tickets.ticket_id) == ["T1", "T3", "T5"]
    # feedback follows its ticket out of scope: T2 is 电话
    assert sorted(app.feedback.ticket_id) == ["T1", "T3", "T5"]
    p1 = kpis.apply_scope(ds, Settings(), {"priority": ["一级"]})
    assert sorted(p1.tickets.ticket_id) == ["T1", "T5"]


def test_scope_tenure(ds):
    # reference = last ticket date 2024-04-02: C002 hired 2024-03-15 has < 3 months
    scoped = kpis.apply_scope(ds, Settings(min_tenure_months=3))
    assert "C002" not in set(scoped.tickets.agent_id)
    assert set(scoped.tickets.agent_id) == {"C001", "C003"}


def test_scope_team_filter_from_settings(ds):
    scoped = kpis.apply_scope(ds, Settings(teams=("一组",)))
    assert set(scoped.tickets.team) == {"一组"}


def test_load_matrix_matches_crosstab(ds):
    m = kpis.load_matrix(ds)
    stamps = pd.concat([_tickets().created_at, _calls().start])
    ref = pd.crosstab(stamps.dt.day_of_week, stamps.dt.hour)
    assert m.values.sum() == len(stamps)
    for wd in ref.index:
        for hr in ref.columns:
            assert m.loc[wd, hr] == ref.loc[wd, hr]


def test_peak_hourly_arrivals():
    # Wednesday 2024-03-06 14:00–15:00 holds 2 queued calls; the IVR call does not count
    calls = _calls()
    assert metrics.peak_hourly_arrivals(calls["start"], calls["ivr_selfserved"]) == 2
    assert kpis.slot_arrivals(calls).max() == 2


def test_queue_metrics_are_undefined_per_agent(ds):
    # the unanswered call has no agent: per agent, an answer rate would always read 100 %
    frame = kpis.grouped(ds, None, "agent_id")
    assert frame.loc["C001", "offered"] == 1 and frame.loc["C001", "aht"] == 100
    for key in ("answer_rate", "abandon_rate", "service_level", "ivr_rate"):
        assert frame[key].isna().all(), key
    by_month = kpis.grouped(ds, None, "month")
    assert by_month.loc["2024-03", "answer_rate"] == pytest.approx(2 / 3)


# ---------------------------------------------------------------- a record's moment (创建时间, else 日期)

def _typed_tickets():
    """Tickets as typed into the template: 日期 filled, the optional 创建时间 mostly blank.
    2024-03-04 is a Monday, 03-05 a Tuesday, 03-09 a Saturday, 03-31 a Sunday, 04-01 a Monday.
    T5's 创建时间 (Sunday 03-31 23:50) falls on another day, week and month than its 日期 (Monday 04-01)."""
    return pd.DataFrame({
        "ticket_id": ["T1", "T2", "T3", "T4", "T5"],
        "date": pd.to_datetime(["2024-03-04", "2024-03-04", "2024-03-05", "2024-03-09", "2024-04-01"]),
        "created_at": pd.to_datetime([None, None, None, "2024-03-09 10:15", "2024-03-31 23:50"]),
        "frt_min": [1.0, 5.0, 2.0, 4.0, 1.0],
        "_row": [3, 4, 5, 6, 7],
    })


@pytest.mark.parametrize("by, expected", [
    ("weekday", {0: 2, 1: 1, 5: 1, 6: 1}),                      # Mon T1 T2, Tue T3, Sat T4, Sun T5
    ("day", {"2024-03-04": 2, "2024-03-05": 1, "2024-03-09": 1, "2024-03-31": 1}),
    ("week", {"2024-W10": 4, "2024-W13": 1}),                   # 03-04…03-10 is W10; Sunday 03-31 ends W13
    ("month", {"2024-03": 5}),                                  # T5 was created in March
])
def test_periods_use_created_at_where_filled_else_date(by, expected):
    frame = kpis.grouped(DataSet(tickets=_typed_tickets()), None, by)
    assert frame["volume"].to_dict() == expected


def test_a_blank_created_at_column_falls_back_to_date():
    t = _typed_tickets().assign(created_at=pd.NaT)
    assert kpis.grouped(DataSet(tickets=t), None, "weekday")["volume"].to_dict() == {0: 3, 1: 1, 5: 1}


def test_hour_view_counts_only_records_with_a_time():
    ds = DataSet(tickets=_typed_tickets())
    assert kpis.grouped(ds, None, "hour")["volume"].to_dict() == {10: 1, 23: 1}
    assert kpis.untimed_records(ds) == {"tickets": 3}
    no_column = DataSet(tickets=_typed_tickets().drop(columns="created_at"), calls=_calls())
    assert kpis.untimed_records(no_column) == {"tickets": 5, "calls": 0}


def test_period_scope_uses_the_same_moment():
    scoped = kpis.apply_scope(DataSet(tickets=_typed_tickets()),
                              Settings(period_start=dt.date(2024, 3, 31), period_end=dt.date(2024, 3, 31)))
    assert scoped.tickets["ticket_id"].tolist() == ["T5"]


def test_load_matrix_leaves_out_tickets_without_a_time():
    m = kpis.load_matrix(DataSet(tickets=_typed_tickets()))
    assert m.values.sum() == 2 and m.loc[5, 10] == 1 and m.loc[6, 23] == 1


@pytest.mark.parametrize("labels", [
    pd.Series(["b", None, "a", "b", np.nan, "a"], index=[9, 3, 7, 1, 5, 2]),
    pd.Series(pd.array([2, pd.NA, 1, 2, 1], dtype="Int64")),
    pd.Series(pd.array([True, None, False, True], dtype="boolean")),
    pd.Series([1.5, np.nan, 2.0, 1.5]),
    pd.Series(pd.to_datetime(["2024-01-02", None, "2024-01-01", "2024-01-02"])),
    pd.Series(["x", None, "y", "x"]).astype("category"),
    pd.Series(["x", None, "y", "x"], dtype="string"),
    pd.Series([1, "a", None, 1.0, "a"], dtype=object),  # 1 and 1.0 are one label, as pandas hashes them
    pd.Series([None, np.nan], dtype=object),
    pd.Series([f"id{i % 40_000}" for i in range(90_000)]),  # more labels than 16-bit codes hold
])
def test_label_positions_are_what_a_groupby_gives(labels):
    """kpis.label_positions hashes the labels once: the groups, their rows and the labels' types
    (numpy scalars for a numpy column, Timestamps for dates) are pandas' groupby and unique's."""
    plain = labels.reset_index(drop=True)
    expected = plain.groupby(plain, sort=False, dropna=True).indices
    got = kpis.label_positions(labels)
    assert list(got) == list(plain.dropna().unique())
    assert [type(k) for k in got] == [type(k) for k in plain.dropna().unique()]
    assert {k: v.tolist() for k, v in got.items()} == {k: v.tolist() for k, v in expected.items()}


def test_grouped_reads_a_carried_table_only_for_its_metrics(ds):
    """kpis.grouped works out the calls' team (through their agent) only when a calls metric is
    asked; either way the groups are the tickets' teams and the numbers are plain pandas'."""
    tickets_only = kpis.grouped(ds, None, "team", keys=["volume"])
    assert "calls" not in {key[2] for key in ds.memo if key[0] == "group_labels"}  # never carried
    both = kpis.grouped(ds, None, "team", keys=["volume", "offered", "aht"])
    assert list(tickets_only.index) == list(both.index) == ["一组", "二组"]
    assert tickets_only["volume"].tolist() == both["volume"].tolist() == [2, 4]
    # C001 (一组) answered the 100 s call, C002 (二组) the 200 s one; the two calls without an agent have no team
    assert both["offered"].tolist() == [1, 1] and both["aht"].tolist() == [100.0, 200.0]


def test_feedback_reaches_the_last_ticket_row_of_its_id():
    """Each feedback row is grouped by the last ticket row with its id; a blank or unknown id
    belongs to no group (hand-worked: T1's last row is 二组, T9 is no ticket)."""
    tickets = pd.DataFrame({"ticket_id": ["T1", "T2", None, "T1"], "team": ["一组", "一组", "二组", "二组"]})
    feedback = pd.DataFrame({"ticket_id": ["T1", "T2", None, "T9", "T2"], "rating": [5.0, 1.0, 5.0, 5.0, 2.0]})
    labels = kpis.group_labels(DataSet(tickets=tickets, feedback=feedback), "team")["feedback"]
    assert labels.tolist()[:2] == ["二组", "一组"] and labels.isna().tolist() == [False, False, True, True, False]
    assert labels.iloc[4] == "一组"
    positions = kpis.group_positions(DataSet(tickets=tickets, feedback=feedback), "team")["feedback"]
    assert {team: rows.tolist() for team, rows in positions.items()} == {"二组": [0], "一组": [1, 4]}
    empty = kpis.group_labels(DataSet(tickets=tickets.iloc[:0], feedback=feedback), "team")["feedback"]
    assert empty.isna().all() and len(empty) == 5
