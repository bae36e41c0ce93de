"""Each metric of :mod:`cs_xl.metrics` as SQL aggregates: the arithmetic the
SQL engines (:mod:`cs_xl.backends`) run over a table far larger than a sheet.

The registry (:mod:`cs_xl.catalogue`) names, per metric, its pandas function
*and* its form here, side by side; a parity test per metric keeps the two
equal on dirty random data.  A *form* is built for a table's shape (which
canonical columns it has) and the settings, and says

* ``parts``: aggregate expressions over the table's cleaned rows (one
  ``SELECT … GROUP BY`` per table computes the parts of every metric);
* ``windows``: whole queries for what needs a window or a second grouping
  (7-day repeats, the queue's peak, weekday × hour slots), one row list per group;
* ``finish(parts, ctx)``: the few Python operations that turn the parts into
  the value — the same divisions the pandas functions do, so the results
  agree to the last bit where the inputs do; composite metrics read others
  through ``ctx.value`` (like :class:`cs_xl.catalogue.Records`).

Cleaned rows (see :mod:`cs_xl.backends.sql`) hold numbers as DOUBLE (NULL =
blank or invalid), flags as BOOLEAN, priorities as INTEGER 1..4, text as
VARCHAR, dates as DATE and moments as TIMESTAMP; ``_g`` is the group label.
What differs between SQL engines (percentiles, day differences …) is asked
of the :class:`Dialect`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from . import metrics, schema
from .coerce import norm_text, priority as parse_priority

GROUP = "_g"  # the group label column of a cleaned, grouped relation


class Dialect(Protocol):
    """The few SQL spellings that differ between engines."""
    def num(self, value: float) -> str: ...                       # an exact DOUBLE literal
    def text(self, value: str) -> str: ...                        # a string literal
    def quantile(self, expr: str, p: float) -> str: ...           # PERCENTILE.INC (linear interpolation)
    def quantiles(self, expr: str, ps: str) -> str: ...           # the same at each of a list literal's fractions
    def days_between(self, earlier: str, later: str) -> str: ...  # whole days from DATE to DATE
    def epoch_ms(self, moment: str) -> str: ...
    def round_even(self, expr: str) -> str: ...                   # numpy's round half to even
    def weekday(self, moment: str) -> str: ...                    # 0 = Monday
    def hour(self, moment: str) -> str: ...


class Shape(Protocol):
    """What a form knows of the table it is built for."""
    def has(self, key: str) -> bool: ...
    def labels(self, key: str, keep: Callable[[Any], bool]) -> list: ...  # distinct values of a column kept by ``keep``


@dataclass(frozen=True)
class Form:
    parts: dict[str, str] = field(default_factory=dict)
    windows: dict[str, Callable[[str, Dialect], str]] = field(default_factory=dict)
    finish: Callable[[dict, Any], float] = lambda parts, ctx: math.nan
    # a share of records: (met, counted) — the conditions of its numerator and denominator, so
    # a record it counts as missed is ``counted AND NOT met`` (帕累托's over-target records)
    conditions: tuple[str, str] | None = None
    # a mean or percentile (``p``) of records: the per-record expression whose non-NULL values it
    # aggregates (优化前后's bootstrap resamples them)
    values: str | None = None
    p: float | None = None

    def missed(self) -> str | None:
        """The records a share counts and that do not meet it (None: not a share)."""
        return None if self.conditions is None else f"({self.conditions[1]}) AND NOT coalesce(({self.conditions[0]}), FALSE)"


# ------------------------------------------------------------------ SQL pieces

def count_if(condition: str) -> str:
    return f"count(CASE WHEN {condition} THEN 1 END)"


def is_true(flag: str) -> str:
    """Yes; a blank (NULL) flag is not yes."""
    return f"coalesce({flag}, FALSE)"


def is_false(flag: str) -> str:
    return f"coalesce(NOT {flag}, FALSE)"


def holds(condition: str) -> str:
    """A comparison with NULL (a blank value) is false, as a NaN comparison in numpy."""
    return f"coalesce({condition}, FALSE)"


def at_most(d: Dialect, x: str, limit: float) -> str:
    """x ≤ limit, ties within metrics.TIE_TOLERANCE met (the limit is widened in Python, like numpy does)."""
    return holds(f"{x} <= {d.num(float(limit) + metrics.TIE_TOLERANCE)}")


def share(numerator: str, denominator: str) -> Form:
    """count(numerator ∧ denominator) / count(denominator) (metrics._share)."""
    return Form({"n": count_if(f"({numerator}) AND ({denominator})"), "d": count_if(denominator)},
                finish=lambda p, ctx: p["n"] / p["d"] if p["d"] else math.nan, conditions=(numerator, denominator))


def mean(expr: str) -> Form:
    """Mean of the non-NULL values; NULL (nan) when there are none."""
    return Form({"v": f"avg({expr})"}, finish=lambda p, ctx: _float(p["v"]), values=expr)


class Quantile(str):
    """A percentile part: its SQL, plus the column and fraction, so an engine can compute every
    percentile of one column in one aggregate (``quantile_cont(x, [0.5, 0.9])``, one sort)."""
    expr: str
    p: float

    def __new__(cls, d: Dialect, expr: str, p: float) -> "Quantile":
        part = super().__new__(cls, d.quantile(expr, p))
        part.expr, part.p = expr, p
        return part


def quantile(d: Dialect, expr: str, p: float) -> Form:
    return Form({"v": Quantile(d, expr, p)}, finish=lambda parts, ctx: _float(parts["v"]), values=expr, p=p)


def _float(value) -> float:
    return math.nan if value is None else float(value)


def _limit_by_level(d: Dialect, shape: Shape, table, default_table, default_priority, name: str) -> str:
    """Per row: its priority's limit + tie tolerance; blank/unknown levels use the default level's."""
    lookup = metrics._level_table(table, default_table, name)
    default_level, _ = parse_priority(default_priority)
    if default_level is None or math.isnan(lookup[default_level]):
        raise ValueError(f"{name} has no entry for the default priority level {default_priority!r}")
    tolerance = metrics.TIE_TOLERANCE
    fallback = d.num(float(lookup[default_level]) + tolerance)
    if not shape.has("priority"):
        return fallback
    cases = " ".join(f"WHEN {level} THEN {d.num(float(lookup[level]) + tolerance)}"
                     for level in range(1, 5) if not math.isnan(lookup[level]))
    return f"CASE priority {cases} ELSE {fallback} END"


def _resolved(d: Dialect, shape: Shape) -> str:
    """metrics.is_resolved: a status (resolved labels, width- and case-insensitive), else a resolution time."""
    by_time = "resolve_min IS NOT NULL" if shape.has("resolve_min") else "FALSE"
    if not shape.has("status"):
        return f"({by_time})"
    labels = shape.labels("status", lambda v: norm_text(v).casefold() in metrics._RESOLVED)
    listed = f"status IN ({', '.join(d.text(v) for v in labels)})" if labels else "FALSE"
    return f"(CASE WHEN status IS NOT NULL THEN {listed} ELSE {by_time} END)"


def _queued(shape: Shape) -> str:
    """Calls that asked for an agent: every call not self-served in the IVR."""
    return f"NOT {is_true('ivr_selfserved')}" if shape.has("ivr_selfserved") else "TRUE"


def _in_scale(column: str, low: float, high: float) -> str:
    return holds(f"{column} BETWEEN {low} AND {high}")


# ------------------------------------------------------------------ tickets
# Each builder: (metric, shape, settings, dialect) → Form, or None where the
# metric is undefined for the table's columns (its value is then nan).  The
# engine checks a metric's ``needs`` first, except for composite metrics (a
# ``rule``), whose builder decides what a missing column means, as the rule does.

def volume(m, shape: Shape, s, d: Dialect) -> Form:
    """Distinct ids plus rows without one; without an id column every row (catalogue._volume).
    The cleaned rows hold one record per id (the loader's dedupe, done in SQL), so that is every
    row of the group: no distinct count (a hash of every id) is needed."""
    return Form(finish=lambda p, ctx: float(ctx.rows("tickets")))


def _limit_by_channel(d: Dialect, shape: Shape, channel_limits, fallback: str, stricter: bool = False) -> str:
    """Per row: its channel class's FRT target + tie tolerance (or the stricter of that and
    ``fallback``) where its 渠道 is a chat, phone or e-mail channel, else ``fallback``
    (metrics._channel_row_limits)."""
    if not shape.has("channel"):
        return fallback
    cases = []
    for cls, minutes in metrics._channel_targets(channel_limits).items():
        labels = shape.labels("channel", lambda v, cls=cls: schema.channel_class(v) == cls)
        if labels:
            limit = d.num(float(minutes) + metrics.TIE_TOLERANCE)
            value = f"least({fallback}, {limit})" if stricter else limit
            cases.append(f"WHEN channel IN ({', '.join(d.text(v) for v in labels)}) THEN {value}")
    return f"(CASE {' '.join(cases)} ELSE {fallback} END)" if cases else fallback


def frt_rate(m, shape, s, d) -> Form:
    a = m.arguments(s)
    fallback = d.num(float(a["threshold"]) + metrics.TIE_TOLERANCE)
    limit = _limit_by_channel(d, shape, a["channel_limits"], fallback)
    return share(holds(f"frt_min <= {limit}"), "frt_min IS NOT NULL")


def mean_of_input(m, shape, s, d) -> Form:
    return mean(m.inputs[0])


def median_of_input(m, shape, s, d) -> Form:
    return quantile(d, m.inputs[0], 0.5)


def p90_of_input(m, shape, s, d) -> Form:
    return quantile(d, m.inputs[0], 0.9)


def handle_avg(m, shape, s, d) -> Form:
    return mean("frt_min + resolve_min")  # NULL + x = NULL drops half-filled rows


def sla_rate(m, shape, s, d) -> Form:
    a = m.arguments(s)
    limit = _limit_by_level(d, shape, a["sla"], schema.DEFAULT_SLA_MIN, a["default_priority"], "sla")
    limit = _limit_by_channel(d, shape, a["channel_limits"], limit, stricter=True)
    return share(holds(f"frt_min <= {limit}"), "frt_min IS NOT NULL")


def online_reply_rate(m, shape, s, d) -> Form:
    """Conversations with a human reply ÷ conversations with a reply count, chat channels only
    when there is a 渠道 column (metrics.online_reply_rate)."""
    online = "TRUE"
    if shape.has("channel"):
        labels = shape.labels("channel", lambda v: schema.channel_class(v) == "chat")
        online = f"channel IN ({', '.join(d.text(v) for v in labels)})" if labels else "FALSE"
    return share(holds("replies >= 1"), f"replies IS NOT NULL AND {holds(online)}")


def resolution_rate(m, shape, s, d) -> Form:
    return share(_resolved(d, shape), "TRUE")


def ontime_rate(m, shape, s, d) -> Form:
    a = m.arguments(s)
    limit = _limit_by_level(d, shape, a["deadlines"], schema.DEFAULT_RESOLVE_DEADLINE_MIN,
                            a["default_priority"], "deadlines")
    return share(holds(f"resolve_min <= {limit}"), f"{_resolved(d, shape)} AND resolve_min IS NOT NULL")


def backlog(m, shape, s, d) -> Form:
    return Form({"n": count_if(f"NOT {_resolved(d, shape)}")}, finish=lambda p, ctx: float(p["n"]))


def fcr_rate(m, shape, s, d) -> Form:
    """The 一次解决 flag where filled, else one contact without transfer or reopening (metrics.fcr_rate)."""
    escalated = " OR ".join(is_true(c) for c in ("transferred", "reopened") if shape.has(c)) or "FALSE"
    by_count = (f"CASE WHEN contacts IS NULL THEN NULL ELSE (contacts = 1 AND NOT ({escalated})) END"
                if shape.has("contacts") else "NULL")
    by_flag = "first_contact_resolved" if shape.has("first_contact_resolved") else "NULL"
    first = f"coalesce({by_flag}, {by_count})"
    resolved = _resolved(d, shape) if shape.has("status") or shape.has("resolve_min") else "TRUE"
    return share(is_true(first), f"{resolved} AND {first} IS NOT NULL")


# ------------------------------------------------------------------ feedback

def scale_mean(m, shape, s, d) -> Form:
    """Mean of 1..5 scores (off-scale values ignored)."""
    column = m.inputs[0]
    return mean(f"CASE WHEN {_in_scale(column, 1, 5)} THEN {column} END")


def csat_rate(m, shape, s, d) -> Form:
    return share(holds("rating >= 4"), _in_scale("rating", 1, 5))


def satisfied_rate(m, shape, s, d) -> Form:
    return share(is_true("satisfied"), "satisfied IS NOT NULL")


def survey_rate(m, shape, s, d) -> Form | None:
    """Ratings against the ticket volume (catalogue._survey_rate)."""
    if not shape.has("rating"):
        return None
    def finish(p, ctx):
        volume = ctx.value("volume")
        return math.nan if math.isnan(volume) or volume == 0 else p["n"] / volume
    return Form({"n": count_if(_in_scale("rating", 1, 5))}, finish=finish)


def nps(m, shape, s, d) -> Form:
    def finish(p, ctx):
        if not p["n"]:
            return math.nan
        return 100.0 * (p["promoters"] / p["n"] - p["detractors"] / p["n"])
    return Form({"n": count_if(_in_scale("nps", 0, 10)), "promoters": count_if(_in_scale("nps", 9, 10)),
                 "detractors": count_if(_in_scale("nps", 0, 6))}, finish=finish)


def complaint_rate(m, shape, s, d) -> Form | None:
    """Complaints per ticket; without tickets per feedback record (catalogue._complaint_rate)."""
    if not shape.has("complaint"):
        return None
    def finish(p, ctx):
        volume = ctx.value("volume")
        total = float(ctx.rows("feedback")) if math.isnan(volume) else volume
        return p["n"] / total if total else math.nan
    return Form({"n": count_if(is_true("complaint"))}, finish=finish)


def repeat_complaint_rate(m, shape, s, d) -> Form | None:
    """Complaining customers with another complaint within N days ÷ complaining customers:
    by dates (a window over each customer's complaint days), else by repeat counts."""
    if not shape.has("date") and not shape.has("repeat_7d"):
        return None
    complaint = is_true("complaint") if shape.has("complaint") else "TRUE"
    finish = lambda p, ctx: p["repeaters"] / p["customers"] if p["customers"] else math.nan  # noqa: E731
    if not shape.has("date"):
        return Form({"customers": f"count(DISTINCT CASE WHEN {complaint} THEN customer_id END)",
                     "repeaters": "count(DISTINCT CASE WHEN {c} AND coalesce(repeat_7d, 0) > 0 "
                                  "THEN customer_id END)".format(c=complaint)}, finish=finish)
    window = d.num(float(m.arguments(s)["days"]))

    def repeats(source: str, dialect: Dialect) -> str:
        gap = dialect.days_between(f"lag(date) OVER (PARTITION BY {GROUP}, customer_id ORDER BY date)", "date")
        return (f"SELECT {GROUP}, count(DISTINCT customer_id), "
                f"count(DISTINCT CASE WHEN {holds(f'gap <= {window}')} THEN customer_id END) "
                f"FROM (SELECT {GROUP}, customer_id, {gap} AS gap FROM {source} "
                f"WHERE customer_id IS NOT NULL AND date IS NOT NULL AND {complaint}) AS dated GROUP BY {GROUP}")

    def finish_dated(p, ctx):
        (customers, repeaters), = p["repeats"] or [(0, 0)]
        return repeaters / customers if customers else math.nan
    return Form(windows={"repeats": repeats}, finish=finish_dated)


# ------------------------------------------------------------------ calls

def offered(m, shape, s, d) -> Form:
    return Form(finish=lambda p, ctx: float(ctx.rows("calls")))


def queued(m, shape, s, d) -> Form:
    """Without an IVR column every offered call queued (catalogue._queued)."""
    if not shape.has("ivr_selfserved"):
        return Form(finish=lambda p, ctx: ctx.value("offered"))
    return Form({"n": count_if(_queued(shape))}, finish=lambda p, ctx: float(p["n"]))


def answer_rate(m, shape, s, d) -> Form:
    return share(is_true("answered"), f"{_queued(shape)} AND answered IS NOT NULL")


def abandon_rate(m, shape, s, d) -> Form:
    calls = f"{_queued(shape)} AND answered IS NOT NULL"
    short = m.arguments(s)["short_abandon_s"]
    if short is not None and shape.has("wait_s"):
        below = holds(f"wait_s < {d.num(float(short) - metrics.TIE_TOLERANCE)}")
        calls += f" AND NOT ({is_false('answered')} AND {below})"
    return share(is_false("answered"), calls)


def asa(m, shape, s, d) -> Form:
    return mean(f"CASE WHEN {is_true('answered')} THEN wait_s END")


def avg_wait(m, shape, s, d) -> Form:
    return mean(f"CASE WHEN {_queued(shape)} THEN wait_s END")


def service_level(m, shape, s, d) -> Form:
    """Answered within X s ÷ queued; answered calls without a wait cannot be classified."""
    calls = f"{_queued(shape)} AND answered IS NOT NULL AND NOT ({is_true('answered')} AND wait_s IS NULL)"
    return share(f"{is_true('answered')} AND {at_most(d, 'wait_s', m.arguments(s)['seconds'])}", calls)


def aht(m, shape, s, d) -> Form:
    """Talk + hold + wrap-up (missing parts 0) of answered calls, added in the pandas order."""
    total = "talk_s" + "".join(f" + coalesce({part}, 0)" for part in ("hold_s", "wrap_s") if shape.has(part))
    return mean(f"CASE WHEN {is_true('answered')} THEN {total} END")


def ivr_rate(m, shape, s, d) -> Form:
    return share(is_true("ivr_selfserved"), "TRUE")


def queue_levels(queued_: str, source: str, d: Dialect) -> str:
    """Rows (group, t in epoch ms, step, level) of the queue reconstructed from call start + wait:
    +1 at each join, −1 at each leave, the level a running sum ordered by time with leaves first
    at equal times (metrics.queue_at_joins)."""
    stays = (f"SELECT {GROUP}, {d.epoch_ms('start')} AS t0, "
             f"CAST({d.round_even('wait_s * 1000')} AS BIGINT) AS dur FROM {source} "
             f"WHERE {queued_} AND start IS NOT NULL AND wait_s IS NOT NULL")
    events = (f"SELECT {GROUP}, t0 AS t, 1 AS step FROM stays "
              f"UNION ALL SELECT {GROUP}, t0 + dur AS t, -1 AS step FROM stays")
    level = f"sum(step) OVER (PARTITION BY {GROUP} ORDER BY t, step ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
    return (f"WITH stays AS ({stays}), events AS ({events}) "
            f"SELECT {GROUP}, t, step, {level} AS level FROM events")


def peak_queue(m, shape, s, d) -> Form:
    """Most queued calls waiting at one moment (metrics.peak_queue): the top of :func:`queue_levels`."""
    queued_ = _queued(shape)

    def peak(source: str, dialect: Dialect) -> str:
        return f"SELECT {GROUP}, max(level) FROM ({queue_levels(queued_, source, dialect)}) AS q GROUP BY {GROUP}"
    return Form(windows={"peak": peak}, finish=lambda p, ctx: float(p["peak"][0][0]) if p["peak"] else math.nan)


def slot_calls(queued_: str, source: str, d: Dialect) -> str:
    """(group, weekday, hour, queued calls) per weekday × hour slot (metrics.slot_arrivals' numerators)."""
    return (f"SELECT {GROUP}, {d.weekday('start')} AS wd, {d.hour('start')} AS hr, count(*) "
            f"FROM {source} WHERE {queued_} GROUP BY {GROUP}, {d.weekday('start')}, {d.hour('start')}")


def weekday_days(queued_: str, source: str, d: Dialect) -> str:
    """(group, weekday, days of that weekday with a queued call): the slots' denominators."""
    day = "CAST(start AS DATE)"
    return (f"SELECT {GROUP}, {d.weekday(day)} AS wd, count(DISTINCT {day}) "
            f"FROM {source} WHERE {queued_} GROUP BY {GROUP}, {d.weekday(day)}")


def queued_calls(shape: Shape) -> str:
    """Calls that asked for an agent and have a start time (the staffing views count these)."""
    return f"{_queued(shape)} AND start IS NOT NULL"


def agents_needed(m, shape, s, d) -> Form | None:
    """Erlang C in Python (metrics.agents_needed) on two small SQL aggregates: queued calls per
    weekday × hour slot and days per weekday with any (metrics.peak_hourly_arrivals), and the AHT."""
    if not shape.has("start"):
        return None
    queued_ = queued_calls(shape)

    def slots(source: str, dialect: Dialect) -> str:
        return slot_calls(queued_, source, dialect)

    def days(source: str, dialect: Dialect) -> str:
        return weekday_days(queued_, source, dialect)

    def finish(p, ctx):
        aht_s = ctx.value("aht")
        per_weekday = {int(wd): n for wd, n in p["days"]}
        means = [calls / per_weekday[int(wd)] for wd, _hr, calls in p["slots"]]
        if math.isnan(aht_s) or not means:
            return math.nan
        return float(m.func(max(means), aht_s, **m.arguments(s)))
    return Form(windows={"slots": slots, "days": days}, finish=finish)
