"""``cs-xl calc``: every formula cell evaluated headless, results cached in a copy.

Expected values: hand-worked for a workbook typed by hand; ``cs-xl kpis`` for
the CS_* cards of the demo; LibreOffice's own recalculation for the native
formulas of the demo.  LibreOffice also opens the calculated copy and must
show the cached numbers without recalculating.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from cs_xl.calc import calc
from cs_xl.live_sheet import CARDS, LIVE_SHEET, card_rows

ROOT = Path(__file__).resolve().parents[1]
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
needs_libreoffice = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")

# (cell, formula, expected): worked by hand from DATA below
DATA = [  # 问题类型, 首次响应时间(分钟), 日期, 评分
    ("物流咨询", 2, dt.date(2024, 3, 1), 5),
    ("投诉", 5, dt.date(2024, 3, 2), 4),
    ("物流咨询", "5分钟", dt.date(2024, 3, 3), "4星"),
    ("咨询", None, dt.date(2024, 3, 3), 2),
    ("物流咨询", 1, dt.date(2024, 3, 4), None),
    ("投诉", "#N/A", None, 1),
]
HAND = [
    ("A1", "=CS_FRT_RATE(数据!B:B, 3)", 2 / 4),                      # valid 2, 5, 5(分钟), 1
    ("A2", '=CS_FRT_RATE(数据!B:B, 3, , , 数据!A:A, "物流*")', 2 / 3),   # 2, 5, 1
    ("A3", '=COUNTIFS(数据!B:B,"<=3")/COUNT(数据!B:B)', 2 / 3),      # numbers only: 2, 5, 1
    ("A4", "=ROUND(A1*100,1)", 50.0),
    ("A5", "=IFERROR(CS_FRT_AVG(数据!B:B),0)", (2 + 5 + 5 + 1) / 4),
    ("A6", "=SUM(A1:A2)", 2 / 4 + 2 / 3),
    ("A7", "=AVERAGE(数据!B:B)", "#N/A"),                            # an error cell in the range
    ("A8", '=AVERAGEIFS(数据!D:D,数据!A:A,"物流咨询")', 5.0),        # "4星" is text, blank ignored
    ("A9", "=CS_CSAT(数据!D:D)", 3 / 5),                             # 5, 4, 4(星), 2, 1
    ("A10", '=COUNTIF(数据!A:A,"<>投诉")', 1_048_576 - 2),           # blanks of the column count
    ("A11", '=IF(A1>0.4,"达标","未达标")', "达标"),
    ("A12", '=CS_AVG(数据!B2:B4)', 3.5),                             # header left out: 2, 5
    ("A13", '=CS_FRT_RATE(数据!B:B, "abc")', "#VALUE!"),
    ("A14", "=FOO(1)", "#NAME?"),
    ("A15", "=A16+1", "#VALUE!"),
    ("A16", "=A15+1", "#VALUE!"),
    ("A17", "=MYNAME*2", "#NAME?"),
]
NOT_EVALUABLE = {"A14": "FOO is not supported", "A15": "depends on 看板!A16", "A16": "circular reference",
                 "A17": "MYNAME"}


@pytest.fixture(scope="module")
def hand_book(tmp_path_factory) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "数据"
    ws.append(["客户服务响应时间统计表"])
    ws.append(["问题类型", "首次响应时间(分钟)", "日期", "评分(1-5星)"])
    for row in DATA:
        ws.append(list(row))
    board = wb.create_sheet("看板")
    for cell, formula, _ in HAND:
        board[cell] = formula
    path = tmp_path_factory.mktemp("hand") / "hand.xlsx"
    wb.save(path)
    return path


def run_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cs_xl", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT)


def test_hand_typed_book_every_cell(hand_book, tmp_path):
    out = tmp_path / "hand_calc.xlsx"
    proc = run_cli("calc", hand_book, "--out", out)
    assert proc.returncode == 1, proc.stderr  # some formulas cannot be evaluated
    cached = openpyxl.load_workbook(out, data_only=True)["看板"]
    for cell, _formula, expected in HAND:
        value = cached[cell].value
        assert value == (pytest.approx(expected) if isinstance(expected, float) else expected), cell
    for cell, message in NOT_EVALUABLE.items():
        assert any(line.startswith(f"cs-xl calc: 看板!{cell}: ") and message in line
                   for line in proc.stderr.splitlines()), (cell, proc.stderr)
    assert "看板!A13: #VALUE! CS_FRT_RATE: threshold" in proc.stderr


def test_copy_keeps_formulas_and_every_other_part(hand_book, tmp_path):
    out = tmp_path / "copy.xlsx"
    calc(hand_book, out)
    before, after = openpyxl.load_workbook(hand_book), openpyxl.load_workbook(out)
    for ws in before.worksheets:
        assert [[c.value for c in r] for r in ws.iter_rows()] == \
               [[c.value for c in r] for r in after[ws.title].iter_rows()]
    assert hand_book.read_bytes() != out.read_bytes()


def test_not_a_workbook_is_one_line_exit_2(tmp_path):
    bad = tmp_path / "bad.xlsx"
    bad.write_text("not a zip")
    proc = run_cli("calc", bad)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and len(proc.stderr.splitlines()) == 1


# ------------------------------------------------------------------ the demo's 实时看板

def _live_values(path: Path) -> dict[str, tuple]:
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(LIVE_SHEET["zh"]).to_python(
        skip_empty_area=False)
    return {key: (rows[row - 1][1], rows[row - 1][2]) for key, row in card_rows().items()}


def _kpis(path: Path) -> dict:
    proc = run_cli("kpis", path, "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> dict[str, Path]:
    """The refreshed demo, its calculated copy, and the same without the deliberate duplicate ticket."""
    folder = tmp_path_factory.mktemp("demo")
    book = folder / "demo.xlsx"
    assert run_cli("demo", "--out", book).returncode == 0
    deduped = folder / "demo_dedup.xlsx"
    wb = openpyxl.load_workbook(book)
    ws = wb["响应时间统计表"]
    ids = [ws.cell(row=r, column=9).value for r in range(1, ws.max_row + 1)]
    earlier = [r for r in range(3, len(ids) + 1) if ids[r - 1] and ids[r - 1] in ids[r:]]
    assert len(earlier) == 1  # the demo's incomplete copy (处理中) before the complete record
    ws.delete_rows(earlier[0])
    wb.save(deduped)
    out = {"book": book, "deduped": deduped}
    for name in ("book", "deduped"):
        out[f"{name}_calc"] = folder / f"{name}_calc.xlsx"
        assert run_cli("calc", out[name], "--out", out[f"{name}_calc"]).returncode == 0
    return out


TICKET_CARDS = {"frt_rate", "frt_avg", "frt_p90", "sla_rate"}  # read every ticket row, duplicates included


def test_demo_cards_equal_cs_xl_kpis(demo):
    """Every CS_* card equals `cs-xl kpis`; on the demo itself the ticket cards count its
    deliberate duplicate row (the refresh drops it), so they are checked on the book without it."""
    for name, keys in (("deduped", [k for k, *_ in CARDS]), ("book", [k for k, *_ in CARDS if k not in TICKET_CARDS])):
        expected, values = _kpis(demo[name]), _live_values(demo[f"{name}_calc"])
        for key in keys:
            assert values[key][0] == pytest.approx(expected[key], rel=1e-12), (name, key)


def _libreoffice_csv(book: Path, folder: Path, recalc: bool) -> dict[str, list[list[str]]]:
    """Every sheet of ``book`` as LibreOffice shows it (cached values, or recalculated)."""
    profile = folder / ("recalc" if recalc else "plain")
    if recalc:  # recalculate on load: LibreOffice trusts cached values of files that claim to come from Excel
        user = profile / "user"
        user.mkdir(parents=True, exist_ok=True)
        (user / "registrymodifications.xcu").write_text(
            '<?xml version="1.0" encoding="UTF-8"?><oor:items xmlns:oor="http://openoffice.org/2001/registry" '
            'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            '<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" '
            'oor:op="fuse"><value>0</value></prop></item></oor:items>', encoding="utf-8")
    outdir = folder / ("out_recalc" if recalc else "out_plain")
    subprocess.run([SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to",
                    "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
                    "--outdir", str(outdir), str(book)], capture_output=True, timeout=240, check=True)
    sheets = {}
    for path in outdir.glob(f"{book.stem}-*.csv"):
        with open(path, encoding="utf-8") as handle:
            sheets[path.stem[len(book.stem) + 1:]] = list(csv.reader(handle))
    return sheets


def _number(text: str):
    """A CSV cell as a number: LibreOffice keeps the % of percentage-formatted cells."""
    try:
        return float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        return text


@pytest.mark.libreoffice
@needs_libreoffice
def test_libreoffice_shows_the_cached_numbers(demo, tmp_path):
    shown = _libreoffice_csv(demo["book_calc"], tmp_path, recalc=False)[LIVE_SHEET["zh"]]
    values = _live_values(demo["book_calc"])
    for key, row in card_rows().items():
        assert _number(shown[row - 1][1]) == pytest.approx(values[key][0], rel=1e-9), key


@pytest.mark.libreoffice
@needs_libreoffice
def test_native_cards_equal_libreoffices_own_calculation(demo, tmp_path):
    """LibreOffice recalculates the native formulas of the uncalculated demo (its CS_* cells are
    unknown to it); cs-xl calc must give the same numbers."""
    recalculated = _libreoffice_csv(demo["book"], tmp_path, recalc=True)[LIVE_SHEET["zh"]]
    values = _live_values(demo["book_calc"])
    checked = 0
    for key, row in card_rows().items():
        if values[key][1] in ("", None):
            continue
        assert _number(recalculated[row - 1][2]) == pytest.approx(values[key][1], rel=1e-9), key
        checked += 1
    assert checked >= 10
