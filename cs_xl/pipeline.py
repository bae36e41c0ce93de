"""Grids → settings, data set, scope → report: the one path every entry point takes.

A file refresh, ``cs-xl kpis`` and the live 「刷新报表」 button differ only in
where the grids come from (:func:`cs_xl.read_files.read_grids` for a file,
the open workbook's cells for the button) and where the report goes; the
steps between are these functions, in this order:

1. :func:`read_inputs` — the 参数 sheet first (its timezone says which day
   is "today" for the loader's future-date check), then the input tables;
2. :func:`scope` — period, scope lists, tenure and ad-hoc filters;
3. :func:`build` — the report model of every generated sheet.
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .read_files import Grid, Grids, is_sheet_named, stream_sheets
from .schema import SETTINGS_SHEET
from .settings import Settings
from .words import generated_sheet_names

# load, params and kpis bring pandas: imported inside the functions, so that read_path starts
# the workers parsing the book first and imports them meanwhile (≈ 0.4 s of a start-up)
if TYPE_CHECKING:
    from . import report
    from .dataset import DataSet
    from .load import EarlyTables


def read_inputs(grids: Grids) -> tuple[DataSet, Settings]:
    """The data set and the settings of already-read sheets.

    Without a 参数 sheet (or for a CSV) the defaults apply, in the language
    of the input sheets' names.  Raises ``params.ParamsError`` for a bad
    参数 cell and ``load.LoadError`` when no input table is found."""
    from .load import EarlyTables
    from .params import read_params_from_grids
    settings = None if grids.is_csv else read_params_from_grids(grids)
    rules = settings or Settings()  # 参数's timezone says which day is today; its clock rows measure minutes
    return _with_settings(grids, settings, EarlyTables(rules.today(), rules.clock()))


def _with_settings(grids: Grids, settings: Settings | None, early: EarlyTables) -> tuple[DataSet, Settings]:
    from .dataset import detect_lang
    from .importers.log import log_issues
    from .load import load_grids
    ds = load_grids(grids, today=early.today, clock=early.clock, early=early)
    ds.quality.issues.extend(log_issues(grids))  # what an import left out stays on 数据质量
    return ds, settings if settings is not None else Settings(lang=detect_lang(ds))


# the report's own sheets, in either language: no input, so never parsed (a refreshed 100k book's
# 数据质量, 按维度 … would otherwise be read cell by cell and could even pass for an input table)
REPORT_SHEETS = (*generated_sheet_names("zh"), *generated_sheet_names("en"))


@contextmanager
def cycle_collector_paused():
    """Python's cycle collector paused for the block (as it was before, after it; usable as a
    decorator).  Reading a 100,000-ticket book makes ≈ 210,000 row lists that live until the tables
    are built and hold no cycle; each of the collector's passes walks them all again, and one
    refresh spent 0.66 s of GIL time in 579 passes (measured with gc.callbacks).  Plain reference
    counting still frees everything that is dropped."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@cycle_collector_paused()
def read_path(path, on_step: Callable[[str], None] = lambda message: None,
              settings: Settings | None = None) -> tuple[DataSet, Settings]:
    """:func:`read_inputs` of a workbook or CSV file, read once (its generated sheets are not read).

    The 参数 sheet is read first; then each input table is built as soon as its sheet is
    parsed, while python-calamine parses the bigger sheets on other threads.  ``settings``
    (``cs-xl kpis --params BOOK``) stand instead of the file's own 参数, for the loader too:
    their timezone says which day is today and their clock measures minutes from timestamps.
    ``on_step(message)`` hears when reading starts and when the records are being parsed."""
    path = Path(path)
    on_step(f"读取 / reading {path.name}")
    skip = REPORT_SHEETS if settings is None else (*REPORT_SHEETS, *SETTINGS_SHEET.values())
    with stream_sheets(path, skip=skip, first=SETTINGS_SHEET.values()) as sheets:
        arrivals = _Arrivals(path, settings)
        for grid in sheets:
            arrivals.take(grid)
        grids = sheets.grids()
    on_step("解析参数与数据 / reading settings and records")
    return _with_settings(grids, arrivals.settings, arrivals.early())


class _Arrivals:
    """The sheets of :func:`read_path` as they are read: 参数 (always first) gives the
    settings, and every later sheet is offered to the early table builds."""

    def __init__(self, path: Path, settings: Settings | None = None):
        # imported here, while the workers parse the first sheets: they bring pandas (≈ 0.4 s)
        from .load import EarlyTables
        from .params import read_params_from_grids
        self._early_tables, self._read_params = EarlyTables, read_params_from_grids
        self.is_csv = path.suffix.lower() == ".csv"
        self.settings = settings
        self._early: EarlyTables | None = None

    def take(self, grid: Grid) -> None:
        if not self.is_csv and self._early is None and is_sheet_named(grid.name, SETTINGS_SHEET.values()):
            if self.settings is None:  # settings given by the caller stand instead of the book's
                self.settings = self._read_params(Grids(grid.name, [grid]))
            return
        self.early().offer(grid)

    def early(self) -> EarlyTables:
        if self._early is None:  # the day and clock every table of this read is built with
            rules = self.settings or Settings()
            self._early = self._early_tables(rules.today(), rules.clock())
        return self._early


def scope(ds: DataSet, settings: Settings, where: dict | None = None) -> DataSet:
    """The records inside the period and scope of ``settings`` and ``where``."""
    from . import kpis
    return kpis.apply_scope(ds, settings, where)


def build(ds: DataSet, settings: Settings, scoped: DataSet | None = None,
          on_sheet: Callable[[str], None] = lambda name: None) -> report.Report:
    """The report model of every generated sheet, dated by the settings' clock."""
    from . import report  # imported on first use: `cs-xl kpis` builds no report
    return report.build_report(ds, settings, lang=settings.lang, scoped=scoped, on_sheet=on_sheet,
                               today=settings.today())
