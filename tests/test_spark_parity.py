"""The SQL that DuckDB runs also runs on Spark SQL and gives the pandas engine's numbers.

One local-mode SparkSession (one core, one shuffle partition: the JVM start
dominates) over a small dirty history (tickets in GBK, as Excel saves 「CSV」
on a Chinese Windows): every registry metric, headline, per
team and per ISO week, and inside a scope, equal to the pandas engine's to
1e-9, and the headline of tickets whose minutes come from timestamps in
business hours; data-quality counts equal the loader's.  Needs Java and pyspark
(``pip install 'cs_xl[spark]'``): skipped without them, failing under CI=true
(.ci/run installs both).
"""
from __future__ import annotations

import datetime as dt
import math
import shutil

import pytest

from cs_xl import catalogue, kpis
from cs_xl.analysis import compare, pareto, segments
from cs_xl.settings import Settings
from tests.ci import absent
from tests.history_data import pandas_dataset, write_dirty_history, write_timestamped_tickets
from tests.test_sql_analyses import COMPARE, SEGMENTS, SETTINGS as TEXT_SETTINGS, close, write_text_history

pytestmark = pytest.mark.spark

SETTINGS = Settings(short_abandon_s=5, repeat_days=3)
SCOPED = SETTINGS.with_(period_start=dt.date(2024, 3, 4), period_end=dt.date(2024, 3, 12))
WHERE = {"team": ["一组"]}
BUSINESS = Settings(clock_mode="business")  # minutes from timestamps in business hours (clock_sql)


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _label(value):
    return value.item() if hasattr(value, "item") else value


@pytest.fixture(scope="module")
def spark_results(tmp_path_factory):
    try:
        import pyspark  # noqa: F401
    except ImportError:
        absent("pyspark is not installed (pip install 'cs_xl[spark]')")
    if shutil.which("java") is None:
        absent("Java is not installed (Spark needs a JRE 17+)")
    from cs_xl.backends.figures import SqlFigures
    from cs_xl.backends.spark import SparkEngine, session
    from cs_xl.backends.sql import SqlKpis
    folder = write_dirty_history(tmp_path_factory.mktemp("spark") / "history", seed=21,
                                 n_tickets=150, n_feedback=100, n_calls=180)
    (folder / "tickets.csv").write_bytes((folder / "tickets.csv").read_text(encoding="utf-8").encode("gbk"))
    ds = pandas_dataset(folder)
    stamped = write_timestamped_tickets(tmp_path_factory.mktemp("spark") / "stamped", seed=22, n=150)
    texts = write_text_history(tmp_path_factory.mktemp("spark") / "texts")
    spark = session("local[1]", app="cs-xl parity test")
    spark.conf.set("spark.sql.shuffle.partitions", "1")
    try:
        sql = SqlKpis(SparkEngine(folder, spark=spark), SETTINGS)
        got = {"headline": sql.headline(),
               "team": {_label(k): v for k, v in sql.grouped("team")},
               "week": {_label(k): v for k, v in sql.grouped("week")}}
        quality = sql.quality()
        sql.settings = SCOPED
        sql.rescope(WHERE)
        got["scoped"] = sql.headline()
        got["business"] = SqlKpis(SparkEngine(stamped, spark=spark), BUSINESS).headline()
        got["pareto"] = SqlFigures(SqlKpis(SparkEngine(texts, spark=spark), TEXT_SETTINGS), TEXT_SETTINGS).pareto()
        got["compare"] = SqlFigures(SqlKpis(SparkEngine(texts, spark=spark), COMPARE), COMPARE).result("compare", {})
        got["segments"] = SqlFigures(SqlKpis(SparkEngine(texts, spark=spark), SEGMENTS), SEGMENTS).result("segments", {})
    finally:
        spark.stop()
    want = {"headline": kpis.headline(ds, SETTINGS),
            "scoped": kpis.headline(kpis.apply_scope(ds, SCOPED, WHERE), SCOPED),
            "business": kpis.headline(pandas_dataset(stamped, clock=BUSINESS.clock()), BUSINESS),
            "pareto": pareto.pareto(pandas_dataset(texts), TEXT_SETTINGS),
            "compare": compare.compare(pandas_dataset(texts), COMPARE),
            "segments": segments.segment_gaps(pandas_dataset(texts), SEGMENTS)}
    for by in ("team", "week"):
        frame = kpis.grouped(ds, SETTINGS, by)
        want[by] = {_label(label): row.to_dict() for label, row in frame.iterrows()}
    return want, got, (ds.quality.summary(), quality)


def test_every_metric_on_spark_equals_the_pandas_engine(spark_results):
    want, got, _quality = spark_results
    for key in catalogue.names():
        for part in ("headline", "scoped", "business"):
            assert same(want[part][key], got[part][key]), (key, part, want[part][key], got[part][key])
        for by in ("team", "week"):
            assert set(want[by]) == set(got[by]), by
            for label, values in want[by].items():
                assert same(values[key], got[by][label][key]), (key, by, label, values[key], got[by][label][key])
    assert sum(not math.isnan(v) for v in want["headline"].values()) >= len(catalogue.names()) - 1


def test_data_quality_on_spark_equals_the_loaders(spark_results):
    _want, _got, (pandas_quality, spark_quality) = spark_results
    assert spark_quality["by_reason"] == pandas_quality["by_reason"]
    assert spark_quality["issues"] == pandas_quality["issues"] > 50


def test_pareto_on_spark_equals_the_records_path(spark_results):
    want, got, _quality = spark_results
    assert len(want["pareto"]["rankings"]) == 3 and want["pareto"]["over"] > 0
    assert got["pareto"] == want["pareto"]


def test_compare_on_spark_equals_the_records_path(spark_results):
    want, got, _quality = spark_results
    assert {c.method for c in want["compare"]} >= {"bootstrap", "newcombe"}
    for g, w in zip(got["compare"], want["compare"], strict=True):
        assert (g.verdict, g.days, g.before and g.before.records) == (w.verdict, w.days, w.before and w.before.records)
        assert all(close(getattr(g, f), getattr(w, f)) for f in ("change", "low", "high")), w.metric


def test_segment_gaps_on_spark_equal_the_records_path(spark_results):
    want, got, _quality = spark_results
    assert len(want["segments"]) > 10
    for g, w in zip(got["segments"], want["segments"], strict=True):
        assert (g.dim, g.value, g.metric, g.n, g.n_rest, g.flagged) == (w.dim, w.value, w.metric, w.n, w.n_rest, w.flagged)
        assert all(close(getattr(g, f), getattr(w, f)) for f in ("group", "rest", "p", "effect")), (w.value, w.metric)
