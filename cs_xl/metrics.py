"""Pure, vectorised metric functions: one per key of SPEC §3.

Modelled on ``sklearn.metrics``: every function takes array-likes (lists,
numpy arrays, pandas Series, or raw Excel values such as ``"5分钟"``,
``"#N/A"``, ``"是"``, ``None``) and returns a Python ``float``.  Cells are
read by :mod:`cs_xl.coerce`, the same rules the loader uses, so a UDF over an
Excel range and a KPI over a loaded sheet agree.

Conventions shared by every function:

* *Valid* numbers are numeric, finite and ≥ 0; blanks, text that is not a
  number, negative values and Excel errors are ignored (the loader reports
  them; metrics never turn them into 0).
* No valid input → ``nan`` (Excel ``#N/A``, JSON ``null``), never 0.  Counts
  (volume, backlog, offered, queued) of no rows are 0.
* Columns passed together must have the same length (``ValueError``
  otherwise): they are rows of one table.
* Durations compared with a limit (FRT ≤ 3 min, wait ≤ 20 s …) treat values
  within ``TIE_TOLERANCE`` of the limit as equal to it, so a time computed
  from two timestamps (``(B2-A2)*1440`` = 3.0000000000000004) still meets a
  3-minute target: ties count as met.
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd

from cs_xl import coerce, schema

# Absolute slack (in the column's unit: minutes or seconds) when comparing a
# duration with a limit.  Float noise of a difference of two Excel date
# serials is ~1e-6 s; nothing real is measured to 10 µs.
TIE_TOLERANCE = 1e-5

_RESOLVED = frozenset(coerce.norm_text(s).casefold() for s in schema.RESOLVED_STATUSES)
_NUMERIC_KINDS = ("minutes", "seconds", "number", "count")


# ------------------------------------------------------------------ inputs

def _flat(values) -> Any:
    """Accept a Series, array, list, 2-D range (list of rows) or one scalar."""
    if isinstance(values, pd.Series):
        return values
    if isinstance(values, pd.DataFrame):  # a one-column range read by pandas
        return values.to_numpy(dtype=object).ravel()
    if isinstance(values, np.ndarray):
        return values.ravel()
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        return [values]  # a single cell, e.g. =CS_AVG(A1)
    out = []
    for item in values:
        if isinstance(item, (list, tuple, np.ndarray)):
            out.extend(item)  # a row of a 2-D Excel range
        else:
            out.append(item)
    return out


class Column:
    """A column of a loaded table, or the rows of one group of it: the typed
    fast path of the engine (:mod:`cs_xl.kpis`).

    A metric coerces its inputs through :func:`_coerced`; given a
    ``Column`` it coerces the *whole* table column once per kind, keeps the
    result, and hands each group its rows of it.  Coercion is cell by cell,
    so a group's values are exactly those of coercing the group's cells, and
    one metric definition serves both raw Excel ranges and loaded tables.
    """
    __slots__ = ("values", "positions", "loaded", "_typed", "_cut")

    def __init__(self, values, positions: np.ndarray | None = None, _typed: dict | None = None,
                 loaded: str | None = None):
        self.values = values          # the whole column, as loaded
        self.positions = positions    # the group's rows (None: every row)
        self.loaded = loaded          # the kind the loader typed it as (None: raw cells)
        self._typed = {} if _typed is None else _typed  # kind → coerced whole column, shared by groups
        self._cut: dict[str, np.ndarray] = {}  # kind → this group's rows of it

    def take(self, positions: np.ndarray) -> "Column":
        """The rows at ``positions`` (sharing the coerced columns)."""
        return Column(self.values, positions, self._typed, self.loaded)

    def __len__(self) -> int:
        return len(self.values) if self.positions is None else len(self.positions)

    def typed(self, kind: str) -> np.ndarray:
        whole = self._whole(kind)
        if self.positions is None:
            return whole
        cut = self._cut.get(kind)
        if cut is None:
            cut = self._cut[kind] = whole[self.positions]
            cut.setflags(write=False)  # shared by the metrics of the group
        return cut

    def _whole(self, kind: str) -> np.ndarray:
        """The whole column read as ``kind``, worked out once and shared by every group."""
        whole = self._typed.get(kind)
        if whole is None:
            if kind in _DERIVED:  # a per-row reading of another kind: derived from that kind's whole column
                base, derive = _DERIVED[kind]
                whole = derive(self._whole(base))
            else:
                whole = _as_loaded(self.values, self.loaded, kind) if self.loaded is not None else None
                whole = _coerced(self.values, kind) if whole is None else whole
            whole.setflags(write=False)  # shared by every group: no metric may write into it
            self._typed[kind] = whole
        return whole


def _as_loaded(values: pd.Series, loaded: str, kind: str) -> np.ndarray | None:
    """A loaded column read as ``kind`` without parsing again, where coercing it
    would return its values unchanged: the loader's text is already stripped
    text or blank, and a typed cell is present exactly when it is not blank.
    None: coerce as usual (typed columns have fast paths of their own)."""
    if kind == "present":
        return values.notna().to_numpy()
    if kind == "text" and loaded == "text" and values.dtype == object:
        return values.to_numpy(copy=True)  # a copy: the shared array is made read-only
    return None


def _coerced(values, kind: str) -> np.ndarray:
    if isinstance(values, Column):
        return values.typed(kind)
    if kind in _NUMERIC_KINDS:
        return coerce.numbers(_flat(values), kind)
    if kind == "flag":
        return coerce.flags(_flat(values))
    if kind == "priority":
        return coerce.priorities(_flat(values))
    if kind in ("date", "date_time"):
        parsed = coerce.coerce_values(_flat(values), "date" if kind == "date" else "datetime")[0]
        return parsed.to_numpy(dtype="datetime64[ns]")
    if kind == "text":
        return coerce.coerce_values(_flat(values), "text")[0].to_numpy(dtype=object)
    if kind == "present":
        return _presence(values)
    if kind in _DERIVED:
        base, derive = _DERIVED[kind]
        return derive(_coerced(values, base))
    raise ValueError(f"unknown column kind {kind!r}")


def _presence(values) -> np.ndarray:
    """True for non-blank cells (Excel errors count: the row is still a record)."""
    typed, problems = coerce.coerce_values(_flat(values), "text")
    present = typed.notna().to_numpy(copy=True)
    present[[pos for pos, _raw, _problem in problems]] = True
    return present


OPTIONAL = "optional"  # third element of an _inputs spec: None means "no such column"


def _inputs(**columns: tuple) -> dict[str, np.ndarray | None]:
    """Coerce each ``name=(values, kind)`` or ``name=(values, kind, OPTIONAL)``.

    An optional column given as ``None`` stays ``None``; a required one
    raises ``ValueError`` (a single blank cell is ``[None]``, not ``None``).

    Numeric kinds → float arrays (NaN = blank/invalid), ``flag`` → 1.0/0.0/NaN,
    ``priority`` → 1..4/NaN, ``date`` → datetime64 (NaT), ``text`` → object
    (None).  Raises ``ValueError`` naming the arguments when the given
    columns differ in length.
    """
    out = {}
    rows = None  # the length of the first column given; called per group and metric, so kept lean
    same = True
    for name, spec in columns.items():
        values = spec[0]
        if values is None:
            if len(spec) < 3:
                raise ValueError(f"{name} is required (got None)")
            out[name] = None
            continue
        out[name] = arr = _coerced(values, spec[1])
        if rows is None:
            rows = len(arr)
        elif len(arr) != rows:
            same = False
    if not same:
        detail = ", ".join(f"{name}={len(arr)}" for name, arr in out.items() if arr is not None)
        raise ValueError(f"columns must have the same number of rows: {detail}")
    return out


def _parameter(value, name: str, kind: str = "number") -> float:
    """A scalar argument (threshold, seconds, volume …) as a float ≥ 0.

    Text such as ``"3分钟"`` or ``"20秒"`` is read by the column's rules."""
    if value.__class__ in (int, float, str):  # the settings' values: parsed once, not per group
        parsed = _parsed_scalar(value.__class__, value, kind)
    else:
        parsed = coerce.PARSERS[kind](value)[0]
    if parsed is None:
        raise ValueError(f"{name} must be a number ≥ 0, got {value!r}")
    return float(parsed)


@functools.lru_cache(maxsize=256)
def _parsed_scalar(_cls: type, value, kind: str):
    """The parsed value of a plain scalar (its class is part of the key: True == 1 hash alike)."""
    return coerce.PARSERS[kind](value)[0]


def _level_table(table: Mapping | None, default: Mapping, name: str) -> np.ndarray:
    """Per-priority limits as a lookup array indexed by level 1..4 (NaN = missing).

    Keys may be 1, "一级", "L1", "P1" …; values minutes (``"5分钟"`` ok).
    A table is parsed once, not per call: the engine passes the same 参数
    table to every group."""
    items = tuple((default if table is None else table).items())
    try:
        return _level_lookup(items, name)
    except TypeError:  # an unhashable limit (a cell range from a formula): parse it every call
        return _level_lookup.__wrapped__(items, name)


@functools.lru_cache(maxsize=64)
def _level_lookup(items: tuple, name: str) -> np.ndarray:
    lookup = np.full(5, np.nan)
    for key, limit in items:
        level, _ = coerce.priority(key)
        if level is None:
            raise ValueError(f"{name}: unknown priority level {key!r}")
        lookup[level] = _parameter(limit, f"{name}[{key!r}]", "minutes")
    lookup.setflags(write=False)  # cached: shared by every caller
    return lookup


def _row_limits(levels: np.ndarray | None, n: int, lookup: np.ndarray,
                default_priority: int, name: str) -> np.ndarray:
    """Limit per row: its level's entry; blank/unknown levels and levels
    missing from the table use ``default_priority``'s entry."""
    default_level = _level_of(default_priority)
    if default_level is None:
        raise ValueError(f"default_priority must be a level 1..4, got {default_priority!r}")
    rows = np.full(n, lookup[default_level]) if levels is None else lookup[np.where(np.isnan(levels), 0, levels).astype(int)]
    rows = np.where(np.isnan(rows), lookup[default_level], rows)
    if np.isnan(rows).any():
        raise ValueError(f"{name} has no entry for the default priority level {default_level}")
    return rows


def _level_of(value) -> int | None:
    """A priority setting (3, "三级", "P3" …) as its level; parsed once per distinct value."""
    try:
        return _parsed_level(value.__class__, value)
    except TypeError:  # unhashable
        return coerce.priority(value)[0]


@functools.lru_cache(maxsize=64)
def _parsed_level(_cls: type, value) -> int | None:
    return coerce.priority(value)[0]


def _channel_targets(channel_limits: Mapping | None) -> dict[str, float]:
    """Class → minutes from a table keyed by class (chat/phone/email) or by a
    channel word of that class (在线, 电话, 邮件 …); blank limits are skipped.
    A table is parsed once, not per call (the engine passes the same 参数 table to every group)."""
    items = tuple((schema.DEFAULT_FRT_CHANNEL_MIN if channel_limits is None else channel_limits).items())
    try:
        return _channel_lookup(items)
    except TypeError:  # an unhashable limit (a cell range from a formula): parse it every call
        return _channel_lookup.__wrapped__(items)


@functools.lru_cache(maxsize=64)
def _channel_lookup(items: tuple) -> dict[str, float]:
    targets = {}
    for key, limit in items:
        cls = schema.channel_class(key)
        if cls is None:
            raise ValueError(f"channel_limits: {key!r} is not a channel class ({', '.join(schema.CHANNEL_CLASSES)})")
        if limit is not None and str(limit).strip() != "":
            targets[cls] = _parameter(limit, f"channel_limits[{key!r}]", "minutes")
    return targets


def _label_codes(labels: np.ndarray) -> np.ndarray:
    """Per row: a number standing for its text (equal texts, equal numbers; -1 for a blank), so that
    ids are counted and matched as integers.  Read once for a whole column, the numbers hold in every group.

    >>> _label_codes(np.array(["A", None, "B", "A"], dtype=object)).tolist()
    [0, -1, 1, 0]
    """
    return pd.factorize(labels)[0]


def _distinct(codes: np.ndarray) -> int:
    """How many different numbers ``codes`` holds (label codes of a group): sorting and counting the
    steps is several times faster than ``np.unique``'s hash for the 100k-row columns counted per group.

    >>> _distinct(np.array([3, 1, 3, 0, 1])), _distinct(np.array([], dtype=int))
    (3, 0)
    """
    if not codes.size:
        return 0
    ordered = np.sort(codes)
    return int(np.count_nonzero(ordered[1:] != ordered[:-1])) + 1


NO_CLASS = -1  # channel-class code of a blank 渠道 or one in no class


def _channel_class_codes(channels: np.ndarray) -> np.ndarray:
    """Per row: the index of its 渠道's class in ``schema.CHANNEL_CLASSES``
    (chat / phone / email), :data:`NO_CLASS` for none; each distinct value is classified once.

    >>> _channel_class_codes(np.array(["在线", None, "APP", "邮件", "在线"], dtype=object)).tolist()
    [0, -1, -1, 2, 0]
    """
    codes, distinct = pd.factorize(channels)  # blank → -1, which indexes the NO_CLASS appended last
    classes = [schema.channel_class(v) for v in distinct]
    per_value = np.array([schema.CHANNEL_CLASSES.index(c) if c else NO_CLASS for c in classes] + [NO_CLASS],
                         dtype=np.int8)
    return per_value[codes]


def _channel_row_limits(classes: np.ndarray | None, fallback: np.ndarray, channel_limits: Mapping | None,
                        combine=None) -> np.ndarray:
    """Per row: the target of its channel's class (``classes``: codes of
    :func:`_channel_class_codes`; ``combine``d with ``fallback`` when given),
    else ``fallback`` (channel blank or in no class)."""
    if classes is None:
        return fallback
    targets = _channel_targets(channel_limits)
    per_class = np.array([targets.get(c, np.nan) for c in schema.CHANNEL_CLASSES] + [np.nan])  # [-1]: no class
    by_row = per_class[classes]
    chosen = by_row if combine is None else combine(by_row, fallback)
    return np.where(np.isnan(by_row), fallback, chosen)


# ------------------------------------------------------------------ arithmetic

def _valid(x: np.ndarray) -> np.ndarray:
    return ~np.isnan(x)


def _is_true(flag_values: np.ndarray) -> np.ndarray:
    return flag_values == 1.0


def _is_false(flag_values: np.ndarray) -> np.ndarray:
    return flag_values == 0.0


def _at_most(x: np.ndarray, limit) -> np.ndarray:
    """x ≤ limit, ties (within TIE_TOLERANCE) included; NaN → False."""
    return x <= np.asarray(limit) + TIE_TOLERANCE


def _below(x: np.ndarray, limit) -> np.ndarray:
    """x < limit, values within TIE_TOLERANCE of the limit count as equal; NaN → False."""
    return x < np.asarray(limit) - TIE_TOLERANCE


def _in_range(x: np.ndarray, low: float, high: float) -> np.ndarray:
    return (x >= low) & (x <= high)


# ------------------------------------------------------------------ per-record samples

@dataclass(frozen=True)
class Sample:
    """The per-record values one metric aggregated, and how: ``share`` (1.0/0.0 per record of the
    denominator), ``mean`` or ``percentile`` (``p``) of the valid values.  :meth:`statistic` is the
    metric's own aggregation, so a value recomputed from (a resample of) the records is the metric's.

    >>> with sampling() as seen:
    ...     frt_rate([1, 5, None, 2], threshold=3)
    0.6666666666666666
    >>> seen[0].kind, seen[0].values.tolist(), seen[0].statistic(seen[0].values)
    ('share', [1.0, 0.0, 1.0], 0.6666666666666666)
    >>> seen[0].rows.tolist()  # which of the records given each value is (0.0: the one over target)
    [0, 1, 3]
    """
    kind: str                  # share | mean | percentile
    values: np.ndarray
    p: float | None = None
    rows: np.ndarray | None = None  # position of each value among the records the metric was given

    def statistic(self, values: np.ndarray) -> float:
        return _percentile_of(values, self.p) if self.kind == "percentile" else _mean_of(values)


_SAMPLES: contextvars.ContextVar[list | None] = contextvars.ContextVar("metric_samples", default=None)


@contextlib.contextmanager
def sampling():
    """Collect the :class:`Sample` of every share / mean / percentile aggregated inside the block
    (the before/after analysis reads a metric's records through this: one definition of its arithmetic)."""
    seen: list[Sample] = []
    token = _SAMPLES.set(seen)
    try:
        yield seen
    finally:
        _SAMPLES.reset(token)


def _seen(kind: str, values: np.ndarray, p: float | None = None, rows: np.ndarray | None = None) -> None:
    samples = _SAMPLES.get()
    if samples is not None:
        samples.append(Sample(kind, np.asarray(values, dtype=float), p, rows))


def _share(numerator: np.ndarray, denominator: np.ndarray) -> float:
    """count(numerator & denominator) / count(denominator); nan when the denominator is empty."""
    if _SAMPLES.get() is not None:  # the Pareto of records over target reads which records failed: rows
        _seen("share", numerator[denominator], rows=np.flatnonzero(denominator))
    total = int(np.count_nonzero(denominator))
    if total == 0:
        return float("nan")
    return int(np.count_nonzero(numerator & denominator)) / total


def _mean_of(x: np.ndarray) -> float:
    """Mean of the non-NaN entries; nan when there are none."""
    valid = _valid(x)
    x = x[valid]
    if _SAMPLES.get() is not None:
        _seen("mean", x, rows=np.flatnonzero(valid))
    return float(x.mean()) if x.size else float("nan")


def _percentile_of(x: np.ndarray, p: float) -> float:
    """PERCENTILE.INC of the non-NaN entries (see :func:`percentile_inc`)."""
    valid = _valid(x)
    order = np.argsort(x[valid], kind="stable")
    x = x[valid][order]
    if _SAMPLES.get() is not None:
        _seen("percentile", x, p, np.flatnonzero(valid)[order])
    if x.size == 0:
        return float("nan")
    rank = p * (x.size - 1)
    low = int(math.floor(rank))
    high = min(low + 1, x.size - 1)
    return float(x[low] + (x[high] - x[low]) * (rank - low))


def _fraction(p, name: str = "p") -> float:
    value = _parameter(p, name)
    if value > 1:
        raise ValueError(f"{name} must be between 0 and 1, got {p!r}")
    return value


# ------------------------------------------------------------------ statistics

def percentile_inc(values, p: float, kind: str = "number") -> float:
    """Excel ``PERCENTILE.INC``: sort the n valid values x₀ ≤ … ≤ xₙ₋₁,
    rank r = p·(n−1), result = x⌊r⌋ + (r−⌊r⌋)·(x⌊r⌋₊₁ − x⌊r⌋).

    ``p`` in [0, 1] (``ValueError`` otherwise).  Example: r = 0.9·3 = 2.7 →
    3 + 0.7·(4−3) = 3.7:

    >>> round(percentile_inc([1, 2, 3, 4], 0.9), 12)
    3.7
    """
    p = _fraction(p)
    return _percentile_of(_inputs(values=(values, kind))["values"], p)


def mean(values, kind: str = "number") -> float:
    """Σ valid / count(valid); text, blanks and negatives are not valid.

    >>> mean([1, "2", None, "x", -5])  # (1 + 2) / 2
    1.5
    """
    return _mean_of(_inputs(values=(values, kind))["values"])


def median(values, kind: str = "number") -> float:
    """PERCENTILE.INC at p = 0.5 (the middle value, or the mean of the two
    middle values).

    >>> median([1, 2, 10, 20])  # (2 + 10) / 2
    6.0
    """
    return percentile_inc(values, 0.5, kind)


# ------------------------------------------------------------------ tickets

def volume(ticket_id) -> float:
    """受理量 = count(distinct non-blank ids) + count(rows whose id is blank).

    Rows without an id cannot be deduplicated, so each is a ticket.

    >>> volume(["A", "A", "B", None])  # 2 distinct + 1 blank
    3.0
    """
    ids = _inputs(ticket_id=(ticket_id, "label"))["ticket_id"]
    known = ids[ids >= 0]
    return float(_distinct(known) + (len(ids) - len(known)))


def frt_rate(frt, threshold: float = 3.0, channel=None, channel_limits: Mapping | None = None) -> float:
    """首次响应达标率 = count(frt ≤ target) / count(valid frt); ties count as met.

    The target of a row is its channel's (``channel_limits``: class → minutes,
    default ``schema.DEFAULT_FRT_CHANNEL_MIN``: chat 1, phone 3, e-mail 240)
    when its 渠道 is a chat, phone or e-mail channel
    (:func:`cs_xl.schema.channel_class`), else ``threshold``.

    >>> frt_rate([1, 2, 3, 10, None, "x"], 3)  # {1, 2, 3} of {1, 2, 3, 10}
    0.75
    >>> frt_rate([0.5, 2, 2, 200], 3, ["在线", "在线", "APP", "邮件"])  # chat ≤ 1, APP ≤ 3, e-mail ≤ 240
    0.75
    """
    limit = _parameter(threshold, "threshold", "minutes")
    cols = _inputs(frt=(frt, "minutes"), channel=(channel, "channel_class", OPTIONAL))
    x = cols["frt"]
    limits = _channel_row_limits(cols["channel"], np.full(len(x), limit), channel_limits)
    return _share(_at_most(x, limits), _valid(x))


def frt_avg(frt) -> float:
    """Mean first-response minutes.

    >>> frt_avg(["2分钟", 4])  # (2 + 4) / 2
    3.0
    """
    return mean(frt, "minutes")


def frt_median(frt) -> float:
    """Median first-response minutes (PERCENTILE.INC at 0.5)."""
    return median(frt, "minutes")


def frt_p90(frt) -> float:
    """90th percentile of first-response minutes (PERCENTILE.INC at 0.9)."""
    return percentile_inc(frt, 0.9, "minutes")


def resolve_avg(resolve) -> float:
    """Mean resolution minutes (from first response to resolved)."""
    return mean(resolve, "minutes")


def resolve_median(resolve) -> float:
    """Median resolution minutes (PERCENTILE.INC at 0.5)."""
    return median(resolve, "minutes")


def resolve_p90(resolve) -> float:
    """90th percentile of resolution minutes (PERCENTILE.INC at 0.9)."""
    return percentile_inc(resolve, 0.9, "minutes")


def handle_avg(frt, resolve) -> float:
    """总处理时长 = mean(frt + resolve) over rows where both are valid.

    >>> handle_avg([1, 2, None], [10, None, 5])  # only row 1 has both: 1 + 10
    11.0
    """
    cols = _inputs(frt=(frt, "minutes"), resolve=(resolve, "minutes"))
    return _mean_of(cols["frt"] + cols["resolve"])  # NaN + x = NaN drops half-filled rows


def sla_rate(frt, priority=None, sla: Mapping | None = None, default_priority: int = 3,
             channel=None, channel_limits: Mapping | None = None) -> float:
    """响应时效达成率 = count(frt ≤ SLA(priority, channel)) / count(valid frt).

    ``sla`` maps level → minutes (default ``schema.DEFAULT_SLA_MIN``: 一级 5,
    二级 10, 三级/四级 30); keys may be 1 / "一级" / "L1" / "P1".  Rows whose
    priority is blank or unknown, or whose level is missing from ``sla``,
    use ``default_priority`` (三级).  Example: 4 ≤ 5 yes, 6 ≤ 5 no, 20 ≤ 30
    (三级) yes:

    >>> round(sla_rate([4, 6, 20], ["一级", "一级", None]), 4)
    0.6667

    With a 渠道 column a row must also meet its channel's first-response
    target (the stricter of the two; see :func:`frt_rate`): 20 min on chat
    misses chat's 1 min although 三级 allows 30:

    >>> sla_rate([20, 20], [None, None], channel=["在线", "邮件"])
    0.5
    """
    cols = _inputs(frt=(frt, "minutes"), priority=(priority, "priority", OPTIONAL),
                   channel=(channel, "channel_class", OPTIONAL))
    lookup = _level_table(sla, schema.DEFAULT_SLA_MIN, "sla")
    x = cols["frt"]
    limits = _row_limits(cols["priority"], len(x), lookup, default_priority, "sla")
    limits = _channel_row_limits(cols["channel"], limits, channel_limits, np.minimum)
    return _share(_at_most(x, limits), _valid(x))


def avg_response(response) -> float:
    """平均响应时长 = mean over conversations of each one's average reply wait
    (minutes; every human reply, not only the first).  Conversations without
    message data are blank and left out: no data → nan, never 0.

    >>> avg_response([2, 4, None])  # (2 + 4) / 2
    3.0
    """
    return mean(response, "minutes")


def online_reply_rate(replies, channel=None) -> float:
    """在线咨询回复率 = online consultations with ≥ 1 human reply ÷ online consultations.

    A consultation counts only when its reply count is known (message-level
    data); with a 渠道 column only chat channels (:func:`cs_xl.schema.channel_class`)
    are online consultations.

    >>> online_reply_rate([2, 0, 1, None])  # 2 of the 3 with a count
    0.6666666666666666
    >>> online_reply_rate([2, 0, 1], ["在线", "在线", "邮件"])  # the e-mail is not an online consultation
    0.5
    """
    cols = _inputs(replies=(replies, "count"), channel=(channel, "channel_class", OPTIONAL))
    counted = _valid(cols["replies"])
    if cols["channel"] is not None:
        counted &= cols["channel"] == _CHAT
    return _share(cols["replies"] >= 1, counted)


def is_resolved(status=None, resolve=None) -> np.ndarray:
    """Per row: is the ticket resolved?

    A row with a non-blank status is resolved when the status is one of
    ``schema.RESOLVED_STATUSES`` (已解决/已关闭/resolved/closed/solved;
    width- and case-insensitive).  A row without a status (no status column,
    or a blank cell) is resolved when its resolution time is valid.
    >>> is_resolved(["已解决", "处理中", None], [5, 5, 7]).tolist()
    [True, False, True]
    """
    if status is None and resolve is None:
        raise ValueError("is_resolved needs a status column or a resolution-time column")
    cols = _inputs(status=(status, "resolved_status", OPTIONAL), resolve=(resolve, "minutes", OPTIONAL))
    n = len(next(a for a in cols.values() if a is not None))
    by_time = _valid(cols["resolve"]) if cols["resolve"] is not None else np.zeros(n, bool)
    if cols["status"] is None:
        return by_time
    by_status = cols["status"]
    return np.where(_valid(by_status), by_status == 1.0, by_time)  # a blank status is decided by time


def _resolved_statuses(status: np.ndarray) -> np.ndarray:
    """Per row: 1.0 when its status is one of ``schema.RESOLVED_STATUSES``, 0.0 for another status,
    NaN when blank (many rows, a handful of labels: each distinct label is normalised once)."""
    out = np.full(len(status), np.nan)
    has_status = pd.notna(status)
    labels = status[has_status]
    if len(labels) > 256:
        codes, distinct = pd.factorize(labels)
        out[has_status] = _RESOLVED_LABEL(distinct).astype(float)[codes]
    else:
        out[has_status] = _RESOLVED_LABEL(labels).astype(float)
    return out


@functools.lru_cache(maxsize=1024)
def _resolved_label(label: str) -> bool:
    """A handful of distinct status labels: each is normalised once."""
    return coerce.norm_text(label).casefold() in _RESOLVED


_RESOLVED_LABEL = np.frompyfunc(_resolved_label, 1, 1)
# column kinds read from another kind's values, row by row: kind → (base kind, derivation)
_DERIVED = {"channel_class": ("text", _channel_class_codes), "resolved_status": ("text", _resolved_statuses),
            "label": ("text", _label_codes)}
_CHAT = schema.CHANNEL_CLASSES.index("chat")


def resolution_rate(status=None, resolve=None) -> float:
    """问题解决率 = count(resolved rows) / count(rows) (see :func:`is_resolved`).

    >>> resolution_rate(["已解决", "处理中", "已关闭", "待确认"])
    0.5
    """
    resolved = is_resolved(status, resolve)
    return _share(resolved, np.ones(len(resolved), bool))


def ontime_rate(resolve, priority=None, deadlines: Mapping | None = None, status=None,
                default_priority: int = 3) -> float:
    """按时完成率 = count(resolved, resolve ≤ deadline(priority)) / count(resolved with a valid resolve time).

    ``deadlines`` maps level → minutes (default
    ``schema.DEFAULT_RESOLVE_DEADLINE_MIN``: 一级 60 …); blank/unknown
    priorities use ``default_priority``.  Example: 30 ≤ 60 yes, 90 ≤ 60 no:

    >>> ontime_rate([30, 90], ["一级", "一级"])
    0.5
    """
    cols = _inputs(resolve=(resolve, "minutes"), priority=(priority, "priority", OPTIONAL),
                   status=(status, "resolved_status", OPTIONAL))
    x = cols["resolve"]
    lookup = _level_table(deadlines, schema.DEFAULT_RESOLVE_DEADLINE_MIN, "deadlines")
    limits = _row_limits(cols["priority"], len(x), lookup, default_priority, "deadlines")
    resolved = is_resolved(status, resolve) & _valid(x)  # the given columns: a typed Column is coerced once
    return _share(_at_most(x, limits), resolved)


def backlog(status=None, resolve=None) -> float:
    """未完成 = count(rows not resolved): status 处理中/待确认 (or any other
    non-resolved status), or no status and no resolution time.

    >>> backlog(["已解决", "处理中", "待确认", None], [5, None, None, None])
    3.0
    """
    return float(np.count_nonzero(~is_resolved(status, resolve)))


def fcr_rate(flag=None, contacts=None, transferred=None, reopened=None,
             status=None, resolve=None) -> float:
    """一次解决率 = count(resolved at first contact) / count(resolved, first-contact known).

    First contact, per row: the 一次解决 flag (是/否) when the row has one;
    otherwise contacts == 1 and not transferred and not reopened (blank
    transferred/reopened = no).  Rows where neither is known are left out.
    Resolved = :func:`is_resolved` when a status or resolve column is given,
    else every row.

    >>> round(fcr_rate(["是", "否", "是", None]), 4)  # 2 of 3 known
    0.6667
    >>> fcr_rate(contacts=[1, 1, 2], transferred=["否", "是", "否"])  # only row 0 is first contact
    0.3333333333333333
    """
    if flag is None and contacts is None:
        raise ValueError("fcr_rate needs the first-contact flag or the contacts column")
    cols = _inputs(flag=(flag, "flag", OPTIONAL), contacts=(contacts, "count", OPTIONAL),
                   transferred=(transferred, "flag", OPTIONAL), reopened=(reopened, "flag", OPTIONAL),
                   status=(status, "resolved_status", OPTIONAL), resolve=(resolve, "minutes", OPTIONAL))
    n = len(next(a for a in cols.values() if a is not None))
    no_flag = np.full(n, np.nan)
    by_flag = no_flag if cols["flag"] is None else cols["flag"]
    first = np.where(_valid(by_flag), by_flag, _first_contact_from_counts(cols, n))
    if status is None and resolve is None:
        resolved = np.ones(n, bool)
    else:
        resolved = is_resolved(status, resolve)  # the given columns: a typed Column is coerced once
    return _share(_is_true(first), resolved & _valid(first))


def _first_contact_from_counts(cols: dict, n: int) -> np.ndarray:
    """1.0 when contacts == 1 and not transferred/reopened, 0.0 otherwise, NaN when contacts unknown."""
    if cols["contacts"] is None:
        return np.full(n, np.nan)
    contacts = cols["contacts"]
    escalated = np.zeros(n, bool)
    for extra in ("transferred", "reopened"):
        if cols[extra] is not None:
            escalated |= _is_true(cols[extra])
    first = ((contacts == 1) & ~escalated).astype(float)
    return np.where(_valid(contacts), first, np.nan)


# ------------------------------------------------------------------ feedback

def _ratings(rating, low: float, high: float) -> np.ndarray:
    """Scores in [low, high] (others NaN)."""
    x = _inputs(rating=(rating, "number"))["rating"]
    return np.where(_in_range(x, low, high), x, np.nan)


def csat_avg(rating) -> float:
    """平均评分 = mean of ratings in 1..5 (outside the scale ignored).

    >>> csat_avg([5, "4星", 0, 9, None])  # (5 + 4) / 2
    4.5
    """
    return _mean_of(_ratings(rating, 1, 5))


def csat_rate(rating) -> float:
    """满意度(CSAT) = count(4 ≤ rating ≤ 5) / count(1 ≤ rating ≤ 5).

    >>> csat_rate([5, 4, 3, 1, 7])  # 5, 4 of 5, 4, 3, 1
    0.5
    """
    x = _ratings(rating, 1, 5)
    return _share(x >= 4, _valid(x))


def satisfied_rate(yes_no) -> float:
    """满意率 = 是 / (是 + 否); 未评价 and blanks excluded.

    >>> round(satisfied_rate(["是", "否", "是", "未评价"]), 4)  # 2 of 3
    0.6667
    """
    x = _inputs(yes_no=(yes_no, "flag"))["yes_no"]
    return _share(_is_true(x), _valid(x))


def survey_rate(rating, volume) -> float:
    """评价率 = count(ratings in 1..5) / volume (volume a number; 0 → nan).

    >>> round(survey_rate([5, None, 3], 6), 4)  # 2 of 6
    0.3333
    """
    total = _parameter(volume, "volume")
    if total == 0:
        return float("nan")
    return int(np.count_nonzero(_valid(_ratings(rating, 1, 5)))) / total


def nps(score) -> float:
    """净推荐值 = 100 × (count(9–10) − count(0–6)) / count(0–10).

    >>> nps([10, 9, 8, 6, 0])  # 100 × (2 − 2) / 5
    0.0
    >>> nps([10, 10, 7, 3])  # 100 × (2 − 1) / 4
    25.0
    """
    x = _ratings(score, 0, 10)
    promoters = _share(x >= 9, _valid(x))
    detractors = _share(x <= 6, _valid(x))
    return 100.0 * (promoters - detractors)


def attitude_avg(score) -> float:
    """服务态度 = mean of scores in 1..5.

    >>> attitude_avg([5, 3, 6])  # 6 is off the scale
    4.0
    """
    return _mean_of(_ratings(score, 1, 5))


def complaint_rate(complaint, volume=None) -> float:
    """投诉率 = count(是) / volume; volume defaults to the number of rows.

    >>> complaint_rate(["是", "否", None, "否"])
    0.25
    >>> complaint_rate(["是"], volume=10)
    0.1
    """
    x = _inputs(complaint=(complaint, "flag"))["complaint"]
    total = float(len(x)) if volume is None else _parameter(volume, "volume")
    if total == 0:
        return float("nan")
    return int(np.count_nonzero(_is_true(x))) / total


def repeat_complaint_rate(customer, date=None, complaint=None, repeat_7d=None, days: float = 7) -> float:
    """重复投诉率 = complaining customers with a repeat / complaining customers.

    Complaint rows: ``complaint`` is 是 (``complaint=None``: every row).
    Rows without a customer id are left out.

    * With ``date``: only dated complaint rows count.  A customer repeats
      when two of their complaints are at most ``days`` calendar days apart
      (0 ≤ Δ ≤ days, so a second complaint on the same day is a repeat).
      Example: A on 1 and 8 March (Δ = 7), B on 1 and 9 March (Δ = 8), C
      once → 1/3 (see the first example below).
    * Else with ``repeat_7d``: a customer repeats when any of their complaint
      rows has repeat_7d > 0 (blank = 0).  ``customer=None`` treats each row
      as its own customer.
    * Neither dates nor repeat counts: undefined → nan (nothing says when a
      complaint came back).

    >>> days = ["2024-03-01", "2024-03-08", "2024-03-01", "2024-03-09", "2024-03-05"]
    >>> round(repeat_complaint_rate(["A", "A", "B", "B", "C"], days), 4)
    0.3333
    >>> repeat_complaint_rate(["A", "B"], repeat_7d=[1, 0])
    0.5
    """
    if date is None and repeat_7d is None:
        return float("nan")
    window = _parameter(days, "days")
    cols = _inputs(customer=(customer, "label", OPTIONAL), date=(date, "date", OPTIONAL),
                   complaint=(complaint, "flag", OPTIONAL), repeat_7d=(repeat_7d, "count", OPTIONAL))
    n = len(next(a for a in cols.values() if a is not None))
    if cols["customer"] is None:
        if date is not None:
            raise ValueError("repeat_complaint_rate with dates needs customer ids")
        cols["customer"] = np.arange(n)
    rows = cols["customer"] >= 0  # a blank customer id is no customer
    if cols["complaint"] is not None:
        rows &= _is_true(cols["complaint"])
    if date is not None:
        return _repeat_share_by_date(cols["customer"][rows], cols["date"][rows], window)
    customers = cols["customer"][rows]
    if not customers.size:
        return float("nan")
    flagged = cols["repeat_7d"][rows] > 0  # blank (NaN) counts as 0: not a repeat
    return _distinct(customers[flagged]) / _distinct(customers)


def _repeat_share_by_date(customers: np.ndarray, days_: np.ndarray, window: float) -> float:
    """Share of customers (label codes) with two complaints at most ``window`` days apart."""
    dated = ~np.isnat(days_)
    codes = customers[dated]
    if not codes.size:
        return float("nan")
    days_ = days_[dated].astype("datetime64[D]").astype(np.int64)
    order = np.lexsort((days_, codes))  # by customer, then by day
    codes, days_ = codes[order], days_[order]
    # a gap to the same customer's previous complaint (the first complaint has none)
    close = (codes[1:] == codes[:-1]) & (np.diff(days_) <= window)
    return _distinct(codes[1:][close]) / _distinct(codes)


# ------------------------------------------------------------------ calls

def _present(values) -> np.ndarray:
    """True for non-blank cells (Excel errors count: the row is still a record)."""
    return _inputs(start=(values, "present"))["start"]


def _queued_mask(ivr: np.ndarray | None, n: int) -> np.ndarray:
    """Calls that asked for an agent: every call not self-served in the IVR."""
    return np.ones(n, bool) if ivr is None else ~_is_true(ivr)


def offered(start) -> float:
    """呼入量 = count(rows with a non-blank value), all calls.

    >>> offered(["2024-03-01 09:00", None, "#N/A"])  # an error cell is still a call
    2.0
    """
    return float(np.count_nonzero(_present(start)))


def queued(ivr_selfserved) -> float:
    """转人工量 = offered − IVR self-served = rows − count(IVR 是).

    >>> queued(["是", "否", None])  # 3 − 1
    2.0
    """
    ivr = _inputs(ivr=(ivr_selfserved, "flag"))["ivr"]
    return float(np.count_nonzero(_queued_mask(ivr, len(ivr))))


def answer_rate(answered, ivr_selfserved=None) -> float:
    """人工接通率 = answered / queued.

    Queued = not IVR self-served, with a known 是否接通 (blank rows left out).
    >>> round(answer_rate(["是", "否", "是", "是"], ["否", "否", "否", "是"]), 4)  # 2 of 3 queued
    0.6667
    """
    cols = _inputs(answered=(answered, "flag"), ivr=(ivr_selfserved, "flag", OPTIONAL))
    a = cols["answered"]
    return _share(_is_true(a), _queued_mask(cols["ivr"], len(a)) & _valid(a))


def abandon_rate(answered, wait_s=None, ivr_selfserved=None, short_abandon_s=None) -> float:
    """放弃率 = (queued − answered) / queued.

    With ``short_abandon_s = N``, unanswered calls whose wait < N s leave both
    numerator and denominator.  A call without a valid wait cannot be called
    short and stays (so without a wait column the rule changes nothing).
    Example: N = 5, the 3 s abandon leaves: 1 abandon of 3 calls:

    >>> round(abandon_rate(["是", "否", "否", "是"], [10, 3, 40, 5], short_abandon_s=5), 4)
    0.3333
    >>> abandon_rate(["是", "否", "否", "是"])
    0.5
    """
    cols = _inputs(answered=(answered, "flag"), wait=(wait_s, "seconds", OPTIONAL),
                   ivr=(ivr_selfserved, "flag", OPTIONAL))
    a = cols["answered"]
    calls = _queued_mask(cols["ivr"], len(a)) & _valid(a)
    if short_abandon_s is not None and cols["wait"] is not None:
        limit = _parameter(short_abandon_s, "short_abandon_s", "seconds")
        calls &= ~(_is_false(a) & _below(cols["wait"], limit))
    return _share(_is_false(a), calls)


def asa(wait_s, answered) -> float:
    """平均应答速度 = mean wait of answered calls (valid waits only), seconds.

    >>> asa([10, 30, 99], ["是", "是", "否"])  # (10 + 30) / 2
    20.0
    """
    cols = _inputs(wait=(wait_s, "seconds"), answered=(answered, "flag"))
    return _mean_of(np.where(_is_true(cols["answered"]), cols["wait"], np.nan))


def avg_wait(wait_s, ivr_selfserved=None) -> float:
    """平均等待时长 = mean wait of queued calls (answered or not), seconds.

    >>> avg_wait([10, 30, 5], [None, "否", "是"])  # (10 + 30) / 2
    20.0
    """
    cols = _inputs(wait=(wait_s, "seconds"), ivr=(ivr_selfserved, "flag", OPTIONAL))
    w = cols["wait"]
    return _mean_of(np.where(_queued_mask(cols["ivr"], len(w)), w, np.nan))


def service_level(wait_s, answered, seconds: float = 20, ivr_selfserved=None) -> float:
    """服务水平 = count(answered, wait ≤ X s) / count(queued).

    Queued as in :func:`answer_rate`; abandoned calls count in the
    denominator (they missed the target); answered calls without a valid
    wait cannot be classified and are left out.  Example, X = 20: 5 and 20
    of four queued calls:

    >>> service_level([5, 20, 30, 8], ["是", "是", "是", "否"], 20)
    0.5
    """
    cols = _inputs(wait=(wait_s, "seconds"), answered=(answered, "flag"),
                   ivr=(ivr_selfserved, "flag", OPTIONAL))
    limit = _parameter(seconds, "seconds", "seconds")
    w, a = cols["wait"], cols["answered"]
    calls = _queued_mask(cols["ivr"], len(a)) & _valid(a) & ~(_is_true(a) & ~_valid(w))
    return _share(_is_true(a) & _at_most(w, limit), calls)


def aht(talk, hold=None, wrap=None, answered=None) -> float:
    """平均处理时长 = mean(talk + hold + wrap) over answered calls, seconds.

    Missing hold/wrap count as 0; rows without a valid talk time are left
    out; ``answered=None`` takes every row.
    >>> aht([100, 200, None], [20, None, 5], [30, 10, 5])  # (150 + 210) / 2
    180.0
    """
    cols = _inputs(talk=(talk, "seconds"), hold=(hold, "seconds", OPTIONAL),
                   wrap=(wrap, "seconds", OPTIONAL), answered=(answered, "flag", OPTIONAL))
    total = cols["talk"].copy()
    for part in ("hold", "wrap"):
        if cols[part] is not None:
            total += np.where(np.isnan(cols[part]), 0.0, cols[part])
    if cols["answered"] is not None:
        total = np.where(_is_true(cols["answered"]), total, np.nan)
    return _mean_of(total)


def peak_queue(start, wait_s, ivr_selfserved=None) -> float:
    """最大排队人数 = the most queued calls waiting at the same moment.

    Each queued call with a start and a valid wait waits over
    [start, start + wait); a call leaving the queue at the instant another
    joins does not overlap it.  Seed 001's alert rule: 排队人数超过50人.
    The first two calls below overlap from 09:00:30 to 09:01:00:

    >>> peak_queue(["2024-03-01 09:00:00", "2024-03-01 09:00:30", "2024-03-01 09:02:00"], [60, 60, 10])
    2.0
    """
    _joins, lengths = _queue_lengths(start, wait_s, ivr_selfserved)
    return float(lengths.max()) if lengths.size else float("nan")


def queue_at_joins(start, wait_s, ivr_selfserved=None) -> pd.Series:
    """The queue length right after each queued call joins it (index: the join
    moment, in time order) — the queue reconstructed from call start + wait
    that :func:`peak_queue` takes the maximum of and the hourly alert rule
    groups by hour.

    >>> queue_at_joins(["2024-03-01 09:00:00", "2024-03-01 09:00:30"], [60, 60]).tolist()
    [1, 2]
    """
    joins, lengths = _queue_lengths(start, wait_s, ivr_selfserved)
    return pd.Series(lengths, index=pd.to_datetime(joins, unit="ms"), dtype=np.int64)


def _queue_lengths(start, wait_s, ivr_selfserved=None) -> tuple[np.ndarray, np.ndarray]:
    """(join moment in ms, queue length right after it) of each queued call, in time order."""
    cols = _inputs(start=(start, "date_time"), wait=(wait_s, "seconds"),
                   ivr=(ivr_selfserved, "flag", OPTIONAL))
    begin, wait = cols["start"], cols["wait"]
    keep = _queued_mask(cols["ivr"], len(wait)) & ~np.isnat(begin) & _valid(wait)
    joins = begin[keep].astype("datetime64[ms]").astype(np.int64)
    leaves = joins + np.round(wait[keep] * 1000).astype(np.int64)
    times = np.concatenate([leaves, joins])
    steps = np.concatenate([-np.ones(len(leaves), np.int64), np.ones(len(joins), np.int64)])
    order = np.lexsort((steps, times))  # at equal times, leaving (-1) sorts before joining
    lengths = np.cumsum(steps[order])
    joined = steps[order] == 1
    return times[order][joined], lengths[joined]


def ivr_rate(ivr_selfserved) -> float:
    """IVR分流率 = count(IVR 是) / offered (rows).

    >>> ivr_rate(["是", "否", None, "是"])
    0.5
    """
    ivr = _inputs(ivr=(ivr_selfserved, "flag"))["ivr"]
    return _share(_is_true(ivr), np.ones(len(ivr), bool))


def _slot_means(start, ivr_selfserved=None) -> tuple[np.ndarray, np.ndarray]:
    """(slot = weekday × 24 + hour, mean calls per hour) of each slot that had queued calls, slots ascending."""
    cols = _inputs(start=(start, "date_time"), ivr=(ivr_selfserved, "flag", OPTIONAL))
    keep = ~np.isnat(cols["start"]) & _queued_mask(cols["ivr"], len(cols["start"]))
    stamps = cols["start"][keep]
    days = stamps.astype("datetime64[D]")
    hours = ((stamps - days) // np.timedelta64(1, "h")).astype(np.int64)
    day_numbers = days.astype(np.int64)
    weekdays = (day_numbers + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    counts = np.bincount(weekdays * 24 + hours, minlength=7 * 24)
    slots = np.flatnonzero(counts)
    calls = counts[slots]
    distinct_days = np.unique(day_numbers)
    days_per_weekday = np.bincount((distinct_days + 3) % 7, minlength=7)
    return slots, calls / days_per_weekday[slots // 24]


def slot_arrivals(start, ivr_selfserved=None) -> pd.Series:
    """Mean queued calls per hour of each weekday (0 = Monday) × hour slot
    that had calls: calls in the slot / number of days of that weekday with
    any call.  IVR self-served calls need no agent and are left out.

    >>> times = pd.to_datetime(["2024-03-04 09:10", "2024-03-04 09:50", "2024-03-11 09:30"])
    >>> slot_arrivals(times).to_dict()  # two Mondays, three 09:00 calls
    {(0, 9): 1.5}
    """
    slots, means = _slot_means(start, ivr_selfserved)
    index = pd.MultiIndex.from_arrays([slots // 24, slots % 24], names=["weekday", "hour"])
    return pd.Series(means, index=index, dtype=float)


def peak_hourly_arrivals(start, ivr_selfserved=None) -> float:
    """Calls per hour in the busiest weekday × hour slot of
    :func:`slot_arrivals` (the slot staffing must cover); nan without calls."""
    _slots, means = _slot_means(start, ivr_selfserved)
    return float(means.max()) if means.size else float("nan")


# ------------------------------------------------------------------ Erlang C staffing

def _agents(value) -> int:
    n = _parameter(value, "agents")
    if n != int(n):
        raise ValueError(f"agents must be a whole number, got {value!r}")
    return int(n)


def _erlang_b_steps(traffic: float):
    """Yield Erlang B blocking B(N, A) for N = 0, 1, 2 …

    Recurrence B(0) = 1, B(N) = A·B(N−1) / (N + A·B(N−1)): no factorials,
    no overflow for any N."""
    blocking, agents = 1.0, 0
    while True:
        yield agents, blocking
        agents += 1
        blocking = traffic * blocking / (agents + traffic * blocking)


def _erlang_c_from_b(blocking: float, agents: int, traffic: float) -> float:
    """C(N, A) = N·B / (N − A·(1 − B)) for N > A."""
    return agents * blocking / (agents - traffic * (1 - blocking))


def erlang_c(traffic: float, agents: int) -> float:
    """Erlang C probability that a call waits, P(wait) = C(N, A).

    A = traffic in Erlangs (arrivals × AHT), N = agents.  For N > A,
    C = N·B / (N − A(1 − B)) with B the Erlang B blocking from its stable
    recurrence; N ≤ A (queue grows without bound) → 1; A = 0 → 0.
    >>> round(erlang_c(10, 11), 4)
    0.6821
    """
    a = _parameter(traffic, "traffic")
    n = _agents(agents)
    if a == 0:
        return 0.0
    if n <= a:
        return 1.0
    for step, blocking in _erlang_b_steps(a):
        if step == n:
            return float(_erlang_c_from_b(blocking, n, a))
    raise AssertionError("unreachable")


def _traffic(calls_per_hour, aht_s) -> tuple[float, float, float]:
    calls = _parameter(calls_per_hour, "calls_per_hour")
    handle = _parameter(aht_s, "aht_s", "seconds")
    if calls > 0 and handle == 0:
        raise ValueError("aht_s must be > 0 when calls arrive")
    return calls, handle, calls * handle / 3600.0


def _service_level_from_c(c: float, agents: int, traffic: float, handle: float, target: float) -> float:
    """SL = 1 − C·exp(−(N − A)·t / AHT)."""
    return 1.0 - c * math.exp(-(agents - traffic) * target / handle)


def erlang_service_level(calls_per_hour: float, aht_s: float, agents: int, target_s: float = 20) -> float:
    """Share of calls answered within ``target_s`` with N agents (Erlang C).

    A = calls_per_hour × aht_s / 3600; SL = 1 − C(N, A)·exp(−(N − A)·t/AHT);
    N ≤ A → 0 (the queue never clears); no calls → 1.
    """
    calls, handle, a = _traffic(calls_per_hour, aht_s)
    n = _agents(agents)
    t = _parameter(target_s, "target_s", "seconds")
    if calls == 0:
        return 1.0
    if n <= a:
        return 0.0
    return float(_service_level_from_c(erlang_c(a, n), n, a, handle, t))


def agents_needed(calls_per_hour: float, aht_s: float, target_sl: float = 0.8, target_s: float = 20,
                  max_agents: int = 1000) -> float:
    """建议在线人数 = the fewest N > A with erlang_service_level(N) ≥ target_sl.

    A = calls_per_hour × aht_s / 3600.  No calls → 0; no N ≤ ``max_agents``
    meets the target → nan.  Example: 100 calls/h, AHT 180 s (A = 5),
    80 % in 20 s → 8 agents (SL(7) ≈ 0.74, SL(8) ≈ 0.88):

    >>> agents_needed(100, 180, 0.8, 20)
    8.0
    >>> round(erlang_service_level(100, 180, 7), 2), round(erlang_service_level(100, 180, 8), 2)
    (0.74, 0.88)
    """
    calls, handle, a = _traffic(calls_per_hour, aht_s)
    goal = _fraction(target_sl, "target_sl")
    t = _parameter(target_s, "target_s", "seconds")
    limit = _agents(max_agents)
    if calls == 0:
        return 0.0
    # one pass of the Erlang B recurrence serves every candidate N
    for n, blocking in _erlang_b_steps(a):
        if n > limit:
            return float("nan")
        if n > a and _service_level_from_c(_erlang_c_from_b(blocking, n, a), n, a, handle, t) >= goal:
            return float(n)
    raise AssertionError("unreachable")
