"""Read a workbook (.xlsx/.xlsm) or a CSV export into a typed :class:`DataSet`.

One entry point, :func:`load`, in the style of ``pandas.read_*``::

    ds = load("book.xlsx")                     # tickets, feedback and calls
    ds = load("export.csv", tables=("tickets",))

What it does, in order, for each table of :mod:`cs_xl.schema`:

1. find the sheet: by name (``Table.sheet_names``, normalised like headers),
   else by its headers (the sheet matching most of the table's columns);
2. find the header row among the first :data:`HEADER_SCAN_ROWS` rows (the
   templates have a title row above it) and map headers to column keys;
3. coerce every recognised column with :func:`cs_xl.coerce.coerce_values` and
   turn each problem into a :class:`QualityIssue` (sheet, Excel row, header
   as typed, original value, reason, action);
4. skip blank rows silently and total rows (合计/总计…) with a report;
5. check what coercion alone cannot: value bounds (ratings 1–5, NPS 0–10, a call's
   durations under a day, a ticket's under ten years),
   dates in the future, blank required cells, impossible timestamp orders;
6. fill blank minute columns from timestamps (calendar minutes);
7. drop duplicate ids, keeping the most complete record (the last of equals).

The input file is only ever opened for reading.  Nothing here computes a
metric: the frames hold typed cell values, :mod:`cs_xl.metrics` does the rest.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import chain
from operator import itemgetter
from typing import Any, Sequence

import numpy as np
import pandas as pd

from cs_xl import coerce
from cs_xl.dataset import ROW, DataSet, QualityIssue
from cs_xl.read_files import (HEADER_SCAN_ROWS, SUPPORTED_SUFFIXES, Grid, Grids, LoadError,
                              read_grids)
from cs_xl.schema import TABLES, Table, normalize_header
from cs_xl.settings import Settings
from cs_xl.words import Reason, reason

__all__ = ["load", "load_grids", "LoadError", "SUPPORTED_SUFFIXES", "HEADER_SCAN_ROWS", "Grid", "Grids"]

# A row whose label cell says 合计 / Total is a summary under the data, not a record:
# counting it would add the column's sum or average as one more ticket.
TOTAL_LABELS = frozenset(
    variant
    for word in ("合计", "总计", "小计", "汇总", "平均", "平均值", "均值", "总数",
                 "total", "totals", "grand total", "subtotal", "sum", "average", "mean")
    for variant in (word, word.upper(), word.title(), word + ":", word + "：")
)

# Timestamps whose order makes a duration: (earlier, later, minutes key, reason if reversed)
DURATIONS = (
    ("created_at", "first_response_at", "frt_min", reason("frt_before_created")),
    ("first_response_at", "resolved_at", "resolve_min", reason("resolved_before_frt")),
)
# due dates are promises and legitimately lie ahead
NOT_FUTURE_CHECKED = frozenset({"due_at"})

# a few headers per table, quoted when no sheet is recognised
EXAMPLE_HEADERS = {
    "tickets": ("日期", "客服工号", "首次响应时间(分钟)"),
    "feedback": ("工单编号", "评分(1-5星)", "是否满意"),
    "calls": ("呼入时间", "等待时长(秒)", "是否接通"),
}
TABLE_NOUNS = {"tickets": "ticket", "feedback": "feedback", "calls": "call"}


# ====================================================================== public API

def load(path, *, tables: Sequence[str] = ("tickets", "feedback", "calls"), today=None) -> DataSet:
    """Load the input tables of a workbook or CSV export.

    ``tables`` selects which of ``"tickets"``, ``"feedback"`` and ``"calls"``
    to look for; a table the file lacks is ``None`` in the result.  Raises
    :class:`LoadError` when the file is missing, unreadable, of an unsupported
    type, or holds none of the requested tables.  ``today`` (a date) is the
    day after which dates are flagged as future (default: :func:`_today`);
    the refresh passes today in the 参数 timezone.
    """
    return load_grids(read_grids(path), tables=tables, today=today)


def load_grids(grids: Grids, *, tables: Sequence[str] = ("tickets", "feedback", "calls"), today=None,
               clock=None, early: EarlyTables | None = None) -> DataSet:
    """The typed DataSet of sheets already read as grids: a file (:func:`read_grids`),
    a live workbook's cells or an importer's output all take this one path.
    ``clock`` (:class:`cs_xl.clock.Clock`, default calendar minutes) measures
    the minutes filled from timestamps.  ``early``: tables built while the
    sheets were read, used where they are what this call would build."""
    wanted = _check_tables(tables)
    placements = _place_tables(grids.sheets, wanted)
    if not placements:
        raise LoadError(_nothing_found_message(grids.source, wanted, grids.sheets, grids.is_csv))
    dataset = DataSet(source=grids.source, typed=True)
    today = _today() if today is None else pd.Timestamp(today)  # one day for every table
    for key in wanted:
        if key not in placements:
            continue
        built = early.take(key, placements[key], today, clock) if early is not None else None
        if built is None:
            built = _build_table(TABLES[key], placements[key], today=today, clock=clock)
        setattr(dataset, key, built.frame)
        dataset.headers[key] = built.headers
        dataset.sheets[key] = placements[key].grid.name
        dataset.quality.issues.extend(built.issues)
    return dataset


class EarlyTables:
    """Input tables built while the workbook's other sheets are still being parsed.

    A sheet named like an input table (工单/响应时间统计表 …) is built as soon as it
    is read (:meth:`offer`, called by :func:`cs_xl.pipeline.read_path`).  The
    placement of :func:`load_grids` still decides, over every sheet, which sheet
    is which table; it takes an early build only when it places that table on the
    same sheet, header row and columns, with the same day and clock — otherwise the
    table is built again, so the result never depends on the order sheets arrive in.
    A build's error is kept and raised only if that build is taken."""

    def __init__(self, today, clock=None, tables: Sequence[str] = ("tickets", "feedback", "calls")):
        self.today, self.clock = pd.Timestamp(today), clock
        self._tables = _check_tables(tables)
        self._built: dict[tuple[str, int], tuple[Placement, Built | Exception]] = {}

    def offer(self, grid: Grid) -> None:
        for key in self._tables:
            placement = _placed_by_name(TABLES[key], grid)
            if placement is not None:
                try:
                    outcome = _build_table(TABLES[key], placement, today=self.today, clock=self.clock)
                except Exception as exc:  # raised by take(), when load_grids would have built it too
                    outcome = exc
                self._built[key, id(grid)] = (placement, outcome)

    def take(self, key: str, placement: Placement, today, clock) -> Built | None:
        placed, outcome = self._built.get((key, id(placement.grid)), (None, None))
        if placed is None or (placed.header_index, placed.mapping) != (placement.header_index, placement.mapping) \
                or pd.Timestamp(today) != self.today or clock is not self.clock:
            return None
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def _check_tables(tables) -> tuple[str, ...]:
    if isinstance(tables, str):
        tables = (tables,)
    unknown = [t for t in tables if t not in TABLES]
    if unknown:
        raise ValueError(f"unknown table {unknown[0]!r}; choose from {', '.join(TABLES)}")
    return tuple(dict.fromkeys(tables))


# ====================================================================== finding tables

@dataclass
class Placement:
    """Where a table sits: its sheet, header row index within the grid, and
    header position → column key."""
    grid: Grid
    header_index: int
    mapping: dict[int, str]


def _best_header_row(table: Table, grid: Grid) -> tuple[int, dict[int, str]]:
    """The row (among the first HEADER_SCAN_ROWS) matching most of the table's headers."""
    best_index, best = -1, {}
    for index, row in enumerate(grid.rows[:HEADER_SCAN_ROWS]):
        mapping = table.match_headers(row)
        if len(mapping) > len(best):
            best_index, best = index, mapping
    return best_index, best


# keys that belong to one table only: a sheet must have one of them to be taken for that table
_OWN_KEYS = {
    key: frozenset(table.keys) - frozenset(k for other in TABLES.values() if other is not table for k in other.keys)
    for key, table in TABLES.items()
}


def _qualifies(table: Table, mapping: dict[int, str]) -> bool:
    """A header row is this table's when it has ≥ 2 of its headers, all the
    required ones, and at least one header no other table has."""
    keys = set(mapping.values())
    return (len(keys) >= 2 and all(c.key in keys for c in table.required)
            and bool(keys & _OWN_KEYS[table.key]))


def _placed_by_name(table: Table, grid: Grid) -> Placement | None:
    """``grid`` as ``table`` when the sheet carries one of the table's names and a row of its
    headers (the first rule of :func:`_place_tables`, and what :class:`EarlyTables` builds on)."""
    if grid.text_only or normalize_header(grid.name) not in {normalize_header(n) for n in table.sheet_names}:
        return None
    index, mapping = _best_header_row(table, grid)
    return Placement(grid, index, mapping) if mapping else None


def _place_tables(grids: list[Grid], wanted: tuple[str, ...]) -> dict[str, Placement]:
    """Sheets by name first; then each remaining sheet goes to the table whose
    headers it matches best (over all tables, so a ticket sheet is never taken
    for feedback just because tickets were not asked for)."""
    placements: dict[str, Placement] = {}
    taken: set[int] = set()
    for key in wanted:
        for i, grid in enumerate(grids):
            placement = None if i in taken else _placed_by_name(TABLES[key], grid)
            if placement is not None:
                placements[key] = placement
                taken.add(i)
                break
    candidates: dict[str, list[tuple[int, int, Placement]]] = {}
    for i, grid in enumerate(grids):
        if i in taken:
            continue
        scored = []
        for order, table in enumerate(TABLES.values()):
            index, mapping = _best_header_row(table, grid)
            if _qualifies(table, mapping):
                scored.append((len(mapping), -order, table.key, Placement(grid, index, mapping)))
        if scored:
            score, _, key, placement = max(scored, key=lambda s: s[:2])
            candidates.setdefault(key, []).append((score, -i, placement))
    for key in wanted:
        if key not in placements and key in candidates:
            placements[key] = max(candidates[key], key=lambda c: c[:2])[2]
    return placements


def _nothing_found_message(path: str, wanted: tuple[str, ...], grids: list[Grid], is_csv: bool) -> str:
    nouns = [TABLE_NOUNS[k] for k in wanted]
    what = nouns[0] if len(nouns) == 1 else ", ".join(nouns[:-1]) + " or " + nouns[-1]
    examples = "; ".join(", ".join(EXAMPLE_HEADERS[k]) + (f" ({k})" if len(wanted) > 1 else "") for k in wanted)
    if len(wanted) == 3:  # the common case reads best without the table labels
        examples = ", ".join(EXAMPLE_HEADERS["tickets"])
    where = "" if is_csv else f" (sheets: {', '.join(g.name for g in grids) or 'none'})"
    container = "header row" if is_csv else "sheet"
    return (f"no {container} with {what} headers found in {path}{where}; "
            f"expected headers such as {examples}")


# ====================================================================== building a table

@dataclass
class Built:
    frame: pd.DataFrame
    headers: dict[str, str]
    issues: list[QualityIssue] = field(default_factory=list)


@dataclass
class _Work:
    """Everything known about one table while it is built (positions = data rows)."""
    table: Table
    sheet: str
    excel_rows: np.ndarray
    headers: dict[str, str]                 # key → header as typed
    raw: dict[str, np.ndarray]              # key → raw cells (object arrays)
    typed: dict[str, pd.Series]             # key → typed values
    coerced: dict[str, coerce.Coerced]      # key → its column as coercion left it
    problem_at: dict[str, dict[int, coerce.Problem]]
    issues: list[tuple] = field(default_factory=list)  # (sort key, QualityIssue)

    def report(self, pos: int | None, key: str | None, value, why: Reason, action: str) -> None:
        row = None if pos is None else int(self.excel_rows[pos])
        column = None if key is None else self.headers.get(key, self.table.column(key).zh)
        order = (-1 if row is None else row, self.table.keys.index(key) if key else -1)
        self.issues.append((order, QualityIssue(self.sheet, row, column, value, why, action)))


def _build_table(table: Table, placement: Placement, *, today: pd.Timestamp, clock=None) -> Built:
    grid, mapping = placement.grid, placement.mapping
    header_row = grid.rows[placement.header_index]
    data_rows = grid.rows[placement.header_index + 1:]
    first_data_row = grid.first_row + placement.header_index + 1
    work = _Work(
        table=table, sheet=grid.name,
        excel_rows=np.arange(first_data_row, first_data_row + len(data_rows), dtype=np.int64),
        headers={key: str(header_row[pos]).strip() for pos, key in mapping.items()},
        raw=_columns(data_rows, mapping),
        typed={}, coerced={}, problem_at={},
    )
    _report_header_problems(work, table, header_row, mapping)
    for key, values in work.raw.items():
        coerced = work.coerced[key] = coerce.coerce_cells(values, table.column(key).kind)
        work.typed[key] = coerced.typed
        work.problem_at[key] = {pos: problem for pos, _, problem in coerced.problems}

    totals = _total_rows(work)
    keep = ~(_blank_rows(work) | totals)
    for pos in np.flatnonzero(totals):
        key, value = _total_label(work, pos)
        work.report(pos, key, value, reason("total_row"), "dropped")
    _report_coercion_problems(work, keep, text_only=grid.text_only, serial_dates=grid.serial_dates)
    _check_bounds(work, keep)
    _check_future_dates(work, keep, today)
    _check_required_blanks(work, keep)
    _fill_minutes_from_timestamps(work, keep, clock)
    keep &= _dedupe(work, keep)

    frame = pd.DataFrame({key: work.typed[key][keep].reset_index(drop=True)
                          for key in table.keys if key in work.typed})
    frame[ROW] = work.excel_rows[keep]
    issues = [issue for _, issue in sorted(work.issues, key=lambda pair: pair[0])]
    return Built(frame, work.headers, issues)


def _columns(rows: list[list], mapping: dict[int, str]) -> dict[str, np.ndarray]:
    """key → the cells of its column, as object arrays, each cell as it is (a list stays one cell).

    A rectangular grid (every sheet read from a file) is copied into one row-major array in a
    single C pass, each column a view of it: numpy's ``np.array(rows)`` would look into every
    cell for nested sequences first, at twice the cost."""
    width = len(rows[0]) if rows else 0
    if rows and list(map(len, rows)).count(width) == len(rows):
        cells = np.fromiter(chain.from_iterable(rows), dtype=object, count=len(rows) * width)
        cells = cells.reshape(len(rows), width)
        return {key: cells[:, pos] for pos, key in mapping.items()}
    return {key: np.fromiter(map(itemgetter(pos), rows), dtype=object, count=len(rows))
            for pos, key in mapping.items()}


def _report_header_problems(work: _Work, table: Table, header_row, mapping) -> None:
    keys = set(mapping.values())
    for column in table.required:
        if column.key not in keys:
            work.report(None, column.key, None, reason("missing_column"), "flagged")
    # a second column with the same meaning is ignored (first one wins): say so
    for pos, cell in enumerate(header_row):
        key = table.match_headers([cell]).get(0)
        if key and pos not in mapping:
            work.issues.append(((-1, -1), QualityIssue(
                work.sheet, None, str(cell).strip(), None,
                reason("duplicate_column", header=work.headers[key]), "flagged")))


def _blank_rows(work: _Work) -> np.ndarray:
    """Rows with no value and no problem in any recognised column (placeholders
    such as '-' count as blank, like in coercion)."""
    n = len(work.excel_rows)
    blank = np.ones(n, dtype=bool)
    for key, coerced in work.coerced.items():
        blank &= coerced.missing
        problem_positions = list(work.problem_at[key])
        blank[problem_positions] = False
    return blank


def _total_rows(work: _Work) -> np.ndarray:
    """Rows labelled 合计/总计/Total… in a text or date column (summary rows under the data)."""
    totals = np.zeros(len(work.excel_rows), dtype=bool)
    for key, coerced in work.coerced.items():
        if work.table.column(key).kind in ("text", "date", "datetime"):
            totals |= coerced.cells_in(TOTAL_LABELS)
    return totals


def _total_label(work: _Work, pos: int) -> tuple[str, Any]:
    for key, values in work.raw.items():
        if values[pos] in TOTAL_LABELS:
            return key, values[pos]
    raise AssertionError("row has no total label")  # pragma: no cover


SERIAL_DATE = reason("date_serial")


def _report_coercion_problems(work: _Work, keep: np.ndarray, *, text_only: bool, serial_dates: bool = False) -> None:
    for key, problems in work.problem_at.items():
        raw = work.raw[key]
        for pos, problem in problems.items():
            if not keep[pos] or (text_only and problem.text_form) or (serial_dates and problem.why == SERIAL_DATE):
                continue  # in a CSV every value is text, through Office.js every date a number: no news
            work.report(pos, key, raw[pos], problem.why, problem.action)


def _check_bounds(work: _Work, keep: np.ndarray) -> None:
    """Values outside a column's valid range (ratings 1–5, NPS 0–10, durations within
    ``schema.CALL_SECONDS`` / ``TICKET_MINUTES``) are dropped."""
    for key, series in work.typed.items():
        bounds = work.table.column(key).bounds
        if bounds is None:
            continue
        low, high = bounds
        values = series.to_numpy(dtype=float)
        outside = keep & ~np.isnan(values) & ((values < low) | (values > high))
        for pos in np.flatnonzero(outside):
            work.report(pos, key, work.raw[key][pos], reason("outside", low=low, high=high), "dropped")
        work.typed[key] = series.mask(outside)


def _today() -> pd.Timestamp:
    """Today in the default 参数 timezone: the project's one clock (Settings.today)."""
    return pd.Timestamp(Settings().today())


def _check_future_dates(work: _Work, keep: np.ndarray, today: pd.Timestamp) -> None:
    """Dates after today are kept (a typo or a clock problem) and flagged."""
    tomorrow = today + pd.Timedelta(days=1)
    for key, series in work.typed.items():
        if work.table.column(key).kind not in ("date", "datetime") or key in NOT_FUTURE_CHECKED:
            continue
        future = keep & (series >= tomorrow).to_numpy(dtype=bool, na_value=False)
        for pos in np.flatnonzero(future):
            work.report(pos, key, work.raw[key][pos], reason("future_date"), "flagged")


def _missing(work: _Work, key: str) -> np.ndarray:
    """Per row: the typed value of ``key`` is blank (read off coercion while the column is unchanged)."""
    typed, coerced = work.typed[key], work.coerced.get(key)
    return coerced.missing if coerced is not None and typed is coerced.typed else typed.isna().to_numpy()


def _check_required_blanks(work: _Work, keep: np.ndarray) -> None:
    """A blank required cell (no date, no agent) keeps the row and is flagged;
    cells that were unreadable are already reported by coercion."""
    for column in work.table.required:
        if column.key not in work.typed:
            continue
        missing = keep & _missing(work, column.key)
        missing[list(work.problem_at[column.key])] = False
        for pos in np.flatnonzero(missing):
            work.report(pos, column.key, None, reason("missing_value"), "flagged")


def _fill_minutes_from_timestamps(work: _Work, keep: np.ndarray, clock=None) -> None:
    """frt_min = first_response_at − created_at, resolve_min = resolved_at −
    first_response_at, in calendar minutes (or by ``clock``, e.g. business
    minutes from the 参数 clock rows), where the minute cell is blank.

    Timestamps in an impossible order are dropped first: resolved before
    created, then each reversed pair of :data:`DURATIONS`.
    """
    typed = work.typed
    if not {"created_at", "resolved_at"} - typed.keys():
        _drop_reversed(work, keep, "created_at", "resolved_at", reason("resolved_before_created"))
    for earlier, later, _, why in DURATIONS:
        if not {earlier, later} - typed.keys():
            _drop_reversed(work, keep, earlier, later, why)
    for earlier, later, minutes_key, _ in DURATIONS:
        if {earlier, later} - typed.keys():
            continue
        computed = _minutes(typed[earlier], typed[later], clock)
        present = minutes_key in typed
        current = typed[minutes_key].to_numpy(dtype=float) if present else np.full(len(computed), np.nan)
        blank = np.isnan(current)
        if present:
            blank[list(work.problem_at[minutes_key])] = False  # unreadable ≠ blank: stays reported, not guessed
        fill = keep & blank & ~np.isnan(computed)
        if not fill.any():
            continue
        current = np.where(fill, computed, current)
        typed[minutes_key] = pd.Series(current, dtype=float)
        if present:
            for pos in np.flatnonzero(fill):
                work.report(pos, minutes_key, None, reason("from_timestamps"), "repaired")
        else:
            work.headers.setdefault(minutes_key, work.table.column(minutes_key).zh)
            work.raw[minutes_key] = [None] * len(current)
            work.problem_at[minutes_key] = {}
            work.report(None, minutes_key, f"{int(fill.sum())} rows",
                        reason("from_timestamps_absent"), "repaired")


def _minutes(earlier: pd.Series, later: pd.Series, clock) -> np.ndarray:
    if clock is not None and clock.mode != "calendar":
        return clock.between(earlier, later).to_numpy(dtype=float, na_value=np.nan)
    return ((later - earlier).dt.total_seconds() / 60).to_numpy(dtype=float, na_value=np.nan)


def _drop_reversed(work: _Work, keep: np.ndarray, earlier: str, later: str, why: Reason) -> None:
    first, second = work.typed[earlier], work.typed[later]
    reversed_ = keep & (second < first).to_numpy(dtype=bool, na_value=False)
    for pos in np.flatnonzero(reversed_):
        work.report(pos, later, work.raw[later][pos], why, "dropped")
    work.typed[later] = second.mask(reversed_)


def _dedupe(work: _Work, keep: np.ndarray) -> np.ndarray:
    """Keep one record per id: the most complete (most non-blank typed values),
    the last among equally complete.  Rows without an id are always kept."""
    id_key = work.table.id_key
    survivors = np.ones(len(keep), dtype=bool)
    if id_key not in work.typed:
        return survivors
    ids = work.typed[id_key]
    candidates = keep & ids.notna().to_numpy()
    repeated = np.flatnonzero(candidates & _repeated(work, id_key, candidates))
    if not len(repeated):
        return survivors
    # completeness is compared among the rows of a repeated id only
    filled = sum((~_missing(work, key)[repeated]).astype(int) for key in work.typed)
    ranked = pd.DataFrame({"id": ids.to_numpy()[repeated], "filled": filled, "pos": repeated}).sort_values(
        ["filled", "pos"], kind="stable")
    dropped = ranked.loc[ranked["id"].duplicated(keep="last"), "pos"].to_numpy()
    for pos in sorted(dropped):
        work.report(int(pos), id_key, ids.iat[pos], reason("duplicate", key=id_key), "dropped")
    survivors[dropped] = False
    return survivors


def _repeated(work: _Work, key: str, candidates: np.ndarray) -> np.ndarray:
    """Per row: a candidate whose typed ``key`` another candidate shares (by the codes coercion
    left when they tell the values apart, else by hashing the values)."""
    ids, coerced = work.typed[key], work.coerced.get(key)
    if coerced is None or ids is not coerced.typed or coerced.value_codes is None:
        return ids.where(candidates).duplicated(keep=False).to_numpy()
    codes = coerced.value_codes
    return np.bincount(codes[candidates], minlength=len(coerced.uniques) + 1)[codes] > 1
