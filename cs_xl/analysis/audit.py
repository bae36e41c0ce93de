"""The weekly audit list (seed 000: 每周核查未完成记录): tickets not yet resolved."""
from __future__ import annotations

import pandas as pd

from .. import kpis, metrics, periods
from ..dataset import DataSet


def audit_records(ds: DataSet) -> pd.DataFrame:
    """The tickets the ``backlog`` metric counts (not resolved per
    :func:`cs_xl.metrics.is_resolved`: status 处理中/待确认 …, or no status and
    no resolution time), in the order of the sheet."""
    t = ds.tickets
    if t is None or not ({"status", "resolve_min"} & set(t.columns)):
        return t.iloc[0:0] if t is not None else pd.DataFrame()
    status = t["status"] if "status" in t.columns else None
    resolve = t["resolve_min"] if "resolve_min" in t.columns else None
    return t[~metrics.is_resolved(status, resolve)]


def weekly_counts(ds: DataSet) -> dict[str, int]:
    """ISO week label → how many of :func:`audit_records` fall in it (by the ticket's date),
    weeks in order; records without a date are left out (the audit list still shows them)."""
    open_records = audit_records(ds)
    if open_records.empty:
        return {}
    when = kpis.record_moment(open_records, "tickets")
    if when is None:
        return {}
    labels = periods.labels(when.dropna(), "week")
    return {str(k): int(v) for k, v in labels.value_counts().sort_index().items()}
