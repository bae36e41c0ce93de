"""The product on real third-party data (``../shared/realdata``).

For each public data set that fits the ticket / feedback / call model, the
product's importer (``cs_xl.importers``, with the preset named in
``realdata_maps``) reads the raw file in-process (``importers.run`` →
``load_grids`` + ``headline``) and through the CLI (``cs-xl import FORMAT SRC
--map PRESET --json``), and its KPIs must equal values computed here,
independently, from the *raw* file with the standard ``csv`` module (not with
cs_xl).

The raw reads are also checked against the counts stated in each folder's
SOURCE.md, so a silent mis-read of the source shows up as such.

Everything skips cleanly when ``../shared/realdata`` is absent.
"""
from __future__ import annotations

import csv
import json
import math
import os
import statistics
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import pytest

from ci import absent
from realdata_maps import REALDATA, SOURCES

pytestmark = pytest.mark.realdata

REPO = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- plain-Python statistics

def percentile_inc(values, p: float) -> float:
    """Excel PERCENTILE.INC: rank r = p·(n−1) in the sorted values,
    linear interpolation between positions floor(r) and floor(r)+1."""
    ordered = sorted(values)
    rank = p * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (rank - low) * (ordered[high] - ordered[low])


def share(hits: int, total: int) -> float:
    return hits / total


def minutes(delta) -> float:
    return delta.total_seconds() / 60


def read_rows(path: Path, **kwargs) -> list[dict[str, str]]:
    with open(path, newline="", encoding=kwargs.pop("encoding", "utf-8")) as handle:
        return list(csv.DictReader(handle, **kwargs))


# ---------------------------------------------------------------- references from the raw files

@dataclass
class Reference:
    counts: dict[str, object]   # facts stated in SOURCE.md, as read here
    kpis: dict[str, float]      # expected KPI values


def technion_in_ivr(row: dict[str, str]) -> bool:
    """A HANG call that never joined the queue (q_start 0:00:00) ended in the IVR."""
    return row["outcome"] == "HANG" and row["q_start"] == "0:00:00"


@lru_cache(maxsize=None)
def technion_reference() -> Reference:
    """Calls (issue 11's rules): PHANTOM ignored; HANG calls that never queued
    are IVR self-served (offered, not queued); answered = outcome AGENT;
    wait = q_time; handle = ser_time."""
    rows = read_rows(SOURCES["technion"].path, delimiter="\t")
    calls = [r for r in rows if r["outcome"] != "PHANTOM"]
    queued = [r for r in calls if not technion_in_ivr(r)]
    answered = [r for r in calls if r["outcome"] == "AGENT"]
    waits_answered = [int(r["q_time"]) for r in answered]
    counts = {
        "rows": len(rows),
        "outcome": dict(Counter(r["outcome"] for r in rows)),
        "type": dict(Counter(r["type"] for r in rows)),
        "servers": len({r["server"] for r in rows}),
        "days": (min(r["date"] for r in rows), max(r["date"] for r in rows)),
        "unidentified_customers": sum(r["customer_id"] == "0" for r in rows),
        "phantom": sum(r["outcome"] == "PHANTOM" for r in rows),
    }
    kpis = {
        "offered": float(len(calls)),
        "queued": float(len(queued)),
        "answer_rate": share(len(answered), len(queued)),
        "abandon_rate": share(len(queued) - len(answered), len(queued)),
        "asa": sum(waits_answered) / len(answered),
        "avg_wait": sum(int(r["q_time"]) for r in queued) / len(queued),
        "service_level": share(sum(w <= 20 for w in waits_answered), len(queued)),
        "aht": sum(int(r["ser_time"]) for r in answered) / len(answered),
        "ivr_rate": share(len(calls) - len(queued), len(calls)),
    }
    return Reference(counts, kpis)


SERVICENOW_STAMP = "%d/%m/%Y %H:%M"


@lru_cache(maxsize=None)
def servicenow_final_rows() -> dict[str, dict[str, str]]:
    """Incident number → its last event row (file order; dict keeps first-seen order)."""
    final: dict[str, dict[str, str]] = {}
    for row in read_rows(SOURCES["servicenow"].path):
        final[row["number"]] = row
    return final


def servicenow_resolve_minutes(row: dict[str, str]) -> float | None:
    if row["resolved_at"] == "?":
        return None
    opened = datetime.strptime(row["opened_at"], SERVICENOW_STAMP)
    return minutes(datetime.strptime(row["resolved_at"], SERVICENOW_STAMP) - opened)


@lru_cache(maxsize=None)
def servicenow_reference() -> Reference:
    """Tickets = incidents (final row). Every incident ends Closed (resolved);
    resolution time = opened_at → resolved_at; first contact = never
    reassigned and never reopened."""
    rows = read_rows(SOURCES["servicenow"].path)
    by_incident: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_incident.setdefault(row["number"], []).append(row)
    final = servicenow_final_rows()
    resolve = [m for m in map(servicenow_resolve_minutes, final.values()) if m is not None]
    first_contact = [r for r in final.values() if r["reassignment_count"] == "0" and r["reopen_count"] == "0"]
    resolved = [r for r in final.values() if r["incident_state"] in ("Resolved", "Closed")]
    counts = {
        "rows": len(rows),
        "incidents": len(final),
        "final_states": dict(Counter(r["incident_state"] for r in final.values())),
        "unresolved_stamp": sum(r["resolved_at"] == "?" for r in final.values()),
        "contact_type": dict(Counter(r["contact_type"] for r in rows)),
        "made_sla_flips": sum(evs[0]["made_sla"] == "true" and evs[-1]["made_sla"] == "false"
                              for evs in by_incident.values()),
        "made_sla_false_first": sum(evs[0]["made_sla"] == "false" for evs in by_incident.values()),
        "opened_first": min(datetime.strptime(r["opened_at"], SERVICENOW_STAMP) for r in final.values()),
    }
    kpis = {
        "volume": float(len(final)),
        "resolution_rate": share(len(resolved), len(final)),
        "fcr_rate": share(len(first_contact), len(resolved)),
        "resolve_avg": sum(resolve) / len(resolve),
        "resolve_median": statistics.median(resolve),
        "resolve_p90": percentile_inc(resolve, 0.9),
    }
    return Reference(counts, kpis)


@lru_cache(maxsize=None)
def helpdesk_cases() -> dict[str, list[tuple[datetime, str, str]]]:
    """Case → its distinct events (time, activity, resource), time-ordered
    (stable: same-second events keep file order)."""
    seen, cases = set(), {}
    for row in read_rows(SOURCES["helpdesk"].path):
        key = tuple(row.values())
        if key in seen:
            continue
        seen.add(key)
        stamp = datetime.fromisoformat(row["time:timestamp"])
        cases.setdefault(row["case:concept:name"], []).append((stamp, row["concept:name"], row["org:resource"]))
    return {case: sorted(events, key=lambda e: e[0]) for case, events in cases.items()}


def helpdesk_ticket(events) -> dict:
    """First response = first event → first take-in-charge; resolution =
    that take-in-charge → the first Resolve ticket not before it."""
    created = events[0][0]
    taken = next((t for t, a, _ in events if a == "Take in charge ticket"), None)
    resolved = next((t for t, a, _ in events if a == "Resolve ticket" and taken is not None and t >= taken), None)
    activities = Counter(a for _, a, _ in events)
    return {
        "frt": None if taken is None else minutes(taken - created),
        "resolve": None if resolved is None else minutes(resolved - taken),
        "resolved": activities["Closed"] > 0 or activities["Resolve ticket"] > 0,
        "first_contact": (activities["Take in charge ticket"] == 1 and activities["Resolve ticket"] == 1
                          and activities["Wait"] == 0 and activities["Require upgrade"] == 0),
    }


@lru_cache(maxsize=None)
def helpdesk_reference() -> Reference:
    rows = read_rows(SOURCES["helpdesk"].path)
    cases = helpdesk_cases()
    tickets = [helpdesk_ticket(events) for events in cases.values()]
    frt = [t["frt"] for t in tickets if t["frt"] is not None]
    resolve = [t["resolve"] for t in tickets if t["resolve"] is not None]
    handle = [t["frt"] + t["resolve"] for t in tickets if t["frt"] is not None and t["resolve"] is not None]
    resolved = [t for t in tickets if t["resolved"]]
    raw_activities_by_case: dict[str, set] = {}
    for row in rows:
        raw_activities_by_case.setdefault(row["case:concept:name"], set()).add(row["concept:name"])
    counts = {
        "rows": len(rows),
        "cases": len(cases),
        "resources": len({r["org:resource"] for r in rows}),
        "exact_duplicates": len(rows) - sum(len(e) for e in cases.values()),
        "activity": dict(Counter(r["concept:name"] for r in rows)),
        "cases_without_closed": sum("Closed" not in a for a in raw_activities_by_case.values()),
        "cases_without_take_in_charge": sum("Take in charge ticket" not in a
                                            for a in raw_activities_by_case.values()),
    }
    kpis = {
        "volume": float(len(cases)),
        "frt_rate": share(sum(v <= 3 for v in frt), len(frt)),
        "frt_avg": sum(frt) / len(frt),
        "frt_median": statistics.median(frt),
        "frt_p90": percentile_inc(frt, 0.9),
        # no priority column: every ticket is 三级, whose SLA is 30 min (SPEC §2.4)
        "sla_rate": share(sum(v <= 30 for v in frt), len(frt)),
        "resolve_avg": sum(resolve) / len(resolve),
        "resolve_median": statistics.median(resolve),
        "resolve_p90": percentile_inc(resolve, 0.9),
        "handle_avg": sum(handle) / len(handle),
        "resolution_rate": share(len(resolved), len(tickets)),
        "fcr_rate": share(sum(t["first_contact"] for t in resolved), len(resolved)),
    }
    return Reference(counts, kpis)


BPI_SOLVED = {("Completed", "Resolved"), ("Completed", "In Call")}


@lru_cache(maxsize=None)
def bpi2013_reference() -> Reference:
    """Resolution = first event → first Completed/Resolved or Completed/In Call;
    first contact = solved and never at L2/L3."""
    rows = read_rows(SOURCES["bpi2013"].path, encoding="utf-8-sig")
    incidents: dict[str, list[tuple[datetime, dict]]] = {}
    for row in rows:
        incidents.setdefault(row["SR Number"], []).append((datetime.fromisoformat(row["Change Date+Time"]), row))
    resolve, first_contact, unsolved = [], 0, 0
    for events in incidents.values():
        events.sort(key=lambda e: e[0])
        solved_at = next((t for t, r in events if (r["Status"], r["Sub Status"]) in BPI_SOLVED), None)
        if solved_at is None:
            unsolved += 1
            continue
        resolve.append(minutes(solved_at - events[0][0]))
        first_contact += all(r["ST Level"] == "L1" for _, r in events)
    solved = len(incidents) - unsolved
    counts = {
        "rows": len(rows),
        "incidents": len(incidents),
        "status": dict(Counter(r["Status"] for r in rows)),
        "st_level": dict(Counter(r["ST Level"] for r in rows)),
        "impact": dict(Counter(r["SR Latest Impact"] for r in rows)),
        "offsets": {r["Change Date+Time"][-6:] for r in rows},
        "cancelled": sum(r["Sub Status"] == "Cancelled" for r in rows),
    }
    kpis = {
        "volume": float(len(incidents)),
        "resolution_rate": share(solved, len(incidents)),
        "backlog": float(unsolved),
        "fcr_rate": share(first_contact, solved),
        "resolve_avg": sum(resolve) / len(resolve),
        "resolve_median": statistics.median(resolve),
        "resolve_p90": percentile_inc(resolve, 0.9),
    }
    return Reference(counts, kpis)


@lru_cache(maxsize=None)
def olist_reference() -> Reference:
    rows = read_rows(SOURCES["olist"].path)
    scores = [int(r["review_score"]) for r in rows]
    counts = {
        "rows": len(rows),
        "review_score": dict(Counter(scores)),
        "order_status": dict(Counter(r["order_status"] for r in rows)),
        "review_days": (min(r["review_creation_date"][:10] for r in rows),
                        max(r["review_creation_date"][:10] for r in rows)),
    }
    kpis = {
        "csat_avg": sum(scores) / len(scores),
        "csat_rate": share(sum(s >= 4 for s in scores), len(scores)),
    }
    return Reference(counts, kpis)


REFERENCES = {
    "technion": technion_reference,
    "servicenow": servicenow_reference,
    "helpdesk": helpdesk_reference,
    "bpi2013": bpi2013_reference,
    "olist": olist_reference,
}


# ---------------------------------------------------------------- running the product

def require(name: str) -> None:
    if not REALDATA.is_dir():
        absent(f"real data folder {REALDATA} is absent")
    if not SOURCES[name].available():
        absent(f"real data file {SOURCES[name].path} is absent")


def reference(name: str) -> Reference:
    require(name)
    return REFERENCES[name]()


@dataclass
class ProductRun:
    imported: object
    dataset: object
    kpis: dict[str, float]


@pytest.fixture(scope="module")
def in_process():
    """name → the product's import of the raw file, loaded as grids, and its headline KPIs."""
    runs: dict[str, ProductRun] = {}

    def get(name: str) -> ProductRun:
        require(name)
        if name not in runs:
            from cs_xl.importers import to_grids
            from cs_xl.kpis import headline
            from cs_xl.load import load_grids
            imported = SOURCES[name].run()
            ds = load_grids(to_grids(imported))
            runs[name] = ProductRun(imported, ds, headline(ds))
        return runs[name]
    return get


def run_cli(*args: str) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-m", "cs_xl.cli", *args], capture_output=True, text=True,
                          encoding="utf-8", cwd=REPO, env=env, timeout=300)
    assert done.returncode == 0, f"cs-xl {' '.join(args)} failed:\n{done.stderr}"
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def via_cli():
    """name → the JSON object printed by ``cs-xl import FORMAT SRC --map PRESET --json``."""
    results: dict[str, dict] = {}

    def get(name: str) -> dict:
        require(name)
        if name not in results:
            results[name] = run_cli("import", *SOURCES[name].cli_args(), "--json")
        return results[name]
    return get


def assert_close(got, expected: float, what: str) -> None:
    assert got is not None and not (isinstance(got, float) and math.isnan(got)), \
        f"{what}: undefined, expected {expected!r}"
    assert math.isclose(float(got), expected, rel_tol=1e-9, abs_tol=1e-9), \
        f"{what}: got {got!r}, expected {expected!r}"


# ---------------------------------------------------------------- the raw reads agree with SOURCE.md

def test_technion_raw_counts_match_source_md():
    c = reference("technion").counts
    assert c["rows"] == 33_344
    assert c["outcome"] == {"AGENT": 27_162, "HANG": 5_904, "PHANTOM": 278}
    assert c["type"] == {"PS": 21_460, "NW": 7_604, "NE": 2_750, "TT": 1_088, "IN": 293, "PE": 149}
    assert c["servers"] == 25
    assert c["days"] == ("990201", "990228")
    assert c["unidentified_customers"] == 19_558


def test_servicenow_raw_counts_match_source_md():
    c = reference("servicenow").counts
    assert (c["rows"], c["incidents"]) == (40_658, 5_906)
    assert c["final_states"] == {"Closed": 5_906}
    assert c["unresolved_stamp"] == 283
    assert c["contact_type"] == {"Phone": 40_539, "Email": 119}
    assert c["made_sla_flips"] == 4_318
    assert c["made_sla_false_first"] == 1
    assert c["opened_first"] == datetime(2016, 2, 29, 1, 16)


def test_helpdesk_raw_counts_match_source_md():
    c = reference("helpdesk").counts
    assert (c["rows"], c["cases"], c["resources"]) == (21_348, 4_580, 22)
    assert c["exact_duplicates"] == 127
    assert c["activity"] == {
        "Take in charge ticket": 5_060, "Resolve ticket": 4_983, "Assign seriousness": 4_938, "Closed": 4_574,
        "Wait": 1_463, "Require upgrade": 119, "Insert ticket": 118, "Create SW anomaly": 67,
        "Resolve SW anomaly": 13, "Schedule intervention": 5, "VERIFIED": 3, "RESOLVED": 2, "INVALID": 2,
        "DUPLICATE": 1,
    }
    assert c["cases_without_closed"] == 21
    assert c["cases_without_take_in_charge"] == 295


def test_bpi2013_raw_counts_match_source_md():
    c = reference("bpi2013").counts
    assert (c["rows"], c["incidents"]) == (65_533, 7_554)
    assert c["status"] == {"Accepted": 40_117, "Completed": 13_867, "Queued": 11_544, "Unmatched": 5}
    assert c["st_level"] == {"L1": 46_042, "L2": 16_541, "L3": 2_911, "L2/L3": 39}
    assert c["impact"] == {"Medium": 34_905, "Low": 27_877, "High": 2_707, "Major": 44}
    assert c["offsets"] == {"+01:00"}
    assert c["cancelled"] == 1


def test_olist_raw_counts_match_source_md():
    c = reference("olist").counts
    assert c["rows"] == 3_584
    assert c["review_score"] == {5: 1_655, 4: 514, 3: 332, 2: 216, 1: 867}
    assert c["order_status"] == {"delivered": 3_467, "shipped": 48, "canceled": 25, "invoiced": 24,
                                 "processing": 20}
    assert c["review_days"] == ("2017-03-11", "2018-04-18")


def test_olist_reference_equals_the_hand_count_of_source_md():
    """The CSAT reference, worked by hand from SOURCE.md's score counts."""
    rated = 1_655 + 514 + 332 + 216 + 867                      # 3,584 reviews
    expected_avg = (5 * 1_655 + 4 * 514 + 3 * 332 + 2 * 216 + 1 * 867) / rated
    expected_rate = (1_655 + 514) / rated                     # 4–5 stars / rated
    kpis = reference("olist").kpis
    assert_close(kpis["csat_avg"], expected_avg, "olist csat_avg")
    assert_close(kpis["csat_rate"], expected_rate, "olist csat_rate")


# ---------------------------------------------------------------- KPIs: product vs reference

CHECKED_KPIS = [
    *(("technion", k) for k in ("offered", "queued", "answer_rate", "abandon_rate", "asa", "avg_wait",
                                "service_level", "aht", "ivr_rate")),
    *(("servicenow", k) for k in ("volume", "resolution_rate", "fcr_rate", "resolve_avg", "resolve_median",
                                  "resolve_p90")),
    *(("helpdesk", k) for k in ("volume", "frt_rate", "frt_avg", "frt_median", "frt_p90", "sla_rate",
                                "resolve_avg", "resolve_median", "resolve_p90", "handle_avg", "resolution_rate",
                                "fcr_rate")),
    *(("bpi2013", k) for k in ("volume", "resolution_rate", "backlog", "fcr_rate", "resolve_avg",
                               "resolve_median", "resolve_p90")),
    *(("olist", k) for k in ("csat_avg", "csat_rate")),
]
KPI_IDS = [f"{name}-{key}" for name, key in CHECKED_KPIS]


@pytest.mark.parametrize(("name", "key"), CHECKED_KPIS, ids=KPI_IDS)
def test_kpi_in_process_equals_raw_reference(in_process, name, key):
    expected = reference(name).kpis[key]
    assert_close(in_process(name).kpis[key], expected, f"{name} {key} (load + headline)")


@pytest.mark.parametrize(("name", "key"), CHECKED_KPIS, ids=KPI_IDS)
def test_kpi_via_cli_equals_raw_reference(via_cli, name, key):
    expected = reference(name).kpis[key]
    assert_close(via_cli(name)[key], expected, f"{name} {key} (cs-xl import --json)")


# metrics whose sheet or column the mapped data lacks: undefined, never 0 (SPEC §3, §5)
UNDEFINED_KPIS = [
    *(("technion", k) for k in ("volume", "frt_rate", "resolution_rate", "csat_avg", "nps")),
    *(("servicenow", k) for k in ("frt_rate", "frt_median", "sla_rate", "handle_avg", "csat_rate",
                                  "answer_rate")),
    *(("helpdesk", k) for k in ("csat_avg", "answer_rate", "asa")),
    *(("bpi2013", k) for k in ("frt_rate", "sla_rate", "handle_avg", "csat_avg", "offered")),
    *(("olist", k) for k in ("frt_rate", "resolution_rate", "satisfied_rate", "nps", "answer_rate")),
]


@pytest.mark.parametrize(("name", "key"), UNDEFINED_KPIS, ids=[f"{n}-{k}" for n, k in UNDEFINED_KPIS])
def test_kpi_without_its_data_is_undefined(in_process, via_cli, name, key):
    require(name)
    assert math.isnan(in_process(name).kpis[key]), f"{name} {key}: expected nan"
    assert via_cli(name)[key] is None, f"{name} {key}: expected null in the CLI JSON"


# ---------------------------------------------------------------- nothing lost, nothing spoiled

RECORD_COUNTS = {  # records the mapped CSV holds: name -> (table, count from the raw reference)
    "technion": ("calls", lambda: int(reference("technion").kpis["offered"])),
    "servicenow": ("tickets", lambda: reference("servicenow").counts["incidents"]),
    "helpdesk": ("tickets", lambda: reference("helpdesk").counts["cases"]),
    "bpi2013": ("tickets", lambda: reference("bpi2013").counts["incidents"]),
    "olist": ("feedback", lambda: reference("olist").counts["rows"]),
}


@pytest.mark.parametrize("name", list(RECORD_COUNTS))
def test_every_record_is_loaded_into_the_right_table(in_process, name):
    table, expected = RECORD_COUNTS[name]
    ds = in_process(name).dataset
    frame = ds.table(table)
    assert frame is not None, f"{name}: the {table} table was not recognised"
    assert len(frame) == expected()
    others = [t for t in ("tickets", "feedback", "calls") if t != table]
    assert all(ds.table(t) is None for t in others), f"{name}: the CSV was read as more than one table"
    # Excel-style row numbers: header is row 1, records start at row 2, in file order
    assert list(frame["_row"]) == list(range(2, expected() + 2))


@pytest.mark.parametrize("name", list(SOURCES))
def test_imported_records_lose_no_value(in_process, name):
    """The importer's output is clean: the loader must not drop any cell."""
    dropped = [i for i in in_process(name).dataset.quality.issues if i.action == "dropped"]
    assert dropped == [], f"{name}: {len(dropped)} cells dropped, first: {dropped[:3]}"


def test_servicenow_unassigned_incidents_are_flagged_at_their_rows(in_process):
    """客服工号 is required: the incidents whose final row has assigned_to ``?``
    stay in the data and are reported at their Excel row."""
    require("servicenow")
    final = list(servicenow_final_rows().values())
    expected_rows = {pos + 2 for pos, row in enumerate(final) if row["assigned_to"] == "?"}
    assert len(expected_rows) == 715
    run = in_process("servicenow")
    agent_header = run.dataset.headers["tickets"]["agent_id"]
    flagged = {i.row for i in run.dataset.quality.issues if i.column == agent_header}
    assert flagged == expected_rows
    assert run.dataset.tickets["agent_id"].isna().sum() == 715


def test_helpdesk_minutes_are_computed_from_the_timestamps(in_process):
    """The log has timestamps only: the importer fills every minute cell it
    can (by the calendar clock) and no other."""
    require("helpdesk")
    tickets = [helpdesk_ticket(events) for events in helpdesk_cases().values()]
    frame = in_process("helpdesk").dataset.tickets
    assert frame["frt_min"].notna().sum() == sum(t["frt"] is not None for t in tickets)
    assert frame["resolve_min"].notna().sum() == sum(t["resolve"] is not None for t in tickets)


def test_cli_json_has_every_kpi_key_and_data_quality(via_cli):
    out = via_cli("servicenow")
    from cs_xl.catalogue import names
    assert set(names()) <= set(out)
    quality = out["data_quality"]
    assert quality["issues"] >= 715  # at least the unassigned incidents


# ---------------------------------------------------------------- settings change the numbers as defined

def test_technion_service_level_at_30_seconds(in_process):
    require("technion")
    from cs_xl.kpis import headline
    from cs_xl.settings import Settings
    rows = [r for r in read_rows(SOURCES["technion"].path, delimiter="\t")
            if r["outcome"] != "PHANTOM" and not technion_in_ivr(r)]
    within_30 = sum(r["outcome"] == "AGENT" and int(r["q_time"]) <= 30 for r in rows)
    got = headline(in_process("technion").dataset, Settings(service_level_s=30))["service_level"]
    assert_close(got, within_30 / len(rows), "technion service_level at 30 s")


def test_technion_short_abandons_leave_the_abandon_rate(in_process):
    """With a 5 s short-abandon threshold, queued calls abandoned after < 5 s
    leave numerator and denominator: (abandoned − short) / (queued − short);
    HANG calls that never queued ended in the IVR and are not queued."""
    require("technion")
    from cs_xl.kpis import headline
    from cs_xl.settings import Settings
    rows = [r for r in read_rows(SOURCES["technion"].path, delimiter="\t")
            if r["outcome"] != "PHANTOM" and not technion_in_ivr(r)]
    hang = sum(r["outcome"] == "HANG" for r in rows)
    short = sum(r["outcome"] == "HANG" and int(r["q_time"]) < 5 for r in rows)
    got = headline(in_process("technion").dataset, Settings(short_abandon_s=5))["abandon_rate"]
    assert_close(got, (hang - short) / (len(rows) - short), "technion abandon_rate, 5 s short abandons")


def test_technion_aht_per_agent(in_process):
    require("technion")
    from cs_xl.kpis import grouped
    talk: dict[str, list[int]] = {}
    for r in read_rows(SOURCES["technion"].path, delimiter="\t"):
        if r["outcome"] == "AGENT" and r["server"] != "NO_SERVER":
            talk.setdefault(r["server"], []).append(int(r["ser_time"]))
    frame = grouped(in_process("technion").dataset, None, "agent_id")
    for agent, seconds in talk.items():
        assert_close(frame.loc[agent, "aht"], sum(seconds) / len(seconds), f"technion aht of {agent}")


def erlang_c_textbook(traffic: float, agents: int) -> float:
    """P(wait) = (Aᴺ/N! · N/(N−A)) / (Σ_{k<N} Aᵏ/k! + Aᴺ/N! · N/(N−A)), the
    factorial form (fine for the few dozen agents of one call centre)."""
    queue_term = traffic ** agents / math.factorial(agents) * agents / (agents - traffic)
    idle_terms = sum(traffic ** k / math.factorial(k) for k in range(agents))
    return queue_term / (idle_terms + queue_term)


def test_technion_agents_needed_for_the_peak_slot(in_process):
    """Staffing for the busiest weekday × hour slot: its calls per hour
    averaged over the dates of that weekday, AHT of the answered calls, then
    the fewest N > A with 1 − C(N, A)·e^(−(N−A)·20/AHT) ≥ 80 % (SPEC §3);
    calls that ended in the IVR need no agent."""
    require("technion")
    rows = [r for r in read_rows(SOURCES["technion"].path, delimiter="\t")
            if r["outcome"] != "PHANTOM" and not technion_in_ivr(r)]
    starts = [datetime.strptime(r["date"] + " " + r["vru_entry"], "%y%m%d %H:%M:%S") for r in rows]
    per_slot = Counter((s.weekday(), s.hour) for s in starts)
    dates_per_weekday = Counter(d.weekday() for d in {s.date() for s in starts})
    peak = max(n / dates_per_weekday[weekday] for (weekday, _), n in per_slot.items())
    aht = reference("technion").kpis["aht"]
    traffic = peak * aht / 3600
    agents = math.floor(traffic) + 1
    while 1 - erlang_c_textbook(traffic, agents) * math.exp(-(agents - traffic) * 20 / aht) < 0.8:
        agents += 1
    assert in_process("technion").kpis["agents_needed"] == agents


# deadlines chosen for the test (minutes per priority level), unlike the defaults
CHOSEN_DEADLINES = {1: 240.0, 2: 480.0, 3: 2_880.0, 4: 5_760.0}


def servicenow_timed() -> list[tuple[int, float]]:
    """(priority level, resolve minutes) of the incidents with a resolution stamp."""
    out = []
    for row in servicenow_final_rows().values():
        spent = servicenow_resolve_minutes(row)
        if spent is not None:
            out.append((int(row["priority"][0]), spent))
    return out


def helpdesk_timed() -> list[tuple[int, float]]:
    """No priority in the log: every ticket takes the default level 三级 (3)."""
    tickets = (helpdesk_ticket(events) for events in helpdesk_cases().values())
    return [(3, t["resolve"]) for t in tickets if t["resolved"] and t["resolve"] is not None]


def bpi2013_timed() -> list[tuple[int, float]]:
    """Impact Major/High/Medium/Low → level 1..4; solved incidents only."""
    level = {"Major": 1, "High": 2, "Medium": 3, "Low": 4}
    incidents: dict[str, list[tuple[datetime, dict]]] = {}
    for row in read_rows(SOURCES["bpi2013"].path, encoding="utf-8-sig"):
        incidents.setdefault(row["SR Number"], []).append((datetime.fromisoformat(row["Change Date+Time"]), row))
    out = []
    for events in incidents.values():
        events.sort(key=lambda e: e[0])
        solved_at = next((t for t, r in events if (r["Status"], r["Sub Status"]) in BPI_SOLVED), None)
        if solved_at is not None:
            out.append((level[events[0][1]["SR Latest Impact"]], minutes(solved_at - events[0][0])))
    return out


TIMED = {"servicenow": servicenow_timed, "helpdesk": helpdesk_timed, "bpi2013": bpi2013_timed}


@pytest.mark.parametrize("name", list(TIMED))
def test_ontime_rate_against_chosen_deadlines(in_process, name):
    """ontime = resolved within the deadline of its priority / resolved with a time."""
    require(name)
    from cs_xl.kpis import headline
    from cs_xl.settings import Settings
    timed = TIMED[name]()
    on_time = sum(spent <= CHOSEN_DEADLINES[level] for level, spent in timed)
    got = headline(in_process(name).dataset, Settings(resolve_deadline_min=dict(CHOSEN_DEADLINES)))["ontime_rate"]
    assert_close(got, on_time / len(timed), f"{name} ontime_rate")


def servicenow_median_per_level() -> dict[int, float]:
    per_level: dict[int, list[float]] = {}
    for level, spent in servicenow_timed():
        per_level.setdefault(level, []).append(spent)
    return {level: statistics.median(spent) for level, spent in per_level.items()}


def test_servicenow_resolve_median_per_priority(in_process):
    require("servicenow")
    from cs_xl.kpis import grouped
    frame = grouped(in_process("servicenow").dataset, None, "priority")
    assert sorted(int(level) for level in frame.index) == [1, 2, 3, 4]
    for level, median in servicenow_median_per_level().items():
        assert_close(frame.loc[level, "resolve_median"], median, f"servicenow resolve_median of priority {level}")


@pytest.fixture(scope="module")
def imported_book(tmp_path_factory):
    """name → the standard workbook written and refreshed by ``cs-xl import … --out BOOK``."""
    books: dict[str, Path] = {}

    def get(name: str) -> Path:
        require(name)
        if name not in books:
            book = tmp_path_factory.mktemp(name) / f"{name}.xlsx"
            run_cli("import", *SOURCES[name].cli_args(), "--out", str(book), "--json")
            books[name] = book
        return books[name]
    return get


def test_servicenow_resolve_median_per_priority_via_cli(imported_book):
    groups = run_cli("kpis", str(imported_book("servicenow")), "--json", "--by", "priority")
    got = {int(g["priority"]): g["resolve_median"] for g in groups}
    expected = servicenow_median_per_level()
    assert sorted(got) == sorted(expected) == [1, 2, 3, 4]
    for level, median in expected.items():
        assert_close(got[level], median, f"servicenow resolve_median of priority {level} (cs-xl --by)")


def test_helpdesk_frt_rate_with_cli_threshold(imported_book):
    """``--threshold 60`` on the imported workbook: share of first responses within an hour."""
    out = run_cli("kpis", str(imported_book("helpdesk")), "--json", "--threshold", "60")
    frt = [t["frt"] for t in map(helpdesk_ticket, helpdesk_cases().values()) if t["frt"] is not None]
    assert_close(out["frt_rate"], sum(v <= 60 for v in frt) / len(frt), "helpdesk frt_rate at 60 min")


# ---------------------------------------------------------------- what the import leaves out, by line

def test_technion_phantom_calls_are_reported_at_their_lines(in_process):
    require("technion")
    with open(SOURCES["technion"].path, newline="", encoding="utf-8") as handle:
        lines = [n for n, r in enumerate(csv.DictReader(handle, delimiter="\t"), start=2) if r["outcome"] == "PHANTOM"]
    issues = in_process("technion").imported.issues
    assert sorted(i.row for i in issues if i.why.code == "phantom_call") == lines
    assert {i.sheet for i in issues} == {SOURCES["technion"].filename}
    assert len(lines) == reference("technion").counts["phantom"] == 278


def test_helpdesk_duplicate_events_are_reported_at_their_lines(in_process):
    """Each repeat of an identical event row is one 'dropped' issue at its file line."""
    require("helpdesk")
    seen, repeats = set(), []
    for line, row in enumerate(read_rows(SOURCES["helpdesk"].path), start=2):
        key = tuple(row.values())
        if key in seen:
            repeats.append(line)
        seen.add(key)
    got = [i.row for i in in_process("helpdesk").imported.issues if i.why.code == "duplicate_event"]
    assert sorted(got) == repeats and len(repeats) == 127


def test_import_json_states_rows_rejections_and_clock(via_cli):
    out = via_cli("technion")
    assert out["import"] == {"rows": {"calls": 33_066}, "rejected": {"PHANTOM call (virtual, not a caller)": 278}}
    assert out["definitions"]["clock"].startswith("calendar minutes")


# ---------------------------------------------------------------- import speed (pytest -m benchmark -s)

@pytest.mark.benchmark
@pytest.mark.parametrize("name", ["servicenow", "bpi2013", "technion"])
def test_import_time_against_reading_the_raw_file(name):
    """Seconds of the product's import vs a floor measured in the same run:
    the csv module reading every row of the same file.  Prints the ratio;
    checks the answer (record count), never the wall clock."""
    import time
    require(name)
    source = SOURCES[name]
    started = time.perf_counter()
    with open(source.path, newline="", encoding="utf-8-sig") as handle:
        raw_rows = sum(1 for _ in csv.reader(handle, delimiter="\t" if name == "technion" else ","))
    floor = time.perf_counter() - started
    started = time.perf_counter()
    imported = source.run()
    spent = time.perf_counter() - started
    print(f"\n{name}: {raw_rows - 1:,} raw rows; csv read {floor:.2f} s; import {spent:.2f} s; "
          f"ratio {spent / floor:.1f}×")
    assert len(imported.frame) == RECORD_COUNTS[name][1]()
