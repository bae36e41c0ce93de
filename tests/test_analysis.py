"""cs_xl.analysis: plain results, hand-worked; and the layers import no Excel library."""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import numpy as np
import pandas as pd

from cs_xl import periods
from cs_xl.analysis import alerts, audit, staffing
from cs_xl.dataset import DataSet
from cs_xl.settings import Settings

S = Settings().with_(targets={"avg_wait": (30.0, "<=")}, alert_wait_factor=1.2, alert_queue_max=50)


def test_rule_limits_and_breaches():
    assert alerts.rule_limits(S) == {"avg_wait": 36.0, "peak_queue": 50.0}
    # 36 is the limit itself (not above it); 51 > 50; NaN breaks nothing
    assert alerts.rule_breaches({"avg_wait": 36.0, "peak_queue": 51}, S) == [alerts.Breach("peak_queue", 51, 50.0)]
    assert alerts.rule_breaches({"avg_wait": np.nan, "peak_queue": np.nan}, S) == []
    assert "avg_wait" not in alerts.rule_limits(Settings().with_(targets={}))


def test_rule_days_in_date_order():
    by_day = pd.DataFrame({"avg_wait": [40.0, 20.0, 36.5], "peak_queue": [10, 60, 3]},
                          index=["2024-03-01", "2024-03-02", "2024-03-03"])
    days = alerts.rule_days(by_day, S)
    assert [(b.day, b.key, b.value) for b in days] == [
        (dt.date(2024, 3, 1), "avg_wait", 40.0), (dt.date(2024, 3, 2), "peak_queue", 60),
        (dt.date(2024, 3, 3), "avg_wait", 36.5)]


def test_audit_records_are_the_unresolved_tickets():
    t = pd.DataFrame({"ticket_id": ["a", "b", "c", "d"], "status": ["已解决", "处理中", None, "待确认"],
                      "resolve_min": [10.0, np.nan, np.nan, 5.0]})
    # a resolved; b open; c no status and no resolution; d pending (its status wins over the time)
    assert audit.audit_records(DataSet(tickets=t))["ticket_id"].tolist() == ["b", "c", "d"]
    assert audit.audit_records(DataSet()).empty


def test_staffing_needs_calls_and_a_positive_aht():
    calls = pd.DataFrame({"start": pd.to_datetime(["2024-03-04 09:10", "2024-03-04 09:40"])})  # a Monday
    assert staffing.agents_needed_by_slot(calls, Settings(), np.nan) is None
    assert staffing.agents_needed_by_slot(calls.iloc[0:0], Settings(), 300) is None
    matrix = staffing.agents_needed_by_slot(calls, Settings(), 300)
    # 2 calls/h × 300 s = 1/6 Erlang: one agent answers 80 % within 20 s (P(wait) = A = 1/6)
    assert matrix[0][9] == 1 and sum(v is not None for row in matrix for v in row) == 1
    json.dumps(matrix)  # plain data


def test_periods_round_trip_every_day_of_a_leap_year():
    day = dt.date(2024, 1, 1)
    while day.year == 2024:
        for grain in periods.GRAINS:
            label = periods.label_of(day, grain)
            first, last = periods.span(label, grain)
            assert first <= day <= last
            assert periods.label_of(first - dt.timedelta(days=1), grain) == periods.previous(label, grain)
        day += dt.timedelta(days=1)
    stamps = pd.Series(pd.to_datetime(["2024-12-30 08:00", None]))
    assert periods.labels(stamps, "week").tolist()[0] == "2025-W01"


def test_model_analysis_and_pipeline_import_no_excel_library():
    code = ("import sys, cs_xl.report, cs_xl.analysis.alerts, cs_xl.analysis.staffing, cs_xl.periods, "
            "cs_xl.pipeline, cs_xl.words; "
            "print([m for m in sys.modules if m.split('.')[0] in ('openpyxl', 'xlwings', 'python_calamine')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
