"""Data set + settings → the report model: what every generated sheet shows.

The model (:mod:`.model`) is plain dataclasses, drawn by every writer.  Every
metric number comes from :mod:`cs_xl.kpis` (which calls :mod:`cs_xl.metrics`),
every conclusion from :mod:`cs_xl.analysis`, every word from
:mod:`cs_xl.words` and every period from :mod:`cs_xl.periods`; this module
only *arranges* them and derives presentation figures:

* gap to target            = value − target
* 环比 / 同比 of a count     = value / base − 1          (growth rate)
* 环比 / 同比 of a rate/time = value − base              (difference, e.g. percentage points)
* rank                     = 1 + number of agents with a strictly better value

Undefined numbers are ``None`` in the model (never 0); renderers draw them as
empty cells.
"""
from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

import pandas as pd

from .. import catalogue, kpis, params, periods
from ..analysis import alerts, compare, pareto, run, segments, staffing, trends
from ..analysis.findings import Finding
from ..dataset import (ROW, DataSet, detect_lang, dropped_records, dropped_rows,  # noqa: F401 (the report's names)
                       quality_counts, quality_counts_text)
from ..params import LEVEL_EN, LEVEL_ZH
from ..settings import FEEDBACK_CLASS_EN, Settings
from ..values import GAP_FORMATS, number_text
from ..values import plain as clean  # NaN / NaT / numpy scalars → plain Python; undefined → None (never 0)
from ..words import CHANNEL_CLASS_NAMES, DIM_WORDS, action_text, sheet_name, word
from .figures import DataSetFigures
from .model import (ChartSpec, ColumnSpec, HeatmapBlock, KpiCard, KpiCards, KpiTiles, Report, SheetModel,
                    TableBlock, TextBlock)
from .narrative import Overview, confidence_text, dim_text, paragraphs

# ---------------------------------------------------------------- what each sheet shows

# SPEC §5 headline metrics, in dashboard order
HEADLINE_KEYS = (
    "volume", "frt_rate", "frt_avg", "frt_median", "frt_p90", "sla_rate", "resolve_avg",
    "ontime_rate", "resolution_rate", "fcr_rate", "csat_avg", "csat_rate", "satisfied_rate", "nps",
    "complaint_rate", "repeat_complaint_rate", "offered", "answer_rate", "abandon_rate",
    "asa", "avg_wait", "service_level", "aht", "ivr_rate", "peak_queue", "agents_needed",
)
AGENT_KEYS = ("volume", "frt_rate", "frt_avg", "resolution_rate", "fcr_rate", "csat_avg", "csat_rate",
              "nps", "complaint_rate")
BREAKDOWN_DIMS = ("team", "channel", "issue_type", "module", "priority", "customer_type")
BREAKDOWN_KEYS = ("volume", "frt_rate", "frt_avg", "sla_rate", "resolution_rate", "ontime_rate", "fcr_rate",
                  "csat_rate", "complaint_rate")
TREND_GRAINS = ("month", "week", "day")  # the short tables first: the day table runs long
# 满意度 stands just before 首次响应达标率 (whose 环比/同比 follow it): the rate chart's two series are
# then adjacent columns, one rectangle — the only chart source Office.js takes (the web buttons)
TREND_KEYS = ("volume", "csat_rate", "frt_rate", "frt_avg", "resolution_rate", "complaint_rate",
              "offered", "answer_rate")
TREND_RATE_SERIES = ("csat_rate", "frt_rate")
DELTA_KEYS = ("volume", "frt_rate")  # the metrics whose 环比/同比 are shown
TILE_KEYS = ("volume", "frt_rate", "resolution_rate", "csat_rate", "nps", "answer_rate")  # dashboard tiles
RANK_KEY = "frt_rate"                # agents are ranked on the seed's headline metric
# the lists above choose and order registry metrics: a key the registry lacks fails here, at import
for _keys in (HEADLINE_KEYS, AGENT_KEYS, BREAKDOWN_KEYS, TREND_KEYS, DELTA_KEYS, TILE_KEYS, (RANK_KEY,)):
    for _key in _keys:
        catalogue.get(_key)

# ---------------------------------------------------------------- small pure helpers

def mask_name(name) -> Any:
    """``李娜`` → ``*娜``, ``张小明`` → ``**明``: every character but the last hidden."""
    if clean(name) is None:
        return None
    text = str(name).strip()
    if len(text) <= 1:
        return "*" if text else text
    return "*" * (len(text) - 1) + text[-1]


def gap_to_target(value, target) -> float | None:
    """value − target; None when either is undefined."""
    value, target = clean(value), clean(target)
    if value is None or target is None:
        return None
    return value - target


meets = alerts.meets  # re-exported: the cards' ✓/✗ and the 预警 sheet's missed targets are one rule


def growth(value, base) -> float | None:
    """value / base − 1 (环比/同比 growth of a count); None without a positive base."""
    value, base = clean(value), clean(base)
    if value is None or base is None or base == 0:
        return None
    return value / base - 1


def difference(value, base) -> float | None:
    """value − base (环比/同比 of a rate or a time: percentage points / minutes)."""
    return gap_to_target(value, base)


def ranks(values: list, higher_is_better: bool) -> list[int | None]:
    """Competition rank (1 = best; ties share a rank; undefined values get None)."""
    defined = [v for v in (clean(x) for x in values) if v is not None]
    out = []
    for v in (clean(x) for x in values):
        if v is None:
            out.append(None)
        else:
            better = sum(1 for o in defined if (o > v if higher_is_better else o < v))
            out.append(1 + better)
    return out


def priority_label(level, lang: str) -> str:
    """一级 … 四级, or L1 … L4 as the English template's drop-down and 参数 sheet write them."""
    return (LEVEL_ZH if lang == "zh" else LEVEL_EN)[int(level)]


# ---------------------------------------------------------------- labels and formats

def metric_label(key: str, lang: str, settings: Settings) -> str:
    """The metric's name with its unit / targets, e.g. 首次响应达标率(即时通讯≤1、电话≤3、邮件≤240、其他≤3分钟)."""
    info = catalogue.get(key)
    name = info.name(lang)
    if key == "frt_rate":
        return word("frt_label", lang).format(name=name, targets=frt_targets_text(lang, settings))
    unit = {"min": ("分钟", "min"), "sec": ("秒", "s")}.get(info.fmt)
    if unit:
        return f"{name}({unit[0]})" if lang == "zh" else f"{name} ({unit[1]})"
    return name


def frt_targets_text(lang: str, settings: Settings) -> str:
    """The first-response targets of 参数 as 首次响应达标率's label shows them: each channel class's
    and the other channels' (the single threshold), or the one threshold when every class has it.

    >>> frt_targets_text("zh", Settings())
    '即时通讯≤1、电话≤3、邮件≤240、其他≤3'
    >>> frt_targets_text("en", Settings(frt_channel_min={"chat": 5.0, "phone": 5.0, "email": 5.0}, frt_threshold_min=5))
    '≤ 5'
    """
    def target(channel: str, minutes: float) -> str:
        return word("frt_target", lang).format(channel=channel, minutes=f"{minutes:g}").strip()
    other = settings.frt_threshold_min
    if all(minutes == other for minutes in settings.frt_channel_min.values()):
        return target("", other)
    names = {cls: pair[1] if lang == "zh" else pair[0] for cls, pair in CHANNEL_CLASS_NAMES.items()}
    parts = [target(names[cls], minutes) for cls, minutes in settings.frt_channel_min.items()]
    return word("frt_target_sep", lang).join(parts + [target(word("frt_other", lang), other)])


def metric_fmt(key: str) -> str:
    return catalogue.get(key).fmt


def metric_columns(keys, lang: str, settings: Settings) -> list[ColumnSpec]:
    return [ColumnSpec(k, metric_label(k, lang, settings), metric_fmt(k)) for k in keys]


def delta_fmt(key: str) -> str:
    """Format of a 环比/同比 column: growth for counts, a signed difference otherwise."""
    fmt = metric_fmt(key)
    if fmt == "count":
        return "growth"
    return {"pct": "delta_pct", "min": "delta_min", "sec": "delta_sec"}.get(fmt, "delta_num")


def delta(key: str, value, base) -> float | None:
    return growth(value, base) if metric_fmt(key) == "count" else difference(value, base)


# ---------------------------------------------------------------- sheet builders

@dataclass
class Context:
    """Everything a sheet builder needs; built once per report."""
    figures: Any               # where every number comes from (.figures: records or a SQL history)
    settings: Settings
    lang: str
    headline: dict[str, float]
    today: dt.date             # "today" in the 参数 timezone (数据截至)
    _grouped: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    _results: dict[str, Any] = field(default_factory=dict, repr=False)

    def result(self, name: str) -> Any:
        """An analysis of :data:`cs_xl.analysis.run.ANALYSES` on the scoped data, computed once per
        report (the 预警, 人力建议, 按客服 and 分析报告 sheets share them; ``cs-xl analyze`` prints them)."""
        if name not in self._results:
            self._results[name] = self.figures.result(name, self.headline)
        return self._results[name]

    def w(self, key: str):
        return word(key, self.lang)

    def names(self) -> dict:
        """agent_id → name as the sheets show it (masked on request)."""
        return masked_names(self.figures.agent_names(), self.settings.mask_names)

    def label(self, key: str) -> str:
        return metric_label(key, self.lang, self.settings)

    def name(self, key: str) -> str:
        """The metric's bare name, for chart titles: its series and axis carry the full label."""
        return catalogue.get(key).name(self.lang)

    def grouped(self, by: str) -> pd.DataFrame:
        """KPIs per group of the scoped data by a period, computed once per report (the trend tables)."""
        if by not in self._grouped:
            self._grouped[by] = self.figures.grouped(by, GROUPED_KEYS)
        return self._grouped[by]


def card_target(key: str, settings: Settings) -> tuple[float | None, str]:
    """(target, direction) of a KPI card: the 参数 target, or for the peak queue the alert
    rule's limit (排队人数超过N人 is the one number a queue is held to)."""
    if key == "peak_queue" and key not in settings.targets:
        return float(settings.alert_queue_max), "<="
    return settings.targets.get(key, (None, ">="))


def kpi_cards(ctx: Context) -> list[KpiCard]:
    cards = []
    for key in HEADLINE_KEYS:
        if key not in ctx.headline:
            continue
        value = clean(ctx.headline[key])
        target, direction = card_target(key, ctx.settings)
        cards.append(KpiCard(key, ctx.label(key), value, clean(target), gap_to_target(value, target),
                             meets(value, target, direction), metric_fmt(key)))
    return cards


def _frame_len(frame) -> int:
    return 0 if frame is None else len(frame)


def _period_bounds(ctx: Context) -> tuple[Any, Any]:
    """The period of the settings, else the span of dates in the scoped data."""
    start, end = ctx.settings.period_start, ctx.settings.period_end
    if start is not None and end is not None:
        return start, end
    span = ctx.figures.moment_range()
    if span is not None:
        start = start or span[0].date()
        end = end or span[1].date()
    return start, end


def period_table(ctx: Context) -> TableBlock:
    start, end = _period_bounds(ctx)
    used = list(ctx.figures.counts("scoped").values())
    loaded = sum(ctx.figures.counts("loaded").values())
    quality = ctx.figures.quality_counts()
    cols = [ColumnSpec("period_start", ctx.w("period_start"), "date"),
            ColumnSpec("period_end", ctx.w("period_end"), "date"),
            ColumnSpec("used_tickets", ctx.w("used_tickets"), "count"),
            ColumnSpec("used_feedback", ctx.w("used_feedback"), "count"),
            ColumnSpec("used_calls", ctx.w("used_calls"), "count"),
            ColumnSpec("out_of_scope", ctx.w("out_of_scope"), "count"),
            ColumnSpec("dropped", ctx.w("dropped"), "count"),
            ColumnSpec("issues", ctx.w("issues"), "count"),
            ColumnSpec("volume", ctx.label("volume"), "count"),
            ColumnSpec("offered", ctx.label("offered"), "count"),
            ColumnSpec("as_of", ctx.w("as_of"), "date"),
            ColumnSpec("timezone", ctx.w("timezone"), "text"),
            ColumnSpec("clock", ctx.w("clock"), "text")]  # how minutes from timestamps are counted (issue 11)
    row = [start, end, *used, loaded - sum(used), quality["records_dropped"], quality["issues"],
           clean(ctx.headline.get("volume")), clean(ctx.headline.get("offered")),
           ctx.today if loaded else None,  # no records: no 数据截至 (the committed template has no build day)
           ctx.settings.timezone, ctx.settings.clock().describe(ctx.lang)]
    return TableBlock("period", ctx.w("period_block"), cols, [row])


GROUPED_KEYS = TREND_KEYS  # Context.grouped: the trend tables (alert days come with the alerts analysis)
RULE_DAYS_SHOWN = 31                     # the latest month of rule-breaking days fits the dashboard
# 数据质量 lists the first N issues of each reason (sheet × reason × action) cell by cell and counts the
# rest: a book whose every row has the same flaw would otherwise give a sheet of a million cells
# that nobody reads (the reason table keeps every count; `cs-xl kpis --json --issues` lists all)
ISSUES_LISTED_PER_REASON = 200


def alert_lines(ctx: Context, cards: list[KpiCard]) -> list[str]:
    """Missed targets, then the rules broken over the whole period (a rule line replaces the
    plain target line of the peak queue, whose card target *is* the rule's limit)."""
    lines = []
    for card in cards:
        if card.met is False and not (card.key == "peak_queue" and card.key not in ctx.settings.targets):
            lines.append(ctx.w("alert_miss").format(label=card.label, value=number_text(card.value, card.fmt),
                                                    target=number_text(card.target, card.fmt)))
    for breach in alerts.rule_breaches(ctx.headline, ctx.settings):
        lines.append(rule_sentence(ctx, breach.key, breach.value, breach.limit))
    return ["⚠ " + line for line in lines]


def rule_sentence(ctx: Context, key: str, value: float, limit: float) -> str:
    if key == "avg_wait":
        target = ctx.settings.targets["avg_wait"][0]
        return ctx.w("alert_wait").format(value=number_text(value, "sec"), target=number_text(target, "sec"),
                                          factor=f"{ctx.settings.alert_wait_factor:g}", limit=number_text(limit, "sec"))
    return ctx.w("alert_queue").format(value=number_text(value, "count"), limit=number_text(limit, "count"))


def rule_days(ctx: Context) -> list[list]:
    """[date, rule, value, limit] for every day (in date order) that broke an alert rule."""
    if not ctx.figures.has("calls"):  # both rules watch the call queue
        return []
    # the alerts analysis has grouped the days by the rules' metrics already (预警 shows them too)
    return [[b.day, ctx.w("rule_wait" if b.key == "avg_wait" else "rule_queue"), b.value, b.limit]
            for b in ctx.result("alerts")["days"]]


def rule_days_blocks(ctx: Context) -> list:
    """The days that broke a rule — a manager wants to know *when* — the latest month of them."""
    rows = rule_days(ctx)
    if not rows:
        return [TextBlock([ctx.w("no_rule_days")])]
    days = sorted({r[0] for r in rows})
    shown = set(days[-RULE_DAYS_SHOWN:])
    note = "" if len(days) <= RULE_DAYS_SHOWN else ctx.w("rule_days_note").format(n=len(days), shown=len(shown))
    return [TableBlock("rule_days", ctx.w("rule_days"),
                       [ColumnSpec("date", ctx.w("date"), "date"), ColumnSpec("rule", ctx.w("rule"), "text"),
                        ColumnSpec("value", ctx.w("value"), "min"), ColumnSpec("limit", ctx.w("limit"), "min")],
                       [r for r in rows if r[0] in shown], note)]


def build_summary(ctx: Context) -> SheetModel:
    """The dashboard, read top to bottom: period, KPI cards with the rates-vs-targets
    chart beside them, alerts, and last the chart's data table."""
    cards = kpi_cards(ctx)
    by_key = {c.key: c for c in cards}
    tiles = [by_key[k] for k in TILE_KEYS if k in by_key]
    blocks: list = [KpiTiles("tiles", tiles, ctx.w("target"))] if tiles else []
    blocks += [period_table(ctx),
                    KpiCards("kpis", ctx.w("kpi_block"), ctx.w("kpi_headers"), cards)]
    alerts = alert_lines(ctx, cards)
    blocks.append(TextBlock([ctx.w("alerts")], "heading"))
    blocks.append(TextBlock(alerts or [ctx.w("no_alerts")], "alert" if alerts else "note"))
    blocks += rule_days_blocks(ctx)
    rated = [c for c in cards if c.fmt == "pct" and c.target is not None]
    if rated:
        blocks.append(TableBlock(
            "targets", ctx.w("targets_block"),
            [ColumnSpec("label", ctx.w("metric"), "text"), ColumnSpec("value", ctx.w("value"), "pct"),
             ColumnSpec("target", ctx.w("target"), "pct")],
            [[c.label, c.value, c.target] for c in rated]))
        blocks.append(ChartSpec("bar", ctx.w("targets_chart"), "targets", "label", ["value", "target"],
                                anchor="beside:kpis"))
    return SheetModel("summary", sheet_name("summary", ctx.lang), ctx.w("summary_title"), blocks, one_page=True)


def agent_names(ds: DataSet, mask: bool) -> dict:
    """agent_id → name (the last name typed for that id), masked on request."""
    return masked_names(DataSetFigures(ds, ds, Settings()).agent_names(), mask)


def masked_names(pairs: dict, mask: bool) -> dict:
    return {k: mask_name(v) for k, v in pairs.items()} if mask else pairs


def _group_rows(frame: pd.DataFrame, keys, label=lambda v: v) -> list[list]:
    return [[label(clean(idx)), *(clean(row[k]) for k in keys)] for idx, row in kpis.cells(frame).items()]


def build_agents(ctx: Context) -> SheetModel:
    blocks: list = []
    if not ctx.figures.has_column("agent_id"):
        blocks.append(TextBlock([ctx.w("no_dims")]))
        return SheetModel("agents", sheet_name("agents", ctx.lang), ctx.w("agents_title"), blocks)
    keys = list(AGENT_KEYS)
    frame = ctx.figures.grouped("agent_id", keys)
    names = ctx.names()
    rank_values = frame[RANK_KEY].tolist() if RANK_KEY in frame.columns else [None] * len(frame)
    rank = ranks(rank_values, catalogue.get(RANK_KEY).higher_is_better)
    rows = []
    for (agent, row), r in zip(kpis.cells(frame).items(), rank):
        agent = clean(agent)
        rows.append([agent, names.get(agent), *(clean(row[k]) for k in keys), r])
    columns = ([ColumnSpec("agent_id", ctx.w("agent_id"), "text"),
                ColumnSpec("agent_name", ctx.w("agent_name"), "text")]
               + metric_columns(keys, ctx.lang, ctx.settings)
               + [ColumnSpec("rank", ctx.w("rank"), "int")])
    note = ctx.w("rank_note").format(label=ctx.label(RANK_KEY),
                                     masked=ctx.w("masked" if ctx.settings.mask_names else "unmasked"))
    if ctx.settings.min_tenure_months and ctx.figures.has("tickets", "hire_date"):
        note += " " + ctx.w("tenure_note").format(n=f"{ctx.settings.min_tenure_months:g}")
    blocks.append(TableBlock("agents", ctx.w("agents_title"), columns, rows, note))
    category = "agent_name" if names else "agent_id"
    blocks.append(ChartSpec("bar", ctx.w("agents_chart").format(label=ctx.name(RANK_KEY)), "agents",
                            category, [RANK_KEY]))
    blocks += agent_trend_blocks(ctx)
    return SheetModel("agents", sheet_name("agents", ctx.lang), ctx.w("agents_title"), blocks,
                      freeze_table="agents", freeze_cols=2)


def build_breakdowns(ctx: Context) -> SheetModel:
    blocks: list = []
    keys = list(BREAKDOWN_KEYS)
    dims = [d for d in BREAKDOWN_DIMS if ctx.figures.has("tickets", d)]
    for dim in dims:
        dim_word = DIM_WORDS[dim][0 if ctx.lang == "zh" else 1]
        frame = ctx.figures.grouped(dim, keys)
        label = (lambda v: priority_label(v, ctx.lang)) if dim == "priority" else (lambda v: v)
        rows = _group_rows(frame, keys, label)
        columns = [ColumnSpec(dim, dim_word if ctx.lang == "zh" else dim_word.capitalize(), "text")] \
            + metric_columns(keys, ctx.lang, ctx.settings)
        name = f"by_{dim}"
        blocks.append(TableBlock(name, ctx.w("by").format(dim=dim_word), columns, rows))
        blocks.append(ChartSpec("bar", ctx.w("breakdown_chart").format(label=ctx.name("frt_rate"), dim=dim_word),
                                name, dim, ["frt_rate"]))
    if not dims:
        blocks.append(TextBlock([ctx.w("no_dims")]))
    return SheetModel("breakdowns", sheet_name("breakdowns", ctx.lang), ctx.w("breakdowns_title"), blocks)




def trend_rows(frame: pd.DataFrame, grain: str, keys, delta_keys, present: dict[str, set[str]] | None = None,
               display: Callable[[str], str] = lambda label: label) -> list[list]:
    """One row per period: metric values, then 环比 and 同比 of each delta key.

    A metric of a table with no records in that period (``present``) is
    undefined, not 0 — a month with calls but no tickets has no 受理量, so
    neither its own 环比 nor the next month's is a false −100 %.
    ``display(label)`` is the label shown (partial periods marked)."""
    def value(row, label, key):
        if present is not None and catalogue.get(key).table not in present.get(label, set()):
            return None
        return clean(row[key])

    by_label = {str(idx): row for idx, row in kpis.cells(frame).items()}
    values = {label: {k: value(row, label, k) for k in keys} for label, row in by_label.items()}
    rows = []
    for label, mine in values.items():
        prev, year_ago = values.get(periods.previous(label, grain)), values.get(periods.year_ago(label, grain) or "")
        out = [display(label)]
        for key in keys:
            out.append(mine[key])
            if key in delta_keys:
                out.append(None if prev is None else delta(key, mine[key], prev[key]))
                out.append(None if year_ago is None else delta(key, mine[key], year_ago[key]))
        rows.append(out)
    return rows


def trend_columns(ctx: Context, keys, delta_keys) -> list[ColumnSpec]:
    cols = [ColumnSpec("period", ctx.w("period"), "text")]
    for key in keys:
        label = ctx.label(key)
        cols.append(ColumnSpec(key, label, metric_fmt(key)))
        if key in delta_keys:
            cols.append(ColumnSpec(f"{key}_mom", ctx.w("mom").format(label=label), delta_fmt(key)))
            cols.append(ColumnSpec(f"{key}_yoy", ctx.w("yoy").format(label=label), delta_fmt(key)))
    return cols


def build_trends(ctx: Context) -> SheetModel:
    """Month, week and day tables, each with its two line charts *below* it (beside them
    the wide table would push the charts off screen)."""
    keys = list(TREND_KEYS)
    blocks: list = [TextBlock([ctx.w("trend_note"), ctx.w("trend_partial_note")])]
    start, end = _period_bounds(ctx)
    for grain in TREND_GRAINS:
        frame = ctx.grouped(grain)
        grain_word = ctx.w(f"grain_{grain}")
        name = f"trend_{grain}"

        def display(label: str, grain=grain) -> str:
            return ctx.w("partial").format(label=label) if periods.is_partial(label, grain, start, end) else label
        blocks.append(TableBlock(name, grain_word, trend_columns(ctx, keys, DELTA_KEYS),
                                 trend_rows(frame, grain, keys, DELTA_KEYS, ctx.figures.periods_present(grain),
                                            display)))
        blocks.append(ChartSpec("line", ctx.w("trend_chart").format(grain=grain_word, label=ctx.name("volume")),
                                name, "period", ["volume"], anchor="below"))
        first, second = (ctx.name(key) for key in TREND_RATE_SERIES)
        blocks.append(ChartSpec("line", ctx.w("trend_pair_chart").format(grain=grain_word, first=first, second=second),
                                name, "period", list(TREND_RATE_SERIES), anchor="below"))
    return SheetModel("trends", sheet_name("trends", ctx.lang), ctx.w("trends_title"), blocks)


def build_load(ctx: Context) -> SheetModel:
    matrix = ctx.figures.load_matrix()
    days = ctx.w("weekdays")
    heat = HeatmapBlock("heatmap", ctx.w("heatmap"), f"{ctx.w('weekday')} \\ {ctx.w('hour')}",
                        [days[int(d)] for d in matrix.index], [int(h) for h in matrix.columns],
                        [[clean(v) for v in row] for row in matrix.to_numpy().tolist()])
    blocks: list = [TextBlock([ctx.w("load_note"), *untimed_note(ctx), ctx.w("heat_scale")]), heat]
    blocks += staffing_blocks(ctx)
    keys = ["volume", "offered"]
    frame = ctx.figures.by_hour(keys)
    if frame is not None and len(frame):
        blocks.append(TableBlock("by_hour", ctx.w("by_hour"),
                                 [ColumnSpec("hour", ctx.w("hour"), "int")] + metric_columns(keys, ctx.lang, ctx.settings),
                                 _group_rows(frame, keys)))
        blocks.append(ChartSpec("col", ctx.w("by_hour"), "by_hour", "hour", keys))
    return SheetModel("load", sheet_name("load", ctx.lang), ctx.w("load_title"), blocks)


def untimed_note(ctx: Context) -> list[str]:
    """The records the hour views leave out for lack of a time of day (none: no line)."""
    untimed = ctx.figures.untimed_records()
    if not any(untimed.values()):
        return []
    return [ctx.w("untimed").format(tickets=untimed.get("tickets", 0), calls=untimed.get("calls", 0))]


def staffing_blocks(ctx: Context) -> list:
    matrix = ctx.figures.staffing_matrix(ctx.headline.get("aht"))
    if matrix is None:
        return []
    s = ctx.settings
    return [TextBlock([ctx.w("staffing_note").format(sl=s.target_service_level, secs=s.service_level_s)]),
            HeatmapBlock("staffing", ctx.w("staffing"), f"{ctx.w('weekday')} \\ {ctx.w('hour')}",
                         list(ctx.w("weekdays")), list(range(staffing.HOURS)), matrix)]


def _cell_text(value) -> Any:
    """A quality issue's original value as a cell: numbers and text as they are, anything else as text."""
    if value.__class__ is str or value.__class__ is int:  # most values: as they are, without clean()'s checks
        return value
    value = clean(value)
    if value is None or isinstance(value, (int, float, str)):
        return value
    return str(value)


def audit_table(ctx: Context) -> TableBlock:
    """The weekly audit list; columns lined up with the other 数据质量 tables
    (A what/when, B why, C row) so the stacked tables share sensible widths."""
    t, total = ctx.figures.audit_records()
    names = ctx.names()
    specs = [("week", "text"), ("why", "text"), ("row", "int"), ("ticket_id", "text"), ("date", "date"),
             ("agent_id", "text"), ("agent_name", "text"), ("issue_type", "text"), ("status", "text"),
             ("resolve_min", "min")]
    cols = [ColumnSpec(k, ctx.w(k), f, wrap=(k == "why")) for k, f in specs]
    rows = []
    read = ("date", "status", ROW, "ticket_id", "agent_id", "issue_type", "resolve_min")
    # thousands of records, a few hundred days and a handful of statuses: each worded once
    week_of = functools.cache(lambda day: periods.label_of(day, "week"))
    why_of = functools.cache(lambda status: ctx.w("why_open").format(status=status) if status is not None
                             else ctx.w("why_unresolved"))
    for rec in t[[k for k in read if k in t.columns]].to_dict("records"):  # not the ~25 columns a ticket has
        get = lambda k: clean(rec.get(k))  # noqa: E731
        date, status = get("date"), get("status")
        why = why_of(status)
        day = date.date() if date is not None else None
        rows.append([week_of(day) if day is not None else None, why, get(ROW), get("ticket_id"), day,
                     get("agent_id"), names.get(get("agent_id")), get("issue_type"), status,
                     get("resolve_min")])
    rows.sort(key=lambda r: (r[0] or "", r[2] or 0))
    note = ctx.w("audit_note")
    if total > len(rows):  # a history's list is a sample: the first records of the scan
        note += " " + ctx.w("audit_sample_note").format(shown=len(rows), n=total)
    return TableBlock("audit", ctx.w("audit"), cols, rows, note)


def _listed_issues(issues: list, group: Callable) -> tuple[list, dict]:
    """The issues 数据质量 lists — the first :data:`ISSUES_LISTED_PER_REASON` of each ``group(issue)``,
    in the loader's order — and per group how many are left out (only groups that lose some).

    >>> listed, left_out = _listed_issues(list("aabab" + "a" * ISSUES_LISTED_PER_REASON), str)
    >>> len(listed), left_out
    (202, {'a': 3})
    """
    seen: Counter = Counter()
    listed = []
    for issue in issues:
        key = group(issue)
        seen[key] += 1
        if seen[key] <= ISSUES_LISTED_PER_REASON:
            listed.append(issue)
    return listed, {k: n - ISSUES_LISTED_PER_REASON for k, n in seen.items() if n > ISSUES_LISTED_PER_REASON}


def build_quality(ctx: Context) -> SheetModel:
    """Issues by reason (with a chart), the weekly audit list, then every issue cell by cell.

    Reasons and actions are counted on the loader's stable English strings
    and shown in the report's language (:mod:`cs_xl.words`); the three stacked
    tables put sheet, reason and action in the same columns, the reason
    wrapped, so no table's long text widens another's short columns."""
    issues = ctx.figures.quality_issues()  # None: a history's counts only, no cell list
    gone = ctx.figures.dropped_rows()
    # an issue that cost its record says so: "dropped" alone would read like one cell
    shown_action = lambda i: "record dropped" if (i.sheet, i.row) in gone else i.action  # noqa: E731
    counts = Counter((i.sheet, i.why, shown_action(i)) for i in issues) if issues is not None \
        else ctx.figures.quality_reasons()
    action = lambda a: action_text(a, ctx.lang)  # noqa: E731
    order = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0][0], str(kv[0][1]), kv[0][2]))
    reason_rows = [[sheet, why.text(ctx.lang), action(a), n] for (sheet, why, a), n in order]
    reason_columns = [ColumnSpec("sheet", ctx.w("sheet"), "text"),
                      ColumnSpec("reason", ctx.w("reason"), "text", wrap=True),
                      ColumnSpec("action", ctx.w("action"), "text"),
                      ColumnSpec("count", ctx.w("count"), "count")]
    listed, left_out = ([], {}) if issues is None else \
        _listed_issues(issues, lambda i: (i.sheet, i.why, shown_action(i)))
    note = ""
    if left_out:  # a column of its own only when the list is cut: small books keep their sheet as it was
        reason_columns.append(ColumnSpec("not_listed", ctx.w("not_listed"), "count"))
        reason_rows = [row + [left_out.get(key, 0)] for row, (key, _n) in zip(reason_rows, order)]
        note = ctx.w("issues_cut_note").format(n=ISSUES_LISTED_PER_REASON, left_out=sum(left_out.values()))
    blocks: list = [TextBlock([word("quality_counts", ctx.lang).format(**ctx.figures.quality_counts())])] \
        if counts else [TextBlock([ctx.w("no_issues")])]
    blocks.append(TableBlock("by_reason", ctx.w("by_reason"), reason_columns, reason_rows))
    if reason_rows:
        blocks.append(ChartSpec("bar", ctx.w("by_reason"), "by_reason", "reason", ["count"]))
    blocks.append(audit_table(ctx))
    if issues is None:
        blocks.append(TextBlock([ctx.w("issue_list"), ctx.w("history_issue_note")]))
    else:
        blocks.append(issue_list(ctx, listed, shown_action, note))
    return SheetModel("quality", sheet_name("quality", ctx.lang), ctx.w("quality_title"), blocks)


def issue_list(ctx: Context, issues: list, shown_action, note: str = "") -> TableBlock:
    """The issues cell by cell: sheet, reason, action, Excel row, column, the value found."""
    action = lambda a: action_text(a, ctx.lang)  # noqa: E731
    texts: dict = {}  # 100k issues share a few dozen reasons: each is worded once
    reason_text = lambda why: texts.get(why) or texts.setdefault(why, why.text(ctx.lang))  # noqa: E731
    return TableBlock("issues", ctx.w("issue_list"),
                      [ColumnSpec("sheet", ctx.w("sheet"), "text"),
                       ColumnSpec("reason", ctx.w("reason"), "text", wrap=True),
                       ColumnSpec("action", ctx.w("action"), "text"),
                       ColumnSpec("row", ctx.w("row"), "int"),
                       ColumnSpec("column", ctx.w("column"), "text"),
                       ColumnSpec("value", ctx.w("cell_value"), "text")],
                      [[i.sheet, reason_text(i.why), action(shown_action(i)), i.row, i.column, _cell_text(i.value)]
                       for i in issues], note)


# ---------------------------------------------------------------- analyses (issue 12)

def all_findings(ctx: Context) -> list[Finding]:
    """Every analysis's findings, for the written report to rank."""
    return run.findings({name: ctx.result(name) for name in run.FINDINGS}, ctx.settings)


HOURLY_SHOWN = 100  # the longest waits; the rest are counted in the note


def _hour_text(when: dt.datetime) -> str:
    return f"{when:%Y-%m-%d %H:00}"


def hourly_block(ctx: Context) -> TableBlock:
    rows = sorted(ctx.result("alerts")["hourly"], key=lambda b: -(b.avg_wait or 0))
    limits = alerts.rule_limits(ctx.settings)
    days = ctx.w("weekdays")
    note = ctx.w("hourly_note").format(n=len(rows), shown=HOURLY_SHOWN) if len(rows) > HOURLY_SHOWN else ""
    return TableBlock("hourly", ctx.w("hourly_block"), [
        ColumnSpec("hour_start", ctx.w("hour_start"), "text"), ColumnSpec("weekday", ctx.w("weekday"), "text"),
        ColumnSpec("avg_wait", ctx.w("avg_wait_s"), "sec"), ColumnSpec("wait_limit", ctx.w("wait_limit"), "sec"),
        ColumnSpec("peak_queue", ctx.w("peak_queue_n"), "count"),
        ColumnSpec("queue_limit", ctx.w("queue_limit"), "count"), ColumnSpec("rule", ctx.w("rule"), "text")],
        [[_hour_text(b.start), days[b.start.weekday()], b.avg_wait, limits.get("avg_wait"), b.peak_queue,
          limits["peak_queue"], ", ".join(ctx.w("rule_wait" if k == "avg_wait" else "rule_queue") for k in b.keys)]
         for b in rows[:HOURLY_SHOWN]], note)


def rule_text(ctx: Context, key: str) -> str:
    """The thresholds of 参数 a trend rule runs with, as one line beside its evidence."""
    s = ctx.settings
    return ctx.w(key).format(n=s.streak_months if key == "rule_streak" else s.trend_periods,
                             change=number_text(s.trend_min_change, "pct"), records=(
                                 s.trend_min_records if key == "rule_falling" else s.agent_min_records),
                             weeks=s.agent_baseline_weeks, shift=number_text(s.agent_shift, "pct"),
                             gap=f"{s.staffing_gap_min:g}", calls=f"{s.staffing_min_calls:g}")


def falling_block(ctx: Context) -> TableBlock:
    def path(f):
        return " → ".join(f"{m} {number_text(v, metric_fmt(f.key))}" for m, v in zip(f.months, f.values))
    return TableBlock("falling", ctx.w("falling_block"), [
        ColumnSpec("dim", ctx.w("dimension"), "text"), ColumnSpec("value", ctx.w("dim_value"), "text"),
        ColumnSpec("metric", ctx.w("metric"), "text"), ColumnSpec("months", ctx.w("months"), "text"),
        ColumnSpec("first", ctx.w("first_value"), "pct"), ColumnSpec("last", ctx.w("last_value"), "pct"),
        ColumnSpec("change", ctx.w("change"), "delta_pct"), ColumnSpec("path", ctx.w("values_path"), "text")],
        [[DIM_WORDS[f.dim][0 if ctx.lang == "zh" else 1], f.value, ctx.label(f.key),
          f"{f.months[0]} → {f.months[-1]}", f.values[0], f.values[-1], f.change, path(f)]
         for f in ctx.result("trends")["falling"]], rule_text(ctx, "rule_falling"))


def shift_blocks(ctx: Context, shifts: list, name: str) -> list:
    """One table per metric (each column keeps one format): agent, week, baseline, latest, change."""
    names = ctx.names()
    blocks: list = []
    for key in trends.SHIFT_KEYS:
        rows = [[s.agent, names.get(s.agent), s.week, s.baseline, s.latest, s.change, s.tickets,
                 ctx.w("worse_word" if s.worse else "better_word")] for s in shifts if s.key == key]
        if not rows:
            continue
        fmt = metric_fmt(key)
        blocks.append(TableBlock(f"{name}_{key}", f"{ctx.w('shift_block')}: {ctx.label(key)}", [
            ColumnSpec("agent_id", ctx.w("agent_id"), "text"), ColumnSpec("agent_name", ctx.w("agent_name"), "text"),
            ColumnSpec("week", ctx.w("shift_week"), "text"), ColumnSpec("baseline", ctx.w("baseline"), fmt),
            ColumnSpec("latest", ctx.w("latest"), fmt), ColumnSpec("relative", ctx.w("relative"), "growth"),
            ColumnSpec("tickets", ctx.w("tickets"), "count"), ColumnSpec("direction", ctx.w("direction"), "text")],
            rows, rule_text(ctx, "rule_shift")))
    return blocks


def audit_weeks_block(ctx: Context) -> TableBlock:
    return TableBlock("audit_weeks", ctx.w("audit_block"),
                      [ColumnSpec("week", ctx.w("week"), "text"),
                       ColumnSpec("open_records", ctx.w("open_records"), "count")],
                      [[week, n] for week, n in ctx.result("alerts")["audit_weeks"].items()], ctx.w("audit_weeks_note"))


def build_alerts(ctx: Context) -> SheetModel:
    """预警: every alert with the row of numbers behind it, one table per rule."""
    missed = [c for c in kpi_cards(ctx) if c.met is False]
    worse = [s for s in ctx.result("trends")["agent_shifts"] if s.worse]
    n = len(missed) + len(ctx.result("alerts")["hourly"]) + len(ctx.result("trends")["falling"]) + len(worse) \
        + (1 if ctx.result("alerts")["audit_weeks"] else 0)
    blocks: list = [TextBlock([ctx.w("alerts_count").format(n=n)], "alert" if n else "note"),
                    KpiCards("missed", ctx.w("missed_block"), ctx.w("kpi_headers"), missed)
                    if missed else TextBlock([ctx.w("missed_block"), ctx.w("no_alert_rows")])]
    for block in (hourly_block(ctx), falling_block(ctx)):
        blocks.append(block if block.rows else TextBlock([block.title, *filter(None, [block.note]),
                                                          ctx.w("no_alert_rows")]))
    blocks += shift_blocks(ctx, worse, "shift") or [
        TextBlock([ctx.w("shift_block"), rule_text(ctx, "rule_shift"), ctx.w("no_alert_rows")])]
    blocks.append(audit_weeks_block(ctx))
    return SheetModel("alerts", sheet_name("alerts", ctx.lang), ctx.w("alerts_title"), blocks)


def build_staffing(ctx: Context) -> SheetModel:
    """人力建议: the advice first, then the gap heatmap and every slot's numbers."""
    s = ctx.settings
    result = ctx.result("staffing")
    plan = result["plan"]
    blocks: list = [TextBlock([ctx.w("staffing_plan_note").format(sl=s.target_service_level, secs=s.service_level_s),
                               rule_text(ctx, "rule_staffing")])]
    if not plan:
        return SheetModel("staffing", sheet_name("staffing", ctx.lang), ctx.w("staffing_title"),
                          blocks + [TextBlock([ctx.w("no_advice").format(gap=s.staffing_gap_min,
                                                                          calls=s.staffing_min_calls)])])
    found = staffing.findings(result, s)
    lines = [sentence_of(ctx, f) for f in found]
    blocks += [TextBlock([ctx.w("advice_block")], "heading"),
               TextBlock(lines or [ctx.w("no_advice").format(gap=s.staffing_gap_min, calls=s.staffing_min_calls)],
                         "alert" if lines else "note")]
    gaps: list[list] = [[None] * staffing.HOURS for _ in range(staffing.WEEKDAYS)]
    for slot in plan:
        gaps[slot.weekday][slot.hour] = None if slot.gap is None else round(slot.gap, 1)
    days = ctx.w("weekdays")
    blocks.append(HeatmapBlock("gaps", ctx.w("gap_heatmap"), f"{ctx.w('weekday')} \\ {ctx.w('hour')}",
                               list(days), list(range(staffing.HOURS)), gaps, fmt="delta_num"))
    blocks.append(TableBlock("plan", ctx.w("plan_block"), [
        ColumnSpec("weekday", ctx.w("weekday"), "text"), ColumnSpec("hour", ctx.w("hour"), "int"),
        ColumnSpec("arrivals", ctx.w("arrivals"), "score"), ColumnSpec("aht", ctx.w("aht_s"), "sec"),
        ColumnSpec("needed", ctx.w("needed"), "int"), ColumnSpec("working", ctx.w("working"), "score"),
        ColumnSpec("gap", ctx.w("gap_agents"), "delta_num")],
        [[days[p.weekday], p.hour, p.arrivals, p.aht, p.needed, p.working, p.gap] for p in plan]))
    return SheetModel("staffing", sheet_name("staffing", ctx.lang), ctx.w("staffing_title"), blocks,
                      freeze_table="plan")


def verdict_text(ctx: Context, c) -> str:
    """显著改善 / 无显著变化 / 显著恶化, or why there is no verdict."""
    if c.verdict != "not_judged":
        return ctx.w(f"verdict_{c.verdict}")
    why = ctx.w(f"why_{c.why}").format(n=max(2, ctx.settings.compare_min_records))
    return ctx.w("verdict_not_judged").format(why=why)


def _window_text(window) -> str | None:
    return None if window is None else f"{window.start:%Y-%m-%d} – {window.end:%Y-%m-%d}"


def compare_blocks(ctx: Context, key: str, rows: list) -> list:
    """One table per metric (each column keeps the metric's format) and its before/after bars."""
    fmt, label = metric_fmt(key), ctx.label(key)
    change_fmt = delta_fmt(key) if fmt != "count" else "delta_num"
    name = f"compare_{key}"
    table = TableBlock(name, ctx.w("compare_block").format(label=label), [
        ColumnSpec("measure", ctx.w("measure"), "text"), ColumnSpec("effective", ctx.w("effective"), "date"),
        ColumnSpec("scope", ctx.w("scope"), "text"), ColumnSpec("days", ctx.w("window_days"), "int"),
        ColumnSpec("before", ctx.w("before"), fmt), ColumnSpec("after", ctx.w("after"), fmt),
        ColumnSpec("change", ctx.w("change"), change_fmt), ColumnSpec("relative", ctx.w("relative"), "growth"),
        ColumnSpec("low", ctx.w("ci_low"), change_fmt), ColumnSpec("high", ctx.w("ci_high"), change_fmt),
        ColumnSpec("verdict", ctx.w("verdict"), "text"), ColumnSpec("records", ctx.w("records_ba"), "text"),
        ColumnSpec("before_window", ctx.w("before_window"), "text"),
        ColumnSpec("after_window", ctx.w("after_window"), "text"),
        ColumnSpec("param_row", ctx.w("param_row"), "int")],
        [[c.measure, c.effective, params.scope_text(c.scope.items(), ctx.lang) or ctx.w("all_records"), c.days or None,
          c.before and c.before.value, c.after and c.after.value, c.change, c.relative, c.low, c.high,
          verdict_text(ctx, c), None if c.before is None else
          f"{number_text(c.before.records, 'count')} / {number_text(c.after.records, 'count')}",
          _window_text(c.before), _window_text(c.after), c.row] for c in rows])
    # below its table: the table is wide (windows, records and the 参数 row sit at its right end)
    chart = ChartSpec("col", ctx.w("compare_chart").format(label=label), name, "measure", ["before", "after"],
                      anchor="below")
    return [table, chart] if any(c.before is not None for c in rows) else [table]


def build_compare(ctx: Context) -> SheetModel:
    """优化前后: each 优化记录 row of 参数 — both windows' values, the change, its interval and the verdict."""
    s = ctx.settings
    note = ctx.w("compare_note").format(days=s.compare_window_days, resamples=s.compare_resamples,
                                        confidence=confidence_text(s.compare_confidence),
                                        records=s.compare_min_records)
    blocks: list = [TextBlock([note])]
    result = ctx.result("compare")
    if not result:
        blocks.append(TextBlock([ctx.w("no_changes")], "alert"))
    else:
        lines = [sentence_of(ctx, f) for f in compare.findings(result, s)]
        if lines:
            blocks.append(TextBlock(lines, "body"))
        for key in dict.fromkeys(c.metric for c in result):
            blocks += compare_blocks(ctx, key, [c for c in result if c.metric == key])
    return SheetModel("compare", sheet_name("compare", ctx.lang), ctx.w("compare_title"), blocks)
def cause_text(ctx: Context, ranking, cause) -> str:
    """A cause as the sheet shows it: the default classes (流程/人员/工具) in English in an English report."""
    return FEEDBACK_CLASS_EN.get(cause, cause) if ctx.lang == "en" and ranking.by == "feedback_class" else cause


def pareto_table(ctx: Context, ranking, line: float) -> TableBlock:
    """One ranking: causes by count with share, cumulative share, the line and the vital few."""
    note = " ".join(filter(None, [
        ctx.w(f"pareto_without_{ranking.by}").format(n=number_text(ranking.without, "count")) if ranking.without else "",
        ctx.w("pareto_unclassified").format(n=number_text(ranking.unclassified, "count"))
        if ranking.unclassified else ""]))
    return TableBlock(f"pareto_{ranking.by}", ctx.w(f"pareto_by_{ranking.by}"), [
        ColumnSpec("rank", ctx.w("rank_no"), "int"), ColumnSpec("cause", ctx.w("cause"), "text"),
        ColumnSpec("count", ctx.w("count"), "count"), ColumnSpec("share", ctx.w("share"), "pct"),
        ColumnSpec("cumulative", ctx.w("cumulative"), "pct"),
        ColumnSpec("line", ctx.w("pareto_line_col").format(line=number_text(line, "pct")), "pct"),
        ColumnSpec("vital", ctx.w("vital"), "text")],
        [[i, cause_text(ctx, ranking, c.cause), c.count, c.share, c.cumulative, line, "✓" if c.vital else None]
         for i, c in enumerate(ranking.causes, 1)], note)


def build_pareto(ctx: Context) -> SheetModel:
    """帕累托: the leading causes as sentences, then each ranking with its bar + cumulative-line chart."""
    result = ctx.result("pareto")
    share = result["over"] / result["tickets"] if result["tickets"] else None
    rule = ctx.w("pareto_rule").format(tickets=number_text(result["tickets"], "count"),
                                       over=number_text(result["over"], "count"),
                                       frt_over=number_text(result["frt_over"], "count"),
                                       late=number_text(result["late"], "count"),
                                       line=number_text(result["line"], "pct"), share=number_text(share, "pct"))
    blocks: list = [TextBlock([rule])]
    if not result["rankings"]:  # none over target, or over-target tickets without a cause column
        blocks.append(TextBlock([ctx.w("no_over" if not result["over"] else "no_causes")]))
    else:
        blocks += [TextBlock([ctx.w("pareto_findings_block")], "heading"),
                   TextBlock([sentence_of(ctx, f) for f in pareto.findings(result, ctx.settings)], "alert")]
    for ranking in result["rankings"]:
        table = pareto_table(ctx, ranking, result["line"])
        blocks.append(table)
        blocks.append(ChartSpec("pareto", ctx.w("pareto_chart").format(by=ctx.w(f"pareto_noun_{ranking.by}")),
                                table.name, "cause", ["count", "cumulative", "line"]))
    return SheetModel("pareto", sheet_name("pareto", ctx.lang), ctx.w("pareto_title"), blocks)


def segment_table(ctx: Context, key: str, gaps: list) -> TableBlock:
    """One metric's gaps (each column keeps one format): segment, records, both values, the test."""
    fmt = metric_fmt(key)
    return TableBlock(f"seg_{key}", ctx.label(key), [
        ColumnSpec("dim", ctx.w("dimension"), "text"), ColumnSpec("value", ctx.w("dim_value"), "text"),
        ColumnSpec("n", ctx.w("n_group"), "count"), ColumnSpec("n_rest", ctx.w("n_rest"), "count"),
        ColumnSpec("group", ctx.w("group_value"), fmt), ColumnSpec("rest", ctx.w("rest_value"), fmt),
        ColumnSpec("difference", ctx.w("difference"), GAP_FORMATS.get(fmt, "delta_num")),
        ColumnSpec("test", ctx.w("test"), "text"), ColumnSpec("p", ctx.w("p_value"), "p"),
        ColumnSpec("effect", ctx.w("effect"), "effect"), ColumnSpec("flagged", ctx.w("flagged"), "text")],
        [[dim_text(g.dim, ctx.lang), str(g.value), g.n, g.n_rest, g.group, g.rest, g.difference, ctx.w(g.test),
          g.p, g.effect, ctx.w("flag_yes") if g.flagged else None] for g in gaps])


def build_segments(ctx: Context) -> SheetModel:
    """客群差异: the flagged gaps as sentences, then every test, one table per metric."""
    s = ctx.settings
    gaps = ctx.result("segments")
    rule = ctx.w("segments_rule").format(alpha=f"{s.segment_alpha:g}", effect=f"{s.segment_min_effect:g}",
                                         records=s.segment_min_records)
    blocks: list = [TextBlock([rule])]
    if not any(ctx.figures.has("tickets", d) for d in s.segment_columns):
        dims = ctx.w("list_sep").join(dim_text(d, ctx.lang) for d in s.segment_columns)
        blocks.append(TextBlock([ctx.w("no_segment_dims").format(dims=dims)]))
        return SheetModel("segments", sheet_name("segments", ctx.lang), ctx.w("segments_title"), blocks)
    lines = [sentence_of(ctx, f) for f in segments.findings(gaps, s)]
    blocks += [TextBlock([ctx.w("segment_flagged_block")], "heading"),
               TextBlock(lines or [ctx.w("no_segment_gaps")], "alert" if lines else "note")]
    for key in segments.KEYS:
        rows = [g for g in gaps if g.metric == key]
        if rows:
            blocks.append(segment_table(ctx, key, rows))
            blocks.append(ChartSpec("bar", ctx.w("segment_chart").format(label=ctx.label(key)), f"seg_{key}",
                                    "value", ["group", "rest"]))
    return SheetModel("segments", sheet_name("segments", ctx.lang), ctx.w("segments_title"), blocks)


def agent_trend_blocks(ctx: Context) -> list:
    """按客服's agent trends (seed 000): streaks at the top, and moves against their own baseline."""
    names = ctx.names()
    streaks = ctx.result("trends")["agent_streaks"]
    blocks: list = [TextBlock([ctx.w("agent_trends_block")], "heading"),
                    TextBlock([rule_text(ctx, "rule_streak"), rule_text(ctx, "rule_shift")])]
    if streaks:
        blocks.append(TableBlock("streaks", ctx.w("streak_block"), [
            ColumnSpec("agent_id", ctx.w("agent_id"), "text"), ColumnSpec("agent_name", ctx.w("agent_name"), "text"),
            ColumnSpec("metric", ctx.w("metric"), "text"), ColumnSpec("months", ctx.w("months"), "text"),
            ColumnSpec("n", ctx.w("count"), "int"), ColumnSpec("last", ctx.w("last_value"), "pct")],
            [[st.agent, names.get(st.agent), ctx.label(st.key), f"{st.months[0]} → {st.months[-1]}", len(st.months),
              st.values[-1]] for st in streaks]))
    blocks += shift_blocks(ctx, ctx.result("trends")["agent_shifts"], "agent_shift")
    return blocks if len(blocks) > 2 else blocks + [TextBlock([ctx.w("no_alert_rows")])]


def sentence_of(ctx: Context, finding: Finding) -> str:
    from .narrative import sentence
    return sentence(finding, ctx.lang, ctx.settings, ctx.names()) or finding.code


def overview(ctx: Context) -> Overview:
    start, end = _period_bounds(ctx)
    return Overview(start, end, *ctx.figures.counts("scoped").values())


def analysis_paragraphs(ctx: Context):
    """The written report of this data set (the same paragraphs ``cs-xl report`` writes)."""
    return paragraphs(all_findings(ctx), kpi_cards(ctx), overview(ctx), ctx.settings, ctx.lang,
                      ctx.names())


def build_analysis(ctx: Context) -> SheetModel:
    """分析报告: what went wrong, where, and what to do — each sentence names its evidence sheet."""
    style = {"heading": "heading", "text": "body", "item": "item"}
    blocks = [TextBlock([p.text], style[p.style]) for p in analysis_paragraphs(ctx)]
    return SheetModel("analysis", sheet_name("analysis", ctx.lang), ctx.w("analysis_title"), blocks)


BUILDERS: dict[str, Callable[[Context], SheetModel]] = {
    "summary": build_summary, "analysis": build_analysis, "agents": build_agents, "breakdowns": build_breakdowns,
    "trends": build_trends, "load": build_load, "alerts": build_alerts, "staffing": build_staffing,
    "compare": build_compare, "pareto": build_pareto, "segments": build_segments, "quality": build_quality,
}


def build_report(ds: DataSet, settings: Settings | None = None, lang: str | None = None,
                 scoped: DataSet | None = None, on_sheet: Callable[[str], None] | None = None,
                 today: dt.date | None = None) -> Report:
    """The whole report.  ``ds`` is the data set as loaded; ``scoped`` its part
    inside the settings' period and scope (computed here when not given).
    ``on_sheet(name)`` is called before each sheet is built (progress).
    ``today`` (数据截至) defaults to today's date in the settings' timezone."""
    settings = settings or Settings()
    lang = lang or settings.lang or detect_lang(ds)
    scoped = scoped if scoped is not None else kpis.apply_scope(ds, settings)
    return build_report_of(DataSetFigures(ds, scoped, settings), settings, lang, on_sheet, today)


def build_report_of(figures, settings: Settings, lang: str, on_sheet: Callable[[str], None] | None = None,
                    today: dt.date | None = None) -> Report:
    """The whole report from a figures object (:mod:`.figures`): a data set's, or a SQL history's."""
    ctx = Context(figures, settings, lang, figures.headline(), today or settings.today())
    sheets = []
    for key, build in BUILDERS.items():
        if on_sheet:
            on_sheet(sheet_name(key, lang))
        sheets.append(build(ctx))
    return Report(lang, sheets)
