"""Every analysis of a data set as plain results, in one dict: what
``cs-xl analyze BOOK --json`` prints and what a script reads without
building a workbook.

Each entry of :data:`ANALYSES` is ``name → function(scoped data set,
settings, headline KPIs) → plain result`` (dataclasses, lists, dicts of
numbers, strings and dates).  A new analysis adds one entry; :func:`to_json`
turns any such result into JSON-ready values.

>>> import datetime as dt
>>> from cs_xl.analysis.alerts import Breach
>>> to_json({"x": [Breach("avg_wait", 40.0, 36.0, dt.date(2024, 3, 1))], "n": float("nan")})
{'x': [{'key': 'avg_wait', 'value': 40, 'limit': 36, 'day': '2024-03-01'}], 'n': None}
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Callable

import pandas as pd

from .. import kpis
from ..dataset import ROW, DataSet
from ..settings import Settings
from ..values import json_number, plain
from . import alerts, audit, compare, pareto, segments, staffing, trends
from .findings import Finding

Analysis = Callable[[DataSet, Settings, dict], Any]


def alert_result(scoped: DataSet, settings: Settings, headline: dict) -> dict:
    """Seed 001's rules over the whole period and the days that broke them, and the 预警 sheet's
    checks: missed targets, the hours that broke a rule, open records per audit week."""
    by_day = (kpis.grouped(scoped, settings, "day", keys=alerts.RULE_KEYS) if scoped.calls is not None
              else pd.DataFrame())
    return {"limits": alerts.rule_limits(settings),
            "period": alerts.rule_breaches(headline, settings),
            "days": alerts.rule_days(by_day, settings),
            **alerts.alert_checks(headline, settings, alerts.hourly_breaches(scoped.calls, settings),
                                  audit.weekly_counts(scoped))}


def staffing_result(scoped: DataSet, settings: Settings, headline: dict) -> dict:
    """Agents needed per weekday (0 = Monday) × hour (None without calls and an AHT), and
    人力建议: every slot's arrivals, AHT, agents needed and working, gap, and the advice."""
    return {"agents_needed": staffing.agents_needed_by_slot(scoped.calls, settings, headline.get("aht")),
            "service_level": settings.target_service_level, "service_level_s": settings.service_level_s,
            **staffing.staffing_plan(scoped.calls, settings, headline.get("aht"))}


AUDIT_COLUMNS = (ROW, "ticket_id", "date", "agent_id", "issue_type", "status", "resolve_min")


def audit_result(scoped: DataSet, settings: Settings, headline: dict) -> list[dict]:
    """The weekly audit list: each unfinished ticket with its sheet row."""
    frame = audit.audit_records(scoped)
    columns = [c for c in AUDIT_COLUMNS if c in frame.columns]
    return [{("row" if c == ROW else c): plain(rec[c]) for c in columns} for rec in frame[columns].to_dict("records")]


ANALYSES: dict[str, Analysis] = {
    "alerts": alert_result,
    "staffing": staffing_result,
    "audit": audit_result,
    "trends": lambda scoped, settings, headline: trends.trends(scoped, settings),
    "compare": compare.result,
    "pareto": lambda scoped, settings, headline: pareto.pareto(scoped, settings),
    "segments": lambda scoped, settings, headline: segments.segment_gaps(scoped, settings),
}

# name → the function turning that analysis's result into findings for the written report
FINDINGS: dict[str, Callable[[Any, Settings], list[Finding]]] = {
    "alerts": alerts.findings,
    "staffing": staffing.findings,
    "trends": trends.findings,
    "compare": compare.findings,
    "pareto": pareto.findings,
    "segments": segments.findings,
}


def findings(results: dict[str, Any], settings: Settings) -> list[Finding]:
    """The findings of every analysis in ``results`` (as :func:`analyze` returns them)."""
    return [f for name, to_findings in FINDINGS.items() if name in results
            for f in to_findings(results[name], settings)]


def analyze(scoped: DataSet, settings: Settings, names=None) -> dict[str, Any]:
    """``name → plain result`` of each analysis (``names``: a subset, default all), on the records
    inside the period and scope (:func:`cs_xl.pipeline.scope`)."""
    headline = kpis.headline(scoped, settings)
    return {name: ANALYSES[name](scoped, settings, headline) for name in (names or ANALYSES)}


def to_json(value: Any) -> Any:
    """A plain result as JSON-ready values: dataclasses → dicts, dates → ISO text, undefined → None."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(to_json(k)): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return to_json(value.to_dict("records"))
    value = plain(value)
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return json_number(value)
