"""Benchmark of ``cs-xl refresh`` (issue 10): `pytest -m benchmark -s tests/test_refresh_benchmark.py`.

Books of n tickets + 0.6 n feedback rows + 0.5 n calls (the demo generator's records).  Printed, in
one run: python-calamine reading every sheet (the floor), the refresh in a child process (wall time,
its stages, the part writer's own share, peak memory), and LibreOffice recalculating the headline
KPIs and a by-agent table written as native COUNTIFS/AVERAGEIFS formulas (``soffice --headless
--convert-to xlsx`` with a fresh profile).  Goals at 100,000 tickets: refresh ≤ 2× the calamine read,
≥ 3× faster than LibreOffice, peak memory ≤ 1 GB.  Checked, not timed: the input sheets' parts are
byte for byte the same after the refresh, and LibreOffice did compute the formulas.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

from html import escape

import pytest
from openpyxl import load_workbook

from ci import absent
from cs_xl.ooxml import content_types, relationships, workbook
from cs_xl.ooxml.package import write_package
from test_benchmarks import _calamine_all_sheets, _timed, _write_full_book
from test_render_parts import raw_entries

pytestmark = pytest.mark.benchmark
ROOT = Path(__file__).resolve().parents[1]
INPUTS = ("响应时间统计表", "效果统计表", "话务记录")

# the child that refreshes: the refresh's own timings and the process's peak memory, as JSON
REFRESH = """
import json, resource, sys, time
t0 = time.perf_counter()
from cs_xl.refresh import refresh
result = refresh(sys.argv[1], progress=lambda done, total, message: None)
print(json.dumps({"seconds": time.perf_counter() - t0, "timings": result.timings,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def refresh_in_child(path: Path) -> tuple[float, dict]:
    t0 = time.perf_counter()
    run = subprocess.run([sys.executable, "-c", REFRESH, str(path)], capture_output=True, text=True, cwd=ROOT,
                         timeout=1800)
    assert run.returncode == 0, run.stderr
    return time.perf_counter() - t0, json.loads(run.stdout.splitlines()[-1])


def formula_book(source: Path, target: Path, sheets: dict[str, list]) -> Path:
    """``source`` plus a first sheet 看板 computing the headline KPIs and a by-agent table with native
    COUNTIFS/AVERAGEIFS over the input sheets (no cached values: LibreOffice has to calculate every
    one).  The sheet is added to the package directly: loading a 100k-row book in openpyxl to add
    one sheet would take minutes."""
    from openpyxl.utils import get_column_letter

    def rng(sheet: str, header: str) -> str:
        col = get_column_letter(sheets[sheet][1].index(header) + 1)
        return f"{sheet}!${col}$3:${col}${len(sheets[sheet])}"

    frt, resolve, agent = (rng("响应时间统计表", h) for h in ("首次响应时间(分钟)", "问题解决时间(分钟)", "客服工号"))
    ids = rng("响应时间统计表", "工单编号")
    rating, nps = rng("效果统计表", "评分(1-5星)"), rng("效果统计表", "推荐意愿(0-10)")
    wait, answered, talk, call_agent = (rng("话务记录", h) for h in ("等待时长(秒)", "是否接通", "通话时长(秒)", "客服工号"))
    headline = [
        ["受理量", f"COUNTA({ids})"],
        ["首次响应达标率", f'COUNTIFS({frt},"<=3",{frt},">=0")/COUNTIFS({frt},">=0")'],
        ["平均首次响应", f'AVERAGEIFS({frt},{frt},">=0")'],
        ["平均解决时长", f'AVERAGEIFS({resolve},{resolve},">=0")'],
        ["满意率", f'COUNTIFS({rating},">=4")/COUNT({rating})'],
        ["平均评分", f'AVERAGEIFS({rating},{rating},">=1")'],  # AVERAGE stops at an error cell
        ["NPS", f'(COUNTIFS({nps},">=9")-COUNTIFS({nps},"<=6"))/COUNT({nps})'],
        ["接通率", f'COUNTIFS({answered},"是")/COUNTA({answered})'],
        ["平均等待", f'AVERAGEIFS({wait},{answered},"是")'],
        ["平均通话", f'AVERAGEIFS({talk},{answered},"是")'],
    ]
    tickets = sheets["响应时间统计表"]
    agent_col = tickets[1].index("客服工号")
    agents = sorted({r[agent_col] for r in tickets[2:] if r[agent_col] not in ("", None)})
    by_agent = [[a, f'COUNTIFS({agent},"{a}")',
                 f'COUNTIFS({agent},"{a}",{frt},"<=3",{frt},">=0")/COUNTIFS({agent},"{a}",{frt},">=0")',
                 f'AVERAGEIFS({frt},{agent},"{a}",{frt},">=0")', f'AVERAGEIFS({resolve},{agent},"{a}",{resolve},">=0")',
                 f'COUNTIFS({call_agent},"{a}",{answered},"是")', f'AVERAGEIFS({talk},{call_agent},"{a}",{answered},"是")']
                for a in agents]
    rows = headline + [[], ["客服工号", "受理量", "达标率", "平均首响", "平均解决", "接通量", "平均通话"]]
    xml = []
    for r, row in enumerate(rows + by_agent, start=1):
        cells = []
        for c, value in enumerate(row, start=1):
            ref = f"{get_column_letter(c)}{r}"
            is_formula = r <= len(headline) and c == 2 or r > len(rows) and c > 1
            cells.append(f'<c r="{ref}"><f>{escape(value)}</f></c>' if is_formula else
                         f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>')
        xml.append(f'<row r="{r}">{"".join(cells)}</row>')
    sheet = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.openxmlformats.org/'
             f'spreadsheetml/2006/main"><sheetData>{"".join(xml)}</sheetData></worksheet>').encode()
    with zipfile.ZipFile(source) as z:
        rels = relationships.parse(z.read("xl/_rels/workbook.xml.rels"))
        rel = relationships.Relationship(relationships.new_id({r.id for r in rels}), relationships.WORKSHEET,
                                         "worksheets/board.xml")
        order = [workbook.NewSheet("看板", rel.id), *workbook.sheets(z.read(workbook.NAME))]
        replaced = {"xl/worksheets/board.xml": sheet, "xl/_rels/workbook.xml.rels": relationships.to_xml(rels + [rel]),
                    workbook.NAME: workbook.edit(z.read(workbook.NAME), order, 0),
                    content_types.NAME: content_types.edit(z.read(content_types.NAME), (),
                                                           {"xl/worksheets/board.xml": content_types.WORKSHEET})}
        write_package(z, target, replaced)
    return target


def libreoffice_recalc(soffice: str, path: Path, tmp_path: Path) -> tuple[float, Path]:
    out = tmp_path / "lo"
    t0 = time.perf_counter()
    run = subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}", "--headless",
                          "--convert-to", "xlsx", "--outdir", str(out), str(path)],
                         capture_output=True, text=True, timeout=1800)
    seconds = time.perf_counter() - t0
    assert run.returncode == 0, run.stderr
    return seconds, out / path.name


def input_parts(path: Path) -> dict[str, tuple]:
    """The raw zip entries of the input sheets (found through the workbook's own rels)."""
    from cs_xl.ooxml import relationships, workbook
    with zipfile.ZipFile(path) as z:
        rels = {r.id: r.part(workbook.NAME) for r in relationships.parse(z.read("xl/_rels/workbook.xml.rels"))}
        parts = {rels[e.rel_id] for e in workbook.sheets(z.read(workbook.NAME)) if e.name in INPUTS}
    entries = raw_entries(path)
    return {name: entries[name] for name in parts | ({"xl/sharedStrings.xml"} & set(entries))}


@pytest.mark.parametrize("n", [20_000, 100_000])
def test_refresh_against_calamine_and_libreoffice(tmp_path, n):
    path = _write_full_book(tmp_path / f"book_{n}.xlsx", n)
    floor, sheets = _timed(lambda: _calamine_all_sheets(path), repeat=2)
    before = input_parts(path)
    wall, child = refresh_in_child(path)
    assert input_parts(path) == before  # the input sheets' parts: byte for byte
    wb = load_workbook(path, read_only=True)
    assert {"汇总", "按客服", "趋势"} <= set(wb.sheetnames)
    wb.close()
    stages = child["timings"]
    writer = stages["write"]
    line = (f"\n{n:,} tickets: calamine read {floor:.2f} s | cs-xl refresh {wall:.2f} s in a child "
            f"({wall / floor:.1f}× the read; goal ≤ 2×), of which the part writer {writer:.2f} s; stages "
            + ", ".join(f"{k} {v:.2f}s" for k, v in stages.items()) + f"; peak memory {child['peak_mb']:.0f} MB "
            "(goal ≤ 1024)")
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        print(line)
        absent("LibreOffice (soffice) is not installed: the native-formula comparison needs it")
    formulas = formula_book(tmp_path / f"book_{n}.xlsx.bak", tmp_path / f"formulas_{n}.xlsx", sheets)
    lo_seconds, converted = libreoffice_recalc(soffice, formulas, tmp_path)
    board = _calamine_all_sheets(converted)["看板"]
    tickets = sheets["响应时间统计表"]
    id_col = tickets[1].index("工单编号")
    assert board[0][1] == sum(1 for r in tickets[2:] if r[id_col] not in ("", None))  # LibreOffice did calculate
    print(line + f" | LibreOffice recalculating native formulas {lo_seconds:.2f} s "
          f"({lo_seconds / floor:.1f}× the read; the refresh {lo_seconds / wall:.1f}× faster; goal ≥ 3×)")
