"""ACD/IVR call logs, the "Anonymous Bank" format (map: presets/calls.toml).

The rules of issue 11, per call:

* ``0:00:00`` means "no such time" (never queued, never served);
* PHANTOM (virtual) calls are dropped and reported at their line;
* AGENT calls are answered, wait = q_time, talk (handle) = ser_time;
* HANG calls that joined the queue are abandoned (wait = q_time);
* HANG calls that never joined the queue ended in the IVR: IVR self-served,
  so they are offered but not queued for an agent.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..clock import Clock
from ..words import reason
from .base import LINE, Imported, load_map, read_raw, require_columns
from .generic import map_values

FORMAT = "calls"


def read(path, map=None, clock: Clock | None = None) -> pd.DataFrame:
    return load(path, map, clock).frame


def load(path, map=None, clock: Clock | None = None) -> Imported:
    spec = load_map(FORMAT, map)
    cols, source, outcomes = spec["columns"], spec.get("source", {}), spec.get("outcomes", {})
    raw, issues = read_raw(path, source)
    require_columns(raw, cols, path)
    outcome = raw[cols["outcome"]].str.strip()
    ignored = outcome.isin(outcomes.get("ignored", []))
    issues.rows(raw, ignored, reason("phantom_call"), cols["outcome"])
    raw, outcome = raw[~ignored], outcome[~ignored]

    no_time = source.get("no_time", "0:00:00")
    answered = outcome.isin(outcomes.get("answered", []))
    queued = raw[cols["queue_start"]].str.strip() != no_time
    in_ivr = outcome.isin(outcomes.get("abandoned", [])) & ~queued
    day = pd.to_datetime(raw[cols["date"]].str.strip(), format=source.get("date_format", "%y%m%d"), errors="coerce")
    start = day + pd.to_timedelta(raw[cols["entry"]].str.strip(), errors="coerce")
    agent = raw[cols["agent"]].str.strip()
    frame = pd.DataFrame({
        "call_id": raw[cols["line"]].str.strip() + "-" + raw[cols["call_id"]].str.strip(),
        "start": start,
        "wait_s": raw[cols["wait"]].str.strip(),
        "answered": answered,
        "talk_s": raw[cols["service_time"]].str.strip().where(answered, None),
        "agent_id": agent.where(agent != source.get("no_agent", "NO_SERVER"), None),
        "priority": map_values(raw[cols["priority"]].str.strip(), spec.get("values", {}).get("priority", {})),
        "ivr_selfserved": in_ivr,
        "outcome": outcome,
    }).reset_index(drop=True)
    _report_unreadable_starts(raw, start, cols, issues)
    return Imported({"calls": frame}, issues.items, [str(Path(path))])


def _report_unreadable_starts(raw, start, cols, issues) -> None:
    for line, value in zip(raw.loc[start.isna(), LINE], raw.loc[start.isna(), cols["entry"]]):
        issues.add(line, cols["entry"], value, reason("not_date"), "dropped")
