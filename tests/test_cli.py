"""cs-xl command line: JSON contract, readable table, errors (exit 2, one line, no traceback)."""
import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cs_xl.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]

# SPEC §5 names these keys explicitly; SPEC §3 adds the rest of the catalogue
SPEC5_KEYS = ("frt_rate frt_avg frt_median frt_p90 resolve_avg sla_rate resolution_rate fcr_rate csat_avg "
              "csat_rate satisfied_rate nps complaint_rate repeat_complaint_rate answer_rate abandon_rate asa "
              "avg_wait service_level aht ivr_rate volume offered").split()
SPEC3_KEYS = ("volume frt_rate frt_avg frt_median frt_p90 resolve_avg resolve_median resolve_p90 handle_avg "
              "sla_rate resolution_rate ontime_rate backlog fcr_rate csat_avg csat_rate satisfied_rate "
              "survey_rate nps attitude_avg complaint_rate repeat_complaint_rate offered queued answer_rate "
              "abandon_rate asa avg_wait service_level aht ivr_rate agents_needed").split()


def run(*args, check_rc=None, env=None):
    proc = subprocess.run([sys.executable, "-m", "cs_xl.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, env=env)
    if check_rc is not None:
        assert proc.returncode == check_rc, proc.stderr
    return proc


@pytest.fixture
def tickets_csv(tmp_path):
    """A small English-header export: FRT ≤ 3 for 4 of 6 valid values."""
    path = tmp_path / "tickets.csv"
    rows = [
        ["Date", "Agent ID", "Team", "First response (min)", "Resolution (min)", "Status"],
        ["2024-03-01", "C001", "A", "1", "10", "已解决"],
        ["2024-03-01", "C001", "A", "3", "20", "已解决"],
        ["2024-03-02", "C002", "B", "4.5", "", "处理中"],
        ["2024-03-02", "C002", "B", "2", "40", "已解决"],
        ["2024-03-03", "C003", "B", "9", "60", "已关闭"],
        ["2024-03-03", "C003", "B", "0.5", "5", "已解决"],
        ["2024-03-04", "C003", "B", "#N/A", "", "待确认"],
    ]
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path


def test_kpis_survive_huge_finite_durations(tmp_path):
    """Two 1e308-second talk times used to overflow the AHT to inf and crash agents_needed:
    they are dropped as out of bounds, named on the quality counts, and the rest is computed."""
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "话务记录"
    ws.append(["呼入时间", "等待时长(秒)", "是否接通", "通话时长(秒)"])
    for minute, talk in ((0, 1e308), (10, 1e308), (20, 100), (30, 200)):
        ws.append([f"2024-03-04 09:{minute:02d}", 10, "是", talk])
    wb.save(tmp_path / "calls.xlsx")
    out = json.loads(run("kpis", tmp_path / "calls.xlsx", "--json", check_rc=0).stdout)
    assert out["aht"] == 150  # (100 + 200) / 2: the two huge cells left out
    assert out["offered"] == 4
    assert out["data_quality"]["by_reason"]["outside 0-86400"] == 2
    # 4 calls in one Monday 09:00 slot, AHT 150 s: A = 4 × 150 / 3600 = 1/6 Erlang; one agent
    # answers within 20 s with 1 − C(1, A)·e^(−(1 − A)·20/150) = 1 − (1/6)·e^(−1/9) ≈ 0.85 ≥ 0.8
    assert out["agents_needed"] == 1


def test_json_numbers_match_hand_computation(tickets_csv):
    out = json.loads(run("kpis", tickets_csv, "--json", check_rc=0).stdout)
    for key in SPEC3_KEYS + SPEC5_KEYS:
        assert key in out, key
    assert out["volume"] == 7
    assert abs(out["frt_rate"] - 4 / 6) < 1e-9          # 1, 3, 2, 0.5 of 1, 3, 4.5, 2, 9, 0.5
    assert abs(out["frt_avg"] - (1 + 3 + 4.5 + 2 + 9 + 0.5) / 6) < 1e-9
    assert abs(out["resolution_rate"] - 5 / 7) < 1e-9
    assert out["csat_rate"] is None and out["answer_rate"] is None  # no feedback/call sheet → null
    assert out["data_quality"]["by_reason"].get("Excel error value") == 1


def test_threshold_flag(tickets_csv):
    out = json.loads(run("kpis", tickets_csv, "--json", "--threshold", "5", check_rc=0).stdout)
    assert abs(out["frt_rate"] - 5 / 6) < 1e-9


def test_by_team_one_object_per_group(tickets_csv):
    groups = json.loads(run("kpis", tickets_csv, "--json", "--by", "team", check_rc=0).stdout)
    assert [g["team"] for g in groups] == ["A", "B"]
    assert abs(groups[0]["frt_rate"] - 1.0) < 1e-9       # 1, 3
    assert abs(groups[1]["frt_rate"] - 2 / 4) < 1e-9     # 4.5, 2, 9, 0.5
    # a header works as well as a key
    by_header = json.loads(run("kpis", tickets_csv, "--json", "--by", "Team", check_rc=0).stdout)
    assert by_header == groups


def test_from_to_and_where(tickets_csv):
    out = json.loads(run("kpis", tickets_csv, "--json", "--from", "2024-03-02", "--to", "2024-03-02",
                         check_rc=0).stdout)
    assert out["volume"] == 2 and abs(out["frt_rate"] - 1 / 2) < 1e-9
    out = json.loads(run("kpis", tickets_csv, "--json", "--where", "agent_id=C003", check_rc=0).stdout)
    assert out["volume"] == 3 and abs(out["frt_rate"] - 1 / 2) < 1e-9


def test_readable_table_is_aligned_with_chinese_labels(tickets_csv):
    text = run("kpis", tickets_csv, check_rc=0).stdout
    assert "首次响应达标率" in text and "(frt_rate)" in text
    assert "66.7%" in text  # 4/6
    assert "—" in text      # undefined metrics are shown as a dash, never 0


@pytest.mark.parametrize("args, pattern", [
    (["kpis", "/nonexistent/book.xlsx"], r"book\.xlsx"),
    (["kpis", "{tmp}/notes.txt"], r"notes\.txt"),
    (["kpis", "{csv}", "--by", "nosuchcolumn"], r"nosuchcolumn"),
    (["kpis", "{csv}", "--where", "novalue"], r"KEY=VALUE"),
    (["kpis", "{csv}", "--threshold", "-1"], r"--threshold: .*'-1'"),
    (["kpis", "{csv}", "--threshold", "nan"], r"--threshold: .*'nan'"),
    (["kpis", "{csv}", "--threshold", "inf"], r"--threshold: .*'inf'"),
    (["kpis", "{csv}", "--from", "2024-13-01"], r"--from: .*2024-13-01"),  # argparse's own errors, one line too
    (["kpis"], r"required: path"),
    (["refresh", "{csv}"], r"tickets\.csv: refresh .*workbook .*cs-xl template"),
    (["refresh", "{tmp}/missing.xlsx", "--out", "{tmp}/out.csv"], r"out\.csv: refresh .*workbook"),
])
def test_errors_are_one_line_exit_2(tmp_path, tickets_csv, args, pattern):
    (tmp_path / "notes.txt").write_text("hello")
    args = [a.format(tmp=tmp_path, csv=tickets_csv) for a in args]
    proc = run(*args)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and re.search(pattern, lines[0]), proc.stderr


def test_csv_without_known_headers_is_an_error(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    proc = run("kpis", path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_readme_lists_every_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = build_parser()._subparsers._group_actions[0].choices
    for name in commands:
        assert f"cs-xl {name}" in readme, f"README does not mention cs-xl {name}"
    first = readme.splitlines()[:12]
    assert any("pip install -e . && cs-xl demo" in line for line in first)
    assert any('pip install -e ".[test]" && pytest' in line for line in first)


def test_readme_names_every_option_of_every_command():
    """The README's command table and `cs-xl COMMAND --help` list the same flags (e.g. --force)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `cs-xl (\w+).*", readme, re.M)}
    for name, sub in build_parser()._subparsers._group_actions[0].choices.items():
        flags = [o for a in sub._actions for o in a.option_strings if o.startswith("--") and o != "--help"]
        for flag in flags:
            assert flag in rows[name], f"README's row for cs-xl {name} lacks {flag}"


def test_bad_settings_value_is_one_line_naming_the_cell(tmp_path):
    from cs_xl.template import build_template
    wb = build_template("zh")
    ws = wb["参数"]
    row = next(r for r in ws.iter_rows() if any(c.value == "frt_threshold_min" for c in r))
    value_cell = row[1]
    value_cell.value = "abc"
    path = tmp_path / "book.xlsx"
    wb.save(path)
    proc = run("kpis", path, "--json")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"参数!{value_cell.coordinate}" in proc.stderr and "abc" in proc.stderr


def dashboard_script():
    """docs/render_dashboard.py as a module: the README picture's day and record."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("render_dashboard", ROOT / "docs" / "render_dashboard.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def demo_book(tmp_path_factory):
    """The demo on the README picture's day (the day does not change a demo number: the sample has no
    future dates then or now)."""
    out = tmp_path_factory.mktemp("demo") / "cs_demo.xlsx"
    proc = run("demo", "--out", out, check_rc=0, env=dashboard_script().demo_env())
    return out, proc


def test_committed_dashboard_picture_shows_todays_demo(demo_book):
    """docs/dashboard.png is the README's picture of 汇总: docs/dashboard.json records which 汇总 it shows
    and which picture. A change to the demo's 汇总 fails here until the picture is rendered again."""
    import hashlib
    script = dashboard_script()
    out, _ = demo_book
    recorded = json.loads(script.RECORD.read_text(encoding="utf-8"))
    assert recorded["png_sha256"] == hashlib.sha256(script.DASHBOARD.read_bytes()).hexdigest(), \
        "docs/dashboard.png was changed by hand: run python3 docs/render_dashboard.py"
    fresh = script.summary_cells(out)
    stale = sorted(c for c in fresh.keys() | recorded["summary_cells"].keys()
                   if fresh.get(c) != recorded["summary_cells"].get(c))
    assert not stale, f"汇总 changed at {stale[:10]}: run python3 docs/render_dashboard.py"
    as_of = next(coord for coord, value in fresh.items() if value == "数据截至")
    below = re.sub(r"\d+$", lambda m: str(int(m.group()) + 1), as_of)  # the header's value is below it
    assert recorded["today"] == script.DEMO_TODAY.isoformat() == fresh[below][:10]


def test_source_date_epoch_fixes_the_clock(tmp_path):
    """The one clock: with SOURCE_DATE_EPOCH at 2024-06-01, a ticket dated 2024-06-05 is a future date;
    without it (the real today, after 2024) it is not."""
    import os
    import openpyxl
    book = tmp_path / "t.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "响应时间统计表"
    ws.append(["日期", "客服工号", "首次响应时间(分钟)"])
    ws.append(["2024-05-30", "C1", 2])
    ws.append(["2024-06-05", "C1", 4])
    wb.save(book)
    fixed = {**os.environ, "SOURCE_DATE_EPOCH": str(1717243200)}  # 2024-06-01 12:00 UTC
    then = json.loads(run("kpis", book, "--json", check_rc=0, env=fixed).stdout)["data_quality"]
    now = json.loads(run("kpis", book, "--json", check_rc=0).stdout)["data_quality"]
    assert then["flagged"] == 1 and now["flagged"] == 0
    bad = run("kpis", book, "--json", env={**os.environ, "SOURCE_DATE_EPOCH": "next tuesday"})
    assert bad.returncode == 2 and "SOURCE_DATE_EPOCH" in bad.stderr and "Traceback" not in bad.stderr


def test_demo_prints_kpis_and_writes_every_sheet(demo_book):
    out, proc = demo_book
    assert "首次响应达标率" in proc.stdout and str(out.name) in proc.stdout
    from python_calamine import CalamineWorkbook
    names = CalamineWorkbook.from_path(str(out)).sheet_names
    for sheet in ("说明", "参数", "响应时间统计表", "效果统计表", "话务记录",
                  "汇总", "按客服", "按维度", "趋势", "时段负荷", "数据质量"):
        assert sheet in names


def test_kpis_json_on_demo_has_every_spec_key(demo_book):
    import pandas as pd
    out, _ = demo_book
    values = json.loads(run("kpis", out, "--json", check_rc=0).stdout)
    for key in SPEC5_KEYS + SPEC3_KEYS:
        assert key in values and values[key] is not None, key   # the demo has every sheet and column
    assert values["data_quality"]["issues"] > 0                   # the demo plants dirty rows
    # independent counts from the raw sheets: distinct ticket ids, call rows
    tickets = pd.read_excel(out, sheet_name="响应时间统计表", header=1, engine="calamine")
    calls = pd.read_excel(out, sheet_name="话务记录", header=1, engine="calamine")
    assert values["volume"] == tickets["工单编号"].dropna().nunique()
    assert values["offered"] == len(calls.dropna(how="all"))


def test_demo_printout_matches_the_refreshed_dashboard(demo_book):
    """What `cs-xl demo` prints is what its 汇总 shows (both read the book's 参数)."""
    import openpyxl
    out, proc = demo_book
    ws = openpyxl.load_workbook(out, read_only=True)["汇总"]
    row = next(r for r in ws.iter_rows(values_only=True) if r and str(r[0]).startswith("首次响应达标率"))
    printed = re.search(r"\(frt_rate\)\s+([\d.]+)%", proc.stdout).group(1)
    assert printed == f"{row[1] * 100:.1f}"


def test_version_and_module_entry_point():
    import cs_xl
    proc = subprocess.run([sys.executable, "-m", "cs_xl", "--version"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0 and proc.stdout.strip() == f"cs-xl {cs_xl.__version__}"
    proc = subprocess.run([sys.executable, "-m", "cs_xl", "kpis"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2 and "path" in proc.stderr  # argparse names the missing argument


@pytest.fixture
def typed_book(tmp_path):
    """The blank template with tickets and calls typed as a new user would: 日期 filled, the optional
    创建时间 blank except T4 (Saturday 10:15) and T5 (created Sunday 2024-03-31 23:50, 日期 Monday 04-01).
    2024-03-04 is a Monday, 03-05 a Tuesday, 03-09 a Saturday."""
    import pandas as pd
    from cs_xl.template import build_template, fill_inputs
    wb = build_template("zh")
    fill_inputs(wb, {
        "tickets": pd.DataFrame({
            "date": pd.to_datetime(["2024-03-04", "2024-03-04", "2024-03-05", "2024-03-09", "2024-04-01"]),
            "agent_id": ["C1", "C1", "C2", "C2", "C1"], "ticket_id": ["T1", "T2", "T3", "T4", "T5"],
            "frt_min": [1, 5, 2, 4, 1],
            "created_at": [None, None, None, pd.Timestamp("2024-03-09 10:15"), pd.Timestamp("2024-03-31 23:50")]}),
        "calls": pd.DataFrame({"start": pd.to_datetime(["2024-03-05 09:30", "2024-03-05 10:05"]),
                               "wait_s": [10, 30], "answered": ["是", "否"]}),
    })
    path = tmp_path / "typed.xlsx"
    wb.save(path)
    return path


def test_typed_template_by_weekday_day_and_hour_match_a_hand_count(typed_book):
    def by(key):
        proc = run("kpis", typed_book, "--json", "--by", key, check_rc=0)
        return {g[key]: (g["volume"], g["offered"]) for g in json.loads(proc.stdout)}, proc.stderr
    weekday, _ = by("weekday")
    # (volume, offered); tickets: Mon T1 T2, Tue T3, Sat T4, Sun T5 (its 创建时间); calls: both on Tuesday
    assert weekday == {0: (2, 0), 1: (1, 2), 5: (1, 0), 6: (1, 0)}
    day, _ = by("day")
    assert {k: v[0] for k, v in day.items()} == {"2024-03-04": 2, "2024-03-05": 1, "2024-03-09": 1,
                                                 "2024-03-31": 1}
    hour, note = by("hour")
    # only T4, T5 and the two calls carry a time; the three untimed tickets are named, not counted at 0
    assert hour == {9: (0, 1), 10: (1, 1), 23: (1, 0)}
    assert note.strip() == "cs-xl: note: 3 ticket records have no time of day (创建时间) and are not in the hour view"


def test_refresh_of_a_csv_leaves_it_as_it_was(tickets_csv):
    before = tickets_csv.read_bytes()
    assert run("refresh", tickets_csv).returncode == 2
    assert tickets_csv.read_bytes() == before and not list(tickets_csv.parent.glob("*.bak"))


def test_a_refresh_error_is_alone_on_stderr(tmp_path):
    """Progress goes to stdout (or a bar on a terminal): stderr holds the one-line error only."""
    import openpyxl
    path = tmp_path / "other.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["名称", "数量"])
    wb.save(path)
    proc = run("refresh", path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("cs-xl: error: no sheet with"), proc.stderr


def test_a_closed_pipe_ends_quietly(tickets_csv):
    """`cs-xl kpis … | head -c 10`: the reader leaves before the output is written."""
    proc = subprocess.Popen([sys.executable, "-m", "cs_xl", "kpis", str(tickets_csv), "--json"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    assert proc.wait() == 141 and stderr == ""


# ---------------------------------------------------------------- a book open in Excel / LibreOffice

@pytest.mark.parametrize("lock_name", ["~$typed.xlsx", ".~lock.typed.xlsx#"])
def test_refresh_refuses_a_book_open_elsewhere(typed_book, lock_name):
    lock = typed_book.with_name(lock_name)
    lock.write_bytes(b"")
    before = typed_book.read_bytes()
    proc = run("refresh", typed_book)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert lock_name in proc.stderr and "--out" in proc.stderr and "--force" in proc.stderr
    assert typed_book.read_bytes() == before and not backup_of(typed_book).exists()
    # written elsewhere, the open book is only read
    other = typed_book.with_name("copy.xlsx")
    run("refresh", typed_book, "--out", other, check_rc=0)
    assert typed_book.read_bytes() == before and "汇总" in sheet_names(other)
    # a stale lock: --force
    run("refresh", typed_book, "--force", check_rc=0)
    assert "汇总" in sheet_names(typed_book)


def test_calc_refuses_to_overwrite_a_copy_open_elsewhere(typed_book):
    out = typed_book.with_name("typed_calc.xlsx")
    out.write_bytes(b"an earlier calculated copy, open in Excel")
    typed_book.with_name("~$typed_calc.xlsx").write_bytes(b"")
    proc = run("calc", typed_book)
    assert proc.returncode == 2 and "~$typed_calc.xlsx" in proc.stderr and "--force" in proc.stderr
    assert out.read_bytes() == b"an earlier calculated copy, open in Excel"
    proc = run("calc", typed_book, "--force")
    assert proc.returncode in (0, 1) and out.read_bytes()[:2] == b"PK"  # written: a zip package


def test_refresh_checks_the_out_target_and_excels_short_lock_of_a_long_name(typed_book):
    target = typed_book.with_name("quarterly.xlsx")
    target.write_bytes(b"the user's unsaved work stays theirs")
    typed_book.with_name("~$arterly.xlsx").write_bytes(b"")   # Excel drops a long name's first two characters
    proc = run("refresh", typed_book, "--out", target)
    assert proc.returncode == 2 and "~$arterly.xlsx" in proc.stderr
    assert target.read_bytes() == b"the user's unsaved work stays theirs"


def test_demo_and_template_refuse_to_overwrite_an_open_book(tmp_path):
    out = tmp_path / "cs_demo.xlsx"
    out.write_bytes(b"open in Excel")
    (tmp_path / ".~lock.cs_demo.xlsx#").write_bytes(b"")
    for command in ("demo", "template"):
        proc = run(command, "--out", out)
        assert proc.returncode == 2 and ".~lock.cs_demo.xlsx#" in proc.stderr, proc.stderr
    assert out.read_bytes() == b"open in Excel"


def backup_of(path):
    return path.with_name(path.name + ".bak")


def sheet_names(path):
    from python_calamine import CalamineWorkbook
    return CalamineWorkbook.from_path(str(path)).sheet_names


def test_kpis_and_refresh_name_records_dropped_and_cells_alike(tmp_path):
    """T1 twice (one record dropped), '5分钟' (a cell repaired), '#N/A' (a cell dropped, its record kept)."""
    import pandas as pd
    from cs_xl.template import build_template, fill_inputs
    wb = build_template("zh")
    fill_inputs(wb, {"tickets": pd.DataFrame({
        "date": pd.to_datetime(["2024-03-04"] * 4), "agent_id": ["C1"] * 4,
        "ticket_id": ["T1", "T1", "T2", "T3"], "frt_min": [2, 3, "5分钟", "#N/A"]})})
    book = tmp_path / "dirty.xlsx"
    wb.save(book)
    words = "records dropped 1; cells repaired 1, cells dropped 1 (record kept)"
    assert words in run("kpis", book, check_rc=0).stdout
    quality = json.loads(run("kpis", book, "--json", check_rc=0).stdout)["data_quality"]
    assert (quality["records_dropped"], quality["cells_repaired"], quality["cells_dropped"]) == (1, 1, 1)
    refreshed = run("refresh", book, check_rc=0).stdout
    assert words in refreshed and "; records dropped 1;" in refreshed.splitlines()[-1]


# ---------------------------------------------------------------- filters that match nothing, group labels

def test_a_reversed_range_is_an_error(tickets_csv):
    proc = run("kpis", tickets_csv, "--from", "2024-03-30", "--to", "2024-03-01")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "2024-03-30" in proc.stderr and "2024-03-01" in proc.stderr and "backwards" in proc.stderr


def test_a_filter_that_matches_nothing_says_which_values_exist(tickets_csv):
    proc = run("kpis", tickets_csv, "--json", "--where", "Team=C")
    assert json.loads(proc.stdout)["volume"] == 0          # still a valid result, exit 0
    assert proc.returncode == 0
    assert proc.stderr == "cs-xl: note: no record has Team = C; values in the data: A, B\n"


def test_a_period_without_records_names_the_span_of_the_data(tickets_csv):
    proc = run("kpis", tickets_csv, "--from", "2025-01-01", "--to", "2025-01-31", check_rc=0)
    assert proc.stderr == ("cs-xl: note: no record from 2025-01-01 to 2025-01-31; "
                           "the data runs from 2024-03-01 to 2024-03-04\n")


def test_filters_that_only_together_match_nothing(tickets_csv):
    proc = run("kpis", tickets_csv, "--where", "team=A", "--from", "2024-03-03", check_rc=0)
    assert proc.stderr == "cs-xl: note: no record matches the filters together (team=A; 2024-03-03 to …)\n"


def test_a_filter_that_matches_something_adds_no_note(tickets_csv):
    assert run("kpis", tickets_csv, "--where", "team=B", check_rc=0).stderr == ""


def test_weekday_and_priority_groups_are_named(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("日期,客服工号,首次响应时间(分钟),优先级\n"
                    "2024-03-04,C1,1,P1\n2024-03-10,C1,2,三级\n", encoding="utf-8")
    text = run("kpis", path, "--by", "weekday", check_rc=0).stdout   # 03-04 a Monday, 03-10 a Sunday
    assert [line.split()[0] for line in text.splitlines()[2:]] == ["周一", "周日"]
    text = run("kpis", path, "--by", "priority", check_rc=0).stdout
    assert [line.split()[0] for line in text.splitlines()[2:]] == ["一级", "三级"]
    groups = json.loads(run("kpis", path, "--by", "weekday", "--json", check_rc=0).stdout)
    assert [g["weekday"] for g in groups] == [0, 6]                    # JSON keeps 0 = Monday … 6 = Sunday


def test_help_points_nowhere_outside_the_repository():
    parser = build_parser()
    texts = [parser.format_help()] + [sub.format_help() for sub in
                                      parser._subparsers._group_actions[0].choices.values()]
    for text in texts:
        assert "SPEC" not in text and "../shared" not in text, text


def test_help_does_not_load_pandas():
    """`cs-xl --help` builds every sub-command's parser (import formats included) without the compute stack."""
    code = ("import sys, contextlib, io\nfrom cs_xl import cli\n"
            "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
            "    cli.main(['--help'])\n"
            "print('pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.strip() == "False"


def test_kpis_params_clock_measures_the_minutes_filled_from_timestamps(tmp_path):
    """--params BOOK with business hours: minutes filled from 创建时间/首次响应时刻 are business
    minutes (the loader takes that book's clock, not the defaults').  Hand-worked: T1 is created
    Friday 17:50 and answered Monday 09:10 — 10 + 10 = 20 minutes of 09:00–18:00 (3,800 on the
    calendar); T2 takes 40 minutes either way.  With a 30-minute target: 1 of 2 within."""
    import openpyxl
    export = tmp_path / "tickets.csv"
    with open(export, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([
            ["日期", "工单编号", "客服工号", "创建时间", "首次响应时刻", "首次响应时间(分钟)"],
            ["2024-03-01", "T1", "A1", "2024-03-01 17:50", "2024-03-04 09:10", ""],
            ["2024-03-05", "T2", "A1", "2024-03-05 10:00", "2024-03-05 10:40", ""]])
    book = tmp_path / "params.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "参数"
    for row in (["值", "key"], ["business", "clock_mode"], [30, "frt_threshold_min"]):
        wb.active.append(row)
    wb.save(book)
    out = json.loads(run("kpis", export, "--params", book, "--json", check_rc=0).stdout)
    assert out["frt_rate"] == 0.5
    assert out["frt_avg"] == pytest.approx((20 + 40) / 2)
