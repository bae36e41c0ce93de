"""Any CSV/XLSX export with a map: source columns → the canonical keys of SPEC §2.

A map (TOML) has these parts; every preset of this package is one::

    table = "tickets"                       # tickets | feedback | calls
    [source]
    missing = ["?"]                         # markers meaning "blank"
    timestamp_format = "%d/%m/%Y %H:%M"     # strptime; default ISO 8601 (offsets converted)
    [columns]                               # canonical key = source header
    ticket_id = "number"                    # or a list of spellings: ["Ticket ID", "Ticket Id"]
    "feedback.satisfied" = "Satisfaction"   # a key of another table: a second frame, joined by ticket_id
    [business_columns]                      # used instead when the clock counts business minutes
    frt_min = "First reply time in minutes within business hours"
    [values.priority]                       # value maps; "*" = every other non-blank value
    Urgent = 1
    [rows]
    group = "number"                        # one record per group (event logs with repeated fields)
    keep = "last"                           # … its last (or first) row in file order
    exclude = [{column = "Tags", contains = "closed_by_merge", why = "merged ticket"}]
    [derive]
    resolve_from = "first_response"         # or "created" when the export has no first reply
    first_contact_unless = ["transferred", "reopened"]

Minutes missing from the export are computed from the timestamps with the
clock (calendar or business minutes, see :mod:`cs_xl.clock`).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..clock import Clock
from ..schema import TABLES
from ..words import reason
from .base import (LINE, Imported, ImportError_, Issues, blank_missing, clock_of, load_map, moments, read_raw,
                   require_columns, spelled, table_of)

FORMAT = "generic"
TIME_KINDS = ("date", "datetime")


def read(path, map=None, clock: Clock | None = None) -> pd.DataFrame:
    """The main table of ``path`` as a frame of canonical keys (see :func:`load`)."""
    return load(path, map, clock).frame


def load(path, map=None, clock: Clock | None = None, fmt: str = FORMAT) -> Imported:
    spec = load_map(fmt, map)
    return import_with(path, spec, clock)


def import_with(path, spec: dict, clock: Clock | None = None) -> Imported:
    """Apply ``spec`` (an already-loaded map) to the export ``path``."""
    path = Path(path)
    table = table_of(spec, str(path))
    clock = clock_of(spec, clock)
    columns = _columns(spec, clock)
    if not columns:
        raise ImportError_(f"{path.name}: the map has no [columns] (canonical key = source header)")
    raw, issues = read_raw(path, spec.get("source"))
    columns = spelled(columns, raw)
    require_columns(raw, columns, path)
    raw = blank_missing(raw[_used_columns(raw, columns, spec.get("rows", {}))],
                        spec.get("source", {}).get("missing", []))
    raw = _exclude(raw, spec.get("rows", {}).get("exclude", []), issues, path)
    raw = _one_per_group(raw, spec.get("rows", {}), issues)
    out = pd.DataFrame(index=raw.index)
    for key, source in columns.items():
        out[key] = _values(raw, key, source, table, spec, clock, issues)
    derive_minutes(out, clock, spec.get("derive", {}).get("resolve_from", "first_response"))
    _first_contact(out, spec.get("derive", {}).get("first_contact_unless", []))
    frames = _split_tables(out.reset_index(drop=True), table)
    return Imported(frames, issues.items, [str(path)])


def _used_columns(raw: pd.DataFrame, columns: dict, rows: dict) -> list[str]:
    """The columns the map reads (an export may have dozens it ignores: no need to clean those)."""
    excluding = spelled({i: rule.get("column") for i, rule in enumerate(rows.get("exclude", []))}, raw)
    named = [c for c in (*columns.values(), rows.get("group"), *excluding.values(), LINE) if isinstance(c, str)]
    return [c for c in dict.fromkeys(named) if c in raw.columns]


def _columns(spec: dict, clock: Clock) -> dict[str, str]:
    columns = dict(spec.get("columns", {}))
    if clock.mode == "business":
        columns.update(spec.get("business_columns", {}))
    return columns


def _exclude(raw: pd.DataFrame, rules: list[dict], issues: Issues, path: Path) -> pd.DataFrame:
    """Rows the map excludes (merged tickets …) leave with one issue each."""
    for rule in rules:
        column = spelled({"column": rule.get("column")}, raw)["column"]
        if isinstance(column, list) or column not in raw.columns:
            raise ImportError_(f"{path.name}: exclude rule names column {column!r}, not in the header")
        cells = raw[column].fillna("").astype(str)
        if "contains" in rule:
            hit = cells.str.contains(str(rule["contains"]), regex=False)
        else:
            hit = cells.isin([str(v) for v in rule.get("equals", [])])
        issues.rows(raw, hit, reason("excluded", why=rule.get("why", f"{column} {rule}")), column)
        raw = raw[~hit]
    return raw


def _one_per_group(raw: pd.DataFrame, rows: dict, issues: Issues) -> pd.DataFrame:
    """One record per ``group`` value: its last (or first) row; order = first appearance."""
    group = rows.get("group")
    if not group:
        return raw
    nameless = raw[group].fillna("").astype(str).str.strip() == ""
    issues.rows(raw, nameless, reason("no_case"))
    raw = raw[~nameless]
    grouped = raw.groupby(group, sort=False)
    kept = grouped.tail(1) if rows.get("keep", "last") == "last" else grouped.head(1)
    first_seen = pd.Index(pd.unique(raw[group]))
    return kept.iloc[first_seen.get_indexer(kept[group]).argsort(kind="stable")]


def _kind(key: str, table: str) -> str:
    table_key, _, column = key.rpartition(".")
    return TABLES[table_key or table].column(column).kind


def _values(raw, key, source, table, spec, clock, issues) -> pd.Series:
    mapping = spec.get("values", {}).get(key.rpartition(".")[2]) or spec.get("values", {}).get(key)
    cells = raw[source].fillna("").astype(str).str.strip()
    if mapping:
        cells = map_values(cells, mapping)
    if _kind(key, table) in TIME_KINDS and not mapping:
        parsed = moments(raw.assign(**{source: cells}), source, spec.get("source", {}), clock, issues)
        return parsed.dt.normalize() if _kind(key, table) == "date" else parsed
    return cells.where(cells.astype(str) != "", None)


def map_values(cells: pd.Series, mapping: dict) -> pd.Series:
    """Source words → canonical values, matched whatever their case (Zendesk's CSV says
    "Urgent", its API "urgent"); ``"*"`` maps every other non-blank cell; cells the map does not
    name stay as typed (the loader reads them).

    >>> list(map_values(pd.Series(["urgent", "Urgent", "x", ""]), {"Urgent": 1}))
    [1, 1, 'x', '']
    """
    table = {str(k).strip().casefold(): v for k, v in mapping.items() if k != "*"}
    folded = cells.str.casefold()
    mapped = pd.Series([table.get(f, c) for f, c in zip(folded, cells)], index=cells.index, dtype=object)
    if "*" in mapping:
        other = ~folded.isin(list(table)) & (cells != "")
        mapped = mapped.where(~other, mapping["*"])
    return mapped


def derive_minutes(out: pd.DataFrame, clock: Clock, resolve_from: str = "first_response") -> None:
    """frt_min and resolve_min from the timestamps where the export has no minutes.

    Resolution runs from the first response (SPEC §2.1); ``resolve_from =
    "created"`` is for exports without a first-response stamp (a proxy the
    map states).  created_at and resolved_at stay in the sheet, so the full
    created → resolved time is kept too."""
    have = set(out.columns)
    if "frt_min" not in have and {"created_at", "first_response_at"} <= have:
        out["frt_min"] = clock.between(out["created_at"], out["first_response_at"])
    start = "first_response_at" if resolve_from == "first_response" else "created_at"
    if "resolve_min" not in have and {start, "resolved_at"} <= have:
        out["resolve_min"] = clock.between(out[start], out["resolved_at"])
    elif "resolve_min" not in have and {"created_at", "resolved_at", "frt_min"} <= have:
        # no first-response stamp but its minutes (Zendesk): created → resolved less the first reply
        frt = pd.to_numeric(out["frt_min"], errors="coerce")
        out["resolve_min"] = clock.between(out["created_at"], out["resolved_at"]) - frt


def _first_contact(out: pd.DataFrame, unless: list[str]) -> None:
    """一次解决 = none of the ``unless`` flags (e.g. transferred, reopened) is true."""
    if not unless or "first_contact_resolved" in out.columns:
        return
    escalated = pd.Series(False, index=out.index)
    for key in unless:
        escalated |= out[key].map(lambda v: v is True or str(v).casefold() in ("true", "是", "yes", "1"))
    out["first_contact_resolved"] = ~escalated


def _split_tables(out: pd.DataFrame, table: str) -> dict[str, pd.DataFrame]:
    """Keys prefixed ``feedback.`` (or another table) go to that table's frame, joined by ticket_id."""
    frames = {table: out[[c for c in out.columns if "." not in c]]}
    for other in {c.split(".", 1)[0] for c in out.columns if "." in c}:
        cols = [c for c in out.columns if c.startswith(other + ".")]
        part = out[cols].rename(columns=lambda c: c.split(".", 1)[1])
        if "ticket_id" in out.columns and "ticket_id" not in part.columns:
            part.insert(0, "ticket_id", out["ticket_id"])
        frames[other] = part[part[[c for c in part.columns if c != "ticket_id"]].notna().any(axis=1)]
    return frames


def preset_reader(fmt: str):
    """``(read, load)`` of a format that is this importer with its preset map."""
    def load_format(path, map=None, clock: Clock | None = None) -> Imported:
        return load(path, map, clock, fmt=fmt)

    def read_format(path, map=None, clock: Clock | None = None) -> pd.DataFrame:
        return load_format(path, map, clock).frame
    return read_format, load_format
