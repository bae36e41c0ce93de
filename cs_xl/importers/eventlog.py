"""Process-mining event logs → one ticket per case (map: presets/eventlog.toml).

Per case, with events in time order (same-second events keep file order):

* created_at = the first event; date = its day;
* first_response_at = the first event whose activity is a ``first_response``
  activity of the map (the first human response);
* resolved_at = the first ``resolved`` activity at or after the first
  response (after creation when the map names no first-response activity);
* frt_min / resolve_min = those spans by the clock (calendar or business
  minutes), less the time spent in ``pause`` activities (from a pause event
  to the case's next event);
* transferred = more than one first-response event (handed to someone
  else), reopened = more than one resolution; first_contact_resolved per
  the map's ``[fcr] requires``;
* status 已关闭 with a ``closed`` activity, else 已解决 with a ``resolved``
  one, else 处理中; agent_id = resource of the first response, else of the
  first event; ``[case]`` attributes come from the first event.

Exact duplicate event rows are dropped and reported at their line.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..clock import Clock
from ..words import reason
from .base import LINE, Imported, clock_of, load_map, moments, read_raw, require_columns
from .generic import map_values

FORMAT = "eventlog"
STATUS_WORDS = {"closed": "已关闭", "resolved": "已解决", "open": "处理中"}


def read(path, map=None, clock: Clock | None = None) -> pd.DataFrame:
    return load(path, map, clock).frame


def load(path, map=None, clock: Clock | None = None) -> Imported:
    spec = load_map(FORMAT, map)
    clock = clock_of(spec, clock)
    events, issues = _events(path, spec, clock)
    acts = {k: set(v) for k, v in spec.get("activities", {}).items()}
    cases = _case_frame(events, acts, spec, clock)
    return Imported({"tickets": cases}, issues.items, [str(Path(path))])


def _events(path, spec: dict, clock: Clock):
    """The log's usable events: (case, activity, resource, t, escalated, attributes…), time-sorted."""
    cols, source = spec["columns"], spec.get("source", {})
    attributes = spec.get("case", {})
    escalation = spec.get("escalation", {})
    raw, issues = read_raw(path, source)
    require_columns(raw, {**cols, **attributes, **({"escalation": escalation["column"]} if escalation else {})},
                    path)
    if source.get("drop_duplicate_events", True):
        duplicate = raw.drop(columns=LINE).duplicated()
        issues.rows(raw, duplicate, reason("duplicate_event"), cols["case"])
        raw = raw[~duplicate]
    nameless = raw[cols["case"]].str.strip() == ""
    issues.rows(raw, nameless, reason("no_case"))
    raw = raw[~nameless]
    events = pd.DataFrame({
        "case": raw[cols["case"]].str.strip(),
        "activity": raw[cols["activity"]].str.strip(),
        "resource": raw[cols["resource"]].str.strip(),
        "t": moments(raw, cols["timestamp"], source, clock, issues),
        "escalated": raw[escalation["column"]].isin(escalation.get("values", [])) if escalation else False,
        **{f"attr:{key}": raw[column].str.strip() for key, column in attributes.items()},
    })
    order = pd.unique(events["case"])  # cases in order of first appearance in the file
    events = events[events["t"].notna()].sort_values("t", kind="stable")
    return (events, order), issues


def _first_time(events: pd.DataFrame, mask) -> pd.Series:
    return events[mask].groupby("case")["t"].min()


def _case_frame(log, acts: dict[str, set], spec: dict, clock: Clock) -> pd.DataFrame:
    events, order = log
    cases = pd.Index(order, name="case")
    by_case = events.groupby("case", sort=False)
    first = by_case.head(1).set_index("case").reindex(cases)
    is_ = {kind: events["activity"].isin(acts.get(kind, set())) for kind in
           ("first_response", "resolved", "closed", "pause", "detours")}
    created = first["t"]
    answered = _first_time(events, is_["first_response"]).reindex(cases)
    anchor = answered if acts.get("first_response") else created
    after = events["t"] >= anchor.reindex(events["case"]).to_numpy()
    resolved = _first_time(events, is_["resolved"] & after).reindex(cases)
    counts = pd.DataFrame({kind: mask.groupby(events["case"]).sum() for kind, mask in is_.items()}
                          ).reindex(cases, fill_value=0)
    responder = events[is_["first_response"]].groupby("case")["resource"].first().reindex(cases)

    out = pd.DataFrame({
        "ticket_id": cases,
        "date": created.dt.normalize(),
        "agent_id": responder.fillna(first["resource"]),
        "status": _status(counts),
        "created_at": created,
        **({"first_response_at": answered} if acts.get("first_response") else {}),
        "resolved_at": resolved,
        **({"frt_min": _span(events, is_["pause"], created, answered, clock)} if acts.get("first_response") else {}),
        "resolve_min": _span(events, is_["pause"], anchor, resolved, clock),
        "transferred": counts["first_response"] > 1,
        "reopened": counts["resolved"] > 1,
        "first_contact_resolved": _first_contact(spec, counts, events, cases),
    }, index=cases)
    for key, words in spec.get("values", {}).items():
        if f"attr:{key}" in first.columns:
            first[f"attr:{key}"] = map_values(first[f"attr:{key}"].fillna(""), words)
    for column in (c for c in first.columns if c.startswith("attr:")):
        out[column[5:]] = first[column]
    return out.reset_index(drop=True)


def _status(counts: pd.DataFrame) -> pd.Series:
    status = pd.Series(STATUS_WORDS["open"], index=counts.index)
    status[counts["resolved"] > 0] = STATUS_WORDS["resolved"]
    status[counts["closed"] > 0] = STATUS_WORDS["closed"]
    return status


def _first_contact(spec: dict, counts: pd.DataFrame, events: pd.DataFrame, cases: pd.Index) -> pd.Series:
    """First-contact resolution by the map's ``[fcr] requires`` (see presets/eventlog.toml)."""
    requires = set(spec.get("fcr", {}).get("requires", []))
    ok = pd.Series(True, index=cases)
    if "one_response" in requires:
        ok &= counts["first_response"] == 1
    if "one_resolution" in requires:
        ok &= counts["resolved"] == 1
    if "no_detour" in requires:
        ok &= counts["detours"] == 0
    if "not_escalated" in requires:
        ok &= ~events["escalated"].groupby(events["case"]).any().reindex(cases, fill_value=False).astype(bool)
    return ok


def _span(events: pd.DataFrame, pause: pd.Series, start: pd.Series, end: pd.Series, clock: Clock) -> pd.Series:
    """Clock minutes from ``start`` to ``end`` per case, less the paused time inside."""
    minutes = clock.between(start, end)
    if not pause.any():
        return minutes
    nxt = events.groupby("case")["t"].shift(-1)
    spans = pd.DataFrame({"case": events["case"], "a": events["t"], "b": nxt})[pause & nxt.notna()]
    lo = np.maximum(spans["a"], start.reindex(spans["case"]).to_numpy())
    hi = np.minimum(spans["b"], end.reindex(spans["case"]).to_numpy())
    paused = clock.between(pd.Series(lo.to_numpy(), index=spans.index), pd.Series(hi.to_numpy(), index=spans.index))
    paused = paused.clip(lower=0).groupby(spans["case"]).sum().reindex(start.index, fill_value=0.0)
    return minutes - paused.where(minutes.notna())
