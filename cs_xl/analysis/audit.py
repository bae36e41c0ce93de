"""The weekly audit list (seed 000: 每周核查未完成记录): tickets not yet resolved."""
from __future__ import annotations

import pandas as pd

from .. import metrics
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
