"""A new book's records stream into its input Tables (issue 10, item 6).

The reference is the cell-by-cell writer it replaces for new books
(template.fill_inputs + openpyxl's save): the streamed book must hold the same
cells, number formats, styles, Tables, drop-downs and number checks, column
widths and print settings — compared by reopening both with openpyxl and with
calamine, and by LibreOffice's own reading.  Time and memory: the benchmark.
"""
import csv
import datetime as dt
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl.utils.exceptions import IllegalCharacterError
from python_calamine import CalamineWorkbook

from ci import absent
from cs_xl import sample
from cs_xl.book import save_atomic
from cs_xl.input_stream import save_filled
from cs_xl.schema import TABLES
from cs_xl.template import build_template, fill_inputs

ROOT = Path(__file__).resolve().parents[1]


def _cell_by_cell(frames, path: Path, lang: str = "zh") -> Path:
    wb = build_template(lang)
    fill_inputs(wb, frames, lang)
    save_atomic(wb, path)
    return path


def _streamed(frames, path: Path, lang: str = "zh") -> Path:
    save_filled(build_template(lang), frames, path, lang)
    return path


def _cells(ws) -> list:
    return [[(c.coordinate, c.value, c.data_type, c.number_format, c.quotePrefix, c.font.b, c.font.color and
              c.font.color.rgb, c.fill.fgColor.rgb, c.alignment.horizontal, c.alignment.wrap_text)
             for c in row if c.value is not None] for row in ws.iter_rows()]


def _sheet_settings(ws) -> dict:
    tables = {name: (ws.tables[name].ref, [c.name for c in ws.tables[name].tableColumns],
                     ws.tables[name].tableStyleInfo.name, ws.tables[name].autoFilter.ref) for name in ws.tables}
    validations = sorted((v.type, v.operator, v.formula1, v.formula2, str(v.sqref), v.error, v.errorStyle)
                         for v in ws.data_validations.dataValidation)
    return {"tables": tables, "validations": validations,
            "widths": {k: v.width for k, v in ws.column_dimensions.items()},
            "heights": {k: v.height for k, v in ws.row_dimensions.items() if v.height},
            "freeze": ws.freeze_panes, "merged": sorted(map(str, ws.merged_cells.ranges)),
            "print_titles": ws.print_title_rows, "orientation": ws.page_setup.orientation,
            "dimensions": ws.dimensions}


def assert_same_books(expected: Path, actual: Path) -> None:
    a, b = openpyxl.load_workbook(expected), openpyxl.load_workbook(actual)
    assert a.sheetnames == b.sheetnames
    for name in a.sheetnames:
        assert _cells(b[name]) == _cells(a[name]), name
        assert _sheet_settings(b[name]) == _sheet_settings(a[name]), name
    ca, cb = CalamineWorkbook.from_path(str(expected)), CalamineWorkbook.from_path(str(actual))
    for name in ca.sheet_names:
        assert cb.get_sheet_by_name(name).to_python() == ca.get_sheet_by_name(name).to_python(), name


@pytest.fixture(scope="module")
def demo_frames():
    """Every 6th record of the demo, and every planted dirty one (text in number columns,
    formula-like notes, error texts, blanks)."""
    frames = sample.generate(seed=7)
    dirty = {r.record_id for r in sample.dirty_rows()}
    out = {}
    for key, frame in frames.items():
        ids = frame.iloc[:, [i for i, c in enumerate(frame.columns) if c in ("ticket_id", "call_id")][:1] or [0]]
        keep = (pd.Series(range(len(frame)), index=frame.index) % 6 == 0) | ids.iloc[:, 0].astype(str).isin(dirty)
        out[key] = frame[keep.values]
    return out


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_streamed_book_equals_the_cell_by_cell_one(demo_frames, tmp_path, lang):
    streamed = _streamed(demo_frames, tmp_path / "streamed.xlsx", lang)
    assert_same_books(_cell_by_cell(demo_frames, tmp_path / "cells.xlsx", lang), streamed)
    with zipfile.ZipFile(streamed) as archive:  # every part deflated, the streamed sheets too
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_DEFLATED}


EDGE = pd.DataFrame({
    "ticket_id": ["T1", "T2", "T3", "T4"],
    "agent_id": ["  C001", "C002 ", "a<b & c>d", "工号\t7"],
    "date": [pd.Timestamp("2024-03-01"), dt.date(2024, 3, 2), "2024/3/3", pd.NaT],
    "created_at": [pd.Timestamp("2024-03-01 09:30:15"), pd.Timestamp("2024-03-02"), None, float("nan")],
    "frt_min": [3, 2.5, "5分钟", -1],
    "contacts": [1, pd.NA, 3, 4],
    "transferred": [True, False, None, "是"],
    "note": ["=HYPERLINK(\"http://x\",\"y\")", "+86 138", "@SUM(A1)", dt.datetime(2024, 1, 5, 8, 0)],
    "hire_date": [dt.time(8, 30), pd.Timedelta(minutes=90), dt.date(2023, 1, 1), 45000],
})


def test_edge_values_are_written_the_same(tmp_path):
    frames = {"tickets": EDGE, "calls": pd.DataFrame({"start": [pd.Timestamp("2024-06-01 08:00")], "wait_s": ["2分"]})}
    assert_same_books(_cell_by_cell(frames, tmp_path / "cells.xlsx"), _streamed(frames, tmp_path / "streamed.xlsx"))
    ws = openpyxl.load_workbook(tmp_path / "streamed.xlsx")["响应时间统计表"]
    col = {c.value: c.column for c in ws[2]}
    note = ws.cell(3, col["备注"])
    assert (note.value, note.data_type, note.quotePrefix) == ('=HYPERLINK("http://x","y")', "s", True)
    assert ws.cell(3, col["客服工号"]).value == "  C001"  # spaces kept
    assert ws.cell(5, col["客服工号"]).value == "a<b & c>d"
    assert ws.cell(3, col["创建时间"]).value == dt.datetime(2024, 3, 1, 9, 30, 15)
    last = openpyxl.utils.get_column_letter(len(TABLES["tickets"].columns))  # the Table spans every schema column
    assert ws.tables["Tickets"].ref == f"A2:{last}6"


def test_illegal_characters_are_refused_like_before(tmp_path):
    frames = {"tickets": pd.DataFrame({"ticket_id": ["T1"], "note": ["bell\x07"]})}
    with pytest.raises(IllegalCharacterError):
        _cell_by_cell(frames, tmp_path / "cells.xlsx")
    with pytest.raises(IllegalCharacterError):
        _streamed(frames, tmp_path / "streamed.xlsx")
    assert not list(tmp_path.iterdir())  # no temp file left behind


def test_an_empty_frame_leaves_the_template_as_it_was(tmp_path):
    frames = {"feedback": pd.DataFrame({"ticket_id": []})}
    assert_same_books(_cell_by_cell(frames, tmp_path / "cells.xlsx"), _streamed(frames, tmp_path / "streamed.xlsx"))


def _libreoffice_csv(book: Path, folder: Path) -> dict[str, list[list[str]]]:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        absent("LibreOffice (soffice) is not installed; install libreoffice-calc-nogui to run this test")
    out = folder / book.stem
    run = subprocess.run([soffice, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless",
                          "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
                          "--outdir", str(out), str(book)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    sheets = {}
    for path in out.glob(f"{book.stem}-*.csv"):
        with open(path, encoding="utf-8") as handle:
            sheets[path.stem[len(book.stem) + 1:]] = list(csv.reader(handle))
    return sheets


@pytest.mark.libreoffice
def test_libreoffice_reads_the_streamed_book_as_the_cell_by_cell_one(demo_frames, tmp_path):
    frames = {key: frame.iloc[:300] for key, frame in demo_frames.items()}
    expected = _libreoffice_csv(_cell_by_cell(frames, tmp_path / "cells.xlsx"), tmp_path)
    actual = _libreoffice_csv(_streamed(frames, tmp_path / "streamed.xlsx"), tmp_path)
    assert set(actual) == set(expected) and len(actual) >= 5
    for name in ("响应时间统计表", "效果统计表", "话务记录"):
        assert len(actual[name]) == 302 and actual[name] == expected[name], name


# ---------------------------------------------------------------- benchmark

_WRITE = """
import sys, time
import numpy as np
from pathlib import Path
from cs_xl import sample
n = 100_000
frames = sample.generate(seed=11, months=n // 1900 + 2)
tickets = frames["tickets"].iloc[:n]
feedback = frames["feedback"][frames["feedback"]["ticket_id"].isin(set(tickets["ticket_id"]))].iloc[:int(0.6 * n)]
calls = frames["calls"].iloc[:n // 2]
frames = {"tickets": tickets, "feedback": feedback, "calls": calls}
from cs_xl.template import build_template, fill_inputs
import resource
ready_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the records alone, before writing
t0 = time.perf_counter()
if sys.argv[1] == "cells":
    from cs_xl.book import save_atomic
    wb = build_template("zh")
    fill_inputs(wb, frames)
    save_atomic(wb, Path(sys.argv[2]))
else:
    from cs_xl.input_stream import save_filled
    save_filled(build_template("zh"), frames, Path(sys.argv[2]))
print(time.perf_counter() - t0, ready_mb, {k: len(f) for k, f in frames.items()})
"""


@pytest.mark.benchmark
def test_streaming_writer_benchmark(tmp_path):
    """100,000 tickets + 60,000 feedback + 50,000 calls into a new book, cell by cell (before)
    and streamed (after): time and peak memory of each, in the same run."""
    results = {}
    for how in ("cells", "streamed"):
        path = tmp_path / f"{how}.xlsx"
        t0 = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, "-c", _WRITE, how, path], cwd=ROOT,
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        seconds, ready_mb, rows = proc.stdout.split(" ", 2)
        peak_mb = int(proc.stderr.strip().splitlines()[-1]) / 1024
        added_mb = peak_mb - float(ready_mb)  # what writing added to the records already in memory
        results[how] = (float(seconds), max(added_mb, 1.0), path)
        print(f"\n  {how:9s} write {float(seconds):6.1f} s  peak {peak_mb:6.0f} MB, of which writing "
              f"{added_mb:5.0f} MB  ({rows.strip()}; process {time.perf_counter() - t0:.1f} s)")
    (before, before_mb, old), (after, after_mb, new) = results["cells"], results["streamed"]
    print(f"  streamed: {before / after:.1f}× faster; writing adds {before_mb / after_mb:.1f}× less memory")
    book_old, book_new = CalamineWorkbook.from_path(str(old)), CalamineWorkbook.from_path(str(new))
    for name in ("响应时间统计表", "效果统计表", "话务记录"):
        assert book_new.get_sheet_by_name(name).to_python() == book_old.get_sheet_by_name(name).to_python()
