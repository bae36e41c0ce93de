"""数据质量 lists the first issues of each reason and counts the rest (a book whose every row has the
same flaw would otherwise give a sheet of a million cells); `cs-xl kpis --json --issues` lists all."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import openpyxl

from cs_xl.refresh import refresh
from cs_xl.report.build import ISSUES_LISTED_PER_REASON
from cs_xl.template import build_template, fill_inputs
from test_refresh import frames, quiet, table_at

ROOT = Path(__file__).resolve().parents[1]
PLANTED = ISSUES_LISTED_PER_REASON + 60   # tickets typed with a negative first response
FIRST_DATA_ROW = 3                        # title row, header row, then records


def book_with_negative_times(path: Path) -> Path:
    data = frames(PLANTED + 100)
    frt = data["tickets"]["frt_min"].copy()
    frt[:] = [2.5] * len(frt)
    frt.iloc[:PLANTED] = -4.0
    data["tickets"]["frt_min"] = frt
    wb = build_template("zh")
    fill_inputs(wb, data, "zh")
    wb.save(path)
    return path


def tables(ws) -> list[tuple[list, list[list]]]:
    """(header, rows) of every table on the sheet whose header row starts with 工作表."""
    return [table_at(ws, c.row) for c in ws["A"] if c.value == "工作表"]


def test_quality_sheet_lists_the_first_issues_of_a_reason_and_counts_the_rest(tmp_path):
    path = book_with_negative_times(tmp_path / "book.xlsx")
    refresh(path, progress=quiet)
    ws = openpyxl.load_workbook(path)["数据质量"]
    (reason_header, reasons), (list_header, listed) = tables(ws)  # the audit list starts with 周
    assert reason_header == ["工作表", "原因", "处理", "数量", "未列出"]
    assert list_header == ["工作表", "原因", "处理", "行号", "列", "原值"]
    planted = [r for r in reasons if r[0] == "响应时间统计表" and r[3] == PLANTED]
    assert len(planted) == 1 and planted[0][4] == PLANTED - ISSUES_LISTED_PER_REASON
    assert all(r[4] == 0 for r in reasons if r is not planted[0])
    reason = planted[0][1]
    shown = [r[3] for r in listed if r[0] == "响应时间统计表" and r[1] == reason]
    # the first ones, in row order: the rows typed first
    assert shown == list(range(FIRST_DATA_ROW, FIRST_DATA_ROW + ISSUES_LISTED_PER_REASON))
    # every other reason is listed in full
    assert len(listed) == sum(r[3] for r in reasons) - (PLANTED - ISSUES_LISTED_PER_REASON)
    assert any(isinstance(c.value, str) and "--issues" in c.value for row in ws.iter_rows() for c in row)


def test_kpis_issues_lists_every_issue(tmp_path):
    path = book_with_negative_times(tmp_path / "book.xlsx")
    run = subprocess.run([sys.executable, "-m", "cs_xl", "kpis", str(path), "--json", "--issues"],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    quality = json.loads(run.stdout)["data_quality"]
    assert len(quality["list"]) == quality["issues"]
    negative = [i for i in quality["list"] if i["sheet"] == "响应时间统计表" and i["value"] == -4]
    assert [i["row"] for i in negative] == list(range(FIRST_DATA_ROW, FIRST_DATA_ROW + PLANTED))
    assert {i["column"] for i in negative} == {"首次响应时间(分钟)"}
    refused = subprocess.run([sys.executable, "-m", "cs_xl", "kpis", str(path), "--issues"],
                             capture_output=True, text=True, cwd=ROOT)
    assert refused.returncode == 2 and "--issues" in refused.stderr
