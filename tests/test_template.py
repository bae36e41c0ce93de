"""The blank standard template, the committed template files, and fill_inputs."""
from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl.utils import get_column_letter
from python_calamine import CalamineWorkbook

from cs_xl import catalogue, schema
from cs_xl.params import read_params_from_book
from cs_xl.settings import Settings
from cs_xl.template import build_template, fill_inputs, write_template

REPO = Path(__file__).resolve().parents[1]
COMMITTED = {"zh": REPO / "workbook" / "cs_template.xlsx", "en": REPO / "workbook" / "cs_template_en.xlsx"}
# issue 4: 说明, 参数, the three input sheets, then the generated sheets (汇总 first)
SHEETS = {"zh": ["说明", "参数", "响应时间统计表", "效果统计表", "话务记录", "实时看板",
                 "汇总", "分析报告", "按客服", "按维度", "趋势", "时段负荷", "预警", "人力建议", "优化前后", "帕累托", "客群差异", "数据质量"],
          "en": ["Read me", "Settings", "Tickets", "Feedback", "Calls", "Live KPIs",
                 "Summary", "Analysis report", "By agent", "Breakdowns", "Trends", "Load", "Alerts",
                 "Staffing advice", "Before-after", "Pareto", "Segment gaps", "Data quality"]}
INPUTS = {"zh": {"tickets": "响应时间统计表", "feedback": "效果统计表", "calls": "话务记录"},
          "en": {"tickets": "Tickets", "feedback": "Feedback", "calls": "Calls"}}
# seed 000: 表头字段：日期、客服工号、客服姓名、客户ID、问题类型、首次响应时间(分钟)、问题解决时间(分钟)、备注
SEED_HEADERS = ["日期", "客服工号", "客服姓名", "客户ID", "问题类型", "首次响应时间(分钟)", "问题解决时间(分钟)", "备注"]
# SPEC §3, in the order of its table
SPEC_METRICS = ["volume", "frt_rate", "frt_avg", "frt_median", "frt_p90", "resolve_avg", "resolve_median",
                "resolve_p90", "handle_avg", "sla_rate", "resolution_rate", "ontime_rate", "backlog", "fcr_rate",
                "csat_avg", "csat_rate", "satisfied_rate", "survey_rate", "nps", "attitude_avg", "complaint_rate",
                "repeat_complaint_rate", "offered", "queued", "answer_rate", "abandon_rate", "asa", "avg_wait",
                "service_level", "aht", "ivr_rate", "agents_needed"]


def snapshot(wb) -> dict:
    """Everything a user sees or the tool relies on, independent of zip bytes."""
    out = {"sheets": wb.sheetnames}
    for ws in wb.worksheets:
        out[ws.title] = {
            "cells": {c.coordinate: c.value for row in ws.iter_rows() for c in row if c.value is not None},
            "tables": sorted((t.name, t.ref, t.tableStyleInfo.name if t.tableStyleInfo else None)
                             for t in ws.tables.values()),
            "validations": sorted((str(dv.sqref), dv.type, dv.operator, dv.formula1, dv.formula2)
                                  for dv in ws.data_validations.dataValidation),
            "merged": sorted(str(r) for r in ws.merged_cells.ranges),
            "freeze": ws.freeze_panes,
        }
    return out


def saved(wb, path: Path):
    wb.save(path)
    return openpyxl.load_workbook(path)


@pytest.fixture(scope="module", params=["zh", "en"])
def lang(request):
    return request.param


@pytest.fixture(scope="module")
def template(lang, tmp_path_factory):
    return saved(build_template(lang), tmp_path_factory.mktemp("tpl") / f"t_{lang}.xlsx")


def test_committed_template_equals_fresh_build(lang, template):
    committed = openpyxl.load_workbook(COMMITTED[lang])
    assert snapshot(committed) == snapshot(template), \
        "workbook/ templates are stale: run `python workbook/build_template.py` and commit them"


def test_template_does_not_depend_on_the_build_day(lang, template, monkeypatch, tmp_path):
    """Issue 7: a template built on another day is cell for cell the same (no 数据截至 without records)."""
    monkeypatch.setattr(Settings, "today", lambda self: dt.date(2031, 7, 9))
    other_day = saved(build_template(lang), tmp_path / "other_day.xlsx")
    assert snapshot(other_day) == snapshot(template)


def test_sheet_order(lang, template):
    assert template.sheetnames == SHEETS[lang]


@pytest.mark.parametrize("key", ["tickets", "feedback", "calls"])
def test_input_sheet_headers_tables_and_layout(lang, template, key):
    ws = template[INPUTS[lang][key]]
    columns = schema.TABLES[key].columns
    headers = [c.value for c in ws[2]]
    assert headers == [c.header(lang) for c in columns]
    last = get_column_letter(len(columns))
    [table] = ws.tables.values()
    assert table.ref == f"A2:{last}3"  # header + one empty row
    assert table.tableStyleInfo.name.startswith("TableStyle")
    assert ws["A1"].value and f"A1:{last}1" in [str(r) for r in ws.merged_cells.ranges]  # title row
    assert ws.freeze_panes == "A3"
    assert all(ws.cell(3, c).value is None for c in range(1, len(columns) + 1))
    widths = [ws.column_dimensions[get_column_letter(i)].width for i in range(1, len(columns) + 1)]
    assert all(w >= 8 for w in widths)


def test_required_ticket_columns_first_in_seed_order():
    ws = build_template("zh")["响应时间统计表"]
    assert [c.value for c in ws[2]][:8] == SEED_HEADERS


def validations_by_header(ws) -> dict:
    headers = {c.column: c.value for c in ws[2]}
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            out[headers[rng.min_col]] = (dv, rng)
    return out


def test_dropdowns_and_number_checks(lang, template):
    t = schema.TICKETS
    checks = validations_by_header(template[INPUTS[lang]["tickets"]])
    checks.update(validations_by_header(template[INPUTS[lang]["feedback"]]))
    calls = validations_by_header(template[INPUTS[lang]["calls"]])
    for key in ("issue_type", "channel", "customer_type", "priority", "status"):
        dv, _ = checks[t.column(key).header(lang)]
        assert dv.type == "list"
        if lang == "zh":
            vocab = {"issue_type": schema.ISSUE_TYPES, "channel": schema.CHANNELS,
                     "customer_type": schema.CUSTOMER_TYPES, "priority": schema.PRIORITIES,
                     "status": schema.STATUSES}[key]
            assert dv.formula1 == '"' + ",".join(vocab) + '"'
    satisfied, _ = checks[schema.FEEDBACK.column("satisfied").header(lang)]
    assert satisfied.type == "list"
    if lang == "zh":
        assert satisfied.formula1 == '"是,否,未评价"'
    for key in ("frt_min", "resolve_min"):  # a ticket is not open for ten years: 10 × 365 × 1440 minutes
        dv, _ = checks[t.column(key).header(lang)]
        assert (dv.type, dv.operator, dv.formula1, dv.formula2) == ("decimal", "between", "0", "5256000")
    for key in ("wait_s", "talk_s", "hold_s", "wrap_s"):  # a call does not last a day: 24 × 3600 seconds
        dv, _ = calls[schema.CALLS.column(key).header(lang)]
        assert (dv.type, dv.operator, dv.formula1, dv.formula2) == ("decimal", "between", "0", "86400")
    for key, lo, hi in (("rating", "1", "5"), ("attitude", "1", "5"), ("nps", "0", "10")):
        dv, _ = checks[schema.FEEDBACK.column(key).header(lang)]
        assert (dv.type, dv.operator, dv.formula1, dv.formula2) == ("decimal", "between", lo, hi)
    date_dv, rng = checks[t.column("date").header(lang)]
    assert date_dv.type == "date"
    assert (rng.min_row, rng.max_row) == (3, 10_002)  # 10,000 rows below the header


def test_readme_explains_workflow_metrics_and_example(lang, template):
    ws = template[SHEETS[lang][0]]
    text = "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)
    from cs_xl.catalogue import METRICS
    for key in SPEC_METRICS:
        assert key in text
        assert METRICS[key].name(lang) in text
    if lang == "zh":
        for step in ("明确统计周期与范围", "收集原始数据", "录入模板表格", "计算核心指标", "分析报告"):
            assert step in text
    # seed 000's example rows live on 说明 ...
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    assert any(r[:8] == [dt.datetime(2024, 3, 1), "C001", "*小王", "U00123", "物流咨询", 3, 15, None] for r in rows)
    assert any(r[:8] == [dt.datetime(2024, 3, 1), "C002", "*李娜", "U00456", "投诉", 5, 25, "客户情绪激动"] for r in rows)
    # ... and not in the input tables
    for sheet in INPUTS[lang].values():
        assert template[sheet].max_row <= 3


def test_readme_promises_only_what_this_version_does(lang, template):
    """No 「刷新报表」 button yet, and only CS_… functions that exist: the 说明 sheet says how to refresh today."""
    import re

    from cs_xl.excel_functions import FUNCTIONS
    ws = template[SHEETS[lang][0]]
    text = "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)
    for promise in ("刷新报表」", "按钮", "Refresh report", "Press "):
        assert promise not in text, promise
    assert "cs-xl refresh" in text and "cs-xl kpis" in text
    named = set(re.findall(r"CS_[A-Z_]+", text))
    assert named and named <= set(FUNCTIONS), named - set(FUNCTIONS)


def test_settings_sheet_holds_defaults(lang, tmp_path):
    path = tmp_path / "t.xlsx"
    build_template(lang).save(path)
    assert read_params_from_book(path) == Settings(lang=lang)


def test_committed_files_reopen():
    for path in COMMITTED.values():
        assert openpyxl.load_workbook(path).sheetnames
        assert CalamineWorkbook.from_path(str(path)).sheet_names


def test_write_template(tmp_path):
    out = write_template(tmp_path / "x.xlsx", lang="en")
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == SHEETS["en"]
    assert book.active.title == "Read me"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_blank_dashboard_lists_kpi_cards_with_targets(lang):
    """The blank 汇总 already shows the headline KPIs and their targets, values empty."""
    from cs_xl.settings import DEFAULT_TARGETS
    ws = build_template(lang)[SHEETS[lang][6]]
    cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
    texts = {str(c.value) for c in cells}
    labels = {catalogue.get("frt_rate").name(lang)}
    assert any(label in t for t in texts for label in labels)
    numbers = [c.value for c in cells if isinstance(c.value, (int, float))]
    for target, _direction in DEFAULT_TARGETS.values():
        assert target in numbers


# ------------------------------------------------------------------ fill_inputs

def test_fill_writes_values_as_given(tmp_path):
    wb = build_template("zh")
    frame = pd.DataFrame({
        "date": [pd.Timestamp("2024-03-01"), "2024/3/2"],
        "agent_id": ["C001", "C002"],
        "frt_min": [3, "5分钟"],
        "resolve_min": [15.5, None],
        "created_at": [pd.Timestamp("2024-03-01 09:30:00"), pd.NaT],
    })
    assert fill_inputs(wb, {"tickets": frame}) == {"tickets": 2}
    ws = saved(wb, tmp_path / "f.xlsx")["响应时间统计表"]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=3, max_row=4)]
    col = {c.value: i for i, c in enumerate(ws[2])}
    assert rows[0][col["日期"]] == dt.datetime(2024, 3, 1)
    assert rows[1][col["日期"]] == "2024/3/2"          # dirty text kept for the loader to report
    assert rows[0][col["首次响应时间(分钟)"]] == 3
    assert rows[1][col["首次响应时间(分钟)"]] == "5分钟"
    assert rows[0][col["问题解决时间(分钟)"]] == 15.5
    assert rows[1][col["问题解决时间(分钟)"]] is None   # missing → empty cell
    assert rows[0][col["创建时间"]] == dt.datetime(2024, 3, 1, 9, 30)
    last = get_column_letter(len(schema.TICKETS.columns))  # the table spans every column of the schema
    assert ws.tables["Tickets"].ref == f"A2:{last}4" and last == "Z"


INJECTIONS = ["=HYPERLINK(\"http://x\",\"y\")", "+86 138 0000 0000", "-2+3", "@SUM(A1:A2)", "=1+1"]


def test_formula_like_text_is_stored_as_text(tmp_path):
    wb = build_template("zh")
    fill_inputs(wb, {"tickets": pd.DataFrame({"agent_id": ["C001"] * 5, "note": INJECTIONS})})
    path = tmp_path / "inj.xlsx"
    wb.save(path)
    ws = openpyxl.load_workbook(path)["响应时间统计表"]
    notes = [ws.cell(r, 8) for r in range(3, 8)]
    assert [c.value for c in notes] == INJECTIONS
    assert all(c.data_type == "s" for c in notes)
    with zipfile.ZipFile(path) as z:
        sheet_xml = z.read("xl/worksheets/sheet3.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml   # no formula element anywhere
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("响应时间统计表").to_python()
    assert [r[7] for r in rows[2:7]] == INJECTIONS


def test_fill_appends_and_extends_validations(tmp_path):
    wb = build_template("zh")
    n = 10_050
    fill_inputs(wb, {"calls": pd.DataFrame({"start": pd.date_range("2024-03-01", periods=n, freq="min")})})
    fill_inputs(wb, {"calls": pd.DataFrame({"start": [pd.Timestamp("2024-06-01 08:00")], "wait_s": ["2分"]})})
    ws = saved(wb, tmp_path / "big.xlsx")["话务记录"]
    last = 2 + n + 1  # header on row 2, n rows, then the appended one
    assert ws.tables["Calls"].ref == f"A2:K{last}"
    # columns: A 话务编号, B 呼入时间, C 等待时长(秒)
    assert ws.cell(last, 2).value == dt.datetime(2024, 6, 1, 8, 0)
    assert ws.cell(last, 3).value == "2分"
    assert ws.cell(last - 1, 2).value == dt.datetime(2024, 3, 1) + dt.timedelta(minutes=n - 1)
    assert ws.cell(3, 2).value == dt.datetime(2024, 3, 1)
    for dv in ws.data_validations.dataValidation:
        assert all(r.max_row == last for r in dv.sqref.ranges)


def test_fill_english_template():
    wb = build_template("en")
    fill_inputs(wb, {"feedback": pd.DataFrame({"ticket_id": ["T1"], "rating": [5]})}, lang="en")
    ws = wb["Feedback"]
    assert (ws["A3"].value, ws["D3"].value) == ("T1", 5)


def test_fill_rejects_unknown_columns_and_tables():
    wb = build_template("zh")
    with pytest.raises(ValueError, match="frt"):
        fill_inputs(wb, {"tickets": pd.DataFrame({"frt": [1]})})
    with pytest.raises(ValueError, match="unknown table 'orders'"):
        fill_inputs(wb, {"orders": pd.DataFrame({"x": [1]})})


def test_loader_reads_a_filled_template(tmp_path):
    from cs_xl.load import load  # the product's own module: never skipped
    wb = build_template("zh")
    fill_inputs(wb, {"tickets": pd.DataFrame({
        "date": [pd.Timestamp("2024-03-01")] * 2, "agent_id": ["C001", "C002"],
        "frt_min": [3, "5分钟"], "resolve_min": [15, 25]})})
    wb.save(tmp_path / "l.xlsx")
    ds = load(tmp_path / "l.xlsx")
    assert ds.tickets["frt_min"].tolist() == [3.0, 5.0]
    assert ds.tickets["_row"].tolist() == [3, 4]
