"""values.py: one normalising rule, one number text per format, one display width — and the terminal
and the alert sentences really share them."""
from __future__ import annotations

import datetime as dt
import doctest
import math

import numpy as np
import pandas as pd
import pytest

from cs_xl import catalogue, cli, values
from cs_xl.report import TextBlock, build_report
from cs_xl.settings import Settings
from cs_xl.values import display_width, json_number, number_text, plain
from test_report import dataset


def test_doctests():
    assert doctest.testmod(values).failed == 0


@pytest.mark.parametrize("undefined", [None, math.nan, np.nan, np.float64("nan"), pd.NaT, pd.NA, math.inf, -math.inf])
def test_every_undefined_is_none(undefined):
    assert plain(undefined) is None


def test_plain_unwraps_numpy_and_keeps_everything_else():
    assert type(plain(np.int64(3))) is int and type(plain(np.float64(2.5))) is float
    assert plain(np.bool_(True)) is True
    assert plain(0) == 0 and plain(0.0) == 0.0  # a real zero stays zero
    stamp = pd.Timestamp("2024-03-01 09:30")
    assert plain(stamp) is stamp and values.python_datetime(stamp) == dt.datetime(2024, 3, 1, 9, 30)
    assert plain("=1+1") == "=1+1" and plain([1, 2]) == [1, 2]


def test_json_numbers():
    assert [json_number(v) for v in (np.float64(12.0), 2.5, math.nan, np.int64(7), "x")] == [12, 2.5, None, 7, "x"]
    assert type(json_number(2.0**60)) is float  # beyond 2**53 a float is not a safe integer


@pytest.mark.parametrize("value, fmt, text", [
    (0.68137, "pct", "68.1%"), (1, "pct", "100.0%"),
    (3.046, "min", "3.05"), (3.0, "min", "3.00"),
    (31.46, "sec", "31.5"), (33.75, "sec", "33.8"),
    (8362, "count", "8,362"), (8362.4, "count", "8,362"),
    (3.974, "score", "3.97"), (4.556, "nps", "4.56"),
    (None, "pct", "—"), (math.nan, "min", "—"), (np.float64(0.5), "pct", "50.0%"),
    (7, "int", "7"),
])
def test_number_text_one_rule_per_format(value, fmt, text):
    assert number_text(value, fmt) == text


def test_display_width_counts_wide_characters_twice():
    assert display_width("") == 0
    assert display_width("abc") == 3
    assert display_width("客服组") == 6
    assert display_width("ＡＢ") == 4        # full-width Latin
    assert display_width("ｱ") == 1          # half-width katakana


def test_terminal_and_alert_print_a_minutes_value_alike():
    # frt of the test data set: 2, 4, 3, 1, 6, 2.5 (one blank) → mean 18.5 / 6 = 3.0833… → "3.08" everywhere
    targets = dict(Settings().targets, frt_avg=(1.0, "<="))
    rep = build_report(dataset(), Settings(targets=targets), today=dt.date(2024, 4, 30))
    alerts = [line for sheet in rep.sheets for b in sheet.blocks if isinstance(b, TextBlock) and b.style == "alert"
              for line in b.lines]
    assert any("3.08" in line and "1.00" in line for line in alerts), alerts
    table = cli.kpi_table({"frt_avg": 18.5 / 6}, catalogue.METRICS)
    assert table.splitlines()[-1].endswith(" 3.08")
