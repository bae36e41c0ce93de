"""cs_xl.load: workbooks and CSV exports → DataSet.

Every workbook is built here with openpyxl in ``tmp_path``; expected values
are written by hand next to the cells they come from.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from cs_xl import load as load_module
from cs_xl.load import LoadError, load

from ci import absent
from realdata_maps import REALDATA

D = dt.date
T = dt.datetime


class Err(str):
    """An Excel error cell (#N/A, #DIV/0!) to write with data_type 'e'."""


def write_book(path: Path, sheets: dict[str, list[list]], *, start_col: int = 1) -> Path:
    """Write rows to sheets; None leaves a cell empty, Err(...) writes an error cell."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=start_col):
                if value is None:
                    continue
                cell = ws.cell(row=r, column=c)
                cell.value = str(value) if isinstance(value, Err) else value
                if isinstance(value, Err):
                    cell.data_type = "e"
    wb.save(path)
    return path


def write_csv(path: Path, rows: list[list], *, encoding: str, delimiter: str = ",") -> Path:
    with open(path, "w", encoding=encoding, newline="") as f:
        csv.writer(f, delimiter=delimiter).writerows(rows)
    return path


def issues_of(ds) -> list[tuple]:
    """(row, column, value, reason, action) of every issue, in report order."""
    return [(i.row, i.column, i.value, i.reason, i.action) for i in ds.quality.issues]


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    """'Today' is 2024-06-30 in every test, so 'in the future' is deterministic."""
    monkeypatch.setattr(load_module, "_today", lambda: pd.Timestamp(2024, 6, 30))


TICKET_HEADERS = ["日期", "客服工号", "客服姓名", "客户ID", "问题类型", "首次响应时间(分钟)", "问题解决时间(分钟)", "备注"]


# ====================================================================== tickets from the template

@pytest.fixture
def template_book(tmp_path):
    return write_book(tmp_path / "book.xlsx", {
        "响应时间统计表": [
            ["客户服务响应时间统计表"],                                                   # row 1: title
            TICKET_HEADERS + ["内部编号"],                                                # row 2: headers (+ unknown)
            [D(2024, 3, 1), "A001", "李娜", "C1", "物流咨询", 2, 30, None, "x"],         # row 3
            [D(2024, 3, 2), "A002", "王强", "C2", "投诉", "5分钟", "1.5h", None, "y"],   # row 4
            [None] * 9,                                                                    # row 5: blank
            ["2024/3/3", "A001", "李娜", "C3", "咨询", "３ min", Err("#N/A"), "催单"],   # row 6
            [D(2024, 3, 4), "A003", "赵敏", "C4", "咨询", Err("#DIV/0!"), "５", None],   # row 7
        ],
    })


def test_template_with_title_row_is_read_with_excel_row_numbers(template_book):
    ds = load(template_book)
    t = ds.tickets
    assert ds.sheets == {"tickets": "响应时间统计表"}
    assert ds.feedback is None and ds.calls is None
    assert t["_row"].tolist() == [3, 4, 6, 7]          # row 5 was blank
    assert t["date"].tolist() == [pd.Timestamp(2024, 3, d) for d in (1, 2, 3, 4)]
    assert t["agent_id"].tolist() == ["A001", "A002", "A001", "A003"]
    # 2 | "5分钟" → 5 | "３ min" → 3 | #DIV/0! → NaN
    np.testing.assert_array_equal(t["frt_min"].to_numpy(), [2.0, 5.0, 3.0, np.nan])
    # 30 | "1.5h" → 1.5 × 60 = 90 | #N/A → NaN | "５" → 5
    np.testing.assert_array_equal(t["resolve_min"].to_numpy(), [30.0, 90.0, np.nan, 5.0])
    assert t["note"].tolist() == [None, None, "催单", None]


def test_unknown_columns_are_not_kept(template_book):
    t = load(template_book).tickets
    assert list(t.columns) == ["date", "agent_id", "agent_name", "customer_id", "issue_type",
                               "frt_min", "resolve_min", "note", "_row"]


def test_frame_dtypes_follow_the_architecture(template_book):
    t = load(template_book).tickets
    assert str(t["date"].dtype) == "datetime64[ns]"
    assert t["frt_min"].dtype == np.float64
    assert t["agent_id"].dtype == object
    assert t["_row"].dtype == np.int64


def test_quality_report_names_row_column_value_and_action(template_book):
    ds = load(template_book)
    assert issues_of(ds) == [
        (4, "首次响应时间(分钟)", "5分钟", "text with unit '分钟' converted to minutes", "repaired"),
        (4, "问题解决时间(分钟)", "1.5h", "text with unit 'h' converted to minutes", "repaired"),
        (6, "日期", "2024/3/3", "date stored as text", "repaired"),
        (6, "首次响应时间(分钟)", "３ min", "text with unit 'min' converted to minutes", "repaired"),
        (6, "问题解决时间(分钟)", "#N/A", "Excel error value", "dropped"),
        (7, "首次响应时间(分钟)", "#DIV/0!", "Excel error value", "dropped"),
        (7, "问题解决时间(分钟)", "５", "number stored as text", "repaired"),
    ]
    assert {i.sheet for i in ds.quality.issues} == {"响应时间统计表"}


def test_headers_as_typed_and_source(template_book):
    ds = load(template_book)
    assert ds.headers["tickets"]["frt_min"] == "首次响应时间(分钟)"
    assert ds.headers["tickets"]["date"] == "日期"
    assert ds.source == str(template_book)


def test_loader_never_modifies_the_input_file(template_book, tmp_path):
    csv_path = write_csv(tmp_path / "t.csv", [TICKET_HEADERS, ["2024-03-01", "A1", "", "", "", "3", "", ""]],
                         encoding="utf-8")
    for path in (template_book, csv_path):
        before = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
        load(path)
        after = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
        assert before == after
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx", "t.csv"]  # no lock/temp files left


# ====================================================================== error cells and offsets

def test_error_cells_are_found_when_the_table_does_not_start_at_a1(tmp_path):
    # table in columns C.. (start_col=3), title in row 1, blank row 2, headers in row 3
    path = write_book(tmp_path / "b.xlsx", {"Sheet1": [
        ["Report"],
        [],
        ["Date", "Agent ID", "First response (min)", "Resolution (min)"],
        [D(2024, 3, 1), "A1", Err("#N/A"), 10],            # row 4: C4 date, E4 error
        [D(2024, 3, 2), "A2", 4, Err("#VALUE!")],           # row 5: F5 error
    ]}, start_col=3)
    ds = load(path)
    assert ds.tickets["_row"].tolist() == [4, 5]
    assert issues_of(ds) == [
        (4, "First response (min)", "#N/A", "Excel error value", "dropped"),
        (5, "Resolution (min)", "#VALUE!", "Excel error value", "dropped"),
    ]
    np.testing.assert_array_equal(ds.tickets["frt_min"].to_numpy(), [np.nan, 4.0])


def test_error_cell_in_a_text_column_is_reported(tmp_path):
    path = write_book(tmp_path / "b.xlsx", {"响应时间统计表": [
        ["日期", "客服工号", "问题类型"],
        [D(2024, 3, 1), Err("#REF!"), "咨询"],
    ]})
    ds = load(path)
    assert issues_of(ds) == [(2, "客服工号", "#REF!", "Excel error value", "dropped")]
    assert ds.tickets["agent_id"].tolist() == [None]


# ====================================================================== header variants

def test_english_headers_on_an_unnamed_sheet(tmp_path):
    path = write_book(tmp_path / "b.xlsx", {"Sheet1": [
        ["Date", "Agent ID", "Agent name", "Issue type", "First response (min)", "Resolution (min)", "Ticket ID"],
        [D(2024, 3, 1), "A1", "Li Na", "Billing", 1.5, 20, "T1"],
    ]})
    ds = load(path)
    assert ds.sheets["tickets"] == "Sheet1"
    row = ds.tickets.iloc[0]
    assert (row["agent_name"], row["issue_type"], row["frt_min"], row["resolve_min"], row["ticket_id"]) == \
        ("Li Na", "Billing", 1.5, 20.0, "T1")


def test_full_width_bracket_and_spacing_variants_of_headers(tmp_path):
    path = write_book(tmp_path / "b.xlsx", {"数据": [
        ["日　期", " 客服工号 ", "首次响应时间（分钟）", "【备注】", "ＰＲＩＯＲＩＴＹ", "Customer_ID"],
        [D(2024, 3, 1), "A1", 2, "n", "L1", "C9"],
    ]})
    ds = load(path)
    assert ds.headers["tickets"] == {
        "date": "日　期", "agent_id": "客服工号", "frt_min": "首次响应时间（分钟）", "note": "【备注】",
        "priority": "ＰＲＩＯＲＩＴＹ", "customer_id": "Customer_ID",
    }
    row = ds.tickets.iloc[0]
    assert (row["frt_min"], row["note"], row["priority"], row["customer_id"]) == (2.0, "n", 1, "C9")


def test_header_row_found_below_several_title_rows(tmp_path):
    path = write_book(tmp_path / "b.xlsx", {"响应时间统计表": [
        ["客户服务响应时间统计表"],
        ["统计周期：2024年3月", None, "制表人：张三"],
        [],
        TICKET_HEADERS,
        [D(2024, 3, 1), "A1", None, None, None, 3, None, None],
    ]})
    t = load(path).tickets
    assert t["_row"].tolist() == [5]
    assert t["frt_min"].tolist() == [3.0]


def test_duplicate_header_is_ignored_and_reported(tmp_path):
    path = write_book(tmp_path / "b.xlsx", {"响应时间统计表": [
        ["日期", "客服工号", "首次响应时间(分钟)", "首次响应时间"],
        [D(2024, 3, 1), "A1", 3, 99],
    ]})
    ds = load(path)
    assert ds.tickets["frt_min"].tolist() == [3.0]  # the first column wins
    assert issues_of(ds) == [(None, "首次响应时间", None, "duplicate column for 首次响应时间(分钟), ignored", "flagged")]


# ====================================================================== dates, flags, priorities

def test_excel_serial_dates_and_date_text(tmp_path):
    path = write_book(tmp_path / "b.xlsx", {"响应时间统计表": [
        ["日期", "客服工号"],
        [45352, "A1"],               # serial: 2024-01-01 is 45292; + 31 + 29 = 45352 → 2024-03-01
        ["2024年3月2日", "A1"],
        [T(2024, 3, 3, 17, 45), "A1"],  # a date column keeps the day only
        ["下周一", "A1"],
    ]})
    ds = load(path)
    assert ds.tickets["date"].tolist()[:3] == [pd.Timestamp(2024, 3, 1), pd.Timestamp(2024, 3, 2), pd.Timestamp(2024, 3, 3)]
    assert pd.isna(ds.tickets["date"].iloc[3])
    assert issues_of(ds) == [
        (2, "日期", 45352, "date stored as an Excel serial number", "repaired"),
        (3, "日期", "2024年3月2日", "date stored as text", "repaired"),
        (5, "日期", "下周一", "not a date", "dropped"),
    ]


def test_feedback_flags_bounds_and_not_rated(tmp_path):
    path = write_book(tmp_path / "b.xlsx", {"效果统计表": [
        ["工单编号", "客户ID", "日期", "评分(1-5星)", "是否满意", "推荐意愿(0-10)", "服务态度(1-5)", "是否投诉", "7天内重复投诉次数"],
        ["T1", "C1", D(2024, 3, 1), 5, "是", 10, 5, "否", 0],
        ["T2", "C2", D(2024, 3, 1), 6, "否", 11, 0, "是", 1],
        ["T3", "C3", D(2024, 3, 2), "4星", "未评价", 0, 4, "N", "2次"],
        ["T4", "C4", D(2024, 3, 2), 1, "Y", None, None, "也许", None],
    ]})
    ds = load(path)
    f = ds.feedback
    assert ds.tickets is None
    np.testing.assert_array_equal(f["rating"].to_numpy(), [5.0, np.nan, 4.0, 1.0])        # 6 > 5 dropped
    np.testing.assert_array_equal(f["nps"].to_numpy(), [10.0, np.nan, 0.0, np.nan])       # 11 > 10 dropped; 0 valid
    np.testing.assert_array_equal(f["attitude"].to_numpy(), [5.0, np.nan, 4.0, np.nan])   # 0 < 1 dropped
    assert f["satisfied"].tolist() == [True, False, pd.NA, True]                          # 未评价 → missing
    assert f["complaint"].tolist() == [False, True, False, pd.NA]
    np.testing.assert_array_equal(f["repeat_7d"].to_numpy(), [0.0, 1.0, 2.0, np.nan])       # "2次" → 2
    assert str(f["satisfied"].dtype) == "boolean"
    assert issues_of(ds) == [
        (3, "评分(1-5星)", 6, "outside 1-5", "dropped"),
        (3, "推荐意愿(0-10)", 11, "outside 0-10", "dropped"),
        (3, "服务态度(1-5)", 0, "outside 1-5", "dropped"),
        (4, "评分(1-5星)", "4星", "text with unit '星'", "repaired"),
        (4, "7天内重复投诉次数", "2次", "text with unit '次'", "repaired"),
        (5, "是否投诉", "也许", "not a yes/no value", "dropped"),
    ]


def test_durations_beyond_any_call_or_ticket_are_dropped_and_named(tmp_path):
    """1e308 seconds is finite, but two of them overflow the AHT to infinity: the
    duration columns have bounds (a call under a day, a ticket under ten years)."""
    path = write_book(tmp_path / "b.xlsx", {
        "话务记录": [
            ["呼入时间", "等待时长(秒)", "是否接通", "通话时长(秒)", "保持时长(秒)", "话后处理(秒)"],
            [T(2024, 3, 4, 9), 10, "是", 1e308, 0, 5],
            [T(2024, 3, 4, 9, 10), 86_400, "是", 120, 1e308, 5],   # a whole day's wait is the bound itself
            [T(2024, 3, 4, 9, 20), 86_401, "否", None, None, 1e20],
        ],
        "响应时间统计表": [
            ["日期", "客服工号", "首次响应时间(分钟)", "问题解决时间(分钟)"],
            [D(2024, 3, 1), "A1", 1e308, 30],
            [D(2024, 3, 1), "A1", 2, 10 * 365 * 1440 + 1],
        ],
    })
    ds = load(path)
    np.testing.assert_array_equal(ds.calls["talk_s"].to_numpy(), [np.nan, 120.0, np.nan])
    np.testing.assert_array_equal(ds.calls["hold_s"].to_numpy(), [0.0, np.nan, np.nan])
    np.testing.assert_array_equal(ds.calls["wait_s"].to_numpy(), [10.0, 86_400.0, np.nan])
    np.testing.assert_array_equal(ds.tickets["frt_min"].to_numpy(), [np.nan, 2.0])
    np.testing.assert_array_equal(ds.tickets["resolve_min"].to_numpy(), [30.0, np.nan])
    assert [(i.sheet, *issue) for i, issue in zip(ds.quality.issues, issues_of(ds))] == [
        ("响应时间统计表", 2, "首次响应时间(分钟)", 1e308, "outside 0-5256000", "dropped"),
        ("响应时间统计表", 3, "问题解决时间(分钟)", 5_256_001, "outside 0-5256000", "dropped"),
        ("话务记录", 2, "通话时长(秒)", 1e308, "outside 0-86400", "dropped"),
        ("话务记录", 3, "保持时长(秒)", 1e308, "outside 0-86400", "dropped"),
        ("话务记录", 4, "等待时长(秒)", 86_401, "outside 0-86400", "dropped"),
        ("话务记录", 4, "话后处理(秒)", 1e20, "outside 0-86400", "dropped"),
    ]


def test_priority_variants_in_a_sheet(tmp_path):
    path = write_book(tmp_path / "b.xlsx", {"响应时间统计表": [
        ["日期", "客服工号", "优先级"],
        *[[D(2024, 3, 1), "A1", p] for p in ("一级", "L1", "P1", "紧急", "二级", "L3", 4, "P9")],
    ]})
    ds = load(path)
    assert ds.tickets["priority"].tolist() == [1, 1, 1, 1, 2, 3, 4, pd.NA]
    assert str(ds.tickets["priority"].dtype) == "Int64"
    assert issues_of(ds) == [(9, "优先级", "P9", "unknown priority", "dropped")]


def test_future_dates_are_kept_and_flagged_blank_required_cells_flagged(tmp_path):
    path = write_book(tmp_path / "b.xlsx", {"响应时间统计表": [
        ["日期", "客服工号", "首次响应时间(分钟)", "承诺完成时间"],
        [D(2024, 6, 30), "A1", 1, T(2024, 12, 1)],  # today (fixture); a due date ahead is normal
        [D(2024, 7, 1), "A1", 2, None],             # tomorrow: future
        [None, "A2", 3, None],                      # blank required date
        [D(2024, 6, 1), None, 4, None],             # blank required agent
    ]})
    ds = load(path)
    assert ds.tickets["_row"].tolist() == [2, 3, 4, 5]  # all rows kept
    assert ds.tickets["date"].iloc[1] == pd.Timestamp(2024, 7, 1)
    assert issues_of(ds) == [
        (3, "日期", D(2024, 7, 1), "date in the future", "flagged"),
        (4, "日期", None, "missing required value", "flagged"),
        (5, "客服工号", None, "missing required value", "flagged"),
    ]


def test_future_check_uses_todays_date(monkeypatch, tmp_path):
    path = write_book(tmp_path / "b.xlsx", {"响应时间统计表": [["日期", "客服工号"], [D(2024, 7, 1), "A1"]]})
    monkeypatch.setattr(load_module, "_today", lambda: pd.Timestamp(2024, 7, 1))
    assert len(load(path).quality) == 0


def test_missing_required_column_keeps_the_table_and_reports_the_sheet(tmp_path):
    path = write_book(tmp_path / "b.xlsx", {"响应时间统计表": [
        ["客服工号", "首次响应时间(分钟)", "问题类型"],
        ["A1", 2, "咨询"],
    ]})
    ds = load(path)
    assert ds.tickets["frt_min"].tolist() == [2.0]
    assert "date" not in ds.tickets.columns
    assert issues_of(ds) == [(None, "日期", None, "missing required column", "flagged")]


# ====================================================================== rows: blanks, totals, duplicates

def test_blank_rows_are_skipped_silently_and_total_rows_dropped_with_a_report(tmp_path):
    path = write_book(tmp_path / "b.xlsx", {"响应时间统计表": [
        ["日期", "客服工号", "首次响应时间(分钟)", "备注"],
        [D(2024, 3, 1), "A1", 2, None],
        [None, None, None, None],
        [None, None, "  ", "-"],       # whitespace and a placeholder: still blank
        [D(2024, 3, 2), "A2", 4, None],
        ["合计", None, 6, None],       # the sum under the data is no ticket
    ]})
    ds = load(path)
    assert ds.tickets["_row"].tolist() == [2, 5]
    assert ds.tickets["frt_min"].tolist() == [2.0, 4.0]
    assert issues_of(ds) == [(6, "日期", "合计", "total/summary row", "dropped")]


def test_duplicate_ticket_ids_keep_the_last_most_complete_record(tmp_path):
    path = write_book(tmp_path / "b.xlsx", {"响应时间统计表": [
        ["工单编号", "日期", "客服工号", "首次响应时间(分钟)", "问题解决时间(分钟)"],
        ["T1", D(2024, 3, 1), "A1", 2, 10],      # row 2: T1, 5 cells filled — most complete T1
        ["T1", D(2024, 3, 1), "A1", 3, None],    # row 3: T1, 4 cells
        ["T2", D(2024, 3, 1), "A2", 1, 5],       # row 4: T2, 5 cells
        [None, D(2024, 3, 1), "A3", 4, 4],       # row 5: no id — never deduped
        [None, D(2024, 3, 1), "A3", 4, 4],       # row 6: same again, still kept
        ["T2", D(2024, 3, 1), "A2", 7, 8],       # row 7: T2, 5 cells — as complete as row 4, later: kept
        ["T1", D(2024, 3, 1), "A1", None, None], # row 8: T1, 3 cells
    ]})
    ds = load(path)
    t = ds.tickets
    assert t["_row"].tolist() == [2, 5, 6, 7]
    assert t["frt_min"].tolist() == [2.0, 4.0, 4.0, 7.0]
    assert issues_of(ds) == [
        (3, "工单编号", "T1", "duplicate ticket_id", "dropped"),
        (4, "工单编号", "T2", "duplicate ticket_id", "dropped"),
        (8, "工单编号", "T1", "duplicate ticket_id", "dropped"),
    ]


def test_duplicate_call_ids(tmp_path):
    path = write_book(tmp_path / "b.xlsx", {"话务记录": [
        ["话务编号", "呼入时间", "等待时长(秒)", "是否接通"],
        ["K1", T(2024, 3, 1, 9, 0), 30, "是"],
        ["K1", T(2024, 3, 1, 9, 0), 30, "是"],   # identical: the last one is kept
    ]})
    ds = load(path)
    assert ds.calls["_row"].tolist() == [3]
    assert issues_of(ds) == [(2, "话务编号", "K1", "duplicate call_id", "dropped")]


def test_duplicate_ids_are_the_same_id_once_read(tmp_path):
    """Ids that read alike are one id: ' T1' is T1 (stripped) and 101.0 is '101'; ids that differ
    only by class are not merged away from their own text ('T1' vs 'T１' stay two ids)."""
    from cs_xl.read_files import Grid, Grids

    def dropped(ids):
        rows = [["工单编号", "日期", "客服工号"]] + [[i, D(2024, 3, 1), "A1"] for i in ids]
        ds = load_module.load_grids(Grids("g", [Grid("响应时间统计表", rows)]), tables=("tickets",))
        return [(i.row, i.value) for i in ds.quality.issues if i.reason == "duplicate ticket_id"]

    # rows 2.. ; equal completeness everywhere, so the last of each id is kept
    assert dropped(["T1", "T2", "T1", "T3", "T2", "T1"]) == [(2, "T1"), (3, "T2"), (4, "T1")]
    assert dropped(["T1", " T1", "T1\u3000", "T2"]) == [(2, "T1"), (3, "T1")]
    assert dropped(["101", 101.0, "T1", "T１", "-", "-", "", ""]) == [(2, "101")]
    assert dropped([f"T{i}" for i in range(50)] + ["T7"]) == [(9, "T7")]


# ====================================================================== timestamps

def test_minutes_computed_from_timestamps_and_impossible_orders_dropped(tmp_path):
    d = D(2024, 3, 1)
    at = lambda h, m: T(2024, 3, 1, h, m)  # noqa: E731
    path = write_book(tmp_path / "b.xlsx", {"响应时间统计表": [
        ["工单编号", "日期", "客服工号", "创建时间", "首次响应时刻", "解决时刻", "首次响应时间(分钟)", "问题解决时间(分钟)"],
        ["T1", d, "A1", at(9, 0), at(9, 4), at(10, 0), None, None],   # frt 4, resolve 10:00−9:04 = 56
        ["T2", d, "A1", at(9, 0), at(9, 2), at(9, 30), 1.5, None],    # frt typed 1.5 stays; resolve 28
        ["T3", d, "A1", at(9, 0), at(8, 55), at(9, 30), None, None],  # response before creation
        ["T4", d, "A1", at(9, 0), at(9, 10), at(8, 30), None, None],  # resolved before created
        ["T5", d, "A1", at(9, 0), at(9, 10), at(9, 5), None, None],   # resolved before first response
    ]})
    ds = load(path)
    t = ds.tickets
    np.testing.assert_array_equal(t["frt_min"].to_numpy(), [4.0, 1.5, np.nan, 10.0, 10.0])
    np.testing.assert_array_equal(t["resolve_min"].to_numpy(), [56.0, 28.0, np.nan, np.nan, np.nan])
    assert pd.isna(t["first_response_at"].iloc[2]) and pd.isna(t["resolved_at"].iloc[3])
    assert issues_of(ds) == [
        (2, "首次响应时间(分钟)", None, "computed from timestamps", "repaired"),
        (2, "问题解决时间(分钟)", None, "computed from timestamps", "repaired"),
        (3, "问题解决时间(分钟)", None, "computed from timestamps", "repaired"),
        (4, "首次响应时刻", at(8, 55), "negative duration: first response before created", "dropped"),
        (5, "首次响应时间(分钟)", None, "computed from timestamps", "repaired"),
        (5, "解决时刻", at(8, 30), "resolved before created", "dropped"),
        (6, "首次响应时间(分钟)", None, "computed from timestamps", "repaired"),
        (6, "解决时刻", at(9, 5), "negative duration: resolved before first response", "dropped"),
    ]


def test_minute_columns_absent_are_derived_with_one_sheet_level_note(tmp_path):
    path = write_book(tmp_path / "b.xlsx", {"Tickets": [
        ["Date", "Agent ID", "Created at", "First response at", "Resolved at"],
        [D(2024, 3, 1), "A1", T(2024, 3, 1, 9, 0), T(2024, 3, 1, 9, 30), T(2024, 3, 1, 11, 0)],  # 30, 90
        [D(2024, 3, 1), "A1", T(2024, 3, 1, 9, 0), None, None],
    ]})
    ds = load(path)
    np.testing.assert_array_equal(ds.tickets["frt_min"].to_numpy(), [30.0, np.nan])
    np.testing.assert_array_equal(ds.tickets["resolve_min"].to_numpy(), [90.0, np.nan])
    assert issues_of(ds) == [
        (None, "首次响应时间(分钟)", "1 rows", "computed from timestamps (column absent)", "repaired"),
        (None, "问题解决时间(分钟)", "1 rows", "computed from timestamps (column absent)", "repaired"),
    ]
    assert ds.headers["tickets"]["frt_min"] == "首次响应时间(分钟)"


# ====================================================================== several tables in one book

def test_three_tables_found_by_name_and_other_sheets_ignored(tmp_path):
    path = write_book(tmp_path / "b.xlsx", {
        "参数": [["参数", "值"], ["FRT阈值", 3]],
        "汇总": [["指标", "值"], ["首次响应达标率", 0.9]],
        "响应时间统计表": [TICKET_HEADERS, [D(2024, 3, 1), "A1", "李娜", "C1", "咨询", 2, 20, None]],
        "效果统计表": [["工单编号", "评分(1-5星)", "是否满意"], ["T1", 5, "是"]],
        "话务记录": [["话务编号", "呼入时间", "等待时长(秒)", "是否接通", "IVR分流"],
                     ["K1", T(2024, 3, 1, 9, 0), "2分", "否", "否"]],
    })
    ds = load(path)
    assert ds.sheets == {"tickets": "响应时间统计表", "feedback": "效果统计表", "calls": "话务记录"}
    assert ds.feedback["rating"].tolist() == [5.0]
    assert ds.calls["wait_s"].tolist() == [120.0]  # "2分" = 2 × 60 s
    assert ds.calls["answered"].tolist() == [False]


def test_sheets_found_by_headers_each_go_to_their_own_table(tmp_path):
    # feedback shares 工单编号/客户ID/日期 with tickets: it must not be taken for tickets, nor vice versa
    path = write_book(tmp_path / "b.xlsx", {
        "Sheet2": [["工单编号", "客户ID", "日期", "评分", "是否满意"], ["T1", "C1", D(2024, 3, 1), 4, "是"]],
        "Sheet1": [["工单编号", "客户ID", "日期", "客服工号", "首次响应时间"], ["T1", "C1", D(2024, 3, 1), "A1", 1]],
    })
    ds = load(path)
    assert ds.sheets == {"tickets": "Sheet1", "feedback": "Sheet2"}


def test_a_sheet_with_only_shared_headers_is_no_table(tmp_path):
    # 工单编号/客户ID/日期 are feedback headers too, but without one feedback-only column
    # (评分, 是否满意 …) the sheet is no feedback table
    path = write_book(tmp_path / "b.xlsx", {"Sheet1": [["工单编号", "客户ID", "日期", "备注"], ["T1", "C1", D(2024, 3, 1), "x"]]})
    with pytest.raises(LoadError, match="no sheet with ticket, feedback or call headers"):
        load(path)


def test_xlsm_is_read_like_xlsx(template_book, tmp_path):
    xlsm = tmp_path / "book.xlsm"
    xlsm.write_bytes(template_book.read_bytes())
    assert load(xlsm).tickets["_row"].tolist() == [3, 4, 6, 7]


def test_tables_argument_limits_what_is_loaded(template_book, tmp_path):
    ds = load(template_book, tables=("tickets",))
    assert ds.tickets is not None and ds.feedback is None
    with pytest.raises(LoadError, match="no sheet with feedback headers found in"):
        load(template_book, tables=("feedback",))  # a ticket sheet is never taken for feedback
    with pytest.raises(ValueError, match="unknown table 'orders'"):
        load(template_book, tables=("orders",))


# ====================================================================== CSV

def test_gbk_csv_with_title_line(tmp_path):
    path = write_csv(tmp_path / "导出.csv", [
        ["客户服务响应时间统计表"],
        ["日期", "客服工号", "客服姓名", "首次响应时间(分钟)", "优先级", "是否转接"],
        ["2024/3/1", "A1", "李娜", "5", "一级", "否"],
        ["2024-03-02", "A2", "王强", "5分钟", "P2", "是"],
        ["", "", "", "", "", ""],
        ["2024-03-03", "A3", "赵敏", "abc", "", ""],
    ], encoding="gbk")
    ds = load(path)
    t = ds.tickets
    assert ds.sheets == {"tickets": "导出.csv"}
    assert t["_row"].tolist() == [3, 4, 6]
    assert t["agent_name"].tolist() == ["李娜", "王强", "赵敏"]
    np.testing.assert_array_equal(t["frt_min"].to_numpy(), [5.0, 5.0, np.nan])
    assert t["priority"].tolist() == [1, 2, pd.NA]
    assert t["transferred"].tolist() == [False, True, pd.NA]
    # "5" and date text are normal in a CSV: not reported; units and garbage are
    assert issues_of(ds) == [
        (4, "首次响应时间(分钟)", "5分钟", "text with unit '分钟' converted to minutes", "repaired"),
        (6, "首次响应时间(分钟)", "abc", "not a number", "dropped"),
    ]


def test_utf8_bom_csv_with_english_headers_and_semicolons(tmp_path):
    path = write_csv(tmp_path / "calls.csv", [
        ["Call ID", "Call start", "Wait (s)", "Answered", "Talk (s)"],
        ["K1", "2024-03-01 09:00:05", "12", "yes", "300"],
        ["K2", "2024-03-01 09:01:00", "1,200", "no", ""],
    ], encoding="utf-8-sig", delimiter=";")
    assert path.read_bytes()[:3] == b"\xef\xbb\xbf"
    ds = load(path)
    c = ds.calls
    assert ds.headers["calls"]["call_id"] == "Call ID"  # no BOM glued to the first header
    assert c["call_id"].tolist() == ["K1", "K2"]
    assert c["start"].tolist() == [pd.Timestamp(2024, 3, 1, 9, 0, 5), pd.Timestamp(2024, 3, 1, 9, 1)]
    np.testing.assert_array_equal(c["wait_s"].to_numpy(), [12.0, 1200.0])
    assert c["answered"].tolist() == [True, False]
    assert len(ds.quality) == 0


def test_utf16_tab_separated_export(tmp_path):
    path = write_csv(tmp_path / "unicode.csv", [["日期", "客服工号", "首次响应时间(分钟)"], ["2024-03-01", "A1", "2"]],
                     encoding="utf-16", delimiter="\t")
    assert path.read_bytes()[:2] == b"\xff\xfe"
    ds = load(path)
    assert ds.tickets["agent_id"].tolist() == ["A1"] and ds.tickets["frt_min"].tolist() == [2.0]


def test_plain_utf8_csv(tmp_path):
    path = write_csv(tmp_path / "fb.csv", [["工单编号", "评分(1-5星)", "推荐意愿(0-10)"], ["T1", "５", "9"]],
                     encoding="utf-8")
    ds = load(path)
    assert ds.feedback["rating"].tolist() == [5.0]
    assert ds.feedback["nps"].tolist() == [9.0]


def test_text_numbers_are_reported_in_xlsx_but_not_in_csv(tmp_path):
    rows = [["日期", "客服工号", "首次响应时间(分钟)"], ["2024-03-01", "A1", "3"]]
    from_csv = load(write_csv(tmp_path / "t.csv", rows, encoding="utf-8"))
    from_xlsx = load(write_book(tmp_path / "t.xlsx", {"响应时间统计表": rows}))
    assert from_csv.tickets["frt_min"].tolist() == from_xlsx.tickets["frt_min"].tolist() == [3.0]
    assert issues_of(from_csv) == []
    assert [i[3] for i in issues_of(from_xlsx)] == ["date stored as text", "number stored as text"]


# ====================================================================== errors

def test_missing_file(tmp_path):
    with pytest.raises(LoadError, match=r"nope\.xlsx: file not found"):
        load(tmp_path / "nope.xlsx")


def test_unsupported_extension(tmp_path):
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(LoadError, match=r"old\.xls: unsupported file type '\.xls'; expected \.xlsx, \.xlsm or \.csv"):
        load(path)


def test_not_a_zip(tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_text("日期,客服工号\n", encoding="utf-8")
    with pytest.raises(LoadError, match=r"fake\.xlsx: not a valid \.xlsx workbook"):
        load(path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.xlsx"
    path.write_bytes(b"")
    with pytest.raises(LoadError, match="empty"):
        load(path)


def test_damaged_zip(tmp_path):
    good = write_book(tmp_path / "good.xlsx", {"S": [["日期", "客服工号"], [D(2024, 3, 1), "A1"]]})
    damaged = tmp_path / "damaged.xlsx"
    data = good.read_bytes()
    damaged.write_bytes(data[: len(data) // 2])  # cut in half: the zip directory is lost
    with pytest.raises(LoadError, match=r"damaged\.xlsx"):
        load(damaged)


def test_a_zero_length_duration_is_kept_and_only_a_reversed_one_dropped(tmp_path):
    """The reversed-timestamp check is strict (later < earlier): equal timestamps are 0 minutes, not an error."""
    rows = [["日期", "客服工号", "创建时间", "首次响应时刻", "解决时刻"],
            ["2024-03-01", "A1", "2024-03-01 09:00", "2024-03-01 09:00", "2024-03-01 09:00"],  # 0 and 0
            ["2024-03-01", "A1", "2024-03-01 09:00", "2024-03-01 08:59", "2024-03-01 09:30"],  # answered 1 min early
            ["2024-03-01", "A1", "2024-03-01 09:00", "2024-03-01 09:05", "2024-03-01 09:04"]]  # resolved 1 min early
    ds = load(write_csv(tmp_path / "t.csv", rows, encoding="utf-8"))
    t = ds.tickets
    assert t["frt_min"].iloc[0] == 0 and t["resolve_min"].iloc[0] == 0
    assert pd.isna(t["frt_min"].iloc[1]) and pd.isna(t["resolve_min"].iloc[2])
    reversed_ = sorted((i.row, i.reason) for i in ds.quality.issues if i.reason.startswith("negative duration"))
    assert reversed_ == [(3, "negative duration: first response before created"),
                         (4, "negative duration: resolved before first response")]


def test_a_word_document_named_xlsx_is_not_an_excel_workbook(tmp_path):
    path = tmp_path / "report.xlsx"
    with zipfile.ZipFile(path, "w") as z:  # the parts of a .docx: a zip, but no workbook inside
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<document/>")
    with pytest.raises(LoadError) as caught:
        load(path)
    assert "report.xlsx: not an Excel workbook" in str(caught.value)
    assert "Calamine" not in str(caught.value)  # the user's words, not the library's


def test_password_protected_workbook(tmp_path):
    ooxml = pytest.importorskip("msoffcrypto.format.ooxml")
    plain = write_book(tmp_path / "plain.xlsx", {"响应时间统计表": [["日期", "客服工号"], [D(2024, 3, 1), "A1"]]})
    locked = tmp_path / "locked.xlsx"
    with open(plain, "rb") as src, open(locked, "wb") as out:
        ooxml.OOXMLFile(src).encrypt("secret", out)
    with pytest.raises(LoadError, match=r"locked\.xlsx: the workbook is password-protected"):
        load(locked)


def test_unreadable_file(tmp_path, monkeypatch):
    """A file another program holds locked (Windows) or without read permission. chmod 0 would not
    do as root, which reads any file, and CI runs as root: the refusal is made by the read itself."""
    path = write_book(tmp_path / "b.xlsx", {"S": [["日期", "客服工号"]]})
    real_read_bytes = Path.read_bytes

    def refused(self):
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read_bytes(self)
    monkeypatch.setattr(Path, "read_bytes", refused)
    with pytest.raises(LoadError, match=r"b\.xlsx: permission denied \(is the file locked by another program\?\)"):
        load(path)


def test_no_recognisable_sheet(tmp_path):
    path = write_book(tmp_path / "other.xlsx", {"Sheet1": [["名称", "数量"], ["苹果", 3]], "参数": [["x"]]})
    with pytest.raises(LoadError) as caught:
        load(path)
    assert str(caught.value) == (
        f"no sheet with ticket, feedback or call headers found in {path} (sheets: Sheet1, 参数); "
        "expected headers such as 日期, 客服工号, 首次响应时间(分钟)")


def test_no_recognisable_csv_header(tmp_path):
    path = write_csv(tmp_path / "x.csv", [["a", "b"], ["1", "2"]], encoding="utf-8")
    with pytest.raises(LoadError, match=r"no header row with call headers found in .*x\.csv; "
                                        r"expected headers such as 呼入时间, 等待时长\(秒\), 是否接通"):
        load(path, tables=("calls",))


def test_load_error_is_one_line(tmp_path):
    with pytest.raises(LoadError) as caught:
        load(tmp_path / "missing.csv")
    assert "\n" not in str(caught.value)


# ====================================================================== real data and size

@pytest.mark.realdata
def test_real_reviews_mapped_to_the_feedback_template(tmp_path):
    source = REALDATA / "olist_classified_reviews" / "olist_classified_public_dataset.csv"
    if not source.exists():
        absent(f"real data file {source} is absent")
    raw = pd.read_csv(source, dtype=str, keep_default_na=False)
    # rename the export's columns to the template's headers, as a user would
    mapped = pd.DataFrame({"工单编号": raw["id"], "日期": raw["review_creation_date"], "评分(1-5星)": raw["review_score"]})
    path = tmp_path / "feedback.csv"
    mapped.to_csv(path, index=False, encoding="utf-8-sig")
    ds = load(path)
    # independent reference: ids are unique in this export, scores are 1..5 integers as text
    scores = pd.to_numeric(raw["review_score"], errors="coerce")
    assert len(ds.feedback) == raw["id"].nunique() == len(raw)
    assert ds.feedback["rating"].notna().sum() == scores.between(1, 5).sum()
    assert ds.feedback["rating"].sum() == pytest.approx(scores[scores.between(1, 5)].sum())
    assert ds.feedback["date"].notna().sum() == (raw["review_creation_date"].str.strip() != "").sum()


@pytest.mark.realdata
def test_real_event_log_is_not_mistaken_for_a_template(tmp_path):
    source = REALDATA / "servicenow_incident_log" / "incident_event_log_2016-02-29_to_2016-03-20.csv"
    if not source.exists():
        absent(f"real data file {source} is absent")
    # it has priority/resolved_at/category but neither 日期 nor 客服工号: an importer's job, not load()'s
    with pytest.raises(LoadError, match="no header row with ticket, feedback or call headers"):
        load(source)


@pytest.mark.benchmark
def test_load_100k_ticket_rows(tmp_path):
    import time

    n = 100_000
    path = tmp_path / "big.xlsx"
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("响应时间统计表")
    ws.append(["客户服务响应时间统计表"])
    ws.append(TICKET_HEADERS + ["工单编号", "优先级", "渠道", "状态"])
    rng = np.random.default_rng(1)
    days = rng.integers(0, 90, n)
    frt = np.round(rng.exponential(3, n), 1)
    for i in range(n):
        ws.append([dt.datetime(2024, 1, 1) + dt.timedelta(days=int(days[i])), f"A{i % 50:03d}", "李娜", f"C{i % 9973}",
                   "咨询", float(frt[i]), 30.0, None, f"T{i:07d}", "二级", "APP", "已解决"])
    wb.save(path)
    start = time.perf_counter()
    ds = load(path)
    elapsed = time.perf_counter() - start
    print(f"\nload: {n} ticket rows in {elapsed:.2f} s")
    assert len(ds.tickets) == n
    assert ds.tickets["frt_min"].sum() == pytest.approx(frt.sum())


def test_columns_keep_every_cell_as_it_is():
    """Rectangular grids (one row-major copy) and ragged ones (column by column) alike: each
    mapped column holds its cells as they are, in order — a tuple, a list or an array one cell."""
    zero_d, pair, listed, moment, day = np.array(5), (1, 2), [3], T(2024, 3, 1, 8), D(2024, 3, 1)
    rows = [["a", 1.5, pair, None], [" b ", listed, zero_d, moment], ["", True, -0.0, day]]
    ragged = [row + [None] * i for i, row in enumerate(rows)]
    mapping = {0: "text", 2: "odd", 3: "when"}
    expected = {"text": ["a", " b ", ""], "odd": [pair, zero_d, -0.0], "when": [None, moment, day]}
    for grid in (rows, ragged):
        columns = load_module._columns(grid, mapping)
        assert list(columns) == ["text", "odd", "when"]
        for key, cells in columns.items():
            assert cells.dtype == object and cells.shape == (3,)
            assert all(got is want for got, want in zip(cells, expected[key], strict=True)), key
    assert load_module._columns([], mapping)["odd"].shape == (0,)
    same_shape = [[(1, 2), (3, 4)], [(5, 6), (7, 8)]]  # every cell a pair: still one cell each, not a 3-D array
    columns = load_module._columns(same_shape, {0: "x", 1: "y"})
    assert columns["x"].tolist() == [(1, 2), (5, 6)] and columns["y"].tolist() == [(3, 4), (7, 8)]
