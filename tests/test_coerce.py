"""Cell coercion rules (cs_xl.coerce): every expected value is hand-worked.

The same parsers serve the loader and the metric functions, so each rule here
holds for a loaded sheet and for an Excel range passed to a UDF alike.
"""
from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from cs_xl import coerce
from cs_xl.coerce import Problem, coerce_values, flags, numbers, priorities
from cs_xl.words import reason


def value_of(parsed):
    return parsed[0]


def reason_of(parsed):
    return None if parsed[1] is None else parsed[1].reason


def action_of(parsed):
    return None if parsed[1] is None else parsed[1].action


# ---------------------------------------------------------------- durations in minutes

@pytest.mark.parametrize("raw, expected", [
    (5, 5.0),
    (5.5, 5.5),
    ("5", 5.0),              # number stored as text
    ("５", 5.0),             # full-width digit (NFKC)
    ("０５", 5.0),           # full-width with a leading zero (SPEC §6)
    ("5分钟", 5.0),
    ("5 分钟", 5.0),
    ("3 min", 3.0),
    ("3min", 3.0),
    ("1.5h", 90.0),          # 1.5 × 60
    ("2小时", 120.0),        # 2 × 60
    ("1h30m", 90.0),         # 60 + 30
    ("1小时30分", 90.0),     # 60 + 30
    ("90秒", 1.5),           # 90 / 60
    ("1天", 1440.0),         # 24 × 60
    ("1,234", 1234.0),       # thousands separator
    (dt.time(0, 5), 5.0),    # a cell formatted h:mm holding 0:05
    (dt.timedelta(minutes=7, seconds=30), 7.5),
])
def test_minutes_accepts_numbers_text_and_units(raw, expected):
    assert value_of(coerce.minutes(raw)) == pytest.approx(expected)


@pytest.mark.parametrize("raw, reason, action", [
    ("5", "number stored as text", "repaired"),
    ("5分钟", "text with unit '分钟' converted to minutes", "repaired"),
    ("1.5h", "text with unit 'h' converted to minutes", "repaired"),
    ("#N/A", "Excel error value", "dropped"),
    ("#DIV/0!", "Excel error value", "dropped"),
    ("-3", "negative value", "dropped"),
    (-3, "negative value", "dropped"),
    ("abc", "not a number", "dropped"),
    ("约5分钟", "not a number", "dropped"),
    ("5 furlongs", "unit not recognised", "dropped"),
    ("1,5", "not a number", "dropped"),  # decimal comma or typo: ambiguous, never 15
    (True, "TRUE/FALSE in a numeric column", "dropped"),
    (float("inf"), "not a finite number", "dropped"),
])
def test_minutes_reports_repairs_and_rejections(raw, reason, action):
    parsed = coerce.minutes(raw)
    assert (reason_of(parsed), action_of(parsed)) == (reason, action)
    if action == "dropped":
        assert value_of(parsed) is None  # never turned into 0


def test_text_number_is_marked_text_form_so_csv_can_ignore_it():
    assert coerce.minutes("5")[1].text_form is True
    assert coerce.minutes("5分钟")[1].text_form is False  # a unit is a real repair even in CSV


@pytest.mark.parametrize("raw", [None, "", "   ", "-", "--", "N/A", "null", float("nan"), pd.NA, pd.NaT])
def test_blanks_and_placeholders_are_blank_without_problem(raw):
    for parse in (coerce.minutes, coerce.number, coerce.flag, coerce.priority, coerce.moment):
        assert parse(raw) == (None, None), (parse.__name__, raw)


def test_seconds_convert_minutes_and_hours():
    assert value_of(coerce.seconds("2分")) == 120.0     # 2 × 60
    assert value_of(coerce.seconds("1.5min")) == 90.0   # 1.5 × 60
    assert value_of(coerce.seconds("45秒")) == 45.0
    assert value_of(coerce.seconds("1,200秒")) == 1200.0
    assert value_of(coerce.seconds(dt.time(0, 1, 30))) == 90.0


def test_plain_numbers_accept_rating_suffixes_only():
    assert value_of(coerce.number("4星")) == 4.0
    assert value_of(coerce.number("5分")) == 5.0   # 5分 as a score, not minutes
    assert reason_of(coerce.number("5分钟")) == "not a number"


def test_count_must_be_whole():
    assert value_of(coerce.count("3")) == 3.0
    assert value_of(coerce.count("3次")) == 3.0
    assert reason_of(coerce.count(2.5)) == "not a whole number"


# ---------------------------------------------------------------- flags

@pytest.mark.parametrize("raw, expected", [
    ("是", True), ("否", False), ("Y", True), ("n", False), ("Yes", True), ("NO", False),
    ("TRUE", True), (True, True), (False, False), (1, True), (0, False), ("1", True), ("0", False),
    ("√", True), ("×", False), ("满意", True), ("不满意", False), ("ｙｅｓ", True),
])
def test_flag_variants(raw, expected):
    assert coerce.flag(raw) == (expected, None)


@pytest.mark.parametrize("raw", ["未评价", "未知", "未填", "not rated"])
def test_not_rated_is_missing_and_not_reported(raw):
    assert coerce.flag(raw) == (None, None)


def test_flag_rejects_other_values():
    assert reason_of(coerce.flag("也许")) == "not a yes/no value"
    assert reason_of(coerce.flag(2)) == "not a yes/no value"
    assert reason_of(coerce.flag("#N/A")) == "Excel error value"


def test_flags_array_is_one_zero_nan():
    out = flags(["是", "否", "未评价", None, "Y"])
    assert out[:2].tolist() == [1.0, 0.0]
    assert math.isnan(out[2]) and math.isnan(out[3])
    assert out[4] == 1.0


# ---------------------------------------------------------------- priorities

@pytest.mark.parametrize("raw, expected", [
    ("一级", 1), ("L1", 1), ("P1", 1), ("p1", 1), ("紧急", 1), ("Ｌ１", 1), ("1级", 1), (1, 1), (1.0, 1),
    ("1 - Critical", 1), ("一级(紧急)", 1), ("一级（紧急）", 1),
    ("二级", 2), ("L2", 2), ("P2", 2), ("High", 2),
    ("三级", 3), ("普通", 3), ("3", 3),
    ("四级", 4), ("L4", 4), ("低", 4), (4, 4),
])
def test_priority_variants(raw, expected):
    assert coerce.priority(raw) == (expected, None)


@pytest.mark.parametrize("raw", ["五级", "P9", 5, 0, "whenever"])
def test_unknown_priority_is_dropped(raw):
    parsed = coerce.priority(raw)
    assert parsed == (None, Problem(reason("unknown_priority"), "dropped"))


def test_priorities_array():
    out = priorities(["一级", "L2", "P3", "四级", "?"])
    assert out[:4].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert math.isnan(out[4])


# ---------------------------------------------------------------- dates

@pytest.mark.parametrize("raw, expected", [
    ("2024-03-01", pd.Timestamp(2024, 3, 1)),
    ("2024/3/1", pd.Timestamp(2024, 3, 1)),
    ("2024.3.1", pd.Timestamp(2024, 3, 1)),
    ("2024年3月1日", pd.Timestamp(2024, 3, 1)),
    ("２０２４年３月１日", pd.Timestamp(2024, 3, 1)),
    ("20240301", pd.Timestamp(2024, 3, 1)),
    ("29/2/2024", pd.Timestamp(2024, 2, 29)),
    ("2024-03-01 14:05", pd.Timestamp(2024, 3, 1, 14, 5)),
    ("2024-03-01T14:05:30", pd.Timestamp(2024, 3, 1, 14, 5, 30)),
    ("2024年3月1日 14时05分", pd.Timestamp(2024, 3, 1, 14, 5)),
    ("2024年3月1日 14时05分30秒", pd.Timestamp(2024, 3, 1, 14, 5, 30)),
    ("2024-03-01 14:05:00+08:00", pd.Timestamp(2024, 3, 1, 14, 5)),  # wall-clock kept
    (dt.datetime(2024, 3, 1, 9, 30), pd.Timestamp(2024, 3, 1, 9, 30)),
    (dt.date(2024, 3, 1), pd.Timestamp(2024, 3, 1)),
    (np.datetime64("2024-03-01T09:30"), pd.Timestamp(2024, 3, 1, 9, 30)),
])
def test_moment_from_text_and_date_objects(raw, expected):
    assert value_of(coerce.moment(raw)) == expected


def test_excel_serial_numbers_are_dates():
    # 1899-12-30 + 45352 days: 2024-01-01 is serial 45292, + 31 (Jan) + 29 (Feb 2024) = 45352
    ts, problem = coerce.moment(45352)
    assert ts == pd.Timestamp(2024, 3, 1)
    assert problem == Problem(reason("date_serial"), "repaired")
    # fraction of a day is the time: 0.5 → 12:00
    assert value_of(coerce.moment(45352.5)) == pd.Timestamp(2024, 3, 1, 12, 0)
    # day() drops the time
    assert value_of(coerce.day(45352.75)) == pd.Timestamp(2024, 3, 1)


def test_date_text_is_repaired_text_form():
    problem = coerce.moment("2024/3/1")[1]
    assert problem == Problem(reason("date_text"), "repaired", True)


@pytest.mark.parametrize("raw, reason", [
    ("2024-02-30", "not a date"),     # no such day
    ("next Tuesday", "not a date"),
    ("#N/A", "Excel error value"),
    ("20244-01-01", "not a date"),
    ("2500-01-01", "date outside 1900-2261"),
    (2958000, "date outside 1900-2261"),  # serial of year 9998: beyond datetime64[ns]
    (-5, "not a date"),
])
def test_bad_dates_are_dropped(raw, reason):
    parsed = coerce.moment(raw)
    assert value_of(parsed) is None
    assert (reason_of(parsed), action_of(parsed)) == (reason, "dropped")


def test_out_of_range_dates_do_not_break_the_column():
    series, problems = coerce_values(["2500-01-01", "2024-01-02"], "date")
    assert str(series.dtype) == "datetime64[ns]"
    assert pd.isna(series[0]) and series[1] == pd.Timestamp(2024, 1, 2)
    assert [p[0] for p in problems] == [0, 1]


# ---------------------------------------------------------------- text

def test_text_keeps_labels_and_turns_whole_floats_into_ids():
    assert coerce.text(" 物流咨询 ") == ("物流咨询", None)
    assert coerce.text(123.0) == ("123", None)  # an id typed as a number
    assert coerce.text(12.5) == ("12.5", None)
    assert reason_of(coerce.text("#REF!")) == "Excel error value"
    for placeholder in ("-", "N/A", "?", " null ", "－", "Ｎ／Ａ", "？"):
        assert coerce.text(placeholder) == (None, None)


# ---------------------------------------------------------------- whole columns

def test_coerce_values_reports_positions_and_originals():
    series, problems = coerce_values([3, "5分钟", None, "#N/A", "abc", "５"], "minutes")
    expected = [3.0, 5.0, np.nan, np.nan, np.nan, 5.0]
    np.testing.assert_array_equal(series.to_numpy(), np.array(expected))
    assert [(pos, raw, p.action) for pos, raw, p in problems] == [
        (1, "5分钟", "repaired"), (3, "#N/A", "dropped"), (4, "abc", "dropped"), (5, "５", "repaired"),
    ]


def test_bool_and_one_do_not_share_a_cache_entry():
    # True == 1.0 and hash(True) == hash(1.0): a per-value cache must still tell them apart
    series, problems = coerce_values([True, 1.0], "number")
    assert math.isnan(series[0]) and series[1] == 1.0
    assert [p[0] for p in problems] == [0]
    series, problems = coerce_values([1.0, True], "number")
    assert series[0] == 1.0 and math.isnan(series[1])
    assert [p[0] for p in problems] == [1]


def test_numeric_fast_path_reports_each_bad_cell_once():
    series, problems = coerce_values(np.array([-np.inf, -2.0, 1.0, np.inf, np.nan]), "minutes")
    assert [(p[0], p[2].reason) for p in problems] == [
        (0, "not a finite number"), (1, "negative value"), (3, "not a finite number"),
    ]
    assert series[2] == 1.0 and series.isna().sum() == 4


def test_numeric_fast_path_count_rejects_fractions():
    series, problems = coerce_values(pd.Series([1, 2.5, 3]), "count")
    assert [(p[0], p[2].reason) for p in problems] == [(1, "not a whole number")]


def test_coerce_values_typed_dtypes():
    assert str(coerce_values(["是"], "flag")[0].dtype) == "boolean"
    assert str(coerce_values(["一级"], "priority")[0].dtype) == "Int64"
    assert str(coerce_values(["2024-01-01"], "datetime")[0].dtype) == "datetime64[ns]"
    assert coerce_values(["x"], "text")[0].dtype == object
    assert coerce_values(["1"], "minutes")[0].dtype == float


def test_nullable_inputs_are_read_like_blanks():
    out = numbers(pd.Series(["5", pd.NA, "7"], dtype="string"), "minutes")
    assert out[0] == 5.0 and math.isnan(out[1]) and out[2] == 7.0
    assert math.isnan(flags(pd.array([1, None], dtype="Int64"))[1])


def test_numbers_helper_returns_floats_with_nan():
    out = numbers(["3", "x", 4, None], "minutes")
    assert out.dtype == float
    assert out[0] == 3.0 and out[2] == 4.0
    assert math.isnan(out[1]) and math.isnan(out[3])


# ---------------------------------------------------------------- whole column = cell by cell

_CELLS = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 12), st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.sampled_from(["", " ", "-", "5", "５", "5分钟", "1.5h", "#N/A", "是", "否", "未评价", "一级", "L2", "P9",
                     "2024/3/1", "2024-02-30", "abc", "T1", "1,234", "1,5", "３ min", "N/A"]),
    st.dates(dt.date(1890, 1, 1), dt.date(2300, 1, 1)),
    st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2100, 1, 1)),
)


@settings(max_examples=150, deadline=None)
@given(cells=st.lists(_CELLS, max_size=30), kind=st.sampled_from(sorted(coerce.PARSERS)))
def test_coerce_values_agrees_with_the_scalar_parser_cell_by_cell(cells, kind):
    """The column path (factorised, cached) must give what the scalar parser gives for each cell."""
    series, problems = coerce_values(cells, kind)
    parser = coerce.PARSERS[kind]
    expected = [parser(cell) for cell in cells]
    assert len(series) == len(cells)
    for pos, (value, _) in enumerate(expected):
        got = series.iloc[pos]
        if value is None:
            assert pd.isna(got), (pos, cells[pos], got)
        else:
            assert got == value, (pos, cells[pos], got, value)
    assert [(pos, problem) for pos, _, problem in problems] == \
        [(pos, problem) for pos, (_, problem) in enumerate(expected) if problem is not None]
    assert all(raw is cells[pos] or raw == cells[pos] or (raw != raw) for pos, raw, _ in problems)


_MANY_CELLS = st.one_of(
    _CELLS, st.sampled_from([0, 1, 0.0, -0.0, 1.0, -0.5, True, False, np.True_, np.float64(2.5), np.int64(1),
                             "合计", " 合计 ", "T-001", " T-001", "＃N/A", "#DIV/0!", "  ", "null", "Ｎ／Ａ"]),
    st.datetimes(dt.datetime(1850, 1, 1), dt.datetime(2300, 1, 1), timezones=st.just(dt.timezone.utc)),
    st.builds(pd.Timestamp, st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2100, 1, 1))),
)


@settings(max_examples=120, deadline=None)
@given(cells=st.lists(_MANY_CELLS, min_size=1, max_size=300), kind=st.sampled_from(sorted(coerce.PARSERS)))
def test_coerce_cells_equals_the_parser_on_long_mixed_columns(cells, kind):
    """The column path (factorised, grouped by class, vectorised for numbers and
    dates) against the scalar parser applied to each cell of an object array:
    values, problems with their original cells, blanks and exact-text lookups."""
    array = np.empty(len(cells), dtype=object)
    for i, cell in enumerate(cells):
        array[i] = cell
    coerced = coerce.coerce_cells(array, kind)
    expected = [coerce.PARSERS[kind](cell) for cell in cells]
    for pos, (value, _) in enumerate(expected):
        got = coerced.typed.iloc[pos]
        assert (pd.isna(got) if value is None else got == value), (pos, cells[pos], got, value)
        if isinstance(value, float):  # -0.0 == 0.0: the sign must survive too
            assert math.copysign(1.0, got) == math.copysign(1.0, value), (pos, cells[pos], got)
        assert bool(coerced.missing[pos]) == (value is None)
    assert [(pos, problem) for pos, _, problem in coerced.problems] == \
        [(pos, problem) for pos, (_, problem) in enumerate(expected) if problem is not None]
    assert all(raw is cells[pos] for pos, raw, _ in coerced.problems)
    labels = frozenset({"合计", "T-001"})
    assert coerced.cells_in(labels).tolist() == [isinstance(c, str) and c in labels for c in cells]


# ---------------------------------------------------------------- column fast paths = the parser

def _column(cells) -> np.ndarray:
    array = np.empty(len(cells), dtype=object)  # filled cell by cell: a tuple stays one cell
    for i, cell in enumerate(cells):
        array[i] = cell
    return array


def assert_column_is_the_parser(cells, kind):
    """coerce_cells over ``cells`` = coerce.PARSERS[kind] applied to each cell: values (with their
    class and the sign of zero), problems with the original cells, blanks, exact-text lookups."""
    coerced = coerce.coerce_cells(_column(cells), kind)
    expected = [coerce.PARSERS[kind](cell) for cell in cells]
    assert len(coerced.typed) == len(cells)
    for pos, (value, _) in enumerate(expected):
        got = coerced.typed.iloc[pos]
        if value is None:
            assert pd.isna(got), (pos, cells[pos], got)
            continue
        assert got == value, (pos, cells[pos], got, value)
        if isinstance(value, str):
            assert type(got) is str, (pos, cells[pos], type(got))
        if isinstance(value, float):
            assert math.copysign(1.0, got) == math.copysign(1.0, value), (pos, cells[pos], got)
    assert [(pos, problem) for pos, _, problem in coerced.problems] == \
        [(pos, problem) for pos, (_, problem) in enumerate(expected) if problem is not None]
    assert all(raw is cells[pos] for pos, raw, _ in coerced.problems)
    assert coerced.missing.tolist() == [value is None for value, _ in expected]
    labels = frozenset({"合计", "Total", "T-001"})
    assert coerced.cells_in(labels).tolist() == [isinstance(c, str) and c in labels for c in cells]


# every kind of space str.strip removes (and U+200B, which it keeps), at either end
_SPACES = [" ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1f", "\x85", "\xa0", "\u1680", "\u2003", "\u2028",
           "\u202f", "\u205f", "\u3000"]
_TRICKY_TEXT = [
    "", " ", "  ", "\u3000", "\xa0", "\u200b", "T-001", " T-001", "T-001\u3000", "\xa0T-001\xa0", "T-001\u200b",
    "-", " - ", "--", "—", "－", "N/A", "n/a", "Ｎ／Ａ", " null ", "NONE", "NaN", "?", "？", " ？ ", "na", "NA ",
    "#N/A", " #N/A ", "＃N/A", "#DIV/0!", "#div/0!", "#REF!\u3000", "#N/A N/A", "#hashtag label", "＃1 组", "A#1",
    "123", "１２３", "123.0", "0", "-0.0", "1,234", "合计", " 合计 ", "Total", "总计：", "张三", "ß", "ẞ", "ﬁ",
    "long label with spaces inside", "\u3000全角空格\u3000", "x" * 300,
]


def test_text_columns_of_strings_are_the_parser_cell_by_cell():
    """A column of strings only (the usual text column) is stripped in one pass and only its short
    or '#'-led strings take the parser: every whitespace, placeholder and error text as the parser."""
    assert coerce._group_converter(str, "text") is coerce._text_cells  # the path under test
    padded = [space + word + space for space in _SPACES for word in ("T-9", "N/A", "#N/A", "－", "长一点的标签")]
    assert_column_is_the_parser(_TRICKY_TEXT, "text")
    assert_column_is_the_parser(padded, "text")
    assert_column_is_the_parser(_TRICKY_TEXT * 3 + padded, "text")  # repeated cells: one distinct value each
    assert_column_is_the_parser([f"T{i:06d}" for i in range(2000)] + ["#N/A", " T000001"], "text")
    assert_column_is_the_parser([np.str_(" T-002 "), np.str_("N/A"), "T-002", np.str_("#N/A")], "text")


def test_text_columns_of_mixed_cells_are_the_parser_cell_by_cell():
    """Strings among numbers, bools, dates and blanks: the strings take the stripped path, the rest
    their parser (123.0 → '123', True → 'True' …)."""
    others = [None, float("nan"), 123.0, 1.5, -0.0, 0, 1, True, False, np.True_, np.float64(7.0), pd.NA, pd.NaT,
              dt.date(2024, 3, 1), dt.datetime(2024, 3, 1, 8, 30), np.str_(" S-1 "), ("a", "b")]
    assert_column_is_the_parser(_TRICKY_TEXT + others, "text")
    assert_column_is_the_parser(others + _TRICKY_TEXT[::-1], "text")


@pytest.mark.parametrize("kind, cells", [
    ("minutes", [1.5, 0, -0.0, 3, -2, 7.25, 10 ** 6, 2.0, float("nan"), float("inf"), -float("inf"), 1e308]),
    ("count", [1.0, 2, 2.5, -1, 0, -0.0, float("nan"), 3.0]),
    ("seconds", [float(i) for i in range(50)]),
    ("number", [5.0, 1, 0.0, -0.0, 11, float("nan")]),
    ("datetime", [dt.datetime(2024, 3, 1, 8, 30, 15, 999999), dt.datetime(1850, 1, 1), dt.datetime(1900, 1, 1),
                  dt.datetime(2261, 12, 31, 23, 59, 59), dt.datetime(2262, 1, 1), dt.datetime(9999, 12, 31),
                  dt.datetime(1, 1, 1)]),
    ("date", [dt.datetime(2024, 3, 1, 23, 59, 59), dt.datetime(1899, 12, 31, 23, 0), dt.datetime(1900, 1, 1, 0, 0, 1)]),
    ("date", [dt.date(2024, 2, 29), dt.date(1, 1, 1), dt.date(1899, 12, 31), dt.date(1900, 1, 1),
              dt.date(2261, 12, 31), dt.date(2262, 1, 1), dt.date(9999, 12, 31), dt.date(1970, 1, 1)]),
    ("datetime", [dt.date(2024, 2, 29), dt.date(1677, 9, 21), dt.date(2262, 4, 12), dt.date(1969, 12, 31)]),
    ("datetime", [45352.5, 45352, 1.0, 0.5, 2958465.99999, 2958466, float("nan"), -3.0, 60.0]),
    ("date", [45352.75, 45353, 3000000.0]),
    ("minutes", []), ("date", []),
])
def test_columns_of_one_class_are_the_parser_cell_by_cell(kind, cells):
    """A column whose cells are all of one class Excel types (floats and ints, datetimes, dates,
    serial numbers) is converted whole, without looking for the class of each cell."""
    if cells:
        assert coerce._typed_cells(_column(cells), kind)[1] is None  # the path under test: no positions
    assert_column_is_the_parser(cells, kind)
    assert_column_is_the_parser(cells * 3 + ["", None, "合计"], kind)  # with a few others: by class


@pytest.mark.parametrize("cells, told_apart", [
    (["T1", "T2", "T1", "N/A", "", "#N/A", "T3"], True),      # each string reads as itself or as blank
    (["T1", " T1", "T2"], False),                            # ' T1' reads as T1: codes would tell them apart
    (["101", 101.0, "T2"], False),                           # 101.0 reads as '101'
    ([None, "T1", float("nan"), "T1"], True),
])
def test_value_codes_tell_values_apart_only_when_cells_read_as_themselves(cells, told_apart):
    coerced = coerce.coerce_cells(_column(cells), "text")
    assert (coerced.value_codes is not None) == told_apart
    if told_apart:
        values = [coerce.text(cell)[0] for cell in cells]
        for i, j in ((i, j) for i in range(len(cells)) for j in range(len(cells))):
            if values[i] is not None and values[j] is not None:
                assert (coerced.value_codes[i] == coerced.value_codes[j]) == (values[i] == values[j]), (i, j)
