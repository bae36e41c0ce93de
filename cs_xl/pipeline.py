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

from pathlib import Path
from typing import TYPE_CHECKING, Callable

from . import kpis
from .dataset import DataSet, detect_lang
from .importers.log import log_issues
from .load import load_grids
from .params import read_params_from_grids
from .read_files import Grids, read_grids
from .settings import Settings
from .words import generated_sheet_names

if TYPE_CHECKING:
    from . import report


def read_inputs(grids: Grids) -> tuple[DataSet, Settings]:
    """The data set and the settings of already-read sheets.

    Without a 参数 sheet (or for a CSV) the defaults apply, in the language
    of the input sheets' names.  Raises ``params.ParamsError`` for a bad
    参数 cell and ``load.LoadError`` when no input table is found."""
    settings = None if grids.is_csv else read_params_from_grids(grids)
    rules = settings or Settings()  # 参数's timezone says which day is today; its clock rows measure minutes
    ds = load_grids(grids, today=rules.today(), clock=rules.clock())
    ds.quality.issues.extend(log_issues(grids))  # what an import left out stays on 数据质量
    return ds, settings if settings is not None else Settings(lang=detect_lang(ds))


# the report's own sheets, in either language: no input, so never parsed (a refreshed 100k book's
# 数据质量, 按维度 … would otherwise be read cell by cell and could even pass for an input table)
REPORT_SHEETS = (*generated_sheet_names("zh"), *generated_sheet_names("en"))


def read_path(path) -> tuple[DataSet, Settings]:
    """:func:`read_inputs` of a workbook or CSV file, read once (its generated sheets are not read)."""
    return read_inputs(read_grids(Path(path), skip=REPORT_SHEETS))


def scope(ds: DataSet, settings: Settings, where: dict | None = None) -> DataSet:
    """The records inside the period and scope of ``settings`` and ``where``."""
    return kpis.apply_scope(ds, settings, where)


def build(ds: DataSet, settings: Settings, scoped: DataSet | None = None,
          on_sheet: Callable[[str], None] = lambda name: None) -> report.Report:
    """The report model of every generated sheet, dated by the settings' clock."""
    from . import report  # imported on first use: `cs-xl kpis` builds no report
    return report.build_report(ds, settings, lang=settings.lang, scoped=scoped, on_sheet=on_sheet,
                               today=settings.today())
