"""Column mappings from the public data sets in ``../shared/realdata`` to
template-shaped CSVs (the headers of :mod:`cs_xl.schema`).

Each ``map_*`` function reads one raw file and returns a frame whose columns
are schema *keys* (``date``, ``wait_s`` …), one row per ticket, feedback or
call.  :func:`write_template_csv` renames the keys to the template headers
(Chinese or English) and writes the CSV the product reads.  The raw files are
never copied or modified: the CSVs go to a pytest ``tmp_path``.

The mappings are deliberately written with pandas, while the reference values
in ``test_realdata.py`` are computed from the raw files with the standard
``csv`` module, so a mistake in one does not silently repeat in the other.

Choices that are interpretations of the raw data (documented per function):

* technion: ``wait_s`` is the queue time, so the answer/abandon rates count
  IVR hang-ups as abandoned queued calls (the file has no IVR self-service
  flag); PHANTOM calls are virtual and dropped.
* servicenow: no first-response stamp exists, so ``resolve_min`` is
  opened_at → resolved_at (a proxy that includes the wait for the first
  response); first-contact resolution = never reassigned and never reopened.
* helpdesk: the CSV carries the three timestamps and *blank* minute columns,
  so the product's own "minutes from timestamps" rule is exercised.
* bpi2013: an incident counts as resolved at its first ``Completed`` event
  whose sub status is ``Resolved`` *or* ``In Call`` (solved during the call —
  1,883 incidents are completed only that way and would otherwise look
  unresolved); resolution time runs from the first logged event, which is
  already the service desk's acceptance or queueing (proxy, no first-response
  stamp).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

from cs_xl.schema import CALLS, FEEDBACK, TICKETS, Table

# CS_XL_REALDATA points elsewhere (tests/test_ci.py points it at a missing folder)
REALDATA = Path(os.environ.get("CS_XL_REALDATA") or Path(__file__).resolve().parents[2] / "shared" / "realdata")


@dataclass(frozen=True)
class RealSource:
    """One raw file of ``../shared/realdata`` and how it maps onto the template."""
    name: str
    folder: str
    filename: str
    table: Table
    lang: str            # header language of the generated CSV
    encoding: str        # encoding of the generated CSV
    mapper: Callable[[Path], pd.DataFrame]

    @property
    def path(self) -> Path:
        return REALDATA / self.folder / self.filename

    def available(self) -> bool:
        return self.path.is_file()


# ---------------------------------------------------------------- helpers

def _yes_no(mask: pd.Series, lang: str) -> pd.Series:
    """Booleans → the template's 是/否 (zh) or Yes/No (en) words."""
    yes, no = ("是", "否") if lang == "zh" else ("Yes", "No")
    return mask.map({True: yes, False: no})


def _minutes_between(start: pd.Series, end: pd.Series) -> pd.Series:
    """(end − start) in minutes as float; NaN where either stamp is missing."""
    return (end - start).dt.total_seconds() / 60


def _blank_if(series: pd.Series, missing: str) -> pd.Series:
    """Replace a source's missing-value marker (e.g. ``?``) by a blank cell."""
    return series.where(series != missing, "")


def _stamp_text(moments: pd.Series) -> pd.Series:
    """Timestamps as ``YYYY-MM-DD HH:MM:SS`` text; blank where missing."""
    return moments.dt.strftime("%Y-%m-%d %H:%M:%S").fillna("")


def write_template_csv(records: pd.DataFrame, table: Table, path: Path,
                       lang: str = "en", encoding: str = "utf-8") -> Path:
    """Write ``records`` (columns = schema keys of ``table``) as a CSV whose
    header row is the template's header text in ``lang``."""
    unknown = [k for k in records.columns if k not in table.keys]
    if unknown:
        raise KeyError(f"not columns of the {table.key} table: {unknown}")
    headers = {key: table.column(key).header(lang) for key in records.columns}
    records.rename(columns=headers).to_csv(path, index=False, encoding=encoding)
    return path


# ---------------------------------------------------------------- technion calls

TECHNION_PRIORITY = {"2": "P1", "1": "P3", "0": "P3"}


def map_technion(raw: Path) -> pd.DataFrame:
    """Technion "Anonymous Bank" Feb 1999 (TSV, one row per call) → calls.

    call_id = ``vru+line`` + call_id (call ids repeat across VRU lines);
    start = date (YYMMDD) + vru_entry; wait_s = q_time (0 when the call never
    queued); answered = outcome == AGENT; talk_s = ser_time;
    agent_id = server (blank for NO_SERVER); priority 2 (priority customer,
    head start in the queue) → P1, 0/1 (regular or unidentified) → P3;
    outcome kept.  PHANTOM rows are virtual calls and are dropped.
    """
    raw_calls = pd.read_csv(raw, sep="\t", dtype=str, keep_default_na=False)
    calls = raw_calls[raw_calls["outcome"] != "PHANTOM"]
    day = pd.to_datetime(calls["date"], format="%y%m%d")
    start = day + pd.to_timedelta(calls["vru_entry"])
    return pd.DataFrame({
        "call_id": calls["vru+line"] + "-" + calls["call_id"],
        "start": _stamp_text(start),
        "wait_s": calls["q_time"],
        "answered": _yes_no(calls["outcome"] == "AGENT", "en"),
        "talk_s": calls["ser_time"],
        "agent_id": _blank_if(calls["server"], "NO_SERVER"),
        "priority": calls["priority"].map(TECHNION_PRIORITY),
        "outcome": calls["outcome"],
    })


# ---------------------------------------------------------------- servicenow tickets

SERVICENOW_STAMP = "%d/%m/%Y %H:%M"  # day-first, e.g. 29/2/2016 01:16


def map_servicenow(raw: Path) -> pd.DataFrame:
    """ServiceNow incident event log → tickets, one row per incident.

    The incident's *final* row (last in file order; every incident ends
    Closed) gives: ticket_id = number; date = opened_at (day-first);
    priority = ``1 - Critical`` … ``4 - Low`` as typed; channel =
    contact_type; team = assignment_group; agent_id = assigned_to (``?`` →
    blank); status = incident_state; resolve_min = opened_at → resolved_at
    (proxy: no first-response stamp exists; blank when resolved_at is ``?``);
    first_contact_resolved = reassignment_count == 0 and reopen_count == 0.
    """
    events = pd.read_csv(raw, dtype=str, keep_default_na=False)
    final = events.groupby("number", sort=False).tail(1)
    opened = pd.to_datetime(final["opened_at"], format=SERVICENOW_STAMP)
    resolved = pd.to_datetime(_blank_if(final["resolved_at"], "?").replace("", None),
                              format=SERVICENOW_STAMP)
    first_contact = (final["reassignment_count"] == "0") & (final["reopen_count"] == "0")
    return pd.DataFrame({
        "ticket_id": final["number"],
        "date": opened.dt.strftime("%Y-%m-%d"),
        "agent_id": _blank_if(final["assigned_to"], "?"),
        "team": _blank_if(final["assignment_group"], "?"),
        "channel": final["contact_type"],
        "priority": final["priority"],
        "status": final["incident_state"],
        "resolve_min": _minutes_between(opened, resolved),
        "first_contact_resolved": _yes_no(first_contact, "zh"),
    })


# ---------------------------------------------------------------- helpdesk tickets

TAKE_IN_CHARGE = "Take in charge ticket"
RESOLVE = "Resolve ticket"
HELPDESK_DETOURS = ("Wait", "Require upgrade")


def _first_time(events: pd.DataFrame, activity: str) -> pd.Series:
    """Per case, the earliest timestamp of ``activity``."""
    return events[events["activity"] == activity].groupby("case")["t"].min()


def map_helpdesk(raw: Path) -> pd.DataFrame:
    """Italian help-desk event log → tickets, one row per case.

    Exact duplicate events are dropped first.  created_at = first event;
    first_response_at = first ``Take in charge ticket``; resolved_at = first
    ``Resolve ticket`` at or after that take-in-charge.  The minute columns
    are left blank so the loader computes frt = first_response_at −
    created_at and resolve = resolved_at − first_response_at.
    date = day of created_at; agent_id = resource of the first take-in-charge
    (else of the first event); status = Closed if the case has a Closed
    event, else Resolved if it has a Resolve ticket, else Open;
    first_contact_resolved = exactly one take-in-charge, exactly one resolve
    and no Wait / Require upgrade.
    """
    log = pd.read_csv(raw, dtype=str, keep_default_na=False).drop_duplicates()
    events = pd.DataFrame({
        "case": log["case:concept:name"],
        "activity": log["concept:name"],
        "resource": log["org:resource"],
        # the +00:00 label is not a real zone (SOURCE.md): keep the wall clock
        "t": pd.to_datetime(log["time:timestamp"].str.removesuffix("+00:00")),
    }).sort_values("t", kind="stable")
    cases = pd.Index(log["case:concept:name"].unique(), name="case")
    created = events.groupby("case")["t"].min().reindex(cases)
    taken = _first_time(events, TAKE_IN_CHARGE).reindex(cases)
    after_take = events.join(taken.rename("taken"), on="case")
    after_take = after_take[after_take["t"] >= after_take["taken"]]
    resolved = _first_time(after_take, RESOLVE).reindex(cases)

    first_take_agent = events[events["activity"] == TAKE_IN_CHARGE].groupby("case")["resource"].first()
    first_agent = events.groupby("case")["resource"].first()
    agent = first_take_agent.reindex(cases).fillna(first_agent.reindex(cases))

    counts = pd.crosstab(events["case"], events["activity"]).reindex(cases, fill_value=0)
    status = pd.Series("Open", index=cases)
    status[counts[RESOLVE] > 0] = "Resolved"
    status[counts["Closed"] > 0] = "Closed"
    one_cycle = (counts[TAKE_IN_CHARGE] == 1) & (counts[RESOLVE] == 1)
    no_detour = (counts[list(HELPDESK_DETOURS)] == 0).all(axis=1)

    return pd.DataFrame({
        "ticket_id": cases,
        "date": created.dt.strftime("%Y-%m-%d"),
        "agent_id": agent,
        "status": status,
        "created_at": _stamp_text(created),
        "first_response_at": _stamp_text(taken),
        "resolved_at": _stamp_text(resolved),
        "frt_min": "",
        "resolve_min": "",
        "first_contact_resolved": _yes_no(one_cycle & no_detour, "en"),
    }).reset_index(drop=True)


# ---------------------------------------------------------------- bpi2013 tickets

BPI_IMPACT_PRIORITY = {"Major": "一级", "High": "二级", "Medium": "三级", "Low": "四级"}
BPI_SOLVED_SUB_STATUS = ("Resolved", "In Call")
BPI_HIGHER_LEVELS = ("L2", "L3", "L2/L3")


def map_bpi2013(raw: Path) -> pd.DataFrame:
    """BPI Challenge 2013 Volvo IT incidents (one row per status change) → tickets.

    ticket_id = SR Number; date = first event's timestamp as typed (with its
    fixed ``+01:00`` label, read as wall-clock time); agent_id = Resource
    and team = Involved ST 2 of the first event; priority from SR Latest
    Impact (Major 一级, High 二级, Medium 三级, Low 四级); resolve_min = first
    event → first Completed event with sub status Resolved or In Call;
    status 已解决 when such an event exists, else 处理中; first_contact_resolved
    (一次解决) = solved and never handled at L2/L3.
    """
    log = pd.read_csv(raw, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    log["t"] = pd.to_datetime(log["Change Date+Time"].str.slice(0, 19))
    log = log.sort_values("t", kind="stable")
    by_sr = log.groupby("SR Number", sort=False)
    srs = pd.Index(pd.unique(log["SR Number"]), name="SR Number")
    first = by_sr.head(1).set_index("SR Number").reindex(srs)

    solved_events = log[(log["Status"] == "Completed") & log["Sub Status"].isin(BPI_SOLVED_SUB_STATUS)]
    solved_at = solved_events.groupby("SR Number")["t"].min().reindex(srs)
    escalated = log["ST Level"].isin(BPI_HIGHER_LEVELS).groupby(log["SR Number"]).any().reindex(srs)
    solved = solved_at.notna()

    return pd.DataFrame({
        "ticket_id": srs,
        "date": first["Change Date+Time"],
        "agent_id": first["Resource"],
        "team": first["Involved ST 2"],
        "priority": first["SR Latest Impact"].map(BPI_IMPACT_PRIORITY),
        "status": solved.map({True: "已解决", False: "处理中"}),
        "resolve_min": _minutes_between(first["t"], solved_at),
        "first_contact_resolved": _yes_no(solved & ~escalated, "zh"),
    }).reset_index(drop=True)


# ---------------------------------------------------------------- olist feedback

def map_olist(raw: Path) -> pd.DataFrame:
    """Olist classified reviews (one row per order review) → feedback.

    ticket_id = id; date = review_creation_date (as typed, microsecond
    text); rating = review_score (1–5).
    """
    reviews = pd.read_csv(raw, dtype=str, keep_default_na=False)
    return pd.DataFrame({
        "ticket_id": reviews["id"],
        "date": reviews["review_creation_date"],
        "rating": reviews["review_score"],
    })


# ---------------------------------------------------------------- registry

SOURCES: dict[str, RealSource] = {s.name: s for s in (
    RealSource("technion", "technion_callcenter_feb1999", "data_anonymous_bank_february.txt",
               CALLS, "en", "utf-8", map_technion),
    RealSource("servicenow", "servicenow_incident_log", "incident_event_log_2016-02-29_to_2016-03-20.csv",
               TICKETS, "zh", "utf-8", map_servicenow),
    RealSource("helpdesk", "helpdesk_italian_eventlog", "helpdesk.csv",
               TICKETS, "en", "utf-8", map_helpdesk),
    RealSource("bpi2013", "bpi2013_volvo_incidents", "VINST-new.csv",
               TICKETS, "zh", "utf-8-sig", map_bpi2013),
    RealSource("olist", "olist_classified_reviews", "olist_classified_public_dataset.csv",
               FEEDBACK, "zh", "utf-8", map_olist),
)}


def build_template_csv(name: str, out_dir: Path) -> Path:
    """Map the raw file of data set ``name`` and write it as ``out_dir/<name>.csv``."""
    source = SOURCES[name]
    records = source.mapper(source.path)
    return write_template_csv(records, source.table, out_dir / f"{name}.csv",
                              lang=source.lang, encoding=source.encoding)
