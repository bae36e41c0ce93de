"""The seeded demo data: sizes, determinism, shapes the analyses rely on, dirty rows."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from cs_xl import schema
from cs_xl.sample import DIRTY_ROWS, OPTIMISATION_DATE, dirty_rows, generate, write_demo_inputs

START = pd.Timestamp("2024-03-01")
END = pd.Timestamp("2024-06-01")  # three months later, exclusive


@pytest.fixture(scope="module")
def data():
    return generate(seed=7)


@pytest.fixture(scope="module")
def clean(data):
    """Tickets minus every record that carries a planted dirty cell."""
    dirty_ids = {r.record_id for r in DIRTY_ROWS if r.table == "tickets"}
    t = data["tickets"]
    return t[~t["ticket_id"].isin(dirty_ids)]


def test_sizes_and_columns(data):
    t, f, c = data["tickets"], data["feedback"], data["calls"]
    assert len(t) >= 5000
    assert 0.55 <= len(f) / len(t) <= 0.65
    assert 7000 <= len(c) <= 9500
    assert list(t.columns) == list(schema.TICKETS.keys)
    assert set(f.columns) == set(schema.FEEDBACK.keys)
    assert set(c.columns) == set(schema.CALLS.keys)


def test_period(data):
    created = data["tickets"]["created_at"]
    assert created.min() >= START and created.max() < END
    assert data["calls"]["start"].min() >= START and data["calls"]["start"].max() < END
    assert START < pd.Timestamp(OPTIMISATION_DATE) < END


def test_deterministic_for_a_seed(data):
    again = generate(seed=7)
    for key in data:
        pd.testing.assert_frame_equal(data[key], again[key])
    other = generate(seed=8)
    assert not data["tickets"]["frt_min"].equals(other["tickets"]["frt_min"])


def test_agents_teams_and_tenure(data):
    t = data["tickets"]
    agents = t.drop_duplicates("agent_id")
    assert len(agents) == 12
    assert set(t["team"]) == {"在线一组", "在线二组"}
    assert agents.groupby("team").size().tolist() == [6, 6]
    assert set(agents["agent_name"]) >= {"李娜", "王强"}
    three_months_before = START - pd.DateOffset(months=3)
    new = agents[agents["hire_date"] > three_months_before]
    assert 1 <= len(new) < 12


def test_vocabularies(data):
    t = data["tickets"]
    assert set(t["channel"]) == set(schema.CHANNELS)
    assert set(t["customer_type"]) == set(schema.CUSTOMER_TYPES)
    assert set(t["issue_type"]) == set(schema.ISSUE_TYPES)
    assert set(t["module"]) == set(schema.MODULES)
    assert set(t["status"]) == set(schema.STATUSES)
    dirty_priorities = {r.value for r in DIRTY_ROWS if r.table == "tickets" and r.column == "priority"}
    assert set(t["priority"]) - dirty_priorities == set(schema.PRIORITIES)
    assert set(data["feedback"]["satisfied"].dropna()) - {"Y", "N"} == set(schema.YES_NO)


def test_ticket_ids_unique_but_the_planted_duplicate(data):
    counts = data["tickets"]["ticket_id"].value_counts()
    [dup] = [r.record_id for r in DIRTY_ROWS if r.column == "ticket_id"]
    assert counts[dup] == 2
    assert (counts.drop(dup) == 1).all()
    copies = data["tickets"][data["tickets"]["ticket_id"] == dup]
    assert copies["status"].tolist()[0] == "处理中" and pd.isna(copies["resolve_min"].tolist()[0])
    assert copies["status"].tolist()[1] in ("已解决", "已关闭")  # the last record is the complete one


def test_timestamps_match_minutes_for_clean_rows(clean):
    frt = (clean["first_response_at"] - clean["created_at"]).dt.total_seconds() / 60
    assert np.allclose(frt.to_numpy(float), clean["frt_min"].to_numpy(float), atol=1e-9)
    resolved = clean[clean["resolve_min"].notna()]
    res = (resolved["resolved_at"] - resolved["first_response_at"]).dt.total_seconds() / 60
    assert np.allclose(res.to_numpy(float), resolved["resolve_min"].to_numpy(float), atol=1e-9)
    assert (clean["date"] == clean["created_at"].dt.normalize()).all()


def test_open_tickets_have_no_resolution(clean):
    open_ = clean[clean["status"].isin(["处理中", "待确认"])]
    assert 0.01 <= len(open_) / len(clean) <= 0.15
    assert open_["resolve_min"].isna().all() and open_["resolved_at"].isna().all()
    done = clean[clean["status"].isin(["已解决", "已关闭"])]
    assert done["resolve_min"].notna().all()


def test_response_times_shape(clean):
    frt = clean["frt_min"].astype(float)
    assert 0.60 <= (frt <= 3).mean() <= 0.75
    assert 1.5 <= frt.median() <= 2.5
    vip = clean["customer_type"] == "VIP"
    assert frt[vip].median() < frt[~vip].median()


def wednesday_afternoon(moments: pd.Series) -> pd.Series:
    return (moments.dt.day_of_week == 2) & moments.dt.hour.between(13, 17)


def test_wednesday_afternoon_peak_in_arrivals_and_response(clean, data):
    for moments in (data["tickets"]["created_at"], data["calls"]["start"]):
        afternoon = moments.dt.hour.between(13, 17)
        per_weekday = moments[afternoon].dt.day_of_week.value_counts()
        # Wednesday afternoons get more contacts than any other weekday's afternoons
        assert per_weekday.idxmax() == 2
        assert per_weekday[2] > 1.4 * per_weekday[[1, 3]].mean()
    frt = clean["frt_min"].astype(float)
    peak = wednesday_afternoon(clean["created_at"])
    assert frt[peak].median() > 1.3 * frt[~peak].median()


def test_optimisation_improves_frt(clean):
    frt = clean["frt_min"].astype(float)
    after = clean["created_at"] >= pd.Timestamp(OPTIMISATION_DATE)
    assert (frt[after] <= 3).mean() > (frt[~after] <= 3).mean() + 0.05


def test_fcr_flags_consistent(clean):
    done = clean[clean["status"].isin(["已解决", "已关闭"])]
    single = (done["contacts"] == 1) & (done["transferred"] == "否") & (done["reopened"] == "否")
    assert (done["first_contact_resolved"] == np.where(single, "是", "否")).all()


def test_feedback_shape(data, clean):
    f = data["feedback"]
    dirty = {r.record_id for r in DIRTY_ROWS if r.table == "feedback"}
    fc = f[~f["ticket_id"].isin(dirty)]
    assert set(fc["ticket_id"]) <= set(data["tickets"]["ticket_id"])
    rating = fc["rating"].astype(float)
    assert set(rating.dropna()) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    assert set(fc["nps"].astype(float).dropna()) <= set(map(float, range(11)))
    assert (fc.loc[rating.isna(), "satisfied"] == "未评价").all()
    # ratings fall as first response grows
    joined = fc.merge(clean[["ticket_id", "frt_min"]], on="ticket_id")
    fast = joined.loc[joined["frt_min"] <= 3, "rating"].astype(float).mean()
    slow = joined.loc[joined["frt_min"] > 10, "rating"].astype(float).mean()
    assert fast > slow + 0.5


def test_repeat_complaints_match_an_independent_count(data):
    f = data["feedback"]
    complaints = f[f["complaint"] == "是"]
    expected = []
    for _, row in complaints.iterrows():
        same = complaints[(complaints["customer_id"] == row["customer_id"])
                          & ((complaints["date"] - row["date"]).abs() <= pd.Timedelta(days=7))]
        expected.append(len(same) - 1)
    assert complaints["repeat_7d"].tolist() == expected
    assert complaints.loc[complaints["repeat_7d"] > 0, "customer_id"].nunique() >= 5
    assert (f.loc[f["complaint"] == "否", "repeat_7d"] == 0).all()


def test_calls_shape(data):
    dirty = {r.record_id for r in DIRTY_ROWS if r.table == "calls"}
    c = data["calls"][~data["calls"]["call_id"].isin(dirty)]
    ivr = c["ivr_selfserved"] == "是"
    assert 0.55 <= ivr.mean() <= 0.65
    assert c.loc[ivr, "wait_s"].isna().all() and (c.loc[ivr, "answered"] == "否").all()
    queued = c[~ivr]
    answered = queued["answered"] == "是"
    assert 0.8 <= answered.mean() <= 0.95
    assert (queued["wait_s"].astype(float) >= 0).all()
    talk = queued.loc[answered, "talk_s"].astype(float)
    assert (talk > 0).all() and queued.loc[answered, "agent_id"].notna().all()
    assert queued.loc[~answered, "talk_s"].isna().all()
    assert set(c["outcome"]) == {"IVR", "AGENT", "HANG"}
    assert set(c["priority"]) == set(schema.PRIORITIES)


def test_dirty_cells_are_planted(data):
    id_col = {"tickets": "ticket_id", "feedback": "ticket_id", "calls": "call_id"}
    for row in DIRTY_ROWS:
        frame = data[row.table]
        cells = frame.loc[frame[id_col[row.table]] == row.record_id, row.column].tolist()
        assert cells and cells[-1] == row.value, row


def test_dirty_rows_cover_the_kinds_real_exports_have():
    values = {r.value for r in DIRTY_ROWS}
    for expected in ("5", "５", "5分钟", "3 min", "1.5h", "#N/A", "L1", "P2", "紧急", "五级",
                     "Y", "N", "√", "×", "TRUE"):
        assert expected in values
    assert any(isinstance(v, float) and v < 0 for v in values)            # negative duration
    assert "2024/3/10" in values                                          # date as text
    assert any(r.column == "ticket_id" for r in DIRTY_ROWS)               # duplicate id
    assert {r.table for r in DIRTY_ROWS} == {"tickets", "feedback", "calls"}
    assert all(r.expect for r in DIRTY_ROWS)


def test_dirty_rows_follow_the_start_date():
    rows = dirty_rows("2025-01-01")
    assert rows[0].record_id == "T202501030001"   # day offset 2, first ticket of the day
    data = generate(seed=3, start="2025-01-01", months=1)
    t = data["tickets"]
    assert t["created_at"].min() >= pd.Timestamp("2025-01-01")
    assert t["created_at"].max() < pd.Timestamp("2025-02-01")
    for row in rows:
        frame = data[row.table]
        col = "call_id" if row.table == "calls" else "ticket_id"
        assert frame.loc[frame[col] == row.record_id, row.column].tolist()[-1] == row.value


def test_dirty_frt_texts_stand_for_consistent_records(data):
    t = data["tickets"]
    for row in DIRTY_ROWS:
        if row.column == "frt_min" and row.value in ("5", "５", "5分钟"):
            rec = t[t["ticket_id"] == row.record_id].iloc[0]
            assert rec["first_response_at"] - rec["created_at"] == pd.Timedelta(minutes=5)


def test_demo_workbook(tmp_path, data):
    path = write_demo_inputs(tmp_path / "demo.xlsx", seed=7)
    book = CalamineWorkbook.from_path(str(path))
    assert book.sheet_names[:5] == ["说明", "参数", "响应时间统计表", "效果统计表", "话务记录"]
    for key, sheet in (("tickets", "响应时间统计表"), ("feedback", "效果统计表"), ("calls", "话务记录")):
        rows = book.get_sheet_by_name(sheet).to_python()
        assert len(rows) == 2 + len(data[key])  # title + header + records
    rows = book.get_sheet_by_name("响应时间统计表").to_python()
    notes = [r[7] for r in rows]
    assert "=SUM(1,1)" in notes   # formula-like note stays text
    dt_cells = [r[20] for r in rows[2:5]]
    assert all(isinstance(v, dt.datetime) for v in dt_cells)
