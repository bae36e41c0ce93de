"""Where the report's numbers come from.

The sheet builders (:mod:`.build`) ask a *figures* object for every number
they draw — headline and grouped KPIs, record counts, the weekday × hour
load, the analyses — never for the records themselves.  Two kinds answer:

* :class:`DataSetFigures` — the records of a workbook (a pandas data set),
  through :mod:`cs_xl.kpis` and :mod:`cs_xl.analysis`;
* :class:`cs_xl.backends.figures.SqlFigures` — a Parquet / CSV / DuckDB
  history through a SQL engine, aggregates only (``cs-xl refresh BOOK --data``).

``per_record`` says whether the record-level lists (every data-quality cell,
the whole audit list) exist; without them a sheet shows counts, a bounded
sample and a line saying so.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from .. import kpis
from ..analysis import run, staffing
from ..dataset import ROW, DataSet, dropped_rows, quality_counts
from ..settings import Settings

TABLE_KEYS = ("tickets", "feedback", "calls")


class DataSetFigures:
    """The figures of a loaded data set and its part inside the period and scope."""
    per_record = True

    def __init__(self, loaded: DataSet, scoped: DataSet, settings: Settings):
        self.loaded, self.scoped, self.settings = loaded, scoped, settings
        self._agent_names: dict | None = None

    # ---------------------------------------------------------------- KPIs

    def headline(self) -> dict[str, float]:
        return kpis.headline(self.scoped, self.settings)

    def grouped(self, by: str, keys) -> pd.DataFrame:
        return kpis.grouped(self.scoped, self.settings, by, keys=keys)

    def by_hour(self, keys) -> pd.DataFrame | None:
        """KPIs per hour of day, or None without any time of day."""
        if not (self.scoped.has("tickets", "created_at") or self.scoped.has("calls", "start")):
            return None
        return kpis.grouped(hour_columns_only(self.scoped), self.settings, "hour", keys=keys)

    # ---------------------------------------------------------------- shape and counts

    def has_column(self, key: str) -> bool:
        return kpis.has_column(self.scoped, key)

    def has(self, table: str, column: str | None = None) -> bool:
        return self.scoped.has(table, *([] if column is None else [column]))

    def counts(self, which: str = "scoped") -> dict[str, int]:
        """Records per input table (0 for a table the data lacks): ``scoped`` or ``loaded``."""
        ds = self.scoped if which == "scoped" else self.loaded
        return {t: 0 if (f := ds.table(t)) is None else len(f) for t in TABLE_KEYS}

    def moment_range(self) -> tuple[Any, Any] | None:
        """First and last record moment of the scoped records."""
        return kpis.moment_range(self.scoped)

    def periods_present(self, grain: str) -> dict[str, set[str]]:
        """period label → the input tables that have at least one record in it."""
        present: dict[str, set[str]] = {}
        for table, positions in kpis.group_positions(self.scoped, grain).items():
            for label in positions or ():
                present.setdefault(str(label), set()).add(table)
        return present

    def agent_names(self) -> dict:
        """agent_id → the last name typed for that id (unmasked); worked out once (each sentence
        naming an agent asks)."""
        if self._agent_names is None:
            t = self.scoped.tickets
            if t is None or "agent_id" not in t.columns or "agent_name" not in t.columns:
                self._agent_names = {}
            else:
                names = t[["agent_id", "agent_name"]].dropna().drop_duplicates("agent_id", keep="last")
                self._agent_names = dict(zip(names["agent_id"], names["agent_name"]))
        return dict(self._agent_names)  # a copy: a caller's masking must not change the next one's

    def load_matrix(self) -> pd.DataFrame:
        return kpis.load_matrix(self.scoped)

    def untimed_records(self) -> dict[str, int]:
        return kpis.untimed_records(self.scoped)

    def staffing_matrix(self, aht_s) -> list[list] | None:
        return staffing.agents_needed_by_slot(self.scoped.calls, self.settings, aht_s)

    def result(self, name: str, headline: dict) -> Any:
        """An analysis of :data:`cs_xl.analysis.run.ANALYSES` on the scoped records."""
        return run.ANALYSES[name](self.scoped, self.settings, headline)

    # ---------------------------------------------------------------- data quality

    def quality_issues(self) -> list:
        return self.loaded.quality.issues

    def quality_counts(self) -> dict[str, int]:
        return quality_counts(self.loaded)

    def dropped_rows(self) -> set[tuple[str, int]]:
        return dropped_rows(self.loaded)

    def audit_records(self) -> tuple[pd.DataFrame, int]:
        """The weekly audit list and how many records it holds (here: all of them)."""
        from ..analysis import audit
        frame = audit.audit_records(self.scoped)
        return frame, len(frame)


def hour_columns_only(ds: DataSet) -> DataSet:
    """The data set cut to what the by-hour table needs (ticket ids and creation times,
    call starts): kpis.grouped then skips every other metric of the 24 groups."""
    def cut(frame, columns):
        return None if frame is None else frame[[c for c in (ROW, *columns) if c in frame.columns]]
    return DataSet(tickets=cut(ds.tickets, ("ticket_id", "created_at")), calls=cut(ds.calls, ("start",)),
                   quality=ds.quality, source=ds.source, headers=ds.headers, sheets=ds.sheets, typed=ds.typed)
