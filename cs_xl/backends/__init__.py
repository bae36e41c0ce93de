"""SQL engines for histories larger than a sheet: the registry's metrics as SQL
(:mod:`cs_xl.sql_forms`) over Parquet / CSV / DuckDB files, run by DuckDB on
this machine (:mod:`.duckdb`) or Spark SQL on a cluster (:mod:`.spark`).
:mod:`.sql` is what both share: finding the tables, the cell rules in SQL,
scope, groups and the KPI values."""
from __future__ import annotations

ENGINES = ("pandas", "duckdb", "spark")


def open_engine(name: str, path, *, master: str | None = None, progress=None):
    """The engine ``name`` over the history at ``path`` (``pandas`` is not a SQL engine)."""
    if name == "duckdb":
        from .duckdb import DuckDBEngine
        return DuckDBEngine(path, progress=progress)
    if name == "spark":
        from .spark import SparkEngine
        return SparkEngine(path, master=master, progress=progress)
    raise ValueError(f"unknown SQL engine {name!r}; choose duckdb or spark")
