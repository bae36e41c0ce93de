"""Importers (issue 11): small exports written here, expectations worked by hand."""
from __future__ import annotations

import datetime as dt
import math

import openpyxl
import pandas as pd
import pytest

from cs_xl import importers
from cs_xl.cli import main
from cs_xl.clock import Clock
from cs_xl.importers import calls, chatwoot, eventlog, freshdesk, generic, reviews, zendesk
from cs_xl.importers.base import ImportError_, preset_names
from cs_xl.kpis import headline
from cs_xl.load import load_grids


def write(path, text: str, encoding: str = "utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def kpis_of(imported):
    return headline(load_grids(importers.to_grids(imported)))


# ---------------------------------------------------------------- generic + maps

GENERIC_MAP = """
table = "tickets"
[source]
missing = ["?"]
[columns]
ticket_id = "No"
date = "Opened"
created_at = "Opened"
first_response_at = "Replied"
resolved_at = "Done"
agent_id = "Who"
priority = "Prio"
[values.priority]
Urgent = 1
Normal = 3
"""


def test_generic_maps_columns_values_and_computes_minutes(tmp_path):
    src = write(tmp_path / "export.csv",
                "No,Opened,Replied,Done,Who,Prio\n"
                "T1,2024-03-05 10:00,2024-03-05 10:02,2024-03-05 10:32,a1,Urgent\n"
                "T2,2024-03-05 11:00,2024-03-05 11:10,?,a2,Normal\n")
    mp = write(tmp_path / "m.toml", GENERIC_MAP)
    frame = generic.read(src, mp)
    assert list(frame["ticket_id"]) == ["T1", "T2"]
    assert list(frame["priority"]) == [1, 3]
    assert list(frame["frt_min"]) == [2.0, 10.0]          # reply − opened
    assert frame["resolve_min"].iloc[0] == 30.0            # done − reply (SPEC: from first response)
    assert math.isnan(frame["resolve_min"].iloc[1])        # '?' is blank, not a time
    k = kpis_of(generic.load(src, mp))
    assert k["frt_rate"] == 0.5    # 2 ≤ 3 met, 10 > 3 missed
    assert k["sla_rate"] == 1.0    # T1 一级 (5 min): 2 ≤ 5; T2 三级 (30 min): 10 ≤ 30


def test_business_clock_changes_the_computed_minutes(tmp_path):
    src = write(tmp_path / "export.csv",
                "No,Opened,Replied,Done,Who,Prio\n"
                "T1,2024-03-01 17:30,2024-03-04 09:30,2024-03-04 10:00,a1,Normal\n")
    mp = write(tmp_path / "m.toml", GENERIC_MAP)
    assert generic.read(src, mp)["frt_min"].iloc[0] == 60 * 64
    frame = generic.read(src, mp, Clock(mode="business"))
    assert frame["frt_min"].iloc[0] == 60 and frame["resolve_min"].iloc[0] == 30


def test_malformed_lines_are_reported_with_file_and_line(tmp_path):
    src = write(tmp_path / "export.csv",
                "No,Opened,Replied,Done,Who,Prio\n"
                "T1,2024-03-05 10:00,2024-03-05 10:02,,a1,Normal\n"
                "T2,2024-03-05 11:00,2024-03-05 11:10,,a2,Normal,EXTRA\n"
                "T3,yesterday,2024-03-05 11:10,,a3,Normal\n")
    result = generic.load(src, write(tmp_path / "m.toml", GENERIC_MAP))
    assert list(result.frame["ticket_id"]) == ["T1", "T3"]
    by_line = {(i.sheet, i.row, i.why.code, i.action) for i in result.issues}
    assert ("export.csv", 3, "field_count", "dropped") in by_line
    assert ("export.csv", 4, "not_date", "dropped") in by_line
    assert result.rejected() == {"7 fields where the header has 6": 1}


def test_gbk_export_is_decoded(tmp_path):
    src = write(tmp_path / "gbk.csv", "编号,日期,评分\nA1,2024-03-05,5\nA2,2024-03-06,4\n", "gbk")
    mp = write(tmp_path / "m.toml", '[columns]\nticket_id = "编号"\ndate = "日期"\nrating = "评分"\n')
    frame = reviews.read(src, mp)
    assert list(frame["rating"]) == [5, 4]


def test_unknown_column_in_the_map_is_one_clear_error(tmp_path):
    src = write(tmp_path / "export.csv", "No,When\nT1,2024-03-05\n")
    with pytest.raises(ImportError_, match=r"export.csv: column 'Opened' \(for date\) not in the header"):
        generic.read(src, write(tmp_path / "m.toml", GENERIC_MAP))


def test_presets_are_shipped():
    assert {"calls", "zendesk", "freshdesk", "chatwoot", "eventlog", "reviews", "generic",
            "servicenow", "helpdesk", "vinst", "olist"} <= set(preset_names())


# ---------------------------------------------------------------- helpdesk formats

ZENDESK = ("Id,Created at,Solved at,First reply time in minutes,First reply time in minutes within business hours,"
           "Assignee,Group,Via,Priority,Status,Reopens,Tags,Satisfaction Score\n"
           "1,2024-03-05 10:00,2024-03-05 12:00,2,2,Li,G1,web,Urgent,solved,0,vip,Good\n"
           "2,2024-03-05 10:00,2024-03-05 12:00,90,30,Li,G1,email,Normal,solved,1,,Bad\n"
           "3,2024-03-05 10:00,,5,5,Wang,G2,chat,Low,open,0,closed_by_merge x,Offered\n")


def test_zendesk_excludes_merged_tickets_and_splits_satisfaction(tmp_path):
    result = zendesk.load(write(tmp_path / "zd.csv", ZENDESK))
    tickets, feedback = result.frames["tickets"], result.frames["feedback"]
    assert list(tickets["ticket_id"]) == ["1", "2"]
    assert list(tickets["frt_min"]) == [2, 90]
    assert list(tickets["resolve_min"]) == [118, 30]   # created → solved (120) less the first reply
    assert list(tickets["priority"]) == [1, 3]
    assert list(feedback["satisfied"]) == ["是", "否"]
    assert [(i.row, i.why.code) for i in result.issues] == [(4, "excluded")]
    business = zendesk.read(write(tmp_path / "zd.csv", ZENDESK), clock=Clock(mode="business"))
    assert list(business["frt_min"]) == [2, 30]
    k = kpis_of(result)
    assert k["satisfied_rate"] == 0.5 and k["frt_rate"] == 0.5


def test_freshdesk_minutes_from_its_timestamps(tmp_path):
    src = write(tmp_path / "fd.csv",
                "Ticket ID,Created time,First responded time,Resolved time,Priority,Source,Group,Agent,Status,"
                "Satisfaction rating\n"
                "7,2024-03-05 09:00:00,2024-03-05 09:04:00,2024-03-05 10:04:00,High,Email,L1,Ann,Resolved,Happy\n")
    frame = freshdesk.read(src)
    assert (frame["frt_min"].iloc[0], frame["resolve_min"].iloc[0], frame["priority"].iloc[0]) == (4, 60, 2)


def test_chatwoot_offsets_become_workbook_time(tmp_path):
    src = write(tmp_path / "cw.csv",
                "id,created_at,first_reply_created_at,resolved_at,assignee,team,inbox,priority,status\n"
                "9,2024-03-05T01:00:00Z,2024-03-05T01:03:00Z,2024-03-05T02:03:00Z,bo,t,web,urgent,resolved\n")
    frame = chatwoot.read(src)
    assert frame["created_at"].iloc[0] == pd.Timestamp(2024, 3, 5, 9, 0)  # UTC 01:00 = 09:00 Shanghai
    assert (frame["frt_min"].iloc[0], frame["resolve_min"].iloc[0]) == (3, 60)


# ---------------------------------------------------------------- event logs

EVENTS = ("case,activity,time,who,lvl\n"
          "C1,Open,2024-03-05 09:00:00,sys,L1\n"
          "C1,Reply,2024-03-05 09:10:00,ann,L1\n"
          "C1,Waiting,2024-03-05 09:20:00,ann,L1\n"
          "C1,Reply,2024-03-05 10:20:00,ann,L1\n"
          "C1,Solve,2024-03-05 10:50:00,ann,L1\n"
          "C2,Open,2024-03-05 09:00:00,sys,L1\n"
          "C2,Reply,2024-03-05 09:02:00,bob,L1\n"
          "C2,Solve,2024-03-05 09:12:00,bob,L2\n"
          "C2,Solve,2024-03-05 09:12:00,bob,L2\n"
          "C3,Open,2024-03-05 09:00:00,sys,L1\n")
EVENT_MAP = """
[columns]
case = "case"
activity = "activity"
timestamp = "time"
resource = "who"
[activities]
first_response = ["Reply"]
resolved = ["Solve"]
pause = ["Waiting"]
[escalation]
column = "lvl"
values = ["L2"]
"""


def test_eventlog_cases_with_pause_duplicates_and_fcr(tmp_path):
    result = eventlog.load(write(tmp_path / "log.csv", EVENTS), write(tmp_path / "m.toml", EVENT_MAP))
    t = result.frame.set_index("ticket_id")
    # C1: reply 09:10 → frt 10; resolve 09:10 → 10:50 = 100 min less the wait 09:20 → 10:20 = 40
    assert (t.loc["C1", "frt_min"], t.loc["C1", "resolve_min"]) == (10, 40)
    assert bool(t.loc["C1", "transferred"]) and not bool(t.loc["C1", "first_contact_resolved"])  # two replies
    # C2: frt 2, resolve 10; escalated to L2 → not first contact; the repeated Solve row is a duplicate
    assert (t.loc["C2", "frt_min"], t.loc["C2", "resolve_min"]) == (2, 10)
    assert not bool(t.loc["C2", "first_contact_resolved"]) and t.loc["C2", "agent_id"] == "bob"
    assert t.loc["C3", "status"] == "处理中" and pd.isna(t.loc["C3", "frt_min"])
    assert [(i.row, i.why.code) for i in result.issues] == [(10, "duplicate_event")]
    k = kpis_of(result)
    assert k["volume"] == 3 and k["resolution_rate"] == pytest.approx(2 / 3) and k["fcr_rate"] == 0


# ---------------------------------------------------------------- calls

BANK = ("vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tvru_exit\tvru_time\tq_start\tq_exit\t"
        "q_time\toutcome\tser_start\tser_exit\tser_time\tserver\n"
        "AA0101\t1\t0\t2\tPS\t990201\t7:00:00\t7:00:10\t10\t7:00:10\t7:00:40\t30\tAGENT\t7:00:40\t7:02:40\t120\tDORIT\n"
        "AA0101\t2\t0\t0\tPS\t990201\t7:10:00\t7:10:10\t10\t7:10:10\t7:11:10\t60\tHANG\t0:00:00\t0:00:00\t0\tNO_SERVER\n"
        "AA0101\t3\t0\t0\tPS\t990201\t7:20:00\t7:20:30\t30\t0:00:00\t0:00:00\t0\tHANG\t0:00:00\t0:00:00\t0\tNO_SERVER\n"
        "AA0102\t1\t0\t1\tPS\t990201\t7:30:00\t7:30:05\t5\t0:00:00\t0:00:00\t0\tPHANTOM\t0:00:00\t0:00:00\t0\tNO_SERVER\n"
        "AA0102\t2\t0\t1\tPS\t990201\t7:40:00\t7:40:05\t5\t0:00:00\t0:00:00\t0\tAGENT\t7:40:05\t7:41:05\t60\tAVI\n")


def test_anonymous_bank_calls(tmp_path):
    result = calls.load(write(tmp_path / "bank.txt", BANK))
    c = result.frame
    assert list(c["call_id"]) == ["AA0101-1", "AA0101-2", "AA0101-3", "AA0102-2"]
    assert list(c["ivr_selfserved"]) == [False, False, True, False]   # HANG without queue ended in the IVR
    assert list(c["answered"]) == [True, False, False, True]
    assert c["start"].iloc[0] == pd.Timestamp(1999, 2, 1, 7, 0)
    assert [(i.row, i.why.code) for i in result.issues] == [(5, "phantom_call")]
    k = kpis_of(result)
    # offered 4, queued 3 (one IVR), answered 2: answer 2/3, abandon 1/3, ASA (30+0)/2, AHT (120+60)/2
    assert (k["offered"], k["queued"]) == (4, 3)
    assert k["answer_rate"] == pytest.approx(2 / 3) and k["ivr_rate"] == 0.25
    assert (k["asa"], k["aht"]) == (15, 90)


# ---------------------------------------------------------------- the command

def test_cli_import_writes_a_refreshed_book_and_appends_only_new_ids(tmp_path, capsys):
    first = write(tmp_path / "zd1.csv", ZENDESK)
    book = tmp_path / "book.xlsx"
    assert main(["import", "zendesk", str(first), "--out", str(book)]) == 0
    wb = openpyxl.load_workbook(book)
    assert {"响应时间统计表", "效果统计表", "汇总", "导入日志"} <= set(wb.sheetnames)
    ws = wb["响应时间统计表"]
    ids = [ws.cell(r, 9).value for r in range(3, ws.max_row + 1)]
    assert ids == ["1", "2"]
    log = wb["导入日志"]
    assert [c.value for c in log[2]][:2] == ["zd1.csv", 4]
    # the same export again plus one new ticket: only ticket 4 is added, rows 3–4 unchanged
    second = write(tmp_path / "zd2.csv", ZENDESK + "4,2024-03-06 10:00,,1,1,Li,G1,web,Normal,open,0,,\n")
    before = [[c.value for c in row] for row in ws.iter_rows(min_row=3, max_row=4)]
    assert main(["import", "zendesk", str(second), "--out", str(book), "--append"]) == 0
    ws = openpyxl.load_workbook(book)["响应时间统计表"]
    assert [[c.value for c in row] for row in ws.iter_rows(min_row=3, max_row=4)] == before
    assert [ws.cell(r, 9).value for r in range(3, ws.max_row + 1)] == ["1", "2", "4"]
    # without --append an existing book is refused, unchanged
    assert main(["import", "zendesk", str(first), "--out", str(book)]) == 2
    assert "exists; use --append" in capsys.readouterr().err


def test_cli_import_keeps_formula_like_text_as_text(tmp_path):
    src = write(tmp_path / "evil.csv",
                "No,Opened,Replied,Done,Who,Prio\n"
                'T1,2024-03-05 10:00,2024-03-05 10:02,,"=HYPERLINK(""http://x"")",Normal\n'
                "T2,2024-03-05 10:00,2024-03-05 10:02,,\t@SUM(1),Normal\n")
    book = tmp_path / "book.xlsx"
    assert main(["import", "generic", str(src), "--map", str(write(tmp_path / "m.toml", GENERIC_MAP)),
                 "--out", str(book)]) == 0
    ws = openpyxl.load_workbook(book)["响应时间统计表"]
    cells = [ws.cell(3, 2), ws.cell(4, 2)]
    assert [c.value for c in cells] == ['=HYPERLINK("http://x")', "@SUM(1)"]
    assert all(c.data_type == "s" for c in cells)


def test_cli_import_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    src = write(tmp_path / "export.csv", "No,When\nT1,2024-03-05\n")
    assert main(["import", "generic", str(src), "--map", str(write(tmp_path / "m.toml", GENERIC_MAP))]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "export.csv" in err and "'Opened'" in err
    assert main(["import", "generic", str(src), "--map", "no_such_preset"]) == 2


def test_cli_import_json_without_a_book(tmp_path, capsys):
    assert main(["import", "calls", str(write(tmp_path / "bank.txt", BANK)), "--json"]) == 0
    import json
    out = json.loads(capsys.readouterr().out)
    assert out["offered"] == 4 and out["import"]["rejected"] == {"PHANTOM call (virtual, not a caller)": 1}
    assert out["data_quality"]["by_reason"]["PHANTOM call (virtual, not a caller)"] == 1


def test_cli_business_clock_is_used_and_stated(tmp_path, capsys):
    import json
    src = write(tmp_path / "export.csv",
                "No,Opened,Replied,Done,Who,Prio\n"
                "T1,2024-03-01 17:30,2024-03-04 09:30,2024-03-04 10:00,a1,Normal\n")
    mp = str(write(tmp_path / "m.toml", GENERIC_MAP))
    assert main(["import", "generic", str(src), "--map", mp, "--clock", "business", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["frt_avg"] == 60 and out["resolve_avg"] == 30
    assert out["definitions"]["clock"].startswith("business minutes 09:00–18:00")
    # the book written with that clock says so on its 参数 sheet, and cs-xl kpis states it too
    book = tmp_path / "b.xlsx"
    assert main(["import", "generic", str(src), "--map", mp, "--clock", "business", "--out", str(book),
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["frt_avg"] == 60  # refresh progress stays off stdout
    assert main(["kpis", str(book), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["frt_avg"] == 60 and out["definitions"]["clock"].startswith("business minutes")
