"""cs-xl analyze: every analysis as plain results, without building a workbook."""
import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*args):
    return subprocess.run([sys.executable, "-m", "cs_xl.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT)


@pytest.fixture
def tickets_csv(tmp_path):
    """Tickets of two teams; the unfinished ones (处理中 / 待确认 / neither status nor resolution)
    are on lines 4, 6 and 7 of the file."""
    path = tmp_path / "tickets.csv"
    rows = [
        ["Ticket ID", "Date", "Agent ID", "Team", "First response (min)", "Resolution (min)", "Status"],
        ["T1", "2024-03-01", "C001", "A", "1", "10", "已解决"],
        ["T2", "2024-03-01", "C001", "A", "3", "20", "已解决"],
        ["T3", "2024-03-02", "C002", "B", "4.5", "", "处理中"],
        ["T4", "2024-03-02", "C002", "B", "2", "40", "已解决"],
        ["T5", "2024-03-03", "C003", "A", "9", "", "待确认"],
        ["T6", "2024-03-03", "C003", "B", "0.5", "", ""],
    ]
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path


def test_analyze_json_holds_every_analysis(tickets_csv):
    proc = run("analyze", tickets_csv, "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert {"alerts", "staffing", "audit", "data_quality"} <= set(out)
    assert [(r["ticket_id"], r["row"]) for r in out["audit"]] == [("T3", 4), ("T5", 6), ("T6", 7)]
    assert out["audit"][0]["date"].startswith("2024-03-02")
    # no call sheet: no queue to break a rule, no staffing to advise
    assert out["alerts"]["period"] == [] and out["alerts"]["days"] == []
    assert out["alerts"]["limits"]["peak_queue"] == 50
    assert out["staffing"]["agents_needed"] is None


def test_analyze_applies_the_scope_flags(tickets_csv):
    out = json.loads(run("analyze", tickets_csv, "--json", "--where", "team=B", "--to", "2024-03-02").stdout)
    assert [r["ticket_id"] for r in out["audit"]] == ["T3"]


def test_analyze_without_json_is_one_section_per_analysis(tickets_csv):
    proc = run("analyze", tickets_csv)
    assert proc.returncode == 0, proc.stderr
    for name in ("[alerts]", "[staffing]", "[audit]"):
        assert name in proc.stdout


def test_analyze_of_a_missing_book_is_one_line(tmp_path):
    proc = run("analyze", tmp_path / "nope.xlsx", "--json")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and len(proc.stderr.splitlines()) == 1
