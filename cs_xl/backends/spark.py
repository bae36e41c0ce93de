"""Spark SQL: the same generated SQL as DuckDB, on a Spark cluster (or a local
session), for histories that live in HDFS / S3 / a data lake.

``cs-xl kpis PATH --engine spark --master spark://host:7077`` (or ``yarn``,
``local[4]``; default ``$SPARK_MASTER``, else ``local[*]``).  Only aggregate
rows come back to the driver (``toLocalIterator``).  The session runs with
UTC as its time zone (a timestamp keeps its wall clock, as in DuckDB and the
loader) and ANSI mode off (a text cell that is not a date reads as NULL, as
``TRY_CAST`` does in DuckDB).  CSV files on this machine are read as UTF-8 or
GBK, told from their first bytes (:mod:`.csv_text`); on a cluster's storage,
UTF-8.  Needs ``pip install 'cs_xl[spark]'`` and Java 17+.
"""
from __future__ import annotations

import os

from .csv_text import NOT_UTF8, csv_encoding, csv_files
from .sql import Dialect, Engine, Located, SqlError, locate

_REMOTE = "://"  # hdfs://, s3a://, abfss:// …: read by the cluster, not checked on this machine


def category(type_name: str) -> str:
    """Spark's simple type names → the categories of the cell rules (sql.Cleaner)."""
    t = type_name.lower()
    if t == "boolean":
        return "bool"
    if t.split("(")[0] in ("tinyint", "smallint", "int", "bigint", "float", "double", "decimal", "byte", "short",
                           "integer", "long"):
        return "number"
    if t == "string" or t.startswith("varchar") or t.startswith("char"):
        return "text"
    if t == "date":
        return "date"
    if t.startswith("timestamp"):
        return "timestamp"
    return "other"


def _encoding(location: str) -> str:
    """Spark's encoding of a table's CSV files: UTF-8, or GB18030 when the files on this machine are
    GBK (Excel's 「CSV」); one read takes one encoding, so a mix — or UTF-16 — is a one-line error."""
    found = {csv_encoding(f) for f in csv_files(location)} if _REMOTE not in location else set()
    if found <= {"utf-8"}:
        return "UTF-8"
    if found == {"gb18030"}:
        return "GB18030"
    raise SqlError(f"{location}: CSV files in {' and '.join(sorted(found))}; Spark reads UTF-8 or GBK, "
                   f"one encoding per table: {NOT_UTF8}")


class SparkDialect(Dialect):
    varchar = "STRING"
    templates = {
        "quantile": "percentile({0}, {1!r})",  # exact, linear interpolation at p·(n−1): PERCENTILE.INC
        "quantiles": "percentile({0}, array({1}))",
        "days_between": "datediff({1}, {0})",
        "epoch_ms": "unix_millis({0})",
        "epoch_us": "unix_micros({0})",
        "round_even": "bround({0}, 0)",
        "weekday": "weekday({0})",  # 0 = Monday
        "hour": "hour({0})",
        "day_label": "date_format({0}, 'yyyy-MM-dd')",
        "week_label": "concat(CAST(extract(YEAROFWEEK FROM {0}) AS STRING), '-W', "
                      "lpad(CAST(weekofyear({0}) AS STRING), 2, '0'))",
        "month_label": "date_format({0}, 'yyyy-MM')",
        "try_timestamp": "CAST({0} AS TIMESTAMP)",  # NULL when not a timestamp (ANSI mode off)
        "nan": "isnan({0})",
        "infinite": "(abs({0}) = CAST('Infinity' AS DOUBLE))",
        # increasing in file order: partitions are numbered in the order of the files' splits
        "row_position": "monotonically_increasing_id()",
    }

    @staticmethod
    def text(value: str) -> str:
        # Spark processes backslash escapes inside string literals
        return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"

    @staticmethod
    def ident(name: str) -> str:
        return "`" + name.replace("`", "``") + "`"

    def matches(self, expr: str, pattern: str) -> str:
        return f"({expr} RLIKE {self.text('^(' + pattern + ')$')})"

    def strip(self, expr: str, chars: str) -> str:
        return f"trim(BOTH {self.text(chars)} FROM {expr})"


def session(master: str | None = None, app: str = "cs-xl kpis"):
    """A SparkSession on ``master`` (default $SPARK_MASTER, else every local core)."""
    from pyspark.sql import SparkSession
    builder = (SparkSession.builder.appName(app).master(master or os.environ.get("SPARK_MASTER") or "local[*]")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.ansi.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false"))
    return builder.getOrCreate()


class SparkEngine(Engine):
    """The SQL of :mod:`.sql` on a SparkSession (an existing one may be given, e.g. by a notebook)."""
    dialect = SparkDialect()
    is_database = False

    def __init__(self, path, *, master: str | None = None, progress=None, spark=None):
        self.path = str(path)
        self.report = progress
        self.spark = spark if spark is not None else session(master)
        self._owns_session = spark is None

    def sources(self) -> list[tuple[Located, str, dict[str, str]]]:
        located = [Located(self.path, "csv" if self.path.lower().endswith(".csv") else "parquet")] \
            if _REMOTE in self.path else locate(self.path)
        out = []
        for index, loc in enumerate(located):
            frame = self._read(loc)
            name = f"raw_{index}"
            frame.createOrReplaceTempView(name)
            out.append((loc, name, {f.name: category(f.dataType.simpleString()) for f in frame.schema.fields}))
        return out

    def _read(self, loc: Located):
        """A folder is handed to Spark whole, so it discovers Hive partitions (month=2024-01/…) itself."""
        path = loc.location
        for suffix in ("/**/*.parquet", "/**/*.csv"):
            if path.endswith(suffix):
                path = path[: -len(suffix)]
        reader = self.spark.read
        if loc.fmt == "csv":  # every cell as text, like DuckDB's all_varchar: the cell rules read them
            encoding = _encoding(loc.location)
            if encoding != "UTF-8":  # Spark 4 takes Java's other charsets only when asked (3.x always)
                self.spark.conf.set("spark.sql.legacy.javaCharsets", "true")
            return reader.option("header", "true").option("encoding", encoding).csv(path)
        return reader.option("mergeSchema", "true").parquet(path)

    def execute(self, sql: str) -> None:
        self.spark.sql(sql)

    def stream(self, sql: str):
        return (tuple(row) for row in self.spark.sql(sql).toLocalIterator())

    def close(self) -> None:
        if self._owns_session:
            self.spark.stop()
