"""The SQL engines compute every registry metric as the pandas engine does.

One test per registry metric: on random dirty histories (units, full-width
digits, error strings, yes/no words, negative / infinite / off-scale
numbers, threshold ties, duplicate ids, feedback of unknown tickets, 合计
summary rows) the
DuckDB backend's value equals the pandas engine's to 1e-9 — headline, per
group (groups missing from a table are empty groups there), and inside a
scope.  Two inputs: CSV files (every cell text) and typed Parquet with the
ticket table Hive-partitioned by month.  The pandas side is the product's
loader and :mod:`cs_xl.kpis` over the same cells.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from cs_xl import catalogue, kpis
from cs_xl.dataset import quality_counts
from cs_xl.settings import Settings
from tests.ci import absent
from tests.history_data import (pandas_dataset, pandas_dataset_of_parquet, write_dirty_history,
                                write_timestamped_tickets, write_typed_parquet)

try:
    import duckdb  # noqa: F401
except ImportError:  # pragma: no cover - the extra is part of [test]
    duckdb = None

BYS = ("team", "day", "week", "weekday", "hour", "priority", "agent_id", "customer_id")
SETTINGS = Settings(short_abandon_s=5, sla_min={1: 5.0, 2: 10.0, 3: 30.0}, repeat_days=3, frt_threshold_min=5)
WHERE = {"team": ["一组", "二组"]}
SCOPED = SETTINGS.with_(period_start=dt.date(2024, 3, 4), period_end=dt.date(2024, 3, 12), channels=("APP", "电话"))


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _label(value):
    return value.item() if hasattr(value, "item") else value


def _results(ds, sql) -> dict:
    """(scenario part, group) → metric → value, from both engines."""
    pandas_side, sql_side = {}, {}
    pandas_side["headline"] = kpis.headline(kpis.apply_scope(ds, SETTINGS), SETTINGS)
    sql_side["headline"] = sql.headline()
    for by in BYS:
        frame = kpis.grouped(kpis.apply_scope(ds, SETTINGS), SETTINGS, by)
        pandas_side[by] = {_label(label): row.to_dict() for label, row in frame.iterrows()}
        sql_side[by] = {_label(label): values for label, values in sql.grouped(by)}
    sql.settings = SCOPED
    sql.rescope(WHERE)
    pandas_side["scoped"] = kpis.headline(kpis.apply_scope(ds, SCOPED, WHERE), SCOPED)
    sql_side["scoped"] = sql.headline()
    frame = kpis.grouped(kpis.apply_scope(ds, SCOPED, WHERE), SCOPED, "day")
    pandas_side["scoped by day"] = {_label(label): row.to_dict() for label, row in frame.iterrows()}
    sql_side["scoped by day"] = {_label(label): values for label, values in sql.grouped("day")}
    return {"pandas": pandas_side, "sql": sql_side,
            "quality": ({**ds.quality.summary(), **quality_counts(ds)}, sql.quality())}


@pytest.fixture(scope="module")
def histories(tmp_path_factory):
    if duckdb is None:
        absent("duckdb is not installed (pip install 'cs_xl[duckdb]')")
    from cs_xl.backends.duckdb import DuckDBEngine
    from cs_xl.backends.sql import SqlKpis
    root = tmp_path_factory.mktemp("history")
    csv_folder = write_dirty_history(root / "csv", seed=11)
    parquet_folder = write_typed_parquet(csv_folder, root / "parquet", seed=12)
    out = {}
    for name, folder, ds in (("csv", csv_folder, pandas_dataset(csv_folder)),
                             ("parquet", parquet_folder, pandas_dataset_of_parquet(parquet_folder))):
        out[name] = _results(ds, SqlKpis(DuckDBEngine(folder), SETTINGS))
    out["folders"] = {"csv": csv_folder, "parquet": parquet_folder}
    return out


@pytest.mark.parametrize("scenario", ["csv", "parquet"])
@pytest.mark.parametrize("key", catalogue.names())
def test_metric_parity_with_pandas(histories, key, scenario):
    results = histories[scenario]
    want, got = results["pandas"], results["sql"]
    for part in ("headline", "scoped"):
        assert same(want[part][key], got[part][key]), (part, want[part][key], got[part][key])
    for part in (*BYS, "scoped by day"):
        assert set(want[part]) == set(got[part]), part
        for label, values in want[part].items():
            assert same(values[key], got[part][label][key]), (part, label, values[key], got[part][label][key])


def test_the_data_exercises_every_metric(histories):
    """Parity of nan with nan proves nothing: every metric has a value in the headline of both inputs,
    and the groups include empty ones (a day with feedback but no ticket, an agent with calls only)."""
    for scenario in ("csv", "parquet"):
        headline = histories[scenario]["pandas"]["headline"]
        assert not [k for k, v in headline.items() if math.isnan(v)], scenario
    by_day = histories["csv"]["pandas"]["day"]
    assert any(values["volume"] == 0 for values in by_day.values())  # feedback-only days
    by_agent = histories["csv"]["pandas"]["agent_id"]
    assert any(values["volume"] == 0 and values["offered"] > 0 for values in by_agent.values())  # agents with calls only


@pytest.mark.parametrize("scenario", ["csv", "parquet"])
def test_data_quality_counts_equal_the_loaders(histories, scenario):
    pandas_quality, sql_quality = histories[scenario]["quality"]
    assert sql_quality["by_reason"] == pandas_quality["by_reason"]
    assert sql_quality["by_action"] == pandas_quality["by_action"]
    assert sql_quality["issues"] == pandas_quality["issues"] > 100
    # kpis --json's split: whole records dropped (duplicate ids) apart from the cells of the records kept
    for key in ("records_dropped", "cells_repaired", "cells_dropped", "flagged"):
        assert sql_quality[key] == pandas_quality[key], key
    assert pandas_quality["records_dropped"] > 0 and pandas_quality["cells_dropped"] > 0


def test_total_rows_are_dropped_and_reported_by_both_engines(histories):
    """The summary rows written by history_data (TICKET_TOTALS …) are records dropped, one issue
    each: in the CSV files 3 ticket rows (合计 in 日期, 小计 in 客服组, 合计 in 状态; '合计 ' with a
    space and 'Total:' — the loader knows 'total:' — are data), 1 feedback row and 2 call rows; in the
    typed Parquet the 合计 of a date column and the 平均值 of a timestamp column are no text, and the
    text '合计 ' is stored stripped, so 3 + 1 + 1."""
    for scenario, rows in (("csv", 6), ("parquet", 5)):
        pandas_quality, sql_quality = histories[scenario]["quality"]
        assert pandas_quality["by_reason"]["total/summary row"] == rows, scenario
        assert sql_quality["by_reason"]["total/summary row"] == rows, scenario
        assert sql_quality["records_dropped"] == pandas_quality["records_dropped"] >= rows


BUSINESS = Settings(clock_mode="business", business_open=dt.time(8, 30), business_close=dt.time(17, 45),
                    frt_threshold_min=30)


@pytest.mark.parametrize("mode", ["business", "calendar"])
@pytest.mark.parametrize("scenario", ["csv", "parquet"])
def test_minutes_from_timestamps_equal_the_loaders(tmp_path, scenario, mode):
    """参数 sets the clock to business hours (08:30–17:45 here, China's holidays and make-up days)
    or calendar minutes: the minutes the SQL engine fills from timestamps are the loader's (blank
    cells only; reversed stamps dropped and reported first), so every metric, per day and per
    agent, and the quality counts are the pandas engine's."""
    if duckdb is None:
        absent("duckdb is not installed (pip install 'cs_xl[duckdb]')")
    from cs_xl.backends.duckdb import DuckDBEngine
    from cs_xl.backends.sql import SqlKpis
    settings = BUSINESS.with_(clock_mode=mode)
    folder = write_timestamped_tickets(tmp_path / "csv", seed=41)
    clock = settings.clock()
    if scenario == "parquet":
        folder = write_typed_parquet(folder, tmp_path / "parquet", seed=42)
        ds = pandas_dataset_of_parquet(folder, clock=clock)
    else:
        ds = pandas_dataset(folder, clock=clock)
    calendar = pandas_dataset(tmp_path / "csv")
    filled = ds.tickets["resolve_min"]
    assert filled.notna().sum() > 250
    if mode == "business":  # not calendar minutes
        assert (filled != calendar.tickets["resolve_min"]).sum() > 200
    sql = SqlKpis(DuckDBEngine(folder), settings)
    want, got = kpis.headline(ds, settings), sql.headline()
    for key in catalogue.names():
        assert same(want[key], got[key]), (key, want[key], got[key])
    for by in ("day", "agent_id"):
        frame = kpis.grouped(ds, settings, by)
        groups = dict(sql.grouped(by))
        assert set(groups) == {_label(label) for label in frame.index}
        for label, row in frame.iterrows():
            for key in catalogue.names():
                assert same(row[key], groups[_label(label)][key]), (by, label, key)
    quality = {**ds.quality.summary(), **quality_counts(ds)}
    got_quality = sql.quality()
    assert got_quality["by_reason"] == quality["by_reason"]
    for key in ("records_dropped", "cells_repaired", "cells_dropped", "flagged"):
        assert got_quality[key] == quality[key], key


def test_business_minutes_hand_worked(tmp_path):
    """09:00–18:00 on China's working days of 2024:
    T1 Fri 02-09 17:00 → Sun 02-18 10:00 (春节 02-10…17 off, Sunday 02-18 a make-up day): 60 + 60 = 120;
       → Mon 02-19 09:30: 480 + 30 = 510;
    T2 Fri 03-01 17:30 → Mon 03-04 09:30: 30 + 30 = 60 (no resolution stamp);
    T3 Sat 03-02 08:00 → Sat 20:00: 0; → Tue 03-05 12:00: 540 + 180 = 720;
    T4 Thu 04-04 10:00 (清明 04-04…06) → Sun 04-07 09:15 (make-up day): 15; first response after
       the resolution stamp: the resolution is dropped, not filled."""
    if duckdb is None:
        absent("duckdb is not installed (pip install 'cs_xl[duckdb]')")
    from cs_xl.backends.duckdb import DuckDBEngine
    from cs_xl.backends.sql import SqlKpis
    (tmp_path / "tickets.csv").write_text(
        "工单编号,日期,客服工号,创建时间,首次响应时刻,解决时刻\n"
        "T1,2024-02-09,A1,2024-02-09 17:00,2024-02-18 10:00,2024-02-19 09:30\n"
        "T2,2024-03-01,A1,2024-03-01 17:30,2024-03-04 09:30,\n"
        "T3,2024-03-02,A2,2024-03-02 08:00,2024-03-02 20:00,2024-03-05 12:00\n"
        "T4,2024-04-04,A2,2024-04-04 10:00,2024-04-07 09:15,2024-04-07 09:00\n", encoding="utf-8")
    sql = SqlKpis(DuckDBEngine(tmp_path), Settings(clock_mode="business"))
    rows = sql.engine.stream("SELECT ticket_id, frt_min, resolve_min FROM clean_tickets ORDER BY ticket_id")
    assert [tuple(r) for r in rows] == [("T1", 120.0, 510.0), ("T2", 60.0, None), ("T3", 0.0, 720.0),
                                        ("T4", 15.0, None)]


def test_clock_sql_doctests():
    import doctest

    from cs_xl.backends import clock_sql
    assert doctest.testmod(clock_sql).failed == 0


def _reencode(path, encoding: str) -> None:
    path.write_bytes(path.read_text(encoding="utf-8").encode(encoding))


def test_csv_in_gbk_and_utf16_gives_the_numbers_of_the_workbook_path(tmp_path):
    """Excel saves 「CSV」 in GBK on a Chinese Windows and 「Unicode text」 in UTF-16: the DuckDB engine
    reads them as the pandas engine's CSV reader does (every metric and the quality counts equal),
    and the files themselves are left as they were."""
    if duckdb is None:
        absent("duckdb is not installed (pip install 'cs_xl[duckdb]')")
    from cs_xl.backends.duckdb import DuckDBEngine
    from cs_xl.backends.sql import SqlKpis
    folder = write_dirty_history(tmp_path / "history", seed=31, n_tickets=150, n_feedback=80, n_calls=120)
    _reencode(folder / "tickets.csv", "gbk")
    _reencode(folder / "feedback.csv", "utf-16")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with pytest.raises(UnicodeDecodeError):
        (folder / "tickets.csv").read_text(encoding="utf-8")  # the file really is not UTF-8
    ds = pandas_dataset(folder)
    engine = DuckDBEngine(folder)
    sql = SqlKpis(engine, SETTINGS)
    want = kpis.headline(ds, SETTINGS)
    got = sql.headline()
    assert sum(not math.isnan(v) for v in want.values()) >= len(want) - 2
    for key in catalogue.names():
        assert same(want[key], got[key]), (key, want[key], got[key])
    assert {label for label, _values in sql.grouped("team")} == set(ds.tickets["team"].dropna())
    assert sql.quality()["by_reason"] == ds.quality.summary()["by_reason"]
    copies = engine._transcoded
    engine.close()
    assert copies is not None and not Path(copies).exists()  # the UTF-8 copies go with the engine
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_cli_json_of_a_gbk_export_with_a_total_row_is_the_pandas_engines(tmp_path):
    """`cs-xl kpis tickets.csv --json` and the same with `--engine duckdb`, on an Excel-saved GBK
    export ending in a 合计 row: the same object — every metric and every data_quality count
    (the 合计 row one record dropped in both)."""
    if duckdb is None:
        absent("duckdb is not installed (pip install 'cs_xl[duckdb]')")
    folder = write_dirty_history(tmp_path, seed=51, n_tickets=120, n_feedback=10, n_calls=10)
    path = folder / "tickets.csv"
    _reencode(path, "gbk")

    def run(*extra: str) -> dict:
        done = subprocess.run([sys.executable, "-m", "cs_xl", "kpis", str(path), "--json", *extra],
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)
    pandas_engine, duckdb_engine = run(), run("--engine", "duckdb")
    assert pandas_engine["data_quality"]["by_reason"]["total/summary row"] == 3  # TICKET_TOTALS' three labels
    assert duckdb_engine["data_quality"] == pandas_engine["data_quality"]
    for key in catalogue.names():
        want, got = pandas_engine[key], duckdb_engine[key]
        assert (want is None and got is None) or same(want, got), (key, want, got)


def test_a_glob_of_gbk_and_utf8_csv_keeps_its_hive_partitions(tmp_path):
    """One month in GBK, one in UTF-8, under month=… folders: every row read once, Chinese text
    intact, and the partition column still read from the copied file's folder."""
    if duckdb is None:
        absent("duckdb is not installed (pip install 'cs_xl[duckdb]')")
    from cs_xl.backends.duckdb import DuckDBEngine
    from cs_xl.backends.sql import SqlKpis
    header = "工单编号,日期,客服工号,客服组,首次响应时间(分钟)\n"
    months = {"2024-03": ("gb18030", ["T1,2024-03-01,A1,一组,2", "T2,2024-03-02,A2,二组,4"]),
              "2024-04": ("utf-8", ["T3,2024-04-01,A1,一组,6"])}
    for month, (encoding, rows) in months.items():
        part = tmp_path / "tickets" / f"month={month}"
        part.mkdir(parents=True)
        (part / "part-0.csv").write_bytes((header + "\n".join(rows) + "\n").encode(encoding))
    engine = DuckDBEngine(tmp_path)
    sql = SqlKpis(engine, Settings())
    assert sql.headline(["volume", "frt_avg"]) == {"volume": 3.0, "frt_avg": 4.0}
    assert dict(sql.grouped("team", ["volume"])) == {"一组": {"volume": 2.0}, "二组": {"volume": 1.0}}
    raw = sql.clean["tickets"].raw
    assert sorted(engine.con.execute(f"SELECT DISTINCT month FROM {raw}").fetchall()) == [("2024-03",), ("2024-04",)]
    engine.close()


def test_spark_is_told_each_tables_csv_encoding(tmp_path):
    """Spark reads one encoding per table: UTF-8 and GBK folders are named to it (GB18030, GBK's
    superset); a folder mixing GBK with UTF-16 is a one-line error naming it (no Spark needed)."""
    from cs_xl.backends.spark import _encoding
    from cs_xl.backends.sql import SqlError
    text = "工单编号,日期,客服工号\nT1,2024-03-01,张三\n"
    for name, encodings in (("utf8", ("utf-8", "utf-8-sig")), ("gbk", ("gbk", "gbk")), ("mixed", ("gbk", "utf-16"))):
        for i, encoding in enumerate(encodings):
            (tmp_path / name).mkdir(exist_ok=True)
            (tmp_path / name / f"part-{i}.csv").write_bytes(text.encode(encoding))
    assert _encoding(str(tmp_path / "utf8" / "**" / "*.csv")) == "UTF-8"
    assert _encoding(str(tmp_path / "gbk" / "**" / "*.csv")) == "GB18030"
    with pytest.raises(SqlError, match="gb18030 and utf-16.*CSV UTF-8"):
        _encoding(str(tmp_path / "mixed" / "**" / "*.csv"))


def test_a_csv_not_utf8_past_its_start_is_a_one_line_error_naming_the_file(tmp_path):
    """UTF-8 (plain ASCII) for its first 64 KB, GBK further on: no guess, a clear message."""
    if duckdb is None:
        absent("duckdb is not installed (pip install 'cs_xl[duckdb]')")
    from cs_xl.backends.csv_text import SNIFF_BYTES
    from cs_xl.backends.duckdb import DuckDBEngine
    from cs_xl.backends.sql import SqlError, SqlKpis
    rows = [f"T{i},2024-03-01,A1,{i % 7}" for i in range(SNIFF_BYTES // 16)] + ["T9,2024-03-02,张三,5"]
    path = tmp_path / "tickets.csv"
    path.write_bytes(("ticket_id,date,agent_id,frt_min\n" + "\n".join(rows) + "\n").encode("gbk"))
    with pytest.raises(SqlError) as err:
        SqlKpis(DuckDBEngine(path), Settings()).headline()
    message = str(err.value)
    assert str(path) in message and "not UTF-8" in message and "CSV UTF-8" in message and "\n" not in message


def test_future_dates_are_flagged_as_the_loader_flags_them(tmp_path, monkeypatch):
    """Two tickets dated after today (one also created after today) are kept and flagged, one flag
    per future cell, as by the loader; a due date in the future is no news (NOT_FUTURE_CHECKED)."""
    if duckdb is None:
        absent("duckdb is not installed (pip install 'cs_xl[duckdb]')")
    from cs_xl.backends.duckdb import DuckDBEngine
    from cs_xl.backends.sql import SqlKpis
    future = (dt.date.today() + dt.timedelta(days=400)).isoformat()
    rows = [("T1", "2024-03-01", "A1", "2", "2024-03-01 09:00", future + " 10:00"),
            ("T2", future, "A1", "3", future + " 08:00", future + " 12:00"),
            ("T3", future, "A2", "1", "2024-03-02 08:00", ""),
            ("T4", "2024-03-03", "A2", "4", "", "")]
    header = "工单编号,日期,客服工号,首次响应时间(分钟),创建时间,承诺完成时间\n"
    (tmp_path / "tickets.csv").write_text(header + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    (tmp_path / "feedback.csv").write_text("工单编号,日期,满意度评分\nT1,2024-03-02,5\n", encoding="utf-8")
    (tmp_path / "calls.csv").write_text("呼入时间,等待时长(秒),是否接通\n2024-03-01 09:00,10,是\n", encoding="utf-8")
    ds = pandas_dataset(tmp_path)
    quality = SqlKpis(DuckDBEngine(tmp_path), Settings()).quality()
    flags = [i for i in ds.quality.issues if i.why.code == "future_date"]
    assert len(flags) == 3  # T2 日期 and 创建时间, T3 日期
    assert quality["by_reason"] == ds.quality.summary()["by_reason"]
    assert quality["flagged"] == quality_counts(ds)["flagged"] == 3
    # counted with the census for the clock of the moment; asked when the 参数 clock has moved on
    # (here past every date), the flags are recounted: none, as the loader then finds none
    sql = SqlKpis(DuckDBEngine(tmp_path), Settings())
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(dt.datetime(dt.date.today().year + 3, 1, 1).timestamp())))
    later = pandas_dataset(tmp_path)
    assert not [i for i in later.quality.issues if i.why.code == "future_date"]
    assert sql.quality()["by_reason"] == later.quality.summary()["by_reason"]
    assert sql.quality()["flagged"] == quality_counts(later)["flagged"] == 0


def test_cli_kpis_json_equals_the_pandas_engine_with_params_from_a_book(histories, tmp_path):
    """`cs-xl kpis FOLDER --engine duckdb --json --params BOOK` prints the numbers the pandas engine
    computes for the same cells with that book's 参数; progress goes to stderr only."""
    from cs_xl.params import read_params_from_book
    from cs_xl.template import build_template
    book = tmp_path / "params.xlsx"
    build_template("zh", Settings(frt_threshold_min=4, short_abandon_s=3, service_level_s=15)).save(book)
    settings = read_params_from_book(book)
    assert (settings.frt_threshold_min, settings.short_abandon_s) == (4, 3)
    folder = histories["folders"]["csv"]
    run = subprocess.run([sys.executable, "-m", "cs_xl", "kpis", str(folder), "--engine", "duckdb", "--json",
                          "--params", str(book)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    ds = pandas_dataset(folder)
    want = kpis.headline(kpis.apply_scope(ds, settings), settings)
    for key in catalogue.names():
        assert same(want[key], math.nan if out[key] is None else out[key]), key
    assert out["definitions"]["engine"] == "duckdb"
    assert out["data_quality"]["by_reason"] == ds.quality.summary()["by_reason"]
    for key, count in quality_counts(ds).items():  # total rows and repeated ids: records dropped
        assert out["data_quality"][key] == count, key
    assert "computing" in run.stderr


# labels at the edges of the SQL label rule's shortcut (backends.sql.plain_label): whitespace of
# every kind at either end, placeholders and Excel errors in both cases and widths, their look-alikes
TRICKY_LABELS = ("一组", " 一组", "一组 ", "\u3000一组\u3000", "一组\t", "\xa0x", "x\xa0", "x\x85", "x\u2028",
                 "x\u205f", "x\u1680", "x\x1c", "a\u0600\u00a0", "\u0600\u00a0", "N/A", "n/a", "Ｎ／Ａ", " none ",
                 "None", "NULL", "ｎｕｌｌ", "Nancy", "nick", "-", "--", "-x", "—", "－", "？", "?", "?x", "#N/A",
                 "#n/a", " #REF! ", "#tag", "é", "éa", "aé", "Ωmega", "😀", "x😀", "x\U000110bd\xa0", "",
                 "ａｂｃ", "Ｎ", "、", "\u3001x", "~", "!", " ", "\t\n")


def test_labels_are_cleaned_as_the_loader_cleans_them(tmp_path):
    """Each tricky label comes out of the SQL cell rules as coerce.text makes it (stripped, blank,
    or dropped as an error, counted), typed Parquet and CSV alike."""
    if duckdb is None:
        absent("duckdb is not installed (pip install 'cs_xl[duckdb]')")
    from cs_xl import coerce
    from cs_xl.backends.duckdb import DuckDBEngine
    from cs_xl.backends.sql import SqlKpis
    rows = [(f"T{i}", "2024-03-01", "A1", label) for i, label in enumerate(TRICKY_LABELS)]
    frame = duckdb.connect()
    frame.execute("CREATE TABLE t (工单编号 VARCHAR, 日期 VARCHAR, 客服工号 VARCHAR, 客服组 VARCHAR)")
    frame.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", rows)
    for name in ("tickets.parquet", "tickets.csv"):
        folder = tmp_path / name.split(".")[1]
        folder.mkdir()
        frame.execute(f"COPY t TO '{folder / name}' ({'FORMAT parquet' if name.endswith('parquet') else 'HEADER'})")
        sql = SqlKpis(DuckDBEngine(folder), Settings())
        got = dict(sql.engine.stream("SELECT ticket_id, team FROM clean_tickets"))
        for ticket, _day, _agent, label in rows:
            assert got[ticket] == coerce.text(label)[0], (name, label, got[ticket])
        errors = sum(coerce.text(label)[1] is coerce.DROP_ERROR for label in TRICKY_LABELS)
        assert errors == 3
        assert sql.quality()["by_reason"].get(coerce.DROP_ERROR.why.text("en")) == errors, name


def test_too_many_unplain_values_name_the_column(tmp_path, monkeypatch):
    """A column with more distinct values for the Python parser than MAX_MAPPED (units on every
    cell, not a plain number) stops with a message naming the file and the column."""
    if duckdb is None:
        absent("duckdb is not installed (pip install 'cs_xl[duckdb]')")
    from cs_xl.backends import sql as sql_backend
    from cs_xl.backends.duckdb import DuckDBEngine
    monkeypatch.setattr(sql_backend, "MAX_MAPPED", 3)
    rows = "".join(f"T{i},2024-03-01,A1,{i}分钟,是\n" for i in range(5))
    (tmp_path / "tickets.csv").write_text("工单编号,日期,客服工号,首次响应时间(分钟),一次解决\n" + rows, encoding="utf-8")
    with pytest.raises(sql_backend.SqlError, match="首次响应时间.*more than 3 distinct values"):
        sql_backend.SqlKpis(DuckDBEngine(tmp_path), Settings())
    monkeypatch.setattr(sql_backend, "MAX_MAPPED", 5)  # as many as allowed: read, every cell parsed
    assert sql_backend.SqlKpis(DuckDBEngine(tmp_path), Settings()).headline(["frt_avg"])["frt_avg"] == 2.0


@pytest.mark.parametrize("scenario", ["csv", "parquet"])
def test_quality_counted_only_when_asked_equals_the_loaders(histories, scenario):
    """count_cells=False (kpis --by) hashes the ids up front and leaves the cell counts to a scan
    of their own when the quality is asked: the same counts as the loader's all the same."""
    from cs_xl.backends.duckdb import DuckDBEngine
    from cs_xl.backends.sql import SqlKpis
    sql = SqlKpis(DuckDBEngine(histories["folders"][scenario]), SETTINGS, count_cells=False)
    pandas_quality, _ = histories[scenario]["quality"]
    assert sql.headline()["volume"] == histories[scenario]["pandas"]["headline"]["volume"]
    got = sql.quality()
    for key in ("by_reason", "by_action", "issues", "records_dropped", "cells_repaired", "cells_dropped", "flagged"):
        assert got[key] == pandas_quality[key], key
