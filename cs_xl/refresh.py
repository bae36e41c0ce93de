"""The headless 「刷新报表」: rebuild every generated sheet of a workbook.

    read 参数  →  load the input sheets (calamine; "today" in the 参数 timezone)  →  apply scope
    →  build the report model  →  open the book, drop the generated sheets,
       draw them again  →  save atomically (BOOK.bak kept)

Input sheets, 说明, 参数 and any sheet the user added are never touched: only
the sheets named in :func:`cs_xl.report.generated_sheet_names` (in either
language, so switching 报表语言 leaves no stale sheets behind) are replaced.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, TextIO

from . import pipeline
from .words import SHEET_NAMES, former_sheet_names, word

# the data set, the report and the part writer bring pandas (≈ 0.5 s): imported where
# they are first used, so the book's parse starts first (pipeline.read_path imports pandas meanwhile).
# Importing the report in a thread during the parse was measured slower on an idle machine: the
# thread's imports hold the GIL while the tables are built, and every numpy call of the build then
# waits for it.
if TYPE_CHECKING:
    from .dataset import DataSet

Progress = Callable[[int, int, str], None]  # (step done, steps in all, message)


@dataclass
class RefreshResult:
    path: Path                       # the workbook written
    sheets: list[str]                # generated sheets drawn, in report order
    records_used: dict[str, int]     # per input table, inside period and scope
    records_loaded: dict[str, int]   # per input table, as loaded
    records_dropped: int             # rows the loader left out (see dataset.dropped_records)
    issues: int                      # data-quality issues reported
    lang: str
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)

    def __str__(self) -> str:
        used = ", ".join(f"{k} {v:,}/{self.records_loaded.get(k, 0):,}" for k, v in self.records_used.items())
        return (f"refreshed {self.path}: {len(self.sheets)} sheets ({', '.join(self.sheets)}); "
                f"records used {used or 'none'}; records dropped {self.records_dropped:,}; "
                f"data-quality issues {self.issues:,}; {self.seconds:.1f} s")


class ConsoleProgress:
    """Per-step progress: a bar redrawn in place on a terminal, plain lines otherwise.

    By default the bar goes to stderr when that is a terminal, else plain lines
    go to stdout: a script reading stderr then sees an error alone on its line."""

    def __init__(self, stream: TextIO | None = None, width: int = 24):
        self.stream = stream or (sys.stderr if sys.stderr.isatty() else sys.stdout)
        self.width = width
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def __call__(self, done: int, total: int, message: str) -> None:
        if self.tty:
            filled = round(self.width * done / max(total, 1))
            bar = "█" * filled + "·" * (self.width - filled)
            end = "\n" if done >= total else ""
            self.stream.write(f"\r[{bar}] {done}/{total} {message}\033[K{end}")
        else:
            self.stream.write(f"[{done}/{total}] {message}\n")
        self.stream.flush()

    def line(self, message: str) -> None:
        """A message of its own (records used/dropped), never overwritten by the bar."""
        self.stream.write(("\r\033[K" if self.tty else "") + message + "\n")
        self.stream.flush()


def _counts(ds: DataSet) -> dict[str, int]:
    return {t: len(f) for t in ("tickets", "feedback", "calls") if (f := ds.table(t)) is not None}


@pipeline.cycle_collector_paused()  # the data set's objects would be walked again and again
def refresh(path, out=None, progress: Progress | None = None, data=None, engine: str = "duckdb",
            column_map: dict | None = None, master: str | None = None) -> RefreshResult:
    """Rebuild every generated sheet of the workbook ``path``; write to ``out`` (default: in place).

    ``data``: a Parquet / CSV / DuckDB history (file, glob or folder) the generated sheets are
    computed from instead of the book's input sheets, through the SQL ``engine`` (duckdb, spark;
    ``column_map`` an importer map, ``master`` the Spark master); the book gives its 参数.

    ``progress(done, total, message)`` is called per step (default: a
    :class:`ConsoleProgress`: a bar on a terminal, else lines on stdout).  Raises ``load.LoadError`` for
    unreadable input, ``params.ParamsError`` for a bad 参数 cell and
    ``book.BookError`` when the book cannot be opened or saved — in every
    case the workbook on disk is unchanged.
    """
    started = time.perf_counter()
    path = Path(path)
    target = Path(out) if out is not None else path
    progress = progress or ConsoleProgress()
    say_line = getattr(progress, "line", lambda m: progress(0, 0, m))
    timings: dict[str, float] = {}
    total = 3 + 2 * len(SHEET_NAMES) + 1  # load, params, scope, build ×6, draw ×6, save
    step = 0

    def tick(message: str) -> None:
        nonlocal step
        step += 1
        progress(step, total, message)

    def timed(name: str, t0: float) -> None:
        timings[name] = time.perf_counter() - t0

    t0 = time.perf_counter()
    ds, settings = pipeline.read_path(path, on_step=tick)
    timed("load", t0)
    if data is not None:
        return _refresh_from_history(path, target, ds, settings, data, engine, column_map, master,
                                     tick, say_line, timings, started)
    t0 = time.perf_counter()
    tick("筛选范围 / applying period and scope")
    scoped = pipeline.scope(ds, settings)
    timed("scope", t0)
    loaded, used = _counts(ds), _counts(scoped)
    from .dataset import dropped_records, quality_counts_text
    dropped = dropped_records(ds)
    say_line("records used " + ", ".join(f"{k} {used[k]:,} of {loaded[k]:,}" for k in loaded)
             + "; data quality: " + quality_counts_text(ds, "en"))

    t0 = time.perf_counter()
    model = pipeline.build(ds, settings, scoped, on_sheet=lambda name: tick(f"计算 / building {name}"))
    timed("build", t0)
    drawn = _draw(path, target, model, tick, timings)
    return RefreshResult(target, drawn, used, loaded, dropped, len(ds.quality), model.lang,
                         time.perf_counter() - started, timings)


def _draw(path: Path, target: Path, model, tick, timings: dict) -> list[str]:
    """Lay out the report and write its sheets into a copy of the book (the rest copied as is)."""
    from .book import replace_sheets
    from .render.layout import report_layouts
    t0 = time.perf_counter()
    layouts = report_layouts(model)
    timings["layout"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    drawn = replace_sheets(path, target, layouts, pipeline.REPORT_SHEETS, former_sheet_names(model.lang),
                           on_sheet=lambda name: tick(f"绘制 / drawing {name}"),
                           on_save=lambda: tick(f"保存 / saving {target.name}"))
    timings["write"] = time.perf_counter() - t0  # the part writer: the generated sheets' parts, the rest copied
    return drawn


def _refresh_from_history(path: Path, target: Path, ds: DataSet, settings, data, engine_name: str,
                          column_map, master, tick, say_line, timings: dict, started: float) -> RefreshResult:
    """The generated sheets from a history through a SQL engine: aggregates only, the book's 参数
    (its input sheets' own rows, none or a sample, are not used)."""
    from .backends import open_engine
    from .backends.figures import SqlFigures
    from .backends.sql import SqlKpis
    t0 = time.perf_counter()
    tick(f"扫描 / scanning {data} ({engine_name})")
    engine = open_engine(engine_name, data, master=master, progress=say_line)
    try:
        sql = SqlKpis(engine, settings, column_map=column_map)
        figures = SqlFigures(sql, settings)
        loaded, used = figures.counts("loaded"), figures.counts("scoped")
        quality = figures.quality_counts()
        say_line("records used " + ", ".join(f"{k} {used[k]:,} of {loaded[k]:,}" for k in sql.clean)
                 + "; data quality: " + word("quality_counts", "en").format(**quality))
        timings["scope"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        from . import report
        lang = settings.lang or report.detect_lang(ds)
        model = report.build_report_of(figures, settings, lang, on_sheet=lambda name: tick(f"计算 / building {name}"),
                                       today=settings.today())
        timings["build"] = time.perf_counter() - t0
    finally:
        engine.close()
    drawn = _draw(path, target, model, tick, timings)
    return RefreshResult(target, drawn, {k: used[k] for k in sql.clean}, {k: loaded[k] for k in sql.clean},
                         quality["records_dropped"], quality["issues"], model.lang,
                         time.perf_counter() - started, timings)
