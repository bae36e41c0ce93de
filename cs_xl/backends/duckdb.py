"""DuckDB: the registry's KPIs over Parquet / CSV histories (files, globs,
Hive-partitioned folders) or a DuckDB database file, on this machine.

DuckDB scans the files in parallel and streams them through the aggregates;
Python only sees aggregate rows (``fetchmany``), never a table, so memory
stays flat as the history grows (``memory_limit`` caps DuckDB itself; what
does not fit spills to a temporary folder).

CSV files are read in the encodings a workbook's CSV is (:mod:`.csv_text`):
DuckDB reads UTF-8 only (its ``encodings`` extension is a download), so a
file whose first bytes are not UTF-8 is copied once, decoded chunk by chunk,
to a UTF-8 file in a temporary folder removed on close.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

from .csv_text import NOT_UTF8, csv_encoding, csv_files, fixed_part, transcode
from .sql import DATABASE_SUFFIXES, Dialect, Engine, Located, SqlError, locate, stream_chunks, table_of_name

# DuckDB type names → the categories of the cell rules (sql.Cleaner)
_NUMBER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                 "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL", "REAL")


def category(type_name: str) -> str:
    t = type_name.upper()
    if t == "BOOLEAN":
        return "bool"
    if t.split("(")[0] in _NUMBER_TYPES:
        return "number"
    if t == "VARCHAR":
        return "text"
    if t == "DATE":
        return "date"
    if t.startswith("TIMESTAMP"):
        return "timestamp"
    return "other"


class DuckDBDialect(Dialect):
    templates = {
        "ident": '"{0}"',
        "quantile": "quantile_cont({0}, {1!r})",  # linear interpolation at p·(n−1): Excel PERCENTILE.INC
        "quantiles": "quantile_cont({0}, [{1}])",  # one sort of the column for all its fractions
        "days_between": "date_diff('day', {0}, {1})",
        "epoch_ms": "epoch_ms({0})",
        "epoch_us": "epoch_us({0})",
        "round_even": "round_even({0}, 0)",
        "weekday": "(isodow({0}) - 1)",
        "hour": "hour({0})",
        "day_label": "strftime({0}, '%Y-%m-%d')",
        "week_label": "strftime({0}, '%G-W%V')",
        "month_label": "strftime({0}, '%Y-%m')",
        "matches": "regexp_full_match({0}, '{1}')",
        "try_timestamp": "TRY_CAST({0} AS TIMESTAMP)",
        "nan": "isnan({0})",
        "infinite": "isinf({0})",
        "row_position": "row_number() OVER ()",  # file order: DuckDB keeps insertion order in a scan
    }

    def ident(self, name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def strip(self, expr: str, chars: str) -> str:
        return f"trim({expr}, {self.text(chars)})"


class DuckDBEngine(Engine):
    """One in-memory DuckDB connection over the files (or database) at ``path``."""
    dialect = DuckDBDialect()

    def __init__(self, path, *, progress=None, memory_limit: str | None = "1GB", threads: int | None = None):
        import duckdb
        self.path = str(path)
        self.report = progress  # a callable taking a line of progress, or None
        self.con = duckdb.connect(":memory:")
        self.con.execute("SET TimeZone = 'UTC'")  # TIMESTAMP WITH TIME ZONE keeps its UTC wall clock
        if memory_limit:
            self.con.execute(f"SET memory_limit = '{memory_limit}'")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        self.is_database = Path(self.path).suffix.lower() in DATABASE_SUFFIXES
        self._transcoded: str | None = None  # the temporary folder of CSV files copied as UTF-8

    # ---------------------------------------------------------------- sources

    def sources(self) -> list[tuple[Located, str, dict[str, str]]]:
        located = self._database_tables() if self.is_database else locate(self.path)
        out = []
        for loc in located:
            raw = self._relation(loc)
            try:
                described = self._execute(f"DESCRIBE SELECT * FROM {raw}").fetchall()
            except SqlError:
                raise
            except Exception as exc:  # duckdb.Error: an unreadable file, a bad glob
                raise SqlError(f"{loc.location}: {_first_line(exc)}") from None
            out.append((loc, raw, {name: category(kind) for name, kind, *_ in described}))
        return out

    def _database_tables(self) -> list[Located]:
        if not Path(self.path).is_file():
            raise SqlError(f"{self.path}: no such DuckDB database")
        self.con.execute(f"ATTACH {self.dialect.text(self.path)} AS history (READ_ONLY)")
        names = self.con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'history' "
                                 "UNION ALL SELECT view_name FROM duckdb_views() WHERE database_name = 'history' "
                                 "ORDER BY 1").fetchall()
        return [Located(f"history.{self.dialect.ident(name)}", "table", table_of_name(name)) for name, in names]

    def _relation(self, loc: Located) -> str:
        text = self.dialect.text(loc.location)
        if loc.fmt == "parquet":
            return f"read_parquet({text}, union_by_name = true)"
        if loc.fmt == "csv":  # every cell as text: the cell rules, not the sniffer, read them ("00123" stays an id)
            return f"read_csv({self._utf8_csv(loc.location)}, all_varchar = true, header = true, union_by_name = true)"
        return loc.location

    def _utf8_csv(self, location: str) -> str:
        """The CSV files of ``location`` as DuckDB reads them: the path or glob itself when every
        file is UTF-8, else the list of files with the others copied as UTF-8 (their folders kept
        below the copy's root, so Hive partitions such as month=2024-01 still read)."""
        files = csv_files(location)
        encodings = {f: csv_encoding(f) for f in files}
        if all(e == "utf-8" for e in encodings.values()):
            return self.dialect.text(location)
        if self._transcoded is None:
            self._transcoded = tempfile.mkdtemp(prefix="cs_xl_csv_")
        root, copies = Path(fixed_part(location)), Path(tempfile.mkdtemp(dir=self._transcoded))
        read = []
        for name in files:
            if encodings[name] == "utf-8":
                read.append(name)
                continue
            self.progress(f"{name}: {encodings[name]} → UTF-8 copy")
            relative = Path(name).relative_to(root) if Path(name).is_relative_to(root) else Path(Path(name).name)
            copy = copies / relative
            transcode(Path(name), copy, encodings[name])
            read.append(str(copy))
        return "[" + ", ".join(self.dialect.text(f) for f in read) + "]"

    # ---------------------------------------------------------------- running

    def execute(self, sql: str) -> None:
        self._run(sql)

    def stream(self, sql: str):
        return stream_chunks(self._run(sql))

    def values(self, sql: str):
        """The one column of ``sql`` as a float numpy array, by DuckDB's fetchnumpy (no Python row objects)."""
        import numpy as np
        column = next(iter(self._run(sql).fetchnumpy().values()))
        return np.ma.filled(np.ma.asarray(column, dtype=float), np.nan) if np.ma.isMaskedArray(column) \
            else np.asarray(column, dtype=float)

    def _run(self, sql: str):
        """Execute, reporting DuckDB's own progress of a long scan every few seconds."""
        if self.report is None:
            return self._execute(sql)
        done = threading.Event()
        watcher = threading.Thread(target=self._watch, args=(done,), daemon=True)
        watcher.start()
        try:
            return self._execute(sql)
        finally:
            done.set()
            watcher.join()

    def _execute(self, sql: str):
        import duckdb
        try:
            return self.con.execute(sql)
        except duckdb.InvalidInputException as exc:  # a CSV UTF-8 at its start, something else further on
            if "Invalid unicode" not in str(exc):
                raise
            where = next((line.split("=", 1)[1].strip() for line in str(exc).splitlines()
                          if line.strip().startswith("file =")), self.path)
            line = _first_line(exc).removeprefix("Invalid Input Error: CSV Error on ")
            raise SqlError(f"{where}: {line} is not UTF-8, though the file starts as UTF-8; {NOT_UTF8}") from None

    def _watch(self, done: threading.Event, every: float = 2.0) -> None:
        started = time.monotonic()
        while not done.wait(every):
            try:
                percent = self.con.query_progress()
            except Exception:  # no query running any more
                return
            if percent is not None and percent >= 0:
                self.report(f"scanning … {percent:.0f}% ({time.monotonic() - started:.0f} s)")

    def close(self) -> None:
        self.con.close()
        if self._transcoded is not None:
            shutil.rmtree(self._transcoded, ignore_errors=True)
            self._transcoded = None


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def console_progress(stream=sys.stderr):
    """Progress lines on stderr (stdout stays the KPIs, so --json remains parseable)."""
    started = time.monotonic()

    def report(line: str) -> None:
        print(f"cs-xl: [{time.monotonic() - started:5.1f} s] {line}", file=stream, flush=True)
    return report


__all__ = ["DuckDBEngine", "DuckDBDialect", "console_progress", "category"]
