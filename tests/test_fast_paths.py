"""The fast paths give what the slow ones give, on a deliberately dirty book.

Speed work (issue 7) replaced per-cell steps with column steps; these tests
hold the column steps to independent references:

* error cells restored by the reader = the error values openpyxl reads from
  the same file (calamine itself returns them as blanks);
* every column the loader coerced = the scalar parser applied to each raw
  cell (``coerce.PARSERS``), problems and original cells included;
* KPIs over loaded columns (which skip parsing again) = KPIs over the same
  frames marked as raw cells (which parse every cell), headline and grouped.
"""
from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import replace
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from cs_xl import catalogue, coerce, kpis
from cs_xl.load import load_grids
from cs_xl.read_files import read_grids
from cs_xl.schema import TABLES
from cs_xl.settings import Settings

ERRORS = ("#N/A", "#DIV/0!", "#VALUE!")
ODD = ["", " ", "-", "—", "N/A", "null", "?", "－", "Ｎ／Ａ", *ERRORS, "合计", "Total", "平均:", "abc", "3", "３",
       " 4.5 ", "1,234", "1,5", "5分钟", "1h30m", "2小时", "90秒", "2分", "3星", "-2", "inf", True, False, 0, 1, -1,
       2.5, -0.0, 7.0, dt.datetime(2024, 3, 1, 8, 30), dt.datetime(1850, 1, 1), dt.date(2024, 2, 29),
       dt.time(0, 5, 30), "2024-03-05", "2024/3/5 10:20", "2024年3月5日", "20240305", "29/2/2024", "2024-13-40",
       45352, 45352.5, 3000000, "是", "否", "Y", "√", "×", "未评价", "maybe", "一级", "二级(重要)", "P3", "L4", "紧急",
       "1 - Critical", "5", "已解决", "处理中", " A03 ", "Ａ０１", 101.0, "2030-01-01", dt.datetime(2031, 5, 5)]


def _clean(kind: str, i: int):
    moment = dt.datetime(2024, 1, 1) + dt.timedelta(hours=i * 7 % 2000)
    return {"date": moment.replace(hour=0), "datetime": moment, "text": f"v{i % 37}",
            "minutes": round((i * 13 % 97) / 7, 2), "seconds": i * 17 % 300, "number": 1 + i % 5,
            "count": i % 4, "flag": "是" if i % 3 else "否", "priority": ("一级", "二级", "三级", "四级")[i % 4]}[kind]


def dirty_book(path: Path, rows: int = 400, seed: int = 5) -> Path:
    """Every table with ~15 % odd cells per column, duplicate ids, blank rows and error cells."""
    rng = random.Random(seed)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for key, table in TABLES.items():
        ws = wb.create_sheet(table.sheet("zh"))
        ws.append([table.sheet("zh")])
        ws.append([c.zh for c in table.columns])
        for i in range(rows if key == "tickets" else rows // 2):
            row = [rng.choice(ODD) if rng.random() < 0.15 else _clean(c.kind, i) for c in table.columns]
            if table.id_key is not None:
                pos = table.keys.index(table.id_key)
                row[pos] = f"ID{i if rng.random() < 0.95 else i - 1}" if rng.random() < 0.9 else row[pos]
            if rng.random() < 0.02:
                row = [None] * len(row)
            ws.append(row)
            for cell, value in zip(ws[ws.max_row], row):
                if value in ERRORS:
                    cell.data_type = "e"
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    return dirty_book(tmp_path_factory.mktemp("dirty") / "dirty.xlsx")


def test_error_cells_come_back_as_openpyxl_reads_them(book):
    grids = {g.name: g for g in read_grids(book).sheets}
    wb = openpyxl.load_workbook(book, read_only=True)
    checked = 0
    for ws in wb.worksheets:
        grid = grids[ws.title]
        for r, row in enumerate(ws.iter_rows(values_only=True), start=1):
            for c, value in enumerate(row):
                if isinstance(value, str) and value in ERRORS:
                    assert grid.rows[r - grid.first_row][c - grid.first_col] == value, (ws.title, r, c)
                    checked += 1
    assert checked > 20


def test_each_loaded_column_is_the_parser_cell_by_cell(book):
    grids = read_grids(book)
    for table in TABLES.values():
        grid = grids.sheet([table.sheet("zh")])
        header, data = grid.rows[1], grid.rows[2:]
        for pos, key in table.match_headers(header).items():
            cells = [row[pos] for row in data]
            coerced = coerce.coerce_cells(cells, table.column(key).kind)
            expected = [coerce.PARSERS[table.column(key).kind](cell) for cell in cells]
            for i, (value, _) in enumerate(expected):
                got = coerced.typed.iloc[i]
                assert (pd.isna(got) if value is None else got == value), (table.key, key, i, cells[i])
                if isinstance(value, float) and value == 0:
                    assert math.copysign(1, got) == math.copysign(1, value)
            assert [(i, p) for i, _, p in coerced.problems] == [(i, p) for i, (_, p) in enumerate(expected) if p]


def _frames_equal(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_kpis_over_loaded_columns_equal_kpis_over_raw_cells(book):
    loaded = load_grids(read_grids(book), today=dt.date(2025, 1, 1))
    assert loaded.typed
    raw = replace(loaded, typed=False)  # the same frames, parsed again cell by cell
    settings = Settings()
    fast, slow = kpis.headline(loaded, settings), kpis.headline(raw, settings)
    assert fast.keys() == slow.keys()
    for key in fast:
        assert fast[key] == slow[key] or (math.isnan(fast[key]) and math.isnan(slow[key])), key
    for by in ("agent_id", "day", "priority", "channel"):
        _frames_equal(kpis.grouped(loaded, settings, by), kpis.grouped(raw, settings, by))


# ---------------------------------------------------------------- grouped KPIs against plain pandas

@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo workbook, loaded; a few ticket ids blanked (each such row is a ticket of its own)."""
    from cs_xl import sample
    from cs_xl.load import load
    ds = load(sample.write_demo_inputs(tmp_path_factory.mktemp("demo") / "demo.xlsx", seed=7))
    ds.tickets.loc[ds.tickets.index[::97], "ticket_id"] = None
    return ds


def _by_day(frame: pd.DataFrame, when: pd.Series):
    return frame.groupby(when.dt.strftime("%Y-%m-%d"))


def _reference_by_day(ds) -> pd.DataFrame:
    """Per day, a handful of metrics computed row by row in plain pandas from their definitions."""
    from cs_xl import schema
    t, f, c = ds.tickets, ds.feedback, ds.calls
    targets = {"chat": 1.0, "phone": 3.0, "email": 240.0}  # 参数 defaults; other channels: the 3-minute threshold
    limit = t["channel"].map(lambda ch: targets.get(schema.channel_class(ch), 3.0))
    resolved_words = {s.casefold() for s in schema.RESOLVED_STATUSES}
    resolved = t["status"].map(lambda s: s.casefold() in resolved_words if isinstance(s, str) else None)
    resolved = resolved.where(t["status"].notna(), t["resolve_min"].notna())
    tickets = t.assign(met=t["frt_min"] <= limit + 1e-5, resolved=resolved.astype(bool))
    out = {}
    for day, g in _by_day(tickets, t["created_at"].fillna(t["date"])):
        valid = g["frt_min"].notna()
        out[day] = {"volume": g["ticket_id"].nunique() + g["ticket_id"].isna().sum(),
                    "frt_rate": g.loc[valid, "met"].mean() if valid.any() else np.nan,
                    "resolution_rate": g["resolved"].mean(), "backlog": (~g["resolved"]).sum()}
    for day, g in _by_day(f, f["date"]):
        complaints = g[(g["complaint"] == True) & g["customer_id"].notna()]  # noqa: E712 (nullable)
        days = complaints.groupby("customer_id")["date"].agg(lambda d: d.sort_values().diff().dt.days.min())
        out.setdefault(day, {})["repeat_complaint_rate"] = (days <= 7).mean() if len(days) else np.nan
    queued = c[c["ivr_selfserved"] != True]  # noqa: E712 (blank IVR = queued)
    for day, g in _by_day(c, c["start"]):
        answered = g[g["answered"] == True]  # noqa: E712
        handle = answered["talk_s"] + answered["hold_s"].fillna(0) + answered["wrap_s"].fillna(0)
        q = queued.loc[queued.index.isin(g.index)].dropna(subset=["start", "wait_s"])
        join = q["start"].to_numpy()
        leave = join + (q["wait_s"].to_numpy() * 1000).round().astype("timedelta64[ms]")
        waiting = [(join <= j) & (leave > j) for j in join]  # calls in the queue right after each joins
        out.setdefault(day, {}).update(aht=handle.mean() if handle.notna().any() else np.nan,
                                      peak_queue=max((int(w.sum()) for w in waiting), default=np.nan))
    frame = pd.DataFrame.from_dict(out, orient="index").sort_index()
    return frame.fillna({"volume": 0, "backlog": 0})  # a day with calls only: counts of no tickets are 0


def test_grouped_by_day_equals_plain_pandas(demo):
    """The per-group path (columns read once, cut per group, settings arguments shared by the groups)
    gives, day by day, what pandas computes from the definitions."""
    expected = _reference_by_day(demo)
    got = kpis.grouped(demo, Settings(), "day", keys=list(expected.columns))
    assert list(got.index) == list(expected.index)
    pd.testing.assert_frame_equal(got.astype(float), expected.astype(float), check_names=False, rtol=1e-12)


def test_grouped_by_agent_equals_the_headline_of_each_agents_records(demo):
    """Grouping = the headline KPIs of the records of each agent (feedback through its ticket)."""
    got = kpis.grouped(demo, Settings(), "agent_id")
    ticket_agents = demo.tickets.drop_duplicates("ticket_id", keep="last").dropna(subset=["ticket_id"])
    agent_of = ticket_agents.set_index("ticket_id")["agent_id"]
    for agent in ("C001", "C007"):
        mine = replace(demo, tickets=demo.tickets[demo.tickets["agent_id"] == agent],
                       feedback=demo.feedback[demo.feedback["ticket_id"].map(agent_of) == agent],
                       calls=demo.calls[demo.calls["agent_id"] == agent])
        alone = kpis.headline(mine, Settings())
        for key, value in alone.items():
            if catalogue.get(key).queue:  # undefined per agent (abandoned calls have no agent)
                assert math.isnan(got.loc[agent, key]), key
            else:
                assert got.loc[agent, key] == pytest.approx(value, rel=1e-12, nan_ok=True), key


def test_columns_mostly_of_numbers_or_dates_are_the_parser_cell_by_cell():
    """A column Excel typed (mostly floats and ints, or datetimes, or dates) converts those cells
    without hashing each, and only the others (blanks, text, odd cells) by distinct value: the
    values and problems are still the parser's, cell by cell."""
    rng = random.Random(3)
    odd = ["", None, "5分钟", "合计", "#N/A", True, False, "abc", dt.date(2024, 1, 1), 7, "-"]
    numbers = [1.5, 0, -0.0, 3, -2, 7.25, 10 ** 6, 2.0, 1, 0.0]
    datetimes = [dt.datetime(2024, 3, 1, 8, 30), dt.datetime(1850, 1, 1), dt.datetime(2030, 5, 5, 1, 2)]
    columns = {
        "minutes": [rng.choice(odd) if rng.random() < 0.2 else rng.choice(numbers) for _ in range(400)],
        "count": [rng.choice(odd) if rng.random() < 0.1 else rng.choice([1, 2.0, 2.5, -1, 0]) for _ in range(400)],
        "seconds": [float(i) for i in range(300)],
        "datetime": [rng.choice(odd) if rng.random() < 0.2 else rng.choice(datetimes) for _ in range(400)],
        "date": [rng.choice([dt.date(2024, 2, 29), dt.date(1800, 1, 1), dt.date(2024, 3, 1), dt.date(2024, 3, 2),
                             dt.date(2024, 3, 3), None, "", "合计", dt.datetime(2024, 5, 1)]) for _ in range(400)],
    }
    for kind, cells in columns.items():
        assert coerce._mostly_typed(np.array(cells, dtype=object), kind) is not None, kind  # the path under test
        coerced = coerce.coerce_cells(cells, kind)
        expected = [coerce.PARSERS[kind](cell) for cell in cells]
        for i, (value, _) in enumerate(expected):
            got = coerced.typed.iloc[i]
            assert (pd.isna(got) if value is None else got == value), (kind, i, cells[i])
            if isinstance(value, float) and value == 0:
                assert math.copysign(1, got) == math.copysign(1, value)
        assert [(i, cell, p) for i, cell, p in coerced.problems] == \
               [(i, cells[i], p) for i, (_, p) in enumerate(expected) if p]
        assert coerced.missing.tolist() == [value is None for value, _ in expected]
        assert coerced.cells_in(frozenset({"合计"})).tolist() == [cell == "合计" for cell in cells]
