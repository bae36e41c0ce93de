"""Process-mining event logs → one ticket per case (map: presets/eventlog.toml).

Per case, with events in time order (same-second events keep file order):

* created_at = the first event; date = its day;
* first_response_at = the first event whose activity is a ``first_response``
  or ``reply`` activity of the map (the first human response: ``bot``
  activities, bot and auto replies, never count);
* the first-response clock starts at the bot hand-off where the log has it:
  the first ``handoff`` event before that response, else the last ``bot``
  event before it; else at creation;
* with ``reply`` activities (message-level logs such as Chatwoot's messages):
  replies = the number of human replies, response_avg_min = the mean wait of
  the replies that answer a customer turn (平均响应时长, every reply, not only
  the first); without them both stay blank (the metrics are null, not 0);
* resolved_at = the first ``resolved`` activity at or after the first
  response (after creation when the map names no first-response activity);
* frt_min / resolve_min = those spans by the clock (calendar or business
  minutes), less the time spent in ``pause`` activities (from a pause event
  to the case's next event);
* transferred = more than one first-response event (handed to someone
  else), reopened = more than one resolution; first_contact_resolved per
  the map's ``[fcr] requires`` — each only when the map names the activities
  it needs (a log that cannot tell leaves the column out);
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
    activity_columns = _as_list(cols["activity"])
    require_columns(raw, {**{k: v for k, v in cols.items() if k != "activity"},
                          **{f"activity {i + 1}": c for i, c in enumerate(activity_columns)},
                          **attributes, **({"escalation": escalation["column"]} if escalation else {})}, path)
    if source.get("drop_duplicate_events", True):
        duplicate = raw.drop(columns=LINE).duplicated()
        issues.rows(raw, duplicate, reason("duplicate_event"), cols["case"])
        raw = raw[~duplicate]
    nameless = raw[cols["case"]].str.strip() == ""
    issues.rows(raw, nameless, reason("no_case"))
    raw = raw[~nameless]
    events = pd.DataFrame({
        "case": raw[cols["case"]].str.strip(),
        "activity": _activity(raw, activity_columns, spec.get("activity_values", {})),
        "resource": raw[cols["resource"]].str.strip(),
        "t": moments(raw, cols["timestamp"], source, clock, issues),
        "escalated": raw[escalation["column"]].isin(escalation.get("values", [])) if escalation else False,
        **{f"attr:{key}": raw[column].str.strip() for key, column in attributes.items()},
    })
    order = pd.unique(events["case"])  # cases in order of first appearance in the file
    events = events[events["t"].notna()].sort_values("t", kind="stable")
    return (events, order), issues


def _as_list(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _activity(raw: pd.DataFrame, columns: list[str], values: dict) -> pd.Series:
    """The activity of each event: one column, or several joined with "/"
    (Chatwoot: message_type/sender_type/private), each through its value map."""
    parts = [map_values(raw[c].fillna("").str.strip(), values[c]) if c in values else raw[c].fillna("").str.strip()
             for c in columns]
    out = parts[0].astype(str)
    for part in parts[1:]:
        out = out + "/" + part.astype(str)
    return out


def _first_time(events: pd.DataFrame, mask) -> pd.Series:
    return events[mask].groupby("case")["t"].min()


KINDS = ("first_response", "reply", "bot", "handoff", "customer", "resolved", "closed", "pause", "detours")


def _case_frame(log, acts: dict[str, set], spec: dict, clock: Clock) -> pd.DataFrame:
    events, order = log
    cases = pd.Index(order, name="case")
    by_case = events.groupby("case", sort=False)
    first = by_case.head(1).set_index("case").reindex(cases)
    is_ = {kind: events["activity"].isin(acts.get(kind, set())) for kind in KINDS}
    human = is_["first_response"] | is_["reply"]  # bot and auto replies are in neither
    responds = bool(acts.get("first_response") or acts.get("reply"))
    created = first["t"]
    answered = _first_time(events, human).reindex(cases)
    start = _clock_start(events, is_, created, answered)
    anchor = answered if responds else created
    after = events["t"] >= anchor.reindex(events["case"]).to_numpy()
    resolved = _first_time(events, is_["resolved"] & after).reindex(cases)
    counts = pd.DataFrame({kind: mask.groupby(events["case"]).sum() for kind, mask in is_.items()}
                          ).reindex(cases, fill_value=0)
    responder = events[human].groupby("case")["resource"].first().reindex(cases)
    fcr = _fcr_rules(spec, acts)

    out = pd.DataFrame({
        "ticket_id": cases,
        "date": created.dt.normalize(),
        # a message log's first sender is the customer: there, no human reply = no agent
        "agent_id": responder if acts.get("reply") else responder.fillna(first["resource"]),
        "status": _status(counts),
        "created_at": created,
        **({"first_response_at": answered} if responds else {}),
        "resolved_at": resolved,
        **({"frt_min": _span(events, is_["pause"], start, answered, clock)} if responds else {}),
        "resolve_min": _span(events, is_["pause"], anchor, resolved, clock),
        # flags the log can tell: no first-response activity named, no transfer known (and so on)
        **({"transferred": counts["first_response"] > 1} if acts.get("first_response") else {}),
        **({"reopened": counts["resolved"] > 1} if acts.get("resolved") else {}),
        **({"first_contact_resolved": _first_contact(fcr, counts, events, cases)} if fcr else {}),
        **(_replies(events, is_, human, start, clock, cases) if acts.get("reply") else {}),
    }, index=cases)
    for key, words in spec.get("values", {}).items():
        if f"attr:{key}" in first.columns:
            first[f"attr:{key}"] = map_values(first[f"attr:{key}"].fillna(""), words)
    for column in (c for c in first.columns if c.startswith("attr:")):
        out[column[5:]] = first[column]
    return out.reset_index(drop=True)


def _clock_start(events: pd.DataFrame, is_: dict, created: pd.Series, answered: pd.Series) -> pd.Series:
    """Where the first-response clock starts: at the bot hand-off when the log
    has it — the first ``handoff`` event before the first human response, else
    the last ``bot`` event before it (the bot's last turn) — else at creation."""
    before = (events["t"] <= answered.reindex(events["case"]).to_numpy())
    handoff = _first_time(events, is_["handoff"] & before).reindex(created.index)
    last_bot = events[is_["bot"] & before].groupby("case")["t"].max().reindex(created.index)
    return handoff.fillna(last_bot).fillna(created)


def _replies(events: pd.DataFrame, is_: dict, human: pd.Series, start: pd.Series, clock: Clock,
             cases: pd.Index) -> dict[str, pd.Series]:
    """replies = human replies per case; response_avg_min = the mean wait of the
    replies that answer a customer turn: from the clock start for the first, then
    from the first customer message after the previous reply (a reply following
    a reply answers nothing new and has no wait).  Customer turns are the map's
    ``customer`` activities, or every event that is neither a human nor a bot reply."""
    customer = is_["customer"] if is_["customer"].any() else ~(human | is_["bot"])
    starts = start.to_dict()
    answered_once: set = set()
    pending: dict = {}
    waits: list[tuple] = []
    for case, t, is_reply, is_customer in zip(events["case"], events["t"], human, customer):
        if is_reply:
            if case in answered_once:
                since = pending.pop(case, None)
            else:
                since = starts[case]
                answered_once.add(case)
            if since is not None:
                waits.append((case, since, t))
        elif is_customer and case in answered_once and case not in pending:
            pending[case] = t
    replies = human.groupby(events["case"]).sum().reindex(cases, fill_value=0).astype(float)
    if not waits:
        return {"replies": replies, "response_avg_min": pd.Series(float("nan"), index=cases)}
    pairs = pd.DataFrame(waits, columns=["case", "a", "b"])
    minutes = clock.between(pairs["a"], pairs["b"])
    return {"replies": replies, "response_avg_min": minutes.groupby(pairs["case"]).mean().reindex(cases)}


def _status(counts: pd.DataFrame) -> pd.Series:
    status = pd.Series(STATUS_WORDS["open"], index=counts.index)
    status[counts["resolved"] > 0] = STATUS_WORDS["resolved"]
    status[counts["closed"] > 0] = STATUS_WORDS["closed"]
    return status


def _fcr_rules(spec: dict, acts: dict[str, set]) -> set[str]:
    """The map's ``[fcr] requires`` the log can check: a rule on activities the map does not
    name (or on an escalation column it lacks) is left out; none left → no 一次解决 column."""
    can = {"one_response": bool(acts.get("first_response")), "one_resolution": bool(acts.get("resolved")),
           "no_detour": bool(acts.get("detours")), "not_escalated": bool(spec.get("escalation"))}
    return {rule for rule in spec.get("fcr", {}).get("requires", []) if can.get(rule, True)}


def _first_contact(requires: set[str], counts: pd.DataFrame, events: pd.DataFrame, cases: pd.Index) -> pd.Series:
    """First-contact resolution by the map's ``[fcr] requires`` (see presets/eventlog.toml)."""
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
