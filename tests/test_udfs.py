"""The CS_* worksheet functions, called the way each xlwings path calls them.

* classic add-in: plain calls with 2-D lists (None for blanks, floats,
  datetimes, error codes as text), incl. a whole 1,048,576-row column, and
  ``xw.Range``-like objects that must be trimmed before they are read;
* xlwings Server / Lite: ``xlwings.server.custom_functions_call`` with an
  Office.js payload (2-D JSON, "" blanks, dates as serials, error objects),
  metadata from ``custom_functions_meta``.

Expected numbers come from the metric functions called directly on the clean
data rows (the binding must not change them), from plain pandas (COUNTIFS
criteria, groupby) and from hand-worked cases.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import importlib.util
import math
import os
import re
from pathlib import Path

# xlwings Server code (PolyForm Noncommercial) runs with this key; it must be set
# before xlwings is first imported, as the server path registers its engine then
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cs_xl import catalogue, criteria, excel_functions as ef, metrics
from cs_xl.udf_args import UdfError

ROOT = Path(__file__).resolve().parents[1]
WHOLE = 1_048_576
EPOCH = dt.datetime(1899, 12, 30)


# ------------------------------------------------------------------ the two xlwings modules

def _load_udfs(name: str, on_server: bool, monkeypatch):
    if on_server:
        monkeypatch.setenv("XLWINGS_ON_SERVER", "true")
        monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
    else:
        monkeypatch.delenv("XLWINGS_ON_SERVER", raising=False)
    spec = importlib.util.spec_from_file_location(name, ROOT / "udfs" / "cs_udfs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def classic():
    with pytest.MonkeyPatch.context() as mp:
        return _load_udfs("cs_udfs_classic", False, mp)


@pytest.fixture(scope="module")
def server():
    import xlwings
    if not xlwings.__pro__:
        pytest.skip("xlwings was imported before XLWINGS_LICENSE_KEY was set (run this file on its own)")
    with pytest.MonkeyPatch.context() as mp:
        return _load_udfs("cs_udfs_server", True, mp)


def call_server(module, name: str, *args):
    """One Office.js custom-function call, as xlwings Server receives it."""
    import xlwings
    from xlwings.server import custom_functions_call
    data = {"func_name": name, "args": list(args), "version": xlwings.__version__, "client": "Office.js",
            "runtime": "1.4", "culture_info_name": "zh-CN", "date_format": "yyyy/m/d",
            "caller_address": "[cs.xlsx]实时看板!B5"}
    return asyncio.run(custom_functions_call(data, module))


def officejs(cells: list) -> list[list]:
    """A column as Office.js sends a range argument: "" blanks, serials, error objects."""
    def one(v):
        if v is None:
            return ""
        if isinstance(v, str) and v.startswith("#") and v.upper() in criteria.ERROR_CODES:
            return {"type": "Error", "basicType": "Error", "basicValue": v, "errorType": "NotAvailable"}
        if isinstance(v, dt.datetime):
            return (v - EPOCH).total_seconds() / 86400
        if isinstance(v, dt.date):
            return float((dt.datetime(v.year, v.month, v.day) - EPOCH).days)
        return v
    return [[one(v)] for v in cells]


# ------------------------------------------------------------------ demo-like data

def _demo_tables():
    from cs_xl.sample import generate
    frames = generate(seed=3, months=1)
    out = {}
    for table, frame in frames.items():
        out[table] = frame.astype(object).where(frame.notna(), None)
    # dirty cells as the add-in hands them over
    t = out["tickets"]
    t.loc[0, "frt_min"], t.loc[1, "frt_min"], t.loc[2, "frt_min"] = "5分钟", "#N/A", "０５"
    return out


TABLES = _demo_tables()
# metric parameter → (table, schema column)
SOURCES = {
    "frt": ("tickets", "frt_min"), "values": ("tickets", "frt_min"), "resolve": ("tickets", "resolve_min"),
    "priority": ("tickets", "priority"), "status": ("tickets", "status"),
    "flag": ("tickets", "first_contact_resolved"), "contacts": ("tickets", "contacts"),
    "transferred": ("tickets", "transferred"), "reopened": ("tickets", "reopened"),
    "ticket_id": ("tickets", "ticket_id"), "rating": ("feedback", "rating"), "yes_no": ("feedback", "satisfied"),
    "score": ("feedback", "nps"), "complaint": ("feedback", "complaint"), "customer": ("feedback", "customer_id"),
    "date": ("feedback", "date"), "repeat_7d": ("feedback", "repeat_7d"), "answered": ("calls", "answered"),
    "wait_s": ("calls", "wait_s"), "ivr_selfserved": ("calls", "ivr_selfserved"), "talk": ("calls", "talk_s"),
    "hold": ("calls", "hold_s"), "wrap": ("calls", "wrap_s"), "start": ("calls", "start"),
}
SCALARS = {"CS_AGENTS_NEEDED": (100, 180), "CS_PCTL": None, "CS_SURVEY_RATE": None}


def _columns_of(fn: ef.ExcelFunction) -> dict[str, list]:
    """The data columns a function takes, each a list of cells (no header)."""
    out = {}
    for p in fn.params:
        if p.role == "column" and p.name in SOURCES:
            table, key = SOURCES[p.name]
            if key in TABLES[table].columns:
                out[p.name] = TABLES[table][key].tolist()
    return out


def _scalars_of(fn: ef.ExcelFunction) -> dict:
    return {"p": 0.9, "volume": 1000, "calls_per_hour": 100, "aht_s": 180}


def _reference(fn: ef.ExcelFunction, cols: dict[str, list], scalars: dict) -> float:
    """The registry function on the rows not blank in every given column (plain pandas)."""
    frame = pd.DataFrame(cols).replace({"": None})
    frame = frame[frame.notna().any(axis=1)]
    kwargs = {name: frame[name].tolist() for name in cols}
    kwargs.update({k: v for k, v in scalars.items() if k in [p.name for p in fn.params]})
    return fn.func(**kwargs, **fn.fixed)


def _positional(fn: ef.ExcelFunction, cols: dict, scalars: dict, as_range) -> list:
    args = []
    for p in fn.params:
        if p.name in cols:
            args.append(as_range(cols[p.name]))
        elif p.name in scalars:
            args.append(scalars[p.name])
        else:
            args.append(None)
    while args and args[-1] is None:
        args.pop()
    return args


CALLABLE = sorted(n for n, f in ef.FUNCTIONS.items() if _columns_of(f) or not any(p.role == "column" for p in f.params))


def _same(got, expected):
    if isinstance(expected, float) and math.isnan(expected):
        return got == "#N/A" or got == [[{"type": "Error", "errorType": "NotAvailable"}]]
    value = got[0][0] if isinstance(got, list) else got
    return value == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("name", CALLABLE)
def test_classic_call_gives_the_registry_number(classic, name):
    fn = ef.FUNCTIONS[name]
    cols, scalars = _columns_of(fn), _scalars_of(fn)
    expected = _reference(fn, cols, scalars)
    got = getattr(classic, name)(*_positional(fn, cols, scalars, lambda c: [[v] for v in c]))
    assert _same(got, expected), (name, got, expected)


@pytest.mark.parametrize("name", CALLABLE)
def test_server_call_gives_the_registry_number(server, name):
    fn = ef.FUNCTIONS[name]
    cols, scalars = _columns_of(fn), _scalars_of(fn)
    expected = _reference(fn, cols, scalars)
    args = _positional(fn, cols, scalars, officejs)
    args = [a if isinstance(a, list) else [[a]] if a is not None else None for a in args]
    got = call_server(server, name, *args)
    assert _same(got, expected), (name, got, expected)


def _whole_column(cells: list, header: str) -> list[list]:
    """A sheet column F:F: title row blank, header, data, then the unused tail."""
    return [[None], [header]] + [[v] for v in cells] + [[None]] * (WHOLE - 2 - len(cells))


def test_whole_column_classic_equals_the_used_rows(classic):
    frt = TABLES["tickets"]["frt_min"].tolist()
    issue = TABLES["tickets"]["issue_type"].tolist()
    got = classic.CS_FRT_RATE(_whole_column(frt, "首次响应时间(分钟)"), 3, None, None,
                              _whole_column(issue, "问题类型"), "物流咨询")
    rows = [f for f, i in zip(frt, issue) if i == "物流咨询"]
    assert got == pytest.approx(metrics.frt_rate(rows, 3))


def test_whole_column_server_equals_the_used_rows(server):
    frt = TABLES["tickets"]["frt_min"].tolist()
    column = officejs([None, "首次响应时间(分钟)", *frt]) + [[""]] * (WHOLE - 2 - len(frt))
    got = call_server(server, "CS_FRT_RATE", column, [[3]])
    assert got == [[pytest.approx(metrics.frt_rate(frt, 3))]]


def test_whole_column_server_is_not_converted_cell_by_cell(server, monkeypatch):
    """The workaround: range arguments are raw, so xlwings' per-cell is_jsnull never runs on them."""
    import xlwings.utils
    calls = []
    real = xlwings.utils.is_jsnull
    monkeypatch.setattr(xlwings.utils, "is_jsnull", lambda v: calls.append(1) or real(v))
    column = [[1.0], [5.0]] + [[""]] * (WHOLE - 2)
    assert call_server(server, "CS_FRT_RATE", column, [[3]]) == [[0.5]]
    assert len(calls) < 100


def test_dates_classic_and_serials_server_select_the_same_rows(classic, server):
    f = TABLES["feedback"]
    dates, ratings = f["date"].tolist(), f["rating"].tolist()
    cutoff = sorted(d for d in dates if d is not None)[len(dates) // 2]
    classic_value = classic.CS_CSAT([[r] for r in ratings], [[d] for d in dates], f">={cutoff:%Y-%m-%d}")
    server_value = call_server(server, "CS_CSAT", officejs(ratings), officejs(dates), [[f">={cutoff:%Y/%m/%d}"]])
    kept = [r for r, d in zip(ratings, dates) if d is not None and pd.Timestamp(d) >= pd.Timestamp(cutoff)]
    assert classic_value == pytest.approx(metrics.csat_rate(kept))
    assert server_value == [[pytest.approx(classic_value)]]


# ------------------------------------------------------------------ classic Range objects

class FakeSheet:
    def __init__(self, last_row):
        self.used_range = type("Used", (), {"last_cell": type("Cell", (), {"row": last_row})()})()


class FakeRange:
    """What the classic add-in passes with the "range" converter: cells are read only by .value."""

    def __init__(self, values, row=1, sheet_rows=None, rows=WHOLE):
        self.values, self.row, self.rows_read = values, row, 0
        self.shape = (rows, 1)
        self.sheet = FakeSheet(sheet_rows or len(values))
        self.last_cell = type("Cell", (), {"row": row + rows - 1})()
        self._size = rows

    def resize(self, rows, cols):
        sub = FakeRange(self.values, self.row, rows=rows)
        sub.parent = self
        return sub

    def options(self, **_kw):
        return self

    @property
    def value(self):
        self.parent.rows_read = self._size
        return [[v] for v in (self.values + [None] * self._size)[:self._size]]


def test_classic_range_is_trimmed_before_it_is_read(classic):
    frt = [None, "首次响应时间(分钟)", 1.0, 2.0, 10.0, "5分钟"]
    rng = FakeRange(frt)
    assert classic.CS_FRT_RATE(rng, 3) == pytest.approx(2 / 4)
    assert rng.rows_read == len(frt)


# ------------------------------------------------------------------ errors

def test_bad_arguments_are_value_errors_with_a_message(classic, server):
    with pytest.raises(UdfError, match=r"#VALUE!.*threshold.*'abc'"):
        classic.CS_FRT_RATE([[1.0]], "abc")
    with pytest.raises(UdfError, match=r"#VALUE!.*same size.*frt 3×1.*criteria_range1 2×1"):
        classic.CS_FRT_RATE([[1.0], [2.0], [3.0]], 3, None, None, [["a"], ["b"]], "a")
    with pytest.raises(UdfError, match="criteria1 has no criteria_range1"):
        classic.CS_FRT_RATE([[1.0]], 3, None, None, None, "a")
    with pytest.raises(UdfError, match=r"channel_limits: give 3 values"):
        classic.CS_FRT_RATE([[1.0]], 3, [["在线"]], [[1], [3]])
    with pytest.raises(UdfError, match="p must be between 0 and 1"):
        classic.CS_PCTL([[1.0]], 2)
    with pytest.raises(UdfError, match="unknown metric"):
        classic.CS_BREAKDOWN([["a"]], [[1.0]], "no_such_metric")
    with pytest.raises(UdfError, match="threshold"):  # Office.js shows it as #VALUE! with this message
        call_server(server, "CS_FRT_RATE", [[1.0]], [["abc"]])


def test_blank_scalar_cell_takes_the_default(classic, server):
    """=CS_FRT_RATE(F:F, B1) with B1 empty: the threshold's default (3), as if omitted."""
    frt = [[1.0], [5.0], [3.0]]
    assert classic.CS_FRT_RATE(frt, None) == classic.CS_FRT_RATE(frt) == pytest.approx(2 / 3)
    assert call_server(server, "CS_FRT_RATE", frt, [[""]]) == [[pytest.approx(2 / 3)]]


def test_no_valid_value_is_na_never_zero(classic, server):
    assert classic.CS_FRT_RATE([[None], ["文字"], ["#N/A"]], 3) == "#N/A"
    assert classic.CS_FRT_RATE([[1.0], [2.0]], 3, None, None, [["x"], ["y"]], "z") == "#N/A"
    assert call_server(server, "CS_CSAT", [["#N/A"], [""]]) == [[{"type": "Error", "errorType": "NotAvailable"}]]


def test_metadata_lists_every_function_with_registry_help(server):
    from xlwings.server import custom_functions_meta
    meta = {f["id"]: f for f in custom_functions_meta(server)["functions"]}
    assert set(meta) == set(ef.names())
    frt = meta["CS_FRT_RATE"]
    assert catalogue.get("frt_rate").name("zh") in frt["description"]
    params = [(p["name"], p.get("optional", False)) for p in frt["parameters"]]
    assert params[:6] == [("frt", False), ("threshold", True), ("channel", True), ("channel_limits", True),
                          ("criteria_range1", True), ("criteria1", True)]
    assert len(params) == 4 + 2 * ef.CRITERIA_PAIRS


def test_channel_targets_from_a_settings_range_or_channel_rows(classic):
    """=CS_FRT_RATE(frt, 3, 渠道, 参数!B16:B18): the 3 cells chat, phone, e-mail of 参数, or rows of
    channel | minutes.  Hand-worked: chat 2 > 1 missed, phone 2 ≤ 3 met, e-mail 100 ≤ 240 met, APP 4 > 3."""
    frt, channel = [[2.0], [2.0], [100.0], [4.0]], [["在线"], ["电话"], ["邮件"], ["APP"]]
    assert classic.CS_FRT_RATE(frt, 3, channel, [[1], [3], [240]]) == pytest.approx(2 / 4)
    assert classic.CS_FRT_RATE(frt, 3, channel, [["在线", 2], ["邮件", 60]]) == pytest.approx(2 / 4)  # chat met, e-mail missed
    assert classic.CS_FRT_RATE(frt, 3, channel) == pytest.approx(2 / 4)  # the defaults 1 / 3 / 240


# ------------------------------------------------------------------ headers, blanks, breakdown

def test_header_and_blank_rows_are_not_records(classic):
    complaint = [None, "是否投诉", "是", "否", None, "否", "是"]
    assert classic.CS_COMPLAINT_RATE([[v] for v in complaint]) == pytest.approx(2 / 4)
    ids = [None, "工单编号", "T1", "T2", "T1", None]
    assert classic.CS_VOLUME([[v] for v in ids]) == 2.0


def test_breakdown_matches_a_pandas_groupby(classic):
    t = TABLES["tickets"]
    table = classic.CS_BREAKDOWN([[v] for v in t["channel"]], [[v] for v in t["frt_min"]], "frt_rate", 3)
    assert table[0] == ["分组", "数量", catalogue.get("frt_rate").name("zh")]
    frame = pd.DataFrame({"g": t["channel"], "v": t["frt_min"]}).dropna(subset=["g"])
    expected = {g: (len(part), metrics.frt_rate(part["v"].tolist(), 3)) for g, part in frame.groupby("g")}
    assert [row[0] for row in table[1:]] == sorted(expected)
    for group, count, value in table[1:]:
        assert count == expected[group][0]
        assert value == pytest.approx(expected[group][1])


# ------------------------------------------------------------------ criteria: hand-worked cases

CELLS = ["物流咨询", "投诉", None, 3.0, "3", 5.0, "#N/A", True, dt.datetime(2024, 3, 1), "APP", "app",
         "a*b", "物流", ""]


@pytest.mark.parametrize("criterion, expected", [
    ("物流咨询", [0]), ("物流*", [0, 12]), ("?流", [12]), ("<>投诉", [0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]),
    (">=3", [3, 5, 8]), ("3", [3, 4]), (3, [3, 4]), ("", [2, 13]), ("=", [2, 13]),
    ("<>", [0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), ("*", [0, 1, 4, 9, 10, 11, 12]), ("a~*b", [11]),
    ("APP", [9, 10]), (">=2024-03-01", [8]), (">=2024/3/1", [8]), (dt.date(2024, 3, 1), [8]),
    (45352, [8]), (True, [7]), ("TRUE", [7]), ("#N/A", [6]), (None, []), ("<b", [4, 9, 10, 11]),  # the text "3" sorts before "b"
])
def test_countifs_criteria_hand_worked(criterion, expected):
    mask = criteria.parse(criterion).mask(CELLS)
    assert list(np.flatnonzero(mask)) == expected


# ------------------------------------------------------------------ criteria: property test

LABELS = ["物流咨询", "物流", "投诉", "APP", "app", "Apple", "a.b", "x+y"]
cells_st = st.lists(st.one_of(
    st.none(), st.sampled_from(LABELS), st.integers(-3, 12).map(float), st.integers(0, 9).map(str),
    st.sampled_from(["#N/A", "#DIV/0!"])), min_size=1, max_size=40)
op_st = st.sampled_from(["", "=", "<>", "<", "<=", ">", ">="])
text_operand = st.builds(lambda a, b, c: a + b + c, st.sampled_from(["", "物", "a", "A", "投", "x"]),
                         st.sampled_from(["", "*", "?", "流", "p"]), st.sampled_from(["", "*", "咨询", "p", "le"]))
number_operand = st.integers(-3, 12)


def _reference_mask(cells: list, op: str, operand) -> np.ndarray:
    """COUNTIFS with plain pandas, from the criterion's parts (not from its text)."""
    s = pd.Series(cells, dtype=object)
    is_num = s.map(lambda v: isinstance(v, float))
    is_err = s.isin(["#N/A", "#DIV/0!"])
    is_text = s.map(lambda v: isinstance(v, str)) & ~is_err
    if isinstance(operand, int):
        num = pd.to_numeric(s.where(is_num), errors="coerce")
        if op in ("", "=", "<>"):
            as_text = pd.to_numeric(s.where(is_text), errors="coerce")
            equal = (num == operand) | (as_text == operand)
            return (~equal if op == "<>" else equal).to_numpy()
        compare = {"<": num.lt, "<=": num.le, ">": num.gt, ">=": num.ge}[op]
        return compare(operand).fillna(False).to_numpy()
    if op in ("", "=", "<>"):
        regex = re.escape(operand).replace(r"\*", ".*").replace(r"\?", ".")
        equal = is_text & s.where(is_text, "").str.fullmatch(regex, case=False)
        return (~equal if op == "<>" else equal).to_numpy(dtype=bool)
    folded = s.where(is_text, "").str.casefold()
    compare = {"<": folded.lt, "<=": folded.le, ">": folded.gt, ">=": folded.ge}[op]
    return (is_text & compare(operand.casefold())).to_numpy(dtype=bool)


@settings(max_examples=300, deadline=None)
@given(cells=cells_st, op=op_st, operand=st.one_of(number_operand, text_operand))
def test_criteria_match_a_pandas_countifs(cells, op, operand):
    if isinstance(operand, str) and (operand == "" or operand.upper() in ("TRUE", "FALSE")):
        operand = "物*"
    text = f"{op}{operand}"
    assert list(criteria.parse(text).mask(cells)) == list(_reference_mask(cells, op, operand))


@settings(max_examples=100, deadline=None)
@given(cells=cells_st, op=op_st, operand=st.one_of(number_operand, text_operand),
       values=st.lists(st.floats(0, 20, allow_nan=False), min_size=40, max_size=40))
def test_cs_avg_with_criteria_equals_a_pandas_filter(cells, op, operand, values):
    if isinstance(operand, str) and (operand == "" or operand.upper() in ("TRUE", "FALSE")):
        operand = "物*"
    values = values[:len(cells)]
    keep = _reference_mask(cells, op, operand)
    chosen = [v for v, k in zip(values, keep) if k]
    got = ef.call("CS_AVG", [[v] for v in values], [[c] for c in cells], f"{op}{operand}")
    assert (got == "#N/A") if not chosen else got == pytest.approx(np.mean(chosen))


def test_cs_repeat_rate_takes_days_fourth_as_spec_says():
    """SPEC §4: CS_REPEAT_RATE(customer, date, complaint, [days=7])."""
    from cs_xl.excel_functions import FUNCTIONS
    customer = [["客户ID"], ["c1"], ["c1"], ["c2"], ["c2"]]
    date = [["日期"], [dt.datetime(2024, 3, 1)], [dt.datetime(2024, 3, 6)], [dt.datetime(2024, 3, 1)],
            [dt.datetime(2024, 3, 20)]]
    complaint = [["是否投诉"], ["是"], ["是"], ["是"], ["是"]]
    # c1 complains again after 5 days, c2 after 19: within 7 days 1 of 2, within 30 days 2 of 2
    assert FUNCTIONS["CS_REPEAT_RATE"](customer, date, complaint) == 0.5
    assert FUNCTIONS["CS_REPEAT_RATE"](customer, date, complaint, 30) == 1.0
