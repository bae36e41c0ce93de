"""Importers: helpdesk, event-log and call-centre exports → canonical-key frames.

``cs_xl.importers.<format>.read(path, map=None, clock=None)`` returns the
records of one export as a DataFrame of SPEC §2 keys; ``load`` returns an
:class:`~cs_xl.importers.base.Imported` with every table's frame and the
quality issues (source file + line) of what was left out.  Each format is
driven by a TOML map shipped in ``presets/``; a new export variant is a new
map (``--map my_export.toml``), not new code.

:func:`run` imports several files of one format; :func:`to_grids` hands the
result to :func:`cs_xl.load.load_grids` like any workbook (KPIs straight
from an export), and :mod:`cs_xl.importers.book` writes it into the
standard workbook.
"""
from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from ..read_files import Grid, Grids
from ..schema import TABLES

if TYPE_CHECKING:
    from ..clock import Clock
    from .base import Imported

FORMATS = ("generic", "calls", "zendesk", "freshdesk", "chatwoot", "eventlog", "reviews")

__all__ = ["FORMATS", "Imported", "ImportError_", "run", "to_grids", "load_map", "preset_names"]
# .base (pandas, the clock) loads on first use: `cs-xl --help` lists FORMATS without importing pandas
_FROM_BASE = ("Imported", "ImportError_", "load_map", "preset_names")


def __getattr__(name: str):
    if name in _FROM_BASE:
        from . import base
        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def module(fmt: str):
    if fmt not in FORMATS:
        from .base import ImportError_
        raise ImportError_(f"unknown import format {fmt!r}; choose from {', '.join(FORMATS)}")
    return import_module(f"{__name__}.{fmt}")


def run(fmt: str, paths, map=None, clock: Clock | None = None) -> Imported:
    """Every file of ``paths`` through the importer of ``fmt``, concatenated."""
    reader = module(fmt)
    result: Imported | None = None
    for path in paths:
        one = reader.load(path, map, clock)
        if result is None:
            result = one
        else:
            result.extend(one)
    if result is None:
        from .base import ImportError_
        raise ImportError_("no source file given")
    return result


def to_grids(imported: Imported, lang: str = "zh") -> Grids:
    """The imported frames as sheets of the standard workbook (header row + cells)."""
    sheets = []
    for key, frame in imported.frames.items():
        table = TABLES[key]
        header = [table.column(c).header(lang) for c in frame.columns]
        rows = [header] + [list(map(_cell, r)) for r in frame.itertuples(index=False, name=None)]
        sheets.append(Grid(table.sheet(lang), rows))
    return Grids(", ".join(imported.sources), sheets)


def _cell(value):
    """Missing values (NaN/NaT/None) are blank cells; flags are 是/否."""
    if value is None or value is True or value is False:
        return {True: "是", False: "否", None: None}[value]
    try:
        if value != value:  # NaN, NaT
            return None
    except (TypeError, ValueError):
        pass
    return value
