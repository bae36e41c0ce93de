"""The clock (issue 11 #2): calendar vs business minutes, China's holidays and
调休 make-up days, timezone conversion.  Expected values are worked by hand."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from cs_xl.clock import Clock, is_working_day, parse_moments

BUSINESS = Clock(mode="business")  # 09:00–18:00 Asia/Shanghai by default
D = dt.datetime


def test_friday_evening_to_monday_morning_is_one_business_hour():
    # Fri 2024-03-01 17:30 → 18:00 = 30 min; weekend off; Mon 09:00 → 09:30 = 30 min
    assert BUSINESS.minutes(D(2024, 3, 1, 17, 30), D(2024, 3, 4, 9, 30)) == 60
    assert Clock().minutes(D(2024, 3, 1, 17, 30), D(2024, 3, 4, 9, 30)) == 60 * 64


def test_national_day_holiday_and_its_make_up_saturday():
    """国庆 2024: 10-01…10-07 off; Sunday 09-29 and Saturday 10-12 are 调休 working days.
    Opened Mon 09-30 17:00 → answered Sat 10-12 10:00:
    09-30 17:00–18:00 = 60; 10-01…10-07 off; Tue 10-08 … Fri 10-11 = 4 × 540;
    Sat 10-12 (make-up day) 09:00–10:00 = 60 → 60 + 2160 + 60 = 2280."""
    assert is_working_day(dt.date(2024, 10, 12)) and not is_working_day(dt.date(2024, 10, 1))
    assert is_working_day(dt.date(2024, 9, 29))
    assert BUSINESS.minutes(D(2024, 9, 30, 17, 0), D(2024, 10, 12, 10, 0)) == 2280


def test_outside_business_hours_counts_nothing():
    # Saturday 2024-03-02 all day, and a weekday night 20:00 → 08:00
    assert BUSINESS.minutes(D(2024, 3, 2, 9), D(2024, 3, 2, 17)) == 0
    assert BUSINESS.minutes(D(2024, 3, 5, 20), D(2024, 3, 6, 8)) == 0


def test_custom_hours_and_missing_ends():
    clock = Clock(mode="business", opens=dt.time(8, 30), closes=dt.time(12, 0))
    assert clock.minutes(D(2024, 3, 5, 8, 0), D(2024, 3, 5, 13, 0)) == 210
    assert pd.isna(clock.minutes(None, D(2024, 3, 5, 9)))


def test_years_outside_the_holiday_table_use_monday_to_friday():
    # 1999 is not in chinese-calendar: Fri 1999-02-05 17:00 → Mon 02-08 10:00 = 60 + 60
    assert BUSINESS.minutes(D(1999, 2, 5, 17), D(1999, 2, 8, 10)) == 120


def test_between_is_vectorised_and_agrees_with_minutes():
    start = pd.Series([D(2024, 3, 1, 17, 30), pd.NaT])
    end = pd.Series([D(2024, 3, 4, 9, 30), D(2024, 3, 4, 9, 30)])
    got = BUSINESS.between(start, end)
    assert got.iloc[0] == 60 and pd.isna(got.iloc[1])


def test_offsets_are_converted_and_naive_times_kept():
    text = pd.Series(["2024-03-01T08:00:00+01:00", "2024-03-01 08:00:00", "2024-03-01T00:00:00Z", ""])
    got = parse_moments(text, "Asia/Shanghai")
    # 08:00 at +01:00 = 07:00 UTC = 15:00 in Shanghai; naive stays; Z = UTC → 08:00
    assert list(got[:3]) == [pd.Timestamp(2024, 3, 1, 15), pd.Timestamp(2024, 3, 1, 8), pd.Timestamp(2024, 3, 1, 8)]
    assert pd.isna(got.iloc[3])
    # a +00:00 label that is not a real zone: the wall clock is kept
    assert parse_moments(text[:1], "Asia/Shanghai", ignore_offset=True).iloc[0] == pd.Timestamp(2024, 3, 1, 8)


def test_bad_clock_settings_are_refused():
    with pytest.raises(ValueError):
        Clock(mode="weekly")
    with pytest.raises(ValueError):
        Clock(mode="business", opens=dt.time(18), closes=dt.time(9))


def test_the_rule_is_described_in_words():
    assert "调休" in BUSINESS.describe("zh") and "09:00–18:00" in BUSINESS.describe("en")


def test_the_books_clock_rows_measure_minutes_from_timestamps(tmp_path):
    """参数 计时方式 = 工作时间: blank minute cells are filled in business minutes."""
    from cs_xl.pipeline import read_path
    from cs_xl.settings import Settings
    from cs_xl.template import build_template, fill_inputs
    wb = build_template("zh", Settings(clock_mode="business"))
    fill_inputs(wb, {"tickets": pd.DataFrame({
        "date": [D(2024, 3, 1)], "agent_id": ["a1"], "created_at": [D(2024, 3, 1, 17, 30)],
        "first_response_at": [D(2024, 3, 4, 9, 30)], "resolved_at": [D(2024, 3, 4, 10, 0)]})})
    wb.save(tmp_path / "b.xlsx")
    ds, settings = read_path(tmp_path / "b.xlsx")
    assert settings.clock_mode == "business"
    assert list(ds.tickets["frt_min"]) == [60] and list(ds.tickets["resolve_min"]) == [30]
