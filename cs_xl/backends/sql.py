"""What every SQL engine shares: which file is which table, the loader's cell
rules as SQL, scope (period, 参数 lists, --where, tenure), groups, and the KPI
values from the registry's SQL forms.

An engine (:mod:`.duckdb`, :mod:`.spark`) only scans files into relations,
runs statements and streams result rows; it never hands a whole table to
Python.  The steps:

1. :func:`locate` — a file, a glob, or a folder (one sub-folder or file per
   table, e.g. ``tickets/month=2024-01/part-0.parquet``; else the folder is
   one table), each table recognised by its name or its columns;
2. :class:`Cleaner` — per input column the cell rules of :mod:`cs_xl.coerce`
   in SQL: typed Parquet columns are checked (negative, not finite, off the
   scale …), text columns take a SQL fast path for plain numbers and ISO
   dates, and every *other* distinct text value (units, full-width digits,
   是/否 words, error strings) is parsed once by the Python parser itself and
   mapped in SQL, so the outcome and the counts are the loader's (those values
   of every column found by one scan);
3. :class:`SqlKpis` — a census scan per table (the cell rules' counts, blank
   required cells, repeated ids), scope views, then per table one aggregate
   query for the parts of every metric (plus a few window queries), finished
   in Python by the forms.  ``kpis --json`` on a Parquet history: the census,
   one narrow scan per label column the forms match (channel, status), the
   aggregate.

Covered of the loader's data-quality rules: every cell rule (parsing,
negative / non-finite / off-scale values, error strings, placeholders),
summary rows (合计/总计/Total … in a text or date column: dropped, one issue
and one record each), missing required columns and blank required cells,
duplicate ids (the most complete record kept), dates in the future (flagged,
by the 参数 clock), timestamps in an impossible order (dropped), and minutes
filled from timestamps into blank cells (repaired) by the 参数 clock —
calendar minutes, or business hours on China's working days
(:mod:`.clock_sql`).  What stays with a workbook: the cell-by-cell issue list
(the SQL engines count issues by reason and action).
"""
from __future__ import annotations

import datetime as dt
import glob as globlib
import math
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterator

from .. import catalogue, coerce, kpis
from ..coerce import norm_text
from ..dataset import ROW
from ..load import NOT_FUTURE_CHECKED, TOTAL_LABELS
from ..read_files import LoadError
from ..schema import TABLES, normalize_header
from ..settings import Settings
from ..sql_forms import GROUP, Form, Quantile, count_if, holds
from ..words import reason
from .clock_sql import BusinessDays

FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".tsv": "csv", ".txt": "csv"}
DATABASE_SUFFIXES = (".duckdb", ".ddb", ".db")
MAX_MAPPED = 20_000  # distinct non-plain text values of one column parsed in Python (units, words, errors)
_PLAIN_NUMBER = r" *[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+) *"
_ISO_MOMENT = r"[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}(:[0-9]{2})?)?"
# what Python's str.strip() removes around a label
_WHITESPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006" \
              "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
# first characters of the labels the cell rules blank: a placeholder's (compared lower-cased: its
# upper-case form too) and an Excel error's ('#', compared upper-cased)
_BLANKING_STARTS = sorted({c for p in coerce._PLACEHOLDERS if p for c in (p[0], p[0].upper())}
                          | {e[0] for e in coerce.EXCEL_ERRORS})
_FIRST_YEAR, _LAST_YEAR = coerce._FIRST_YEAR, coerce._LAST_YEAR
_NUMERIC = ("minutes", "seconds", "number", "count")
MOMENTS = ("created_at", "first_response_at", "resolved_at")  # the tickets' moments minutes are measured between
# (earlier, later, reason code) dropped in this order, the later moment when before the earlier (load.DURATIONS)
REVERSED = (("created_at", "resolved_at", "resolved_before_created"),
            ("created_at", "first_response_at", "frt_before_created"),
            ("first_response_at", "resolved_at", "resolved_before_frt"))
DURATIONS = (("frt_min", "created_at", "first_response_at"), ("resolve_min", "first_response_at", "resolved_at"))
_LABEL_KINDS = ("text", "date", "datetime")  # the columns a 合计 label is looked for in (load._total_rows)


class SqlError(LoadError):
    """A history the SQL engines cannot read: one line naming the path (and table, column)."""


class Dialect:
    """The spellings of one SQL engine (what :class:`cs_xl.sql_forms.Dialect` lists): most are
    a template of their arguments ``{0}``, ``{1}`` in ``templates``; literals are shared."""
    templates: dict[str, str] = {}
    varchar = "VARCHAR"

    def __getattr__(self, name: str):
        try:
            template = type(self).templates[name]
        except KeyError:
            raise AttributeError(name) from None
        return lambda *args: template.format(*args)

    @staticmethod
    def num(value: float) -> str:
        """An exact DOUBLE: the shortest text that reads back as the same float."""
        return f"CAST('{float(value)!r}' AS DOUBLE)"

    @staticmethod
    def moment(value, target: str) -> str:
        return f"CAST('{value.isoformat(sep=' ')}' AS {target})"

    @staticmethod
    def text(value: str) -> str:
        return "'" + str(value).replace("'", "''") + "'"


class Engine:
    """What the DuckDB and Spark engines share: progress lines, a streamed result, one row."""
    report: Callable[[str], None] | None = None

    def progress(self, line: str) -> None:
        if self.report is not None:
            self.report(line)

    def one(self, sql: str) -> tuple:
        return next(iter(self.stream(sql)))

    def values(self, sql: str):
        """The one column of ``sql`` as a float numpy array (NULL → nan), streamed row by row;
        DuckDB fetches it as one array."""
        import numpy as np
        return np.fromiter((np.nan if row[0] is None else row[0] for row in self.stream(sql)), dtype=float)


# ====================================================================== where the tables are

@dataclass(frozen=True)
class Located:
    """One table's files (a path or a glob), or a table of a database; ``table`` None until recognised."""
    location: str
    fmt: str                 # parquet | csv | table (of an attached database)
    table: str | None = None


def table_of_name(name: str) -> str | None:
    """tickets / 工单 / 响应时间统计表 / calls … → the table key (sheet names and keys, normalised)."""
    wanted = normalize_header(Path(name).stem if "." in name else name)
    for key, table in TABLES.items():
        if wanted in {normalize_header(n) for n in (key, *table.sheet_names)}:
            return key
    return None


def locate(path) -> list[Located]:
    """The history's table sources: a Parquet/CSV file, a glob, or a folder (per-table
    sub-folders/files by name, else every Parquet — or CSV — file under it as one table)."""
    text = str(path)
    if any(ch in text for ch in "*?["):
        return [Located(text, _format_of(text, text))]
    p = Path(text)
    if not p.exists():
        raise SqlError(f"{p}: no such file or folder")
    if p.is_file():
        return [Located(str(p), _format_of(p.name, text))]
    named = [(child, table_of_name(child.name)) for child in sorted(p.iterdir())]
    named = [(child, key) for child, key in named if key is not None and (child.is_dir() or child.suffix.lower() in FORMATS)]
    if named:
        return [_files(child, key) for child, key in named]
    return [_files(p, None)]


def _format_of(name: str, shown: str) -> str:
    fmt = FORMATS.get(Path(name.rstrip("*")).suffix.lower())
    if fmt is None:
        raise SqlError(f"{shown}: not a Parquet or CSV file (.parquet, .csv); a DuckDB database ends in .duckdb")
    return fmt


def _files(p: Path, table: str | None) -> Located:
    """A file, or every Parquet (else CSV) file under a folder, Hive partitions included."""
    if p.is_file():
        return Located(str(p), _format_of(p.name, str(p)), table)
    for suffix, fmt in (("parquet", "parquet"), ("csv", "csv")):
        pattern = str(p / "**" / f"*.{suffix}")
        if globlib.glob(pattern, recursive=True):
            return Located(pattern, fmt, table)
    raise SqlError(f"{p}: no .parquet or .csv files in this folder")


def assign_tables(sources: list[tuple[Located, list[str]]], column_map: dict | None = None,
                  skip_unknown: bool = False) -> dict[str, tuple[int, dict[str, str]]]:
    """table key → (index of its source, canonical key → source column).  A source named for its
    table keeps it; others go to the table whose headers they match best (as the loader places
    sheets); one matching none is an error (``skip_unknown``: ignored, e.g. a database's other tables)."""
    placed: dict[str, tuple[int, dict[str, str]]] = {}
    for index, (located, columns) in enumerate(sources):
        mapping_by_table = {key: _mapping(TABLES[key], columns, column_map) for key in TABLES}
        key = located.table
        if key is None:
            scored = [(len(m), -i, k) for i, (k, m) in enumerate(mapping_by_table.items()) if _qualifies(k, m)]
            if not scored and skip_unknown:
                continue
            if not scored:
                raise SqlError(f"{located.location}: no ticket, feedback or call columns found "
                               f"(columns: {', '.join(columns[:12])}); name the columns as in the template "
                               f"(日期, 客服工号, 首次响应时间(分钟) …) or give --map")
            key = max(scored)[2]
        if key in placed:
            raise SqlError(f"{located.location}: a second {key} source (the first: {sources[placed[key][0]][0].location})")
        placed[key] = (index, mapping_by_table[key])
    if not placed:
        raise SqlError(f"{sources[0][0].location if sources else 'the history'}: no ticket, feedback or call table found")
    return placed


def _mapping(table, columns: list[str], column_map: dict | None) -> dict[str, str]:
    """Canonical key → source column: the map's [columns] for its table, else the template's headers and aliases."""
    if column_map and column_map.get("table", "tickets") == table.key:
        present = set(columns)
        return {key: col for key, col in column_map.get("columns", {}).items()
                if key in table.keys and col in present}
    return {key: columns[pos] for pos, key in table.match_headers(columns).items()}


def _qualifies(key: str, mapping: dict[str, str]) -> bool:
    from ..load import _OWN_KEYS  # the loader's rule: ≥ 2 headers, the required ones, one of its own
    table = TABLES[key]
    keys = set(mapping)
    return len(keys) >= 2 and all(c.key in keys for c in table.required) and bool(keys & _OWN_KEYS[key])


def read_map(map_arg) -> dict:
    """An importer map (a preset name such as ``zendesk`` or a .toml file): its ``table`` and ``[columns]``."""
    presets = resources.files("cs_xl.importers").joinpath("presets")
    if Path(str(map_arg)).suffix.lower() != ".toml" and presets.joinpath(f"{map_arg}.toml").is_file():
        text = presets.joinpath(f"{map_arg}.toml").read_text("utf-8")
    elif Path(map_arg).is_file():
        text = Path(map_arg).read_text("utf-8-sig")
    else:
        raise SqlError(f"{map_arg}: no such map file or preset")
    spec = tomllib.loads(text)
    if not spec.get("columns"):
        raise SqlError(f"{map_arg}: the map has no [columns] table (canonical key = \"source column\")")
    return spec


# ====================================================================== cell rules in SQL

@dataclass
class Issue:
    """A count of cells with one outcome: a SQL count over the raw table, or a count already known."""
    why: Any
    action: str
    count_sql: str | None = None
    count: int = 0
    column: str | None = None  # the canonical key of the column (None: the table)
    per_row: bool = True       # counted per row (False: once for the table, e.g. a column filled in)


@dataclass
class CleanTable:
    key: str
    source: Located
    raw: str                            # FROM-able relation of the raw rows
    columns: dict[str, str]             # canonical key → cleaning expression over the raw row
    issues: list[Issue] = field(default_factory=list)
    not_blank: str = "TRUE"             # rows with any value in a recognised column (blank rows are skipped)
    # (column key, raw expression, rows selected, outcomes of found (value, count) pairs) per parsed column
    mapped: list[tuple[str, str, str, Callable]] = field(default_factory=list)
    dropped: str | None = None          # FROM-able relation of the raw rows dropped as repeated ids
    # number key → the cell is blank as the loader sees it (no value, no problem but off the scale):
    # minutes computed from timestamps may fill it
    fillable: dict[str, str] = field(default_factory=dict)
    # moment key → its expression as read, before a moment in an impossible order is dropped
    as_read: dict[str, str] = field(default_factory=dict)


class Cleaner:
    """The cleaning expression of each recognised column (see the module docstring)."""

    def __init__(self, engine, table: str, source: Located, raw: str, types: dict[str, str],
                 mapping: dict[str, str]):
        self.engine, self.d = engine, engine.dialect
        self.table, self.source, self.raw, self.types, self.mapping = TABLES[table], source, raw, types, mapping
        self.text_only = source.fmt == "csv"  # every CSV value is text: "stored as text" is no news
        self._asked: list[tuple[str, str]] | None = None

    def build(self) -> CleanTable:
        out = CleanTable(self.table.key, self.source, self.raw, {})
        self._skip_totals(out)
        self._found = self._unplain_values()
        self._specs: list = []
        self._fillable: str | None = None
        for column in self.table.required:
            if column.key not in self.mapping:
                out.issues.append(Issue(reason("missing_column"), "flagged", count=1))
        for key, source_column in self.mapping.items():
            col = self.table.column(key)
            expr, issues = self._column(col, self.d.ident(source_column), self.types[source_column])
            out.columns[key] = expr
            out.mapped += [(key, *spec) for spec in self._specs]
            if self._fillable is not None:
                out.fillable[key] = self._fillable
            self._specs, self._fillable = [], None
            for issue in issues:
                issue.column = key
            out.issues.extend(issues)
        if self.mapping:
            out.not_blank = " OR ".join(f"{self.d.ident(c)} IS NOT NULL" for c in dict.fromkeys(self.mapping.values()))
        return out

    def _unplain_values(self) -> dict[tuple[str, str], list[tuple]]:
        """(raw expression, rows selected) → its distinct (value, count) pairs, of every column the
        Python parser reads (:meth:`_mapped`), from one scan: a dry run of the columns' rules says
        what they ask, one GROUPING SETS query answers all (a CSV is parsed once, not per column)."""
        self._asked: list[tuple[str, str]] | None = []
        for key, source_column in self.mapping.items():
            self._column(self.table.column(key), self.d.ident(source_column), self.types[source_column])
        asked, self._asked = list(dict.fromkeys(self._asked)), None
        if not asked:
            return {}
        names = [f"_k{i}" for i in range(len(asked))]
        keys = ", ".join(f"CASE WHEN {raw} IS NOT NULL AND {holds(which)} THEN {raw} END AS {name}"
                         for (raw, which), name in zip(asked, names))
        sql = (f"SELECT {', '.join(names)}, grouping_id({', '.join(names)}), count(*) FROM "
               f"(SELECT {keys} FROM {self.raw}) AS k WHERE {' OR '.join(f'{n} IS NOT NULL' for n in names)} "
               f"GROUP BY GROUPING SETS ({', '.join(f'({n})' for n in names)})")
        found: dict[tuple[str, str], list[tuple]] = {spec: [] for spec in asked}
        for row in self.engine.stream(sql):
            own_bit = ~int(row[-2]) & ((1 << len(asked)) - 1)  # grouping_id: 0 for the set's own column
            index = len(asked) - own_bit.bit_length()
            value = row[index]
            if value is None:  # rows selected for another column only
                continue
            values = found[asked[index]]
            values.append((value, row[-1]))
            if len(values) > MAX_MAPPED:
                raise SqlError(f"{self.source.location}: column {asked[index][0]} has more than {MAX_MAPPED:,} "
                               "distinct values that are neither plain numbers nor ISO dates; store it typed "
                               "(a Parquet number or timestamp)")
        return found

    def _skip_totals(self, out: CleanTable) -> None:
        """Rows labelled 合计/总计/Total… in a text or date column are summaries under the data, not
        records (load._total_rows): left out of the raw relation every later step reads, and
        reported once per row, as the loader drops them."""
        labelled = list(dict.fromkeys(self.d.ident(c) for k, c in self.mapping.items()
                                      if self.table.column(k).kind in _LABEL_KINDS and self.types[c] == "text"))
        if not labelled:
            return
        labels = ", ".join(self.d.text(t) for t in sorted(TOTAL_LABELS))
        is_total = " OR ".join(f"{c} IN ({labels})" for c in labelled)
        if not self.text_only:
            # one filter per column: a typed file answers it from its statistics, without a scan
            probes = " + ".join(f"(SELECT count(*) FROM {self.raw} WHERE {c} IN ({labels}))" for c in labelled)
            if not int(self.engine.one(f"SELECT {probes}")[0] or 0):
                return
        found = int(self.engine.one(f"SELECT {count_if(holds(is_total))} FROM {self.raw}")[0] or 0)
        if found:
            self.raw = out.raw = f"(SELECT * FROM {self.raw} WHERE NOT {holds(is_total)}) AS kept"
            out.issues.append(Issue(reason("total_row"), "dropped", count=found))

    # ---------------------------------------------------------------- per kind

    def _column(self, col, raw: str, category: str) -> tuple[str, list[Issue]]:
        if category == "other":
            raw, category = f"CAST({raw} AS {self.d.varchar})", "text"
        if col.kind in _NUMERIC:
            return self._number(col, raw, category)
        if col.kind == "flag":
            return self._flag(raw, category)
        if col.kind == "priority":
            return self._priority(raw, category)
        if col.kind in ("date", "datetime"):
            return self._moment(col, raw, category)
        return self._text(raw, category)

    def _number(self, col, raw: str, category: str) -> tuple[str, list[Issue]]:
        d, issues = self.d, []
        if category == "number":
            value = f"CAST({raw} AS DOUBLE)"
            issues.append(Issue(coerce.DROP_NOT_FINITE.why, "dropped", count_if(d.infinite(value))))
            parsed = f"CASE WHEN {d.nan(value)} OR {d.infinite(value)} THEN NULL ELSE {value} END"
            fast = "TRUE"
        elif category == "bool":
            issues.append(Issue(coerce.DROP_BOOL_AS_NUMBER.why, "dropped", count_if(f"{raw} IS NOT NULL")))
            self._fillable = f"{raw} IS NULL"
            return "CAST(NULL AS DOUBLE)", issues
        else:
            raw, fast = self._as_text(raw, category), d.matches(self._as_text(raw, category), _PLAIN_NUMBER)
            mapped, mapped_issues = self._mapped(raw, f"NOT {holds(fast)}", coerce.PARSERS[col.kind],
                                                 lambda v: d.num(v), col.bounds)
            issues += mapped_issues
            parsed = f"CASE WHEN {holds(fast)} THEN CAST(trim({raw}) AS DOUBLE) ELSE {mapped} END"
            blanks = ", ".join(d.text(v) for v in self._blank_values)  # '-', 'n/a', spaces …
            self._fillable = f"{raw} IS NULL" + (f" OR {raw} IN ({blanks})" if blanks else "")
        checks = [("negative", f"{parsed} < 0", coerce.DROP_NEGATIVE.why)]
        if col.kind == "count":
            checks.append(("whole", f"{parsed} <> floor({parsed})", reason("not_whole")))
        if col.bounds is not None:
            low, high = col.bounds
            checks.append(("bounds", f"NOT ({parsed} BETWEEN {low} AND {high})",
                           reason("outside", low=low, high=high)))
        passed = []
        for _name, failing, why in checks:
            issues.append(Issue(why, "dropped", count_if(f"{holds(fast)} AND " + " AND ".join(
                [f"{parsed} IS NOT NULL"] + [f"NOT ({p})" for p in passed] + [failing]))))
            passed.append(failing)
        valid = " AND ".join(f"NOT ({p})" for p in passed)
        if category == "number":  # a typed number off the scale is dropped and then blank (a text one is a problem)
            off_scale = f" OR ({parsed} IS NOT NULL AND {' AND '.join(f'NOT ({p})' for p in passed[:-1]) or 'TRUE'} " \
                        f"AND {passed[-1]})" if col.bounds is not None else ""
            self._fillable = f"{raw} IS NULL OR {d.nan(value)}{off_scale}"
        if category != "number" and not self.text_only:
            # text that is a valid plain number was repaired (reported outside CSV), off-scale still reported
            issues.append(Issue(coerce.REPAIR_TEXT_NUMBER.why, "repaired",
                                count_if(f"{holds(fast)} AND {parsed} IS NOT NULL AND "
                                         + " AND ".join(f"NOT ({p})" for p in passed[:len(passed) - (col.bounds is not None)]))))
        return f"CASE WHEN {valid} THEN {parsed} END", issues

    def _flag(self, raw: str, category: str) -> tuple[str, list[Issue]]:
        if category == "bool":
            return raw, []
        if category == "number":
            value = f"CAST({raw} AS DOUBLE)"
            bad = f"{raw} IS NOT NULL AND NOT {self.d.nan(value)} AND {value} NOT IN (0, 1)"
            return (f"CASE WHEN {value} = 1 THEN TRUE WHEN {value} = 0 THEN FALSE END",
                    [Issue(reason("not_yes_no"), "dropped", count_if(bad))])
        return self._mapped(self._as_text(raw, category), "TRUE", coerce.flag, lambda v: "TRUE" if v else "FALSE")

    def _priority(self, raw: str, category: str) -> tuple[str, list[Issue]]:
        if category == "number":
            value = f"CAST({raw} AS DOUBLE)"
            bad = f"{raw} IS NOT NULL AND NOT {self.d.nan(value)} AND {value} NOT IN (1, 2, 3, 4)"
            return (f"CASE WHEN {value} IN (1, 2, 3, 4) THEN CAST({value} AS INTEGER) END",
                    [Issue(reason("unknown_priority"), "dropped", count_if(bad))])
        return self._mapped(self._as_text(raw, category), "TRUE", coerce.priority, str)

    def _moment(self, col, raw: str, category: str) -> tuple[str, list[Issue]]:
        d, issues = self.d, []
        target = "DATE" if col.kind == "date" else "TIMESTAMP"
        parser = coerce.PARSERS[col.kind]
        if category in ("date", "timestamp"):
            value = f"CAST({raw} AS TIMESTAMP)"
            inside = f"year({value}) BETWEEN {_FIRST_YEAR} AND {_LAST_YEAR}"
            issues.append(Issue(coerce.DROP_DATE_RANGE.why, "dropped", count_if(f"{value} IS NOT NULL AND NOT ({inside})")))
            return f"CASE WHEN {inside} THEN CAST({value} AS {target}) END", issues
        if category == "number":  # Excel serial numbers: few distinct days, parsed in Python
            return self._mapped(raw, "TRUE", parser, lambda v: d.moment(v, target), cast_key=True)
        text = self._as_text(raw, category)
        fast = holds(d.matches(text, _ISO_MOMENT))
        value = d.try_timestamp(text)
        inside = f"year({value}) BETWEEN {_FIRST_YEAR} AND {_LAST_YEAR}"
        mapped, mapped_issues = self._mapped(text, f"NOT {fast}", parser, lambda v: d.moment(v, target))
        issues += mapped_issues
        issues.append(Issue(reason("not_date"), "dropped", count_if(f"{fast} AND {value} IS NULL")))
        issues.append(Issue(coerce.DROP_DATE_RANGE.why, "dropped", count_if(f"{fast} AND NOT {holds(inside)} AND {value} IS NOT NULL")))
        if not self.text_only:
            issues.append(Issue(reason("date_text"), "repaired", count_if(f"{fast} AND {holds(inside)}")))
        return f"CASE WHEN {fast} THEN CASE WHEN {inside} THEN CAST({value} AS {target}) END ELSE {mapped} END", issues

    def _text(self, raw: str, category: str) -> tuple[str, list[Issue]]:
        d = self.d
        if category == "number":
            value = f"CAST({raw} AS DOUBLE)"
            whole = f"CAST(CAST({value} AS BIGINT) AS {d.varchar})"
            return (f"CASE WHEN {d.nan(value)} THEN NULL WHEN {value} = floor({value}) THEN {whole} "
                    f"ELSE CAST({raw} AS {d.varchar}) END", [])
        if category != "text":
            return f"CAST({raw} AS {d.varchar})", []
        t = d.strip(raw, _WHITESPACE)
        placeholders = ", ".join(d.text(p) for p in sorted(coerce._PLACEHOLDERS))
        errors = ", ".join(d.text(e) for e in sorted(coerce.EXCEL_ERRORS))
        plain = plain_label(d, raw)  # most labels: kept as they are, without the costly rules below
        expr = (f"CASE WHEN {plain} THEN {raw} WHEN {t} = '' OR lower({t}) IN ({placeholders}) "
                f"OR upper({t}) IN ({errors}) THEN NULL ELSE {t} END")
        error = f"CASE WHEN {plain} THEN FALSE ELSE {holds(f'upper({t}) IN ({errors})')} END"
        return expr, [Issue(coerce.DROP_ERROR.why, "dropped", count_if(error))]

    # ---------------------------------------------------------------- helpers

    def _as_text(self, raw: str, category: str) -> str:
        return raw if category == "text" else f"CAST({raw} AS {self.d.varchar})"

    def _mapped(self, raw: str, which: str, parser, literal: Callable[[Any], str], bounds=None,
                cast_key: bool = False) -> tuple[str, list[Issue]]:
        """Distinct values of ``raw`` selected by ``which`` (found by :meth:`_unplain_values`), parsed
        by the Python cell parser; a CASE maps each to its typed value; counts per outcome are kept."""
        d = self.d
        if self._asked is not None:  # the dry run of _unplain_values: only what is asked
            self._asked.append((raw, which))
            self._blank_values = []
            return "NULL", []
        found = self._found[(raw, which)]

        def parse(value):
            parsed, problem = parser(value)
            problems = []
            if bounds is not None and parsed is not None and not bounds[0] <= parsed <= bounds[1]:
                problems.append(problem)
                problem, parsed = coerce.Problem(reason("outside", low=bounds[0], high=bounds[1]), "dropped"), None
            problems.append(problem)
            return parsed, [p for p in problems if p is not None and not (self.text_only and p.text_form)]

        def outcomes(pairs) -> Counter:
            """(reason, action) → cells, of (value, count) pairs."""
            out: Counter = Counter()
            for value, n in pairs:
                for problem in parse(value)[1]:
                    out[(problem.why, problem.action)] += n
            return out

        self._specs.append((raw, which, outcomes))
        self._blank_values = [value for value, _n in found if parser(value) == (None, None)]
        cases = []
        for value, _n in found:
            parsed = parse(value)[0]
            if parsed is not None:
                key = d.num(value) if cast_key else d.text(value)
                cases.append(f"WHEN {key} THEN {literal(parsed)}")
        expr = f"CASE {raw} {' '.join(cases)} END" if cases else "NULL"
        return expr, [Issue(why, action, count=n) for (why, action), n in outcomes(found).items()]


def plain_label(d, raw: str) -> str:
    """True for text the label rule (strip, placeholders, Excel errors) keeps unchanged, by a few
    comparisons: its first and last characters are printable ASCII or from U+3001 on (CJK, kana,
    full-width forms, Hangul: never whitespace), and it does not start like a placeholder or an
    error.  Stripping with a list of characters costs DuckDB a set per row (ten times the whole
    scan); this sends only the rare other values through the full rule.

    Text compares by UTF-8 bytes, which orders by code point, so ``x >= '!'`` tests the first
    character; the last is the first of ``reverse(x)``.  DuckDB reverses by grapheme cluster: a
    trailing space can follow only a Prepend character (U+0600…U+0D4E, or above U+FFFF) inside a
    cluster, and both ranges take the full rule."""
    def ordinary_start(x: str) -> str:
        return (f"{x} >= '!' AND NOT ({x} >= {d.text(chr(0x80))} AND {x} < {d.text(chr(0x3001))}) "
                f"AND {x} < {d.text(chr(0x10000))}")
    blanking = " AND ".join(f"NOT ({raw} >= {d.text(c)} AND {raw} < {d.text(chr(ord(c) + 1))})"
                            for c in _BLANKING_STARTS)
    return f"({ordinary_start(raw)} AND {blanking} AND {ordinary_start(f'reverse({raw})')})"


def quality_summary(tables: dict[str, CleanTable]) -> dict:
    """Counts of the cells repaired / dropped / flagged, keyed like the loader's data_quality
    (every issue counted already: SqlKpis._census)."""
    by_action: Counter = Counter()
    by_reason: Counter = Counter()
    for clean in tables.values():
        for issue in clean.issues:
            if issue.count:
                by_action[issue.action] += issue.count
                by_reason[issue.why.text("en")] += issue.count
    return {"issues": sum(by_action.values()), "by_action": dict(by_action), "by_reason": dict(by_reason)}


def records_issues(engine, tables: dict[str, CleanTable]) -> Counter:
    """Per action, the issues of the cells of rows dropped as repeated ids: part of a dropped record
    (report.quality_counts counts the record, not its cells).  The same rules over those rows only."""
    out: Counter = Counter()
    for clean in tables.values():
        if clean.dropped is None:
            continue
        counted = [i for i in clean.issues if i.count_sql is not None and i.per_row]
        required = [c.key for c in TABLES[clean.key].required if c.key in clean.columns]
        blanks = [count_if(f"({clean.columns[k]}) IS NULL") for k in required]
        row = engine.one(f"SELECT {', '.join([*(i.count_sql for i in counted), *blanks, '0'])} FROM {clean.dropped}")
        dropped_cells: Counter = Counter()
        for issue, n in zip(counted, row):
            out[issue.action] += int(n or 0)
            dropped_cells[issue.column] += int(n or 0) if issue.action == "dropped" else 0
        for key, raw, which, outcomes in clean.mapped:
            found = engine.stream(f"SELECT {raw}, count(*) FROM {clean.dropped} WHERE {raw} IS NOT NULL "
                                  f"AND {holds(which)} GROUP BY {raw}")
            for (_why, action), n in outcomes(found).items():
                out[action] += n
                dropped_cells[key] += n if action == "dropped" else 0
        for key, n in zip(required, row[len(counted):]):
            out["flagged"] += max(int(n or 0) - dropped_cells[key], 0)
    return out


def _flag_required_blanks(clean: CleanTable, required: list[str], nulls: tuple) -> None:
    """A blank required cell (no date, no agent) is flagged; cells that were unreadable are already counted."""
    for key, n in zip(required, nulls):
        unreadable = sum(i.count for i in clean.issues if i.column == key and i.action == "dropped")
        if n - unreadable:
            clean.issues.append(Issue(reason("missing_value"), "flagged", count=int(n - unreadable), column=key))


# ====================================================================== KPIs

class _Shape:
    """A cleaned table's columns, as the SQL forms ask about them."""

    def __init__(self, kpis_: "SqlKpis", table: str):
        self.kpis, self.table = kpis_, table

    def has(self, key: str) -> bool:
        return key == ROW or key in self.kpis.clean[self.table].columns

    def labels(self, key: str, keep) -> list:
        return [v for v in self.kpis.distinct(self.table, key) if keep(v)]


class _Values:
    """The KPI values of one group, computed on demand (composite metrics read others)."""

    def __init__(self, kpis_: "SqlKpis", rows: dict, parts: dict, windows: dict, undefined: set):
        self.kpis, self._rows, self.parts, self.windows, self.undefined = kpis_, rows, parts, windows, undefined
        self._values: dict[str, float] = {}

    def rows(self, table: str) -> int | None:
        return self._rows.get(table)

    def value(self, key: str) -> float:
        if key not in self._values:
            self._values[key] = self._compute(key)
        return self._values[key]

    def _compute(self, key: str) -> float:
        m = catalogue.get(key)
        form = self.kpis.forms.get(key)
        if key in self.undefined or form is None or self.rows(m.table) is None:
            return math.nan
        parts = {name: self.parts[m.table].get(f"{key}__{name}") for name in form.parts}
        parts.update({name: self.windows.get((key, name), []) for name in form.windows})
        return float(form.finish(parts, self))


class SqlKpis:
    """The registry's KPIs over the history an engine has opened: headline and grouped,
    inside the period and scope of ``settings`` and ``where``."""

    def __init__(self, engine, settings: Settings | None = None, where: dict | None = None,
                 column_map: dict | None = None, count_cells: bool = True):
        """``count_cells`` False: the data quality is counted only if asked (by a scan of its own),
        not with the repeated ids up front — for a caller that shows no quality (kpis --by)."""
        self.engine, self.d = engine, engine.dialect
        self.settings = settings or Settings()
        found = engine.sources()  # (Located, raw relation, source column → type category)
        placed = assign_tables([(loc, list(types)) for loc, _raw, types in found], column_map,
                               skip_unknown=engine.is_database)
        self.clean: dict[str, CleanTable] = {}
        for key, (index, mapping) in sorted(placed.items(), key=lambda item: list(TABLES).index(item[0])):
            located, raw, types = found[index]
            engine.progress(f"{key}: {located.location}")
            self.clean[key] = Cleaner(engine, key, located, raw, types, mapping).build()
        self._fill_minutes()
        self._future: dict[str, list[Issue]] = {}  # table → its future-date flags, as of self._today
        self._today = self.settings.today()
        for key in self.clean:
            self._future[key] = self._future_dates(key, self._today)
            self.clean[key].issues += self._future[key]
            self._clean_view(key, repeats=self._census(key, cells=count_cells))
        self._cells_counted = count_cells
        self._distinct: dict[tuple[str, str, str], list] = {}
        self._quality: dict | None = None
        self.rescope(where or {})

    def rescope(self, where: dict) -> None:
        """Scope views for the settings and ``where`` (key → allowed values), and the metrics' forms."""
        self._scope(where)
        self.forms = self._forms()

    # ---------------------------------------------------------------- columns

    def has(self, table: str, key: str) -> bool:
        return table in self.clean and key in self.clean[table].columns

    def has_column(self, key: str) -> bool:
        return key in kpis.PERIODS or any(key in c.columns for c in self.clean.values())

    def distinct(self, table: str, key: str, view: str = "clean") -> list:
        if (table, key, view) not in self._distinct:
            rows = self.engine.stream(f"SELECT DISTINCT {key} FROM {view}_{table} WHERE {key} IS NOT NULL "
                                      f"LIMIT {MAX_MAPPED + 1}")
            self._distinct[(table, key, view)] = [r[0] for r in rows]
        return self._distinct[(table, key, view)]

    def _fill_minutes(self) -> None:
        """The loader's _fill_minutes_from_timestamps: timestamps in an impossible order dropped
        (resolved before created, then each reversed pair, reported on the later one), then
        frt_min / resolve_min from the timestamps where the cell is blank (calendar or business
        minutes, by the 参数 clock)."""
        clean = self.clean.get("tickets")
        if clean is None:
            return
        cols = clean.columns
        clean.as_read = {k: cols[k] for k in MOMENTS if k in cols}
        kept = {k: cols.get(k) for k in MOMENTS}
        for earlier, later, why in REVERSED:
            if kept[earlier] and kept[later]:
                reversed_ = holds(f"{kept[later]} < {kept[earlier]}")
                clean.issues.append(Issue(reason(why), "dropped", count_if(reversed_), column=later))
                kept[later] = f"CASE WHEN {reversed_} THEN NULL ELSE {kept[later]} END"
        pairs = [(key, earlier, later) for key, earlier, later in DURATIONS if kept[earlier] and kept[later]]
        between = self._minutes_between(clean, clean.as_read) if pairs else None
        for key, earlier, later in pairs:
            minutes = between(earlier, kept[earlier], later, kept[later])
            cell = cols.get(key)
            blank = None if cell is None else f"({cell}) IS NULL AND ({clean.fillable.get(key, 'TRUE')})"
            clean.issues.append(self._filled_issue(key, blank, minutes))
            cols[key] = minutes if cell is None else f"CASE WHEN {blank} THEN {minutes} ELSE {cell} END"
        cols.update({k: e for k, e in kept.items() if e})

    def _minutes_between(self, clean: CleanTable, moments: dict[str, str]) -> Callable[[str, str, str, str], str]:
        """(earlier key, its expression, later key, its expression) → the SQL of the minutes between
        two of the tickets' moments (NULL when either is).  Business minutes read per-row day
        columns (:mod:`.clock_sql`) added once around the raw relation."""
        d = self.d

        def calendar(_earlier: str, earlier: str, _later: str, later: str) -> str:
            return f"({d.epoch_us(later)} - {d.epoch_us(earlier)}) / 60000000.0"
        span = self._span(clean, moments.values()) if self.settings.clock_mode != "calendar" else None
        if span is None:  # calendar minutes, or no timestamp at all (nothing to fill)
            return calendar
        days = BusinessDays(self.settings.clock(), d, *span)
        dated = {c: e for key, expr in moments.items() for c, e in days.day_columns(expr, f"_cs_xl_{key}").items()}
        coded = {c: e for key in moments for c, e in days.code_column(f"_cs_xl_{key}").items()}
        clean.raw = (f"(SELECT *, {', '.join(f'{e} AS {c}' for c, e in coded.items())} FROM "
                     f"(SELECT *, {', '.join(f'{e} AS {c}' for c, e in dated.items())} FROM {clean.raw}) AS dated) AS coded")

        def business(earlier_key: str, earlier: str, later_key: str, later: str) -> str:
            # the moments as the minutes see them (a reversed one is NULL); their days from the columns
            return (f"CASE WHEN ({earlier}) IS NOT NULL AND ({later}) IS NOT NULL "
                    f"THEN {days.minutes(f'_cs_xl_{earlier_key}', f'_cs_xl_{later_key}')} END")
        return business

    def _span(self, clean: CleanTable, moments) -> tuple[dt.date, dt.date] | None:
        """The first and last day of the tickets' moments (one scan), or None when all are blank."""
        days = [f"CAST(({m}) AS DATE)" for m in moments]
        found = self.engine.one(f"SELECT {', '.join(f'min({x}), max({x})' for x in days)} "
                                f"FROM {clean.raw} WHERE {clean.not_blank}")
        found = [_as_date(v) for v in found if v is not None]
        return (min(found), max(found)) if found else None

    @staticmethod
    def _filled_issue(key: str, blank: str | None, minutes: str) -> Issue:
        """The loader's count of minutes filled from timestamps: each blank cell filled is repaired;
        without the column (``blank`` None), one issue for the table (its rows computed)."""
        filled = f"{minutes} IS NOT NULL" if blank is None else f"{blank} AND {minutes} IS NOT NULL"
        if blank is None:
            return Issue(reason("from_timestamps_absent"), "repaired",
                         f"CASE WHEN {count_if(filled)} > 0 THEN 1 ELSE 0 END", column=key, per_row=False)
        return Issue(reason("from_timestamps"), "repaired", count_if(filled), column=key)

    def _census(self, table: str, cells: bool = True, ids: bool = True) -> int:
        """One scan of the table's rows counts what the cell rules did (every issue with a count,
        the blank required cells) and the repeated ids: the data quality is then known without a
        scan of its own, and the ids are hashed once.  Returns the repeated ids (0 without ``ids``)."""
        clean = self.clean[table]
        counted = [i for i in clean.issues if i.count_sql is not None] if cells else []
        required = [c.key for c in TABLES[table].required if c.key in clean.columns] if cells else []
        blanks = [count_if(f"({clean.columns[k]}) IS NULL") for k in required]
        id_expr = clean.columns.get(TABLES[table].id_key) if ids else None
        repeats = [f"count({id_expr}) - count(DISTINCT {id_expr})"] if id_expr else []
        if not counted and not blanks and not repeats:
            return 0
        self.engine.progress(f"{table}: checking the cells")
        row = self.engine.one(f"SELECT {', '.join([*(i.count_sql for i in counted), *blanks, *repeats])} "
                              f"FROM {clean.raw} WHERE {clean.not_blank}")
        for issue, n in zip(counted, row):
            issue.count = int(n or 0)
        _flag_required_blanks(clean, required, row[len(counted):len(counted) + len(blanks)])
        return int(row[-1] or 0) if repeats else 0

    def _clean_view(self, table: str, repeats: int) -> None:
        """clean_<table>: the typed rows, blank rows skipped, one record per id (loader._dedupe:
        the most complete, the later in file order among equals) when ids repeat."""
        clean = self.clean[table]
        cols = clean.columns
        select = ", ".join(f"{expr} AS {k}" for k, expr in cols.items()) or "1 AS _none"
        base = f"SELECT {select} FROM {clean.raw} WHERE {clean.not_blank}"
        view = f"CREATE OR REPLACE TEMP VIEW clean_{table} AS "
        self.engine.execute(view + base)
        id_key = TABLES[table].id_key
        if not repeats:
            return
        clean.issues.append(Issue(reason("duplicate", key=id_key), "dropped", count=repeats))
        raw_filled = " + ".join(f"(CASE WHEN ({e}) IS NULL THEN 0 ELSE 1 END)" for e in cols.values())
        numbered = (f"SELECT *, {cols[id_key]} AS _id, {raw_filled} AS _filled, {self.d.row_position()} AS _pos "
                    f"FROM {clean.raw} WHERE {clean.not_blank}")
        clean.dropped = (f"(SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY _id ORDER BY _filled DESC, "
                         f"_pos DESC) AS _rank FROM ({numbered}) AS n) AS r WHERE _id IS NOT NULL AND _rank > 1) AS d")
        names = ", ".join(cols)
        filled = " + ".join(f"(CASE WHEN {k} IS NULL THEN 0 ELSE 1 END)" for k in cols)
        positioned = (f"SELECT {select}, {self.d.row_position()} AS _pos FROM {clean.raw} WHERE {clean.not_blank}")
        ranked = (f"SELECT {names}, row_number() OVER (PARTITION BY {id_key} ORDER BY {filled} DESC, _pos DESC) "
                  f"AS _rank FROM ({positioned}) AS p")
        self.engine.execute(view + f"SELECT {names} FROM ({ranked}) AS r WHERE {id_key} IS NULL OR _rank = 1")

    # ---------------------------------------------------------------- scope

    def moment(self, table: str) -> str | None:
        """When a record happened (kpis.record_moment): tickets' 创建时间 where filled, else 日期."""
        if table == "calls":
            return "start" if self.has("calls", "start") else None
        date = "CAST(date AS TIMESTAMP)" if self.has(table, "date") else None
        created = "created_at" if table == "tickets" and self.has(table, "created_at") else None
        if created and date:
            return f"coalesce({created}, {date})"
        return created or date

    def _scope(self, where: dict) -> None:
        self.scope_views(where)

    def scope_views(self, where: dict, settings: Settings | None = None, source: str = "clean",
                    target: str = "scoped") -> None:
        """Views ``{target}_{table}`` of the rows of ``{source}_{table}`` inside the period and scope
        of ``settings`` (default: the history's) and ``where`` (kpis.apply_scope; 优化前后 cuts its
        windows out of the scoped views so)."""
        s = settings or self.settings
        filters = {col: list(getattr(s, f)) for f, col in kpis.SCOPE_FIELDS.items() if getattr(s, f)}
        for key, wanted in where.items():
            filters[key] = list(wanted)
        conditions: dict[str, list[str]] = {t: [] for t in self.clean}
        for table in self.clean:
            when = self.moment(table)
            if when is not None and s.period_start:
                conditions[table].append(holds(f"{when} >= {self.d.moment(dt.datetime.combine(s.period_start, dt.time()), 'TIMESTAMP')}"))
            if when is not None and s.period_end:
                end = dt.datetime.combine(s.period_end, dt.time()) + dt.timedelta(days=1)
                conditions[table].append(holds(f"{when} < {self.d.moment(end, 'TIMESTAMP')}"))
            for key, wanted in filters.items():
                if self.has(table, key):
                    conditions[table].append(self._matches(table, key, wanted))
        if s.min_tenure_months and self.has("tickets", "agent_id") and self.has("tickets", "hire_date"):
            agents = self._tenure_agents(s.min_tenure_months)
            for table in self.clean:
                if self.has(table, "agent_id"):
                    conditions[table].append(holds(f"agent_id IN ({agents})"))
        for table in ("tickets", "calls", "feedback"):
            if table not in self.clean:
                continue
            if table == "feedback" and conditions.get("tickets") and self.has("tickets", "ticket_id") \
                    and self.has("feedback", "ticket_id"):
                # feedback follows its ticket: out-of-scope tickets take their feedback with them
                conditions[table].append(
                    f"(ticket_id IS NULL OR ticket_id NOT IN (SELECT ticket_id FROM {source}_tickets WHERE ticket_id IS NOT NULL) "
                    f"OR ticket_id IN (SELECT ticket_id FROM {target}_tickets WHERE ticket_id IS NOT NULL))")
            clause = " AND ".join(conditions[table]) or "TRUE"
            self.engine.execute(f"CREATE OR REPLACE TEMP VIEW {target}_{table} AS SELECT * FROM {source}_{table} WHERE {clause}")

    def _matches(self, table: str, key: str, wanted) -> str:
        """kpis._matches: priorities by level, other values width- and case-insensitive."""
        if key == "priority":
            levels = sorted({lv for w in wanted if (lv := coerce.priority(w)[0]) is not None})
            return holds(f"priority IN ({', '.join(map(str, levels))})") if levels else "FALSE"
        norm = {norm_text(w).casefold() for w in wanted}
        values = [v for v in self.distinct(table, key) if norm_text(v).casefold() in norm]
        return holds(f"{key} IN ({', '.join(self._literal(v) for v in values)})") if values else "FALSE"

    def _literal(self, value) -> str:
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, (int, float)):
            return self.d.num(float(value)) if isinstance(value, float) else str(value)
        if isinstance(value, dt.datetime):
            return self.d.moment(value, "TIMESTAMP")
        if isinstance(value, dt.date):
            return self.d.moment(dt.datetime.combine(value, dt.time()), "DATE")
        return self.d.text(str(value))

    def _tenure_agents(self, months: float) -> str:
        """Agents hired at least ``months`` before the period end (else the last ticket day, else today)."""
        s = self.settings
        if s.period_end:
            reference = s.period_end
        else:
            last = self.engine.one("SELECT max(date) FROM clean_tickets")[0] if self.has("tickets", "date") else None
            reference = _as_date(last) if last is not None else s.today()
        day = self.d.moment(dt.datetime.combine(reference, dt.time()), "DATE")
        tenure = f"{self.d.days_between('min(hire_date)', day)} / {self.d.num(kpis._AVG_MONTH_DAYS)}"
        return (f"SELECT agent_id FROM clean_tickets WHERE agent_id IS NOT NULL AND hire_date IS NOT NULL "
                f"GROUP BY agent_id HAVING {tenure} >= {self.d.num(float(months))}")

    # ---------------------------------------------------------------- forms and values

    def _forms(self) -> dict[str, Form]:
        forms = {}
        for key, m in catalogue.METRICS.items():
            if m.sql is None or m.table not in self.clean:
                continue
            shape = _Shape(self, m.table)
            if m.rule is None and not all(any(shape.has(k) for k in alts) for alts in m.needs):
                continue
            form = m.sql(m, shape, self.settings, self.d)
            if form is not None:
                forms[key] = form
        return forms

    def _aggregate(self, table: str, relation: str, grouped: bool) -> dict:
        """group label → {part name: value} of every metric of ``table``, plus the row count.

        One scan computes every part: the percentiles of one column share one list aggregate
        (one sort of its values per group, however many fractions the metrics ask for)."""
        parts = {f"{key}__{name}": expr for key, form in self.forms.items()
                 if catalogue.get(key).table == table for name, expr in form.parts.items()}
        plain = {"_rows": "count(*)", **{n: e for n, e in parts.items() if not isinstance(e, Quantile)}}
        by_column: dict[str, dict[str, float]] = {}
        for name, expr in parts.items():
            if isinstance(expr, Quantile):
                by_column.setdefault(expr.expr, {})[name] = expr.p
        lists = [self.d.quantiles(column, ", ".join(repr(float(p)) for p in fractions.values()))
                 for column, fractions in by_column.items()]
        select = ", ".join([*plain.values(), *lists])
        sql = (f"SELECT {GROUP}, {select} FROM {relation} GROUP BY {GROUP}" if grouped
               else f"SELECT 0, {select} FROM {relation}")
        out: dict = {}
        for row in self.engine.stream(sql):
            values = dict(zip(plain, row[1:]))
            for fractions, found in zip(by_column.values(), row[1 + len(plain):]):
                values.update(zip(fractions, found if found is not None else [None] * len(fractions)))
            out[row[0]] = values
        return out

    def _windows(self, table: str, relation: str) -> dict:
        """(metric, window) → group label → its result rows."""
        out: dict = {}
        for key, form in self.forms.items():
            if catalogue.get(key).table != table:
                continue
            for name, sql in form.windows.items():
                per_group: dict = {}
                for row in self.engine.stream(sql(relation, self.d)):
                    per_group.setdefault(row[0], []).append(tuple(row[1:]))
                out[(key, name)] = per_group
        return out

    def headline(self, keys=None, view: str = "scoped") -> dict[str, float]:
        """The KPIs of the scoped history (kpis.headline); ``view``: of other views made by
        :meth:`scope_views`."""
        keys = kpis.metric_keys(keys)
        rows, parts, windows = {}, {}, {}
        for table in self.clean:
            relation = f"(SELECT *, 0 AS {GROUP} FROM {view}_{table}) AS t"
            self.engine.progress(f"{table}: computing {sum(catalogue.get(k).table == table for k in self.forms)} metrics")
            parts[table] = self._aggregate(table, relation, grouped=False)[0]
            rows[table] = parts[table]["_rows"]
            for (key, name), per_group in self._windows(table, relation).items():
                windows[(key, name)] = per_group.get(0, [])
        values = _Values(self, rows, parts, windows, set())
        return {k: values.value(k) for k in keys}

    def group_labels(self, by: str, within: str | None = None) -> dict[str, str | None]:
        """Per table, a relation of its scoped rows with their group label ``_g`` (None: can't be grouped).

        ``within`` (a period grain): the label is ``period|value``, each table by its own moment and
        feedback / calls joined to tickets of the same period (trends.within, then kpis.group_labels)."""
        if within is not None and by in kpis.PERIODS:
            raise ValueError(f"a period ({by}) within a period ({within})")
        out: dict[str, str | None] = {}
        for table in ("tickets", "feedback", "calls"):
            if table not in self.clean:
                continue
            label = self._label(table, by)
            period = self._label(table, within) if within else "''"
            out[table] = None if label is None or period is None else \
                _labelled(f"SELECT *, {self._pair(period, label)} AS {GROUP} FROM scoped_{table}")
        p_feedback = self._label("feedback", within) if within else "''"
        f_p, c_p = ("f._p", "c._p") if within else ("''", "''")
        p_tickets = self._label("tickets", within) if within else "''"
        if out.get("feedback") is None and "feedback" in self.clean and self.has("tickets", by) \
                and self.has("tickets", "ticket_id") and self.has("feedback", "ticket_id") and p_feedback and p_tickets:
            # feedback has no group column of its own: it belongs to its ticket's group
            out["feedback"] = _labelled(
                f"SELECT f.*, {self._pair(f_p, 't._v')} AS {GROUP} FROM "
                f"(SELECT *, {p_feedback} AS _p FROM scoped_feedback) AS f JOIN "
                f"(SELECT ticket_id, {p_tickets} AS _p, max({by}) AS _v FROM scoped_tickets "
                f"WHERE ticket_id IS NOT NULL GROUP BY ticket_id, {p_tickets}) AS t "
                f"ON f.ticket_id = t.ticket_id AND f._p = t._p")
        p_calls = self._label("calls", within) if within else "''"
        if out.get("calls") is None and "calls" in self.clean and by not in kpis.PERIODS and p_calls and p_tickets \
                and self.has("tickets", by) and self.has("tickets", "agent_id") and self.has("calls", "agent_id"):
            # agent attributes reach calls through the agent id, when each agent has one value
            out["calls"] = _labelled(
                f"SELECT c.*, {self._pair(c_p, 'a._v')} AS {GROUP} FROM "
                f"(SELECT *, {p_calls} AS _p FROM scoped_calls) AS c JOIN "
                f"(SELECT agent_id, {p_tickets} AS _p, min({by}) AS _v FROM scoped_tickets "
                f"WHERE agent_id IS NOT NULL AND {by} IS NOT NULL GROUP BY agent_id, {p_tickets} "
                f"HAVING count(DISTINCT {by}) = 1) AS a ON c.agent_id = a.agent_id AND c._p = a._p")
        return out

    def _pair(self, period: str, label: str) -> str:
        """The group label: the value itself, or ``period|value`` inside a period (a value's text)."""
        if period == "''":
            return label
        return f"CASE WHEN {label} IS NOT NULL THEN ({period}) || '|' || CAST({label} AS {self.d.varchar}) END"

    def _label(self, table: str, by: str) -> str | None:
        if by in kpis.PERIODS:
            when = self.moment(table) if by != "hour" else \
                {"tickets": "created_at", "calls": "start"}.get(table)
            if when is None or (by == "hour" and not self.has(table, when)):
                return None
            return {"day": self.d.day_label, "week": self.d.week_label, "month": self.d.month_label,
                    "weekday": self.d.weekday, "hour": self.d.hour}[by](when)
        if self.has(table, by) and (table != "feedback" or by in ("customer_id", "ticket_id")):
            return by
        return None

    def grouped(self, by: str, keys=None, within: str | None = None) -> list[tuple[Any, dict[str, float]]]:
        """(group label, KPIs) per value of ``by`` (kpis.grouped): a group missing from a table
        counts zero records there (counts 0, rates undefined).  ``within`` a period grain: per
        period and value, labelled ``period|value`` (see :meth:`group_labels`)."""
        if not self.has_column(by):
            raise KeyError(by)
        keys = kpis.metric_keys(keys)
        relations = self.group_labels(by, within)
        undefined = {k for k in keys if by in kpis.AGENT_KEYS and catalogue.get(k).queue}
        parts, windows, empty = {}, {}, {}
        for table, relation in relations.items():
            if relation is None:
                continue
            self.engine.progress(f"{table}: computing metrics by {by}")
            parts[table] = self._aggregate(table, relation, grouped=True)
            empty[table] = self._aggregate(table, f"(SELECT *, 0 AS {GROUP} FROM clean_{table} WHERE FALSE) AS t",
                                           grouped=False)[0]
            windows.update(self._windows(table, relation))
        labels = sorted({g for per in parts.values() for g in per}, key=lambda v: (str(type(v)), v))
        out = []
        for label in labels:
            group_parts = {t: per.get(label, empty[t]) for t, per in parts.items()}
            rows = {t: p["_rows"] for t, p in group_parts.items()}
            group_windows = {k: per_group.get(label, []) for k, per_group in windows.items()}
            values = _Values(self, rows, group_parts, group_windows, undefined)
            out.append((label, {k: values.value(k) for k in keys}))
        return out

    def quality(self) -> dict:
        """The data-quality counts of the whole history (not only the scope), like the loader's
        (``kpis --json``'s data_quality): by action and reason, and the records dropped apart
        from the cells of the records kept (report.quality_counts)."""
        if self._quality is None:
            if self.settings.today() != self._today:  # the 参数 clock moved (other settings, or midnight)
                self._recount_future_dates()
            if not self._cells_counted:
                for table in self.clean:
                    self._census(table, ids=False)
                self._cells_counted = True
            summary = quality_summary(self.clean)
            records = sum(i.count for c in self.clean.values() for i in c.issues
                          if i.column is None and i.action == "dropped")  # duplicate ids: whole records
            actions = Counter(summary["by_action"])
            actions.subtract(records_issues(self.engine, self.clean))
            self._quality = {**summary, "records_dropped": records, "cells_repaired": actions["repaired"],
                             "cells_dropped": actions["dropped"] - records, "flagged": actions["flagged"]}
        return self._quality

    def _future_dates(self, table: str, today: dt.date) -> list[Issue]:
        """Dates after ``today`` (the 参数 clock's) are kept and flagged, as the loader flags them;
        counted on the records kept (one per id), on the moments as read (before one in an
        impossible order is dropped, as the loader checks them first).  Counted by the census
        (or a recount)."""
        limit = self.d.moment(dt.datetime.combine(today + dt.timedelta(days=1), dt.time()), "TIMESTAMP")
        return [Issue(reason("future_date"), "flagged", count_if(holds(f"CAST(({e}) AS TIMESTAMP) >= {limit}")),
                      column=k) for k, e in {**self.clean[table].columns, **self.clean[table].as_read}.items()
                if TABLES[table].column(k).kind in ("date", "datetime") and k not in NOT_FUTURE_CHECKED]

    def _recount_future_dates(self) -> None:
        """The future-date flags for today's 参数 clock: a scan of the date columns only."""
        self._today = self.settings.today()
        for table, clean in self.clean.items():
            stale = {id(i) for i in self._future[table]}
            future = self._future[table] = self._future_dates(table, self._today)
            clean.issues = [i for i in clean.issues if id(i) not in stale] + future
            if future:
                row = self.engine.one(f"SELECT {', '.join(i.count_sql for i in future)} "
                                      f"FROM {clean.raw} WHERE {clean.not_blank}")
                for issue, n in zip(future, row):
                    issue.count = int(n or 0)

    def record_counts(self, view: str = "scoped") -> dict[str, int]:
        return {t: int(self.engine.one(f"SELECT count(*) FROM {view}_{t}")[0]) for t in self.clean}


def _labelled(select: str) -> str:
    """A relation of the rows of ``select`` that have a group label (blank labels belong to no group)."""
    return f"(SELECT * FROM ({select}) AS labelled WHERE {GROUP} IS NOT NULL) AS t"


def _as_date(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def stream_chunks(cursor, size: int = 10_000) -> Iterator[tuple]:
    """Rows of a DB-API cursor, ``size`` at a time (never the whole result at once)."""
    while True:
        chunk = cursor.fetchmany(size)
        if not chunk:
            return
        yield from chunk
