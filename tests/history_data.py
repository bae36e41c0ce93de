"""Random dirty histories for the SQL engines' parity tests: the same cells
written as CSV files (one per table) for both engines, with values at the
metric thresholds (ties), groups present in one table only (empty groups
elsewhere) and the dirty cells of the loader's rules (units, full-width
digits, error strings, placeholders, words for yes/no, negative and
off-scale numbers), and summary rows (合计/小计/Total: …, at the end and
between records) that both engines must leave out and report."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from cs_xl.dataset import DataSet

TEAMS = ("一组", "二组", "三组")
CHANNELS = ("APP", "电话", "邮件", "在线")
DIRTY_MINUTES = ("5分钟", "１２", "#N/A", "-", "abc", "-3", "1,234", "2h", " 7 ", "", "3", "3.00001", "0.5小时",
                 "#DIV/0!", "n/a", "1h30m", "+4", "１０分钟")
DIRTY_SECONDS = ("20", "20秒", "1分", "#VALUE!", "", "-", "19.99999", "５", "n/a", "-2", "x", "4.99999")
FLAGS = ("是", "否", "Y", "n", "TRUE", "false", "未评价", "maybe", "#VALUE!", "", "√", "×", "１", "0")
PRIORITIES = ("一级", "二级", "三级", "四级", "P2", "3", "L4", "紧急", "x", "", "1 - Critical", "一级(紧急)")
STATUSES = ("已解决", "处理中", "待确认", "已关闭", "Resolved", "ＣＬＯＳＥＤ", "", "-", "#N/A", "open")
RATINGS = ("5", "4", "3", "2", "1", "5星", "9", "0", "", "#N/A", "４", "4.0")
NPS = ("10", "9", "8", "7", "6", "0", "11", "", "-1", "９", "5分")


def _pick(rng, choices, n, p_clean=0.0, clean=None):
    out = rng.choice(np.array(choices, dtype=object), n)
    if clean is not None:
        use_clean = rng.random(n) < p_clean
        out = np.where(use_clean, clean, out)
    return list(out)


def _numbers(rng, n, scale, ties, dirty, p_dirty=0.15, p_tie=0.15, digits=2):
    values = np.round(rng.exponential(scale, n), digits).astype(object)
    values = np.array([f"{v:g}" for v in values], dtype=object)
    tie = rng.random(n) < p_tie
    values[tie] = rng.choice(np.array([f"{t:g}" if isinstance(t, float) else str(t) for t in ties], dtype=object),
                             int(tie.sum()))
    bad = rng.random(n) < p_dirty
    values[bad] = rng.choice(np.array(dirty, dtype=object), int(bad.sum()))
    return list(values)


def _days(rng, n, first="2024-03-01", span=20, dirty=("2024/3/2", "20240303", "#REF!", "notadate", "2024年3月4日")):
    base = np.datetime64(first)
    days = [str(base + int(k)) for k in rng.integers(0, span, n)]
    for i in np.flatnonzero(rng.random(n) < 0.06):
        days[i] = str(rng.choice(np.array(dirty, dtype=object)))
    return days


def _moments(rng, n, first="2024-03-01", span=20):
    base = np.datetime64(first + "T00:00:00")
    seconds = rng.integers(0, span * 86400, n)
    stamps = [str(base + np.timedelta64(int(s), "s")).replace("T", " ") for s in seconds]
    for i in np.flatnonzero(rng.random(n) < 0.05):
        stamps[i] = str(rng.choice(np.array(["", "#N/A", "2024/03/05 10:20", "不详"], dtype=object)))
    return stamps


def _write(path: Path, header: list[str], columns: list[list], totals: dict | None = None) -> Path:
    """The rows, then summary rows the way Excel reports end: ``totals`` maps a row position
    (None: after the last row) to a row's cells by header."""
    rows = [list(r) for r in zip(*columns)]
    for at, cells in sorted((totals or {}).items(), key=lambda item: (item[0] is None, item[0] or 0), reverse=True):
        row = [cells.get(h, "") for h in header]
        rows.insert(len(rows) if at is None else at, row)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


# summary rows of the loader's TOTAL_LABELS (dropped and reported), and near misses that are data:
# a label with a space after it, 'Total:' (the labels take 'total:'), a label in a number column only
TICKET_TOTALS = {
    None: {"日期": "合计", "首次响应时间(分钟)": "1234.5", "问题解决时间(分钟)": "99999", "联系次数": "812"},
    120: {"客服组": "小计", "客服工号": "A01", "工单编号": "T99990", "首次响应时间(分钟)": "3", "日期": "2024-03-05"},
    121: {"客服组": "合计 ", "客服工号": "A02", "工单编号": "T99991", "首次响应时间(分钟)": "4", "日期": "2024-03-06"},
    200: {"渠道": "Total:", "日期": "2024-03-07", "客服工号": "A03", "工单编号": "T00007", "首次响应时间(分钟)": "1,234"},
    201: {"状态": "合计", "首次响应时间(分钟)": "平均"},
    202: {"首次响应时间(分钟)": "合计", "客服工号": "A04", "日期": "2024-03-08"},
}
FEEDBACK_TOTALS = {None: {"工单编号": "总计", "评分(1-5星)": "4.2", "推荐意愿(0-10)": "8.1"}}
CALL_TOTALS = {None: {"话务编号": "Total", "等待时长(秒)": "12345", "是否接通": "是"},
               7: {"呼入时间": "平均值", "等待时长(秒)": "31.5", "客服工号": "A01"}}


def write_dirty_history(folder: Path, seed: int = 1, n_tickets: int = 400, n_feedback: int = 250,
                        n_calls: int = 500) -> Path:
    """tickets.csv, feedback.csv and calls.csv under ``folder`` (created)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    n = n_tickets
    ticket_ids = [f"T{i:05d}" for i in range(n)]
    for i in np.flatnonzero(rng.random(n) < 0.04):
        ticket_ids[i] = str(rng.choice(np.array(["", "-", "#N/A"], dtype=object)))
    agents = [f"A{k:02d}" for k in rng.integers(1, 9, n)]
    # one team per agent, so teams reach calls through the agent id; agent A08 has two teams
    team_of = {f"A{k:02d}": TEAMS[k % 3] for k in range(1, 9)}
    teams = [team_of[a] if a != "A08" else str(rng.choice(TEAMS)) for a in agents]
    _write(folder / "tickets.csv",
           ["日期", "客服工号", "客服组", "渠道", "工单编号", "客户ID", "优先级", "状态", "首次响应时间(分钟)",
            "问题解决时间(分钟)", "一次解决", "联系次数", "是否转接", "是否重开", "创建时间", "人工回复次数",
            "平均响应时长(分钟)"],
           [_days(rng, n), agents, teams, _pick(rng, CHANNELS + ("", "-"), n), ticket_ids,
            [f"C{k:03d}" for k in rng.integers(0, 120, n)], _pick(rng, PRIORITIES, n),
            _pick(rng, STATUSES, n),
            _numbers(rng, n, 6, (3, 3.00001, 5, 10, 30, 2.99999), DIRTY_MINUTES),
            _numbers(rng, n, 200, (60, 240, 1440, 60.00001), DIRTY_MINUTES),
            _pick(rng, FLAGS, n, 0.3, ""), _numbers(rng, n, 1.2, (1, 1, 2), ("2次", "x", "-1", "1.5", "#N/A"), digits=0),
            _pick(rng, FLAGS, n), _pick(rng, FLAGS, n), _moments(rng, n),
            # message-level columns (issue 11): blank for most rows, as when tickets are typed
            _numbers(rng, n, 1.5, (0, 0, 1), ("", "", "", "x", "2次"), p_dirty=0.5, digits=0),
            _numbers(rng, n, 4, (1, 2.5), ("", "", "3分钟", "#N/A"), p_dirty=0.5)], TICKET_TOTALS)
    m = n_feedback
    fb_tickets = [ticket_ids[k] for k in rng.integers(0, n, m)]
    for i in np.flatnonzero(rng.random(m) < 0.1):
        fb_tickets[i] = f"X{i:04d}"  # feedback of a ticket outside the history
    customers = [f"C{k:03d}" for k in rng.integers(0, 60, m)]
    for i in np.flatnonzero(rng.random(m) < 0.05):
        customers[i] = ""
    _write(folder / "feedback.csv",
           ["工单编号", "客户ID", "日期", "评分(1-5星)", "是否满意", "推荐意愿(0-10)", "服务态度(1-5)", "是否投诉",
            "7天内重复投诉次数"],
           [fb_tickets, customers, _days(rng, m, span=24), _pick(rng, RATINGS, m), _pick(rng, FLAGS, m),
            _pick(rng, NPS, m), _pick(rng, RATINGS, m), _pick(rng, ("是", "否", "否", "否", "", "Y"), m),
            _numbers(rng, m, 0.5, (0, 1), ("x", "-1"), digits=0)], FEEDBACK_TOTALS)
    k = n_calls
    call_agents = [f"A{j:02d}" if j < 10 else "" for j in rng.integers(1, 12, k)]
    _write(folder / "calls.csv",
           ["话务编号", "呼入时间", "等待时长(秒)", "是否接通", "通话时长(秒)", "保持时长(秒)", "话后处理(秒)",
            "客服工号", "优先级", "IVR分流"],
           [[f"K{j:05d}" for j in range(k)], _moments(rng, k, span=15),
            _numbers(rng, k, 25, (20, 20.000001, 5, 4.99999), DIRTY_SECONDS, digits=3),
            _pick(rng, FLAGS, k, 0.6, "是"), _numbers(rng, k, 200, (0,), DIRTY_SECONDS),
            _numbers(rng, k, 20, (0,), DIRTY_SECONDS, p_dirty=0.3), _numbers(rng, k, 30, (0,), DIRTY_SECONDS),
            call_agents, _pick(rng, PRIORITIES, k), _pick(rng, FLAGS, k, 0.7, "否")], CALL_TOTALS)
    return folder


def write_timestamped_tickets(folder: Path, seed: int = 1, n: int = 400) -> Path:
    """tickets.csv with 创建时间 → 首次响应时刻 → 解决时刻 over January–June 2024 (春节 with its
    make-up Sundays, 清明, 劳动节, 端午; weekends; before, inside and after business hours, at
    the opening and closing minute), blank, unreadable and reversed stamps; 首次响应时间(分钟) typed
    or dirty for some rows and blank for most (filled), 问题解决时间(分钟) absent (computed)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    start = np.datetime64("2024-01-15T00:00")
    created = start + rng.integers(0, 150 * 24 * 60, n).astype("timedelta64[m]")
    on_the_hour = rng.random(n) < 0.2  # 09:00 / 18:00 exactly: the edges of the business day
    created[on_the_hour] = created[on_the_hour].astype("datetime64[D]") + np.array(
        rng.choice([9 * 60, 18 * 60], int(on_the_hour.sum())), dtype="timedelta64[m]")
    first = created + rng.exponential(600, n).astype(int).astype("timedelta64[m]")
    resolved = first + rng.exponential(4000, n).astype(int).astype("timedelta64[m]")
    reverse = rng.random(n) < 0.05
    first[reverse] = created[reverse] - np.timedelta64(30, "m")

    def text(stamps, p_dirty=0.08):
        out = [str(s).replace("T", " ") for s in stamps]
        for i in np.flatnonzero(rng.random(n) < p_dirty):
            out[i] = str(rng.choice(np.array(["", "#N/A", "不详", "-"], dtype=object)))
        return out
    # typed for some rows; blank, a placeholder, unreadable or off the scale for others: the loader
    # fills blank cells only (off-scale typed numbers are blank once dropped, unreadable text is not)
    typed = _numbers(rng, n, 20, (0, 9, 18), ("", "-", "n/a", "#N/A", "abc", "99999999", "-3", "5分钟", " "),
                     p_dirty=0.3, p_tie=0.05, digits=1)
    typed = [v if rng.random() < 0.4 else "" for v in typed]
    _write(folder / "tickets.csv",
           ["工单编号", "日期", "客服工号", "渠道", "创建时间", "首次响应时刻", "解决时刻", "首次响应时间(分钟)", "状态"],
           [[f"T{i:05d}" for i in range(n)], [str(c)[:10] for c in created],
            [f"A{k:02d}" for k in rng.integers(1, 6, n)], _pick(rng, CHANNELS, n),
            text(created), text(first), text(resolved), typed, _pick(rng, ("已解决", "处理中"), n)])
    return folder


def pandas_dataset(folder: Path, clock=None) -> DataSet:
    """The product's loader over the same CSV files: one DataSet of the tables found (``clock``:
    how it fills minutes from timestamps, as a book's 参数 clock rows say)."""
    from cs_xl.load import load_grids
    from cs_xl.read_files import read_grids
    ds = DataSet(source=str(folder))
    for key in ("tickets", "feedback", "calls"):
        if not (folder / f"{key}.csv").exists():
            continue
        part = load_grids(read_grids(folder / f"{key}.csv"), tables=(key,), clock=clock)
        setattr(ds, key, part.table(key))
        ds.headers.update(part.headers)
        ds.sheets.update(part.sheets)
        ds.quality.extend(part.quality)
    return ds


def write_typed_parquet(csv_folder: Path, out: Path, seed: int = 2) -> Path:
    """The same history as typed Parquet (numbers DOUBLE with NaN / inf / negative cells, flags
    BOOLEAN, priorities DOUBLE with an unknown level, dates DATE / TIMESTAMP with a year out of
    range, ids VARCHAR); tickets Hive-partitioned by month (``tickets/month=2024-03/…``)."""
    import datetime as dt

    import duckdb
    import pandas as pd

    from cs_xl import coerce
    from cs_xl.schema import TABLES
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    for key in ("tickets", "feedback", "calls"):
        if not (csv_folder / f"{key}.csv").exists():
            continue
        with (csv_folder / f"{key}.csv").open(encoding="utf-8", newline="") as f:
            header, *rows = list(csv.reader(f))
        mapping = TABLES[key].match_headers(header)
        frame = {}
        for pos, name in enumerate(header):
            kind = TABLES[key].column(mapping[pos]).kind
            cells = [row[pos] for row in rows]
            frame[name] = _typed_column(rng, kind, cells, coerce)
        df = pd.DataFrame(frame)
        con.register("frame", df)
        if key == "tickets":
            df["month"] = [d.strftime("%Y-%m") if isinstance(d, dt.date) and not pd.isna(d) else "none" for d in frame["日期"]]
            con.register("frame", df)
            con.execute(f"COPY frame TO '{out / key}' (FORMAT parquet, PARTITION_BY (month))")
        else:
            con.execute(f"COPY frame TO '{out / key}.parquet' (FORMAT parquet)")
        con.unregister("frame")
    con.close()
    return out


def _typed_column(rng, kind: str, cells: list, coerce):
    import datetime as dt

    import pandas as pd
    n = len(cells)
    if kind in ("minutes", "seconds", "number", "count", "priority"):
        parser = coerce.priority if kind == "priority" else coerce.PARSERS[kind]
        values = np.array([np.nan if (v := parser(c)[0]) is None else float(v) for c in cells])
        odd = rng.random(n)
        values[odd < 0.02] = np.inf
        values[(odd >= 0.02) & (odd < 0.04)] = -5.0
        values[(odd >= 0.04) & (odd < 0.05)] = 7.0 if kind == "priority" else 2.5
        return values
    if kind == "flag":
        return pd.array([coerce.flag(c)[0] for c in cells], dtype="boolean")
    if kind in ("date", "datetime"):
        stamps = [coerce.PARSERS[kind](c)[0] for c in cells]
        stamps = [None if s is None else s.to_pydatetime() for s in stamps]
        for i in np.flatnonzero(rng.random(n) < 0.02):
            stamps[i] = dt.datetime(1850, 1, 1)
        series = pd.Series(pd.to_datetime(stamps), dtype="datetime64[us]")
        return series.dt.date if kind == "date" else series
    return [coerce.text(c)[0] for c in cells]


def rows_of_parquet(folder: Path, table: str) -> list[list]:
    """A Parquet table's header and rows as Python values (for the pandas engine's loader)."""
    import duckdb
    path = folder / table if (folder / table).is_dir() else folder / f"{table}.parquet"
    pattern = str(path / "**" / "*.parquet") if path.is_dir() else str(path)
    con = duckdb.connect()
    cursor = con.execute(f"SELECT * FROM read_parquet('{pattern}')")
    header = [d[0] for d in cursor.description]
    rows = [list(r) for r in cursor.fetchall()]
    con.close()
    return [header] + rows


def pandas_dataset_of_parquet(folder: Path, clock=None) -> DataSet:
    from cs_xl.load import load_grids
    from cs_xl.read_files import Grid, Grids
    sheets = [Grid(name=table, rows=rows_of_parquet(folder, table)) for table in ("tickets", "feedback", "calls")
              if (folder / table).is_dir() or (folder / f"{table}.parquet").exists()]
    return load_grids(Grids(source=str(folder), sheets=sheets), tables=[g.name for g in sheets], clock=clock)
