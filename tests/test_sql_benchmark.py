"""Benchmark of the DuckDB engine: `pytest tests/test_sql_benchmark.py -m benchmark -s`.

On 10,000,000 generated tickets in Parquet (made by DuckDB itself, cached in
the temp folder): ``cs-xl kpis --engine duckdb --json`` against one
hand-written DuckDB query of the same headline aggregates (the floor),
``--by day`` against its hand-written GROUP BY, ``cs-xl refresh BOOK --data``
(every generated sheet from the history) against the same headline floor, the
child's peak memory, and the pandas engine's time on 1,000,000 of the rows
(CSV) beside them.  Goals
(issue 13): ≤ 3× the floors, ≤ 1.5 GB.  Printed, and the answers checked
against the floor's; the wall clock itself is never asserted.
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.benchmark
duckdb = pytest.importorskip("duckdb")

ROWS = int(os.environ.get("CS_XL_BENCH_ROWS", 10_000_000))
PANDAS_ROWS = min(1_000_000, ROWS)
CACHE = Path(tempfile.gettempdir()) / "cs_xl_bench"

# hash-based columns: the same file on every machine, no Python loop
GENERATE = """
COPY (
  SELECT 'T' || lpad(CAST(i AS VARCHAR), 9, '0') AS ticket_id,
         DATE '2024-01-01' + CAST(hash(i, 1) % 365 AS INTEGER) AS date,
         TIMESTAMP '2024-01-01 00:00:00' + to_seconds(CAST(hash(i, 1) % 365 AS BIGINT) * 86400
                                                      + CAST(hash(i, 2) % 86400 AS BIGINT)) AS created_at,
         'A' || lpad(CAST(hash(i, 3) % 400 AS VARCHAR), 3, '0') AS agent_id,
         ['一组', '二组', '三组', '四组'][1 + CAST(hash(i, 4) % 4 AS INTEGER)] AS team,
         ['APP', '电话', '邮件', '在线'][1 + CAST(hash(i, 5) % 4 AS INTEGER)] AS channel,
         'U' || CAST(hash(i, 6) % 2000000 AS VARCHAR) AS customer_id,
         CAST(1 + hash(i, 7) % 4 AS INTEGER) AS priority,
         ['已解决', '已解决', '已解决', '已关闭', '处理中', '待确认'][1 + CAST(hash(i, 8) % 6 AS INTEGER)] AS status,
         round((hash(i, 9) % 100000) / 10000.0 * (hash(i, 10) % 4 + 1), 2) AS frt_min,
         CASE WHEN hash(i, 11) % 10 < 8 THEN round((hash(i, 12) % 100000) / 50.0, 1) END AS resolve_min,
         hash(i, 13) % 3 <> 0 AS first_contact_resolved
  FROM range({rows}) AS r(i)
) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)
"""

# the floor: the headline ticket aggregates written by hand over the typed columns (FRT targets per
# channel class by default: 在线 chat 1 min, 电话 phone 3, 邮件 e-mail 240, APP none → the 3-minute threshold)
FLOOR_SELECT = """
  count(DISTINCT ticket_id) + count(*) FILTER (WHERE ticket_id IS NULL) AS volume,
  count(*) FILTER (WHERE frt_min <= CASE channel WHEN '在线' THEN 1 WHEN '邮件' THEN 240 ELSE 3 END + 0.00001)
    / count(frt_min) AS frt_rate,
  avg(frt_min), quantile_cont(frt_min, 0.5), quantile_cont(frt_min, 0.9),
  avg(resolve_min), quantile_cont(resolve_min, 0.5), quantile_cont(resolve_min, 0.9),
  avg(frt_min + resolve_min),
  count(*) FILTER (WHERE frt_min <= least(CASE priority WHEN 1 THEN 5 WHEN 2 THEN 10 ELSE 30 END,
                                           CASE channel WHEN '在线' THEN 1 WHEN '电话' THEN 3 WHEN '邮件' THEN 240
                                                        ELSE 1e9 END) + 0.00001)
    / count(frt_min) AS sla_rate,
  count(*) FILTER (WHERE status IN ('已解决', '已关闭')) / count(*) AS resolution_rate,
  count(*) FILTER (WHERE status IN ('已解决', '已关闭') AND resolve_min
                   <= CASE priority WHEN 1 THEN 60 WHEN 2 THEN 240 WHEN 3 THEN 1440 ELSE 2880 END + 0.00001)
    / count(*) FILTER (WHERE status IN ('已解决', '已关闭') AND resolve_min IS NOT NULL) AS ontime_rate,
  count(*) FILTER (WHERE status NOT IN ('已解决', '已关闭')) AS backlog,
  count(*) FILTER (WHERE status IN ('已解决', '已关闭') AND first_contact_resolved)
    / count(*) FILTER (WHERE status IN ('已解决', '已关闭') AND first_contact_resolved IS NOT NULL) AS fcr_rate
"""


def _history() -> Path:
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"tickets_{ROWS}.parquet"
    if not path.exists():
        started = time.perf_counter()
        con = duckdb.connect()
        con.execute(GENERATE.format(rows=ROWS, path=str(path) + ".part"))
        con.close()
        os.replace(str(path) + ".part", path)
        print(f"\ngenerated {ROWS:,} tickets in {time.perf_counter() - started:.1f} s: {path}")
    return path


def _csv_sample(parquet: Path) -> Path:
    path = CACHE / f"tickets_{PANDAS_ROWS}.csv"
    if not path.exists():
        con = duckdb.connect()
        con.execute(f"COPY (SELECT * FROM '{parquet}' LIMIT {PANDAS_ROWS}) TO '{path}' (HEADER)")
        con.close()
    return path


def _floor(sql: str) -> tuple[float, list]:
    con = duckdb.connect()
    con.execute("SET memory_limit = '1GB'")
    started = time.perf_counter()
    rows = con.execute(sql).fetchall()
    elapsed = time.perf_counter() - started
    con.close()
    return elapsed, rows


def _child(*args: str) -> tuple[float, float, str]:
    """Seconds, peak RSS (MB) and stdout of one `cs-xl` run in a child process of its own
    (a fresh process each time, so ru_maxrss is that run's own peak)."""
    probe = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
             "p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
             "sys.stderr.write(p.stderr); sys.stdout.write(p.stdout); "
             "print(f'\\n@@ {time.perf_counter() - t} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}'); "
             "sys.exit(p.returncode)")
    run = subprocess.run([sys.executable, "-c", probe, sys.executable, "-m", "cs_xl", *args],
                         capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
    assert run.returncode == 0, run.stderr[-3000:]
    out, _, stats = run.stdout.rpartition("\n@@ ")
    seconds, kilobytes = stats.split()
    return float(seconds), int(kilobytes) / 1024, out


def _refresh_from_history(history: Path) -> tuple[float, float, str]:
    """`cs-xl refresh BOOK --data HISTORY` of a fresh template into a new book: seconds and peak MB;
    the book is reopened and its 汇总 must show every ticket of the history and the floor's FRT mean."""
    import openpyxl

    from cs_xl import report
    from cs_xl.template import build_template
    with tempfile.TemporaryDirectory() as tmp:
        book, out_book = Path(tmp) / "book.xlsx", Path(tmp) / "refreshed.xlsx"
        build_template("zh").save(book)
        seconds, peak_mb, out = _child("refresh", str(book), "--data", str(history), "--out", str(out_book))
        summary = openpyxl.load_workbook(out_book, read_only=True)[report.sheet_name("summary", "zh")]
        numbers = [v for row in summary.iter_rows(values_only=True) for v in row
                   if isinstance(v, (int, float)) and not isinstance(v, bool)]
    assert f"tickets {ROWS:,}/{ROWS:,}" in out
    assert ROWS in numbers
    return seconds, peak_mb, out


def test_duckdb_engine_against_hand_written_floors():
    history = _history()
    print(f"\n{ROWS:,} tickets in Parquet ({history.stat().st_size / 2**20:.0f} MB), {os.cpu_count()} cores:")
    floor_s, (floor_row,) = _floor(f"SELECT {FLOOR_SELECT} FROM '{history}'")
    kpis_s, kpis_mb, out = _child("kpis", str(history), "--engine", "duckdb", "--json")
    print(f"  cs-xl kpis --engine duckdb --json   {kpis_s:6.1f} s   floor {floor_s:5.1f} s   "
          f"ratio {kpis_s / floor_s:4.1f}× (goal ≤ 3×)   peak {kpis_mb:5.0f} MB (goal ≤ 1536)", flush=True)
    got = json.loads(out)
    for key, want in zip(("volume", "frt_rate", "frt_avg", "frt_median", "frt_p90", "resolve_avg", "resolve_median",
                          "resolve_p90", "handle_avg", "sla_rate", "resolution_rate", "ontime_rate", "backlog",
                          "fcr_rate"), floor_row):
        assert math.isclose(got[key], float(want), rel_tol=1e-9), key

    moment = "coalesce(created_at, CAST(date AS TIMESTAMP))"
    day_floor_s, day_rows = _floor(f"SELECT strftime({moment}, '%Y-%m-%d') AS day, {FLOOR_SELECT} "
                                   f"FROM '{history}' GROUP BY day ORDER BY day")
    by_day_s, by_day_mb, out = _child("kpis", str(history), "--engine", "duckdb", "--json", "--by", "day")
    print(f"  … --by day                          {by_day_s:6.1f} s   floor {day_floor_s:5.1f} s   "
          f"ratio {by_day_s / day_floor_s:4.1f}× (goal ≤ 3×)   peak {by_day_mb:5.0f} MB", flush=True)
    groups = json.loads(out)
    assert [g["day"] for g in groups] == [r[0] for r in day_rows]
    assert all(math.isclose(g["frt_p90"], float(r[5]), rel_tol=1e-9) for g, r in zip(groups, day_rows))

    refresh_s, refresh_mb, out = _refresh_from_history(history)
    print(f"  cs-xl refresh BOOK --data HISTORY   {refresh_s:6.1f} s   floor {floor_s:5.1f} s   "
          f"ratio {refresh_s / floor_s:4.1f}× (every sheet)   peak {refresh_mb:5.0f} MB (goal ≤ 1536)", flush=True)

    sample = _csv_sample(history)
    pandas_s, pandas_mb, out = _child("kpis", str(sample), "--engine", "pandas", "--json")
    duck_csv_s, duck_csv_mb, out_duck = _child("kpis", str(sample), "--engine", "duckdb", "--json")
    print(f"  {PANDAS_ROWS:,} tickets as CSV: pandas engine {pandas_s:.1f} s (peak {pandas_mb:.0f} MB), "
          f"duckdb engine {duck_csv_s:.1f} s (peak {duck_csv_mb:.0f} MB)", flush=True)
    assert json.loads(out)["volume"] == json.loads(out_duck)["volume"] == PANDAS_ROWS
