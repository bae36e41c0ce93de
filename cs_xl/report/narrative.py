"""The written report (分析报告): findings + headline KPIs → paragraphs, in the template's language.

One pure function, :func:`paragraphs`, writes the text; the 分析报告 sheet draws
its paragraphs as rows and ``cs-xl report --format md|html`` as a file, so the
sheet and the file say the same thing.  Every sentence is a template of
:mod:`cs_xl.words` filled with a finding's numbers (formatted by
:func:`cs_xl.values.number_text` in the format of the finding's metric) and
names the sheet that holds the evidence.

>>> from cs_xl.analysis.findings import Finding
>>> f = Finding("falling", {"dim": "issue_type", "value": "物流咨询", "metric": "fcr_rate", "n": 2,
...             "first_month": "2024-03", "last_month": "2024-05", "first": 0.8, "last": 0.7, "change": -0.1},
...             sheet="alerts", weight=0.8)
>>> sentence(f, "zh", Settings())
'物流咨询 (问题类型) 的一次解决率连续 2 个月下降: 2024-03 80.0% → 2024-05 70.0% (累计 -10.0 个百分点)。 (依据: 「预警」)'
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Mapping

from .. import catalogue, params
from ..analysis.findings import Finding, strongest
from ..settings import FEEDBACK_CLASS_EN, Settings
from ..schema import TICKETS
from ..values import number_text
from ..words import DIM_WORDS, FINDINGS, RECOMMENDATIONS, SHEET_NAMES, finding_text, sheet_name, word
from .model import KpiCard

FINDINGS_SHOWN = 8          # the strongest findings written out
RECOMMENDATIONS_SHOWN = 6
IN_KPI_SECTION = {"target_missed"}  # findings the KPI section already states


@dataclass(frozen=True)
class Paragraph:
    style: str                 # heading | text | item
    text: str


@dataclass(frozen=True)
class Overview:
    """Period and records behind the report."""
    start: Any
    end: Any
    tickets: int
    feedback: int
    calls: int


# ---------------------------------------------------------------- arguments as text

METRIC_VALUED = {"value", "target", "first", "last", "latest", "baseline", "before", "after", "group", "rest"}
HOURS = {"hour", "first_hour", "end_hour"}
SECONDS = {"secs", "wait_limit", "worst_wait"}
DIFFERENCES = {"diff", "low", "high"}  # a change of the finding's metric, with its unit (percentage points for a rate)
DIFFERENCE_FMT = {"pct": "pp", "min": "delta_min", "sec": "delta_sec"}
SHARES = {"sl", "share", "line"}


def _metric_fmt(args: Mapping) -> str:
    key = args.get("metric")
    return catalogue.get(key).fmt if key in catalogue.METRICS else "num"


def arg_text(name: str, value: Any, args: Mapping, lang: str, names: Mapping | None = None) -> str:
    """One argument of a finding as the words show it."""
    fmt = _metric_fmt(args)
    if value is None:
        return number_text(None, "num")
    if name == "metric" and value in catalogue.METRICS:
        return catalogue.get(value).name(lang)
    if name == "by" and isinstance(value, str):  # a Pareto ranking: 问题类型 / 备注原因 / 评价分类
        return word("pareto_noun_" + value, lang)
    if name == "cause" and lang == "en" and value in FEEDBACK_CLASS_EN:
        return FEEDBACK_CLASS_EN[value]
    if name == "dim" and isinstance(value, str):
        return dim_text(value, lang)
    if name == "weekday" and isinstance(value, int):
        return word("weekdays", lang)[value]
    if name in HOURS:
        return f"{int(value):02d}:00"
    if name == "agent":
        name_of = (names or {}).get(value)
        return f"{name_of}({value})" if name_of and lang == "zh" else f"{name_of} ({value})" if name_of else str(value)
    if name == "scope":
        return scope_phrase(value, lang)
    if isinstance(value, str):
        return value
    if name in DIFFERENCES:
        unit = {"pct": "unit_pp", "min": "unit_min", "sec": "unit_sec"}.get(fmt)
        return number_text(value, DIFFERENCE_FMT.get(fmt, "delta_num")) + (word(unit, lang) if unit else "")
    if name == "change":
        return number_text(value, "pp" if fmt == "pct" else "delta_num")
    if name == "p":  # "p < 0.0001" rather than a p of 0.0000
        return "< 0.0001" if value < 0.0001 else "= " + number_text(value, "p")
    if name == "effect":
        return number_text(value, "effect")
    if name == "relative":
        return number_text(value, "growth")
    if name == "confidence":
        return confidence_text(value)
    if name in SHARES:
        return number_text(value, "pct")
    if name in METRIC_VALUED:
        return number_text(value, fmt) + word("unit_" + fmt, lang) if fmt in ("min", "sec") else number_text(value, fmt)
    if name in SECONDS:
        return number_text(value, "sec")
    if isinstance(value, dt.datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, dt.date):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return number_text(value, "count")
    if isinstance(value, float):
        return number_text(value, "num")
    return str(value)


def confidence_text(level: float) -> str:
    """0.95 → 95%, 0.975 → 97.5% (a confidence level reads without trailing zeros)."""
    return f"{level * 100:g}%"


def scope_phrase(scope, lang: str) -> str:
    """An 优化记录 scope inside a sentence: 「 问题类型=物流咨询 的」/ " for Issue type=…,"; nothing for all records."""
    if not scope:
        return ""
    text = params.scope_text(scope, lang)
    return f" {text} 的" if lang == "zh" else f" for {text},"
def dim_text(dim: str, lang: str) -> str:
    """A grouping column in words: 客户类型 / customer type, else its header on the tickets sheet."""
    if dim in DIM_WORDS:
        return DIM_WORDS[dim][0 if lang == "zh" else 1]
    return TICKETS.column(dim).header(lang) if dim in TICKETS.keys else dim


def evidence(sheet: str, lang: str) -> str:
    """「预警」: the sheet a finding points to (a sheet key, or a tab name as given)."""
    return word("evidence", lang).format(sheet=sheet_name(sheet, lang) if sheet in SHEET_NAMES else sheet)


def _filled(template: str, f: Finding, lang: str, names: Mapping | None) -> str:
    return template.format(**{k: arg_text(k, v, f.args, lang, names) for k, v in f.args.items()})


def sentence(f: Finding, lang: str, settings: Settings, names: Mapping | None = None) -> str | None:
    """The finding as a sentence with its evidence sheet; None when the words have no template for it."""
    template = finding_text(f.code, lang)
    if template is None:
        return None
    return _filled(template, f, lang, names) + (evidence(f.sheet, lang) if f.sheet else "")


def recommendation(f: Finding, lang: str, names: Mapping | None = None) -> str | None:
    template = finding_text(f.code, lang, RECOMMENDATIONS)
    return None if template is None else _filled(template, f, lang, names)


# ---------------------------------------------------------------- the sections

def scope_text(settings: Settings, lang: str) -> str:
    parts = []
    for field_name, dim in (("teams", "team"), ("channels", "channel"), ("customer_types", "customer_type"),
                            ("issue_types", "issue_type"), ("modules", "module")):
        values = getattr(settings, field_name)
        if values:
            parts.append(f"{DIM_WORDS[dim][0 if lang == 'zh' else 1]} = {word('list_sep', lang).join(values)}")
    if settings.min_tenure_months:
        parts.append(word("scope_tenure", lang).format(n=f"{settings.min_tenure_months:g}"))
    return "; ".join(parts) or word("scope_all", lang)


def period_section(overview: Overview, settings: Settings, lang: str) -> list[Paragraph]:
    date = lambda d: arg_text("date", d, {}, lang)  # noqa: E731
    text = word("period_text", lang).format(
        start=date(overview.start), end=date(overview.end), tickets=number_text(overview.tickets, "count"),
        feedback=number_text(overview.feedback, "count"), calls=number_text(overview.calls, "count"),
        scope=scope_text(settings, lang))
    return [Paragraph("heading", word("sec_period", lang)), Paragraph("text", text)]


def kpi_section(cards: list[KpiCard], lang: str) -> list[Paragraph]:
    """How many KPIs meet their targets, each miss with its numbers, then the ones met."""
    judged = [c for c in cards if c.met is not None]
    missed = [c for c in judged if c.met is False]
    out = [Paragraph("heading", word("sec_kpis", lang)),
           Paragraph("text", word("kpis_text", lang).format(n=len(judged), met=len(judged) - len(missed),
                                                            missed=len(missed), sheet=sheet_name("summary", lang)))]
    out += [Paragraph("item", word("kpi_missed", lang).format(label=c.label, value=number_text(c.value, c.fmt),
                                                              target=number_text(c.target, c.fmt)))
            for c in missed]
    met = [c for c in judged if c.met]
    if met:
        labels = word("list_sep", lang).join(f"{c.label} {number_text(c.value, c.fmt)}" for c in met)
        out.append(Paragraph("item", word("kpi_met", lang).format(labels=labels)))
    return out


def findings_section(findings: list[Finding], settings: Settings, lang: str,
                     names: Mapping | None) -> tuple[list[Paragraph], list[Finding]]:
    """The strongest findings the KPI section has not stated, as numbered items."""
    told = [f for f in findings if f.code not in IN_KPI_SECTION and f.kind != "advice"
            and finding_text(f.code, lang) is not None]
    chosen = strongest(told, FINDINGS_SHOWN)
    items = [Paragraph("item", f"{i}. {sentence(f, lang, settings, names)}") for i, f in enumerate(chosen, 1)]
    return [Paragraph("heading", word("sec_findings", lang))] + (items or [Paragraph("text", word("no_findings", lang))]), chosen


def advice_section(findings: list[Finding], chosen: list[Finding], lang: str, settings: Settings,
                   names: Mapping | None) -> list[Paragraph]:
    """Staffing advice (with its numbers and sheet) first, then what to do about the strongest issues."""
    lines = [sentence(f, lang, settings, names) for f in strongest([f for f in findings if f.kind == "advice"],
                                                                   RECOMMENDATIONS_SHOWN)]
    issues = [f for f in strongest(findings, len(findings)) if f.kind == "issue"]
    for f in [*chosen, *issues]:
        text = recommendation(f, lang, names) if f.kind in ("issue", "info") else None
        if text and text not in lines and len(lines) < RECOMMENDATIONS_SHOWN:
            lines.append(text)
    lines = [line for line in lines if line]
    items = [Paragraph("item", f"{i}. {line}") for i, line in enumerate(lines, 1)]
    return [Paragraph("heading", word("sec_advice", lang))] + (items or [Paragraph("text", word("no_recommendations", lang))])


def paragraphs(findings: list[Finding], cards: list[KpiCard], overview: Overview, settings: Settings,
               lang: str, names: Mapping | None = None) -> list[Paragraph]:
    """The whole written report: period and scope, KPIs against targets, the strongest
    findings, recommendations.  ``names``: agent id → name as the report shows it (masked or not)."""
    found, chosen = findings_section(findings, settings, lang, names)
    return [*period_section(overview, settings, lang), *kpi_section(cards, lang), *found,
            *advice_section(findings, chosen, lang, settings, names)]


__all__ = ["FINDINGS", "Overview", "Paragraph", "paragraphs", "sentence", "recommendation"]
