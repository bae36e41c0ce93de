"""`cs-xl refresh BOOK --data HISTORY`: the generated sheets from a Parquet history through DuckDB.

The same records twice: typed in a workbook's input sheets, and as Parquet
files next to an empty workbook.  ``cs-xl refresh`` of the first and
``cs-xl refresh --data`` of the second must draw the same numbers on every KPI
sheet (汇总, 按客服, 分组, 趋势, 负载, 人力建议, 预警) — both books reopened
with openpyxl and compared cell by cell.  The 数据质量 sheet of a history
counts issues by reason and lists a bounded audit sample instead of every
cell (documented in the README).
"""
from __future__ import annotations

import datetime as dt
import math
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from cs_xl import pipeline, report
from cs_xl.sample import generate
from cs_xl.settings import Change, Settings
from cs_xl.template import build_template
from tests.ci import absent

try:
    import duckdb  # noqa: F401
except ImportError:  # pragma: no cover - the extra is part of [test]
    duckdb = None

KPI_SHEETS = ("summary", "agents", "breakdowns", "trends", "load", "staffing", "alerts", "compare", "pareto",
              "segments")
# as_of: 数据截至 is the build day of each refresh, and the two run at different moments of the test
SKIP_WORDS = ()


def _run(*args: str) -> subprocess.CompletedProcess:
    run = subprocess.run([sys.executable, "-m", "cs_xl", *args], capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    return run


def _typed_records(tmp: Path) -> dict:
    """The demo's records as the loader types them (dirty cells repaired once, here), so the
    workbook's cells and the Parquet columns hold the same values."""
    raw = tmp / "raw.xlsx"
    from cs_xl.input_stream import save_filled
    save_filled(build_template("zh"), generate(seed=5), raw, "zh")
    ds, _settings = pipeline.read_path(raw)
    return {t: ds.table(t).drop(columns=["_row"]) for t in ("tickets", "feedback", "calls")}


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    if duckdb is None:
        absent("duckdb is not installed (pip install 'cs_xl[duckdb]')")
    from cs_xl.input_stream import save_filled
    tmp = tmp_path_factory.mktemp("refresh_data")
    frames = _typed_records(tmp)
    history = tmp / "history"
    history.mkdir()
    con = duckdb.connect()
    for table, frame in frames.items():  # written by DuckDB itself (pyarrow is not a dependency)
        con.register("frame", frame.astype({c: object for c in frame.columns if frame[c].dtype == "string"}))
        con.execute(f"COPY frame TO '{history / table}.parquet' (FORMAT parquet)")
        con.unregister("frame")
    con.close()
    changes = (Change("知识库更新", dt.date(2024, 4, 15), "frt_avg"), Change("知识库更新", dt.date(2024, 4, 15), "frt_rate"),
               Change("排班", dt.date(2024, 5, 1), "resolve_median", (("channel", ("电话",)),)),
               Change("回访", dt.date(2024, 4, 1), "csat_rate", (("customer_type", ("VIP",)),)))  # feedback via its ticket
    settings = Settings(frt_threshold_min=4, trend_periods=1, agent_min_records=5,  # 参数 a user changed
                        changes=changes, compare_resamples=500)
    with_records, empty = tmp / "records.xlsx", tmp / "history.xlsx"
    save_filled(build_template("zh", settings), frames, with_records, "zh")
    build_template("zh", settings).save(empty)
    plain = _run("refresh", str(with_records))
    sql = _run("refresh", str(empty), "--data", str(history))
    return {"records": with_records, "history": empty, "folder": history, "frames": frames,
            "stdout": (plain.stdout, sql.stdout + sql.stderr)}


def _cells(path: Path, sheet: str) -> dict:
    ws = openpyxl.load_workbook(path, data_only=False)[sheet]
    return {(c.row, c.column): c.value for row in ws.iter_rows() for c in row if c.value is not None}


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, (int, float)) or isinstance(b, float) and isinstance(a, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


@pytest.mark.parametrize("key", KPI_SHEETS)
def test_every_kpi_sheet_has_the_numbers_of_the_book_with_the_records(books, key):
    name = report.sheet_name(key, "zh")
    want, got = _cells(books["records"], name), _cells(books["history"], name)
    as_of = [pos for pos, v in want.items() if isinstance(v, dt.datetime) and v.date() == dt.date.today()]
    differ = {pos: (want.get(pos), got.get(pos)) for pos in set(want) | set(got)
              if pos not in as_of and not _same(want.get(pos), got.get(pos))}
    assert not differ, sorted(differ.items())[:20]
    numbers = [v for v in want.values() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    assert len(numbers) > 20 or key == "alerts", key  # the sheets hold numbers, not just headings


def test_the_books_input_sheets_stay_empty_and_the_quality_sheet_counts_by_reason(books):
    wb = openpyxl.load_workbook(books["history"], read_only=True)
    for table in ("工单", "评价", "来电"):
        if table in wb.sheetnames:
            rows = [r for r in wb[table].iter_rows(min_row=2, values_only=True) if any(v is not None for v in r)]
            assert rows == [], table
    quality = _cells(books["history"], report.sheet_name("quality", "zh"))
    texts = " ".join(str(v) for v in quality.values())
    assert "cs-xl refresh --data" in texts  # the line saying the cell list needs the records in a book
    assert "records used tickets" in books["stdout"][1]
    n = len(books["frames"]["tickets"])
    assert f"tickets {n:,} of {n:,}" in books["stdout"][1]


def test_refresh_data_needs_data_for_engine_flags(tmp_path):
    book = tmp_path / "b.xlsx"
    build_template("zh").save(book)
    run = subprocess.run([sys.executable, "-m", "cs_xl", "refresh", str(book), "--engine", "duckdb"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 2 and "--data" in run.stderr
    run = subprocess.run([sys.executable, "-m", "cs_xl", "refresh", str(book), "--data", str(tmp_path / "nothing")],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 2 and "nothing" in run.stderr and "Traceback" not in run.stderr
