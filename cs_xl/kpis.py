"""Data set + settings → KPI numbers: the whole period, per group, per period.

Which metrics exist, from which table and columns, with which settings, is
the registry's (:mod:`cs_xl.catalogue`); the arithmetic is
:mod:`cs_xl.metrics`'.  This module only hands each metric the records of a
group.  A metric whose sheet or column is missing is ``nan`` (JSON
``null``), never 0.

Speed: every input column is wrapped once in a :class:`metrics.Column`, so
a column is coerced once per table (not per group and metric), and groups
are row positions from one ``groupby`` per table instead of a boolean mask
per group.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from . import catalogue, metrics, periods, schema
from .coerce import norm_text, priority as parse_priority
from .dataset import ROW, DataSet
from .settings import Settings

PERIODS = ("day", "week", "month", "weekday", "hour")
# groupings that reach calls through the agent who answered them
AGENT_KEYS = ("agent_id", "agent_name", "team", "hire_date")
# scope filters of the 参数 sheet: settings field -> ticket column
SCOPE_FIELDS = {
    "teams": "team", "channels": "channel", "customer_types": "customer_type",
    "issue_types": "issue_type", "modules": "module",
}
_AVG_MONTH_DAYS = 365.25 / 12
_TABLES = ("tickets", "feedback", "calls")


class Records:
    """The records of one group (or of the whole data set) as the registry's
    metrics see them: per table, the rows' input columns; each metric is
    computed at most once (composite KPIs read others through :meth:`value`)."""

    def __init__(self, columns: dict[str, dict[str, metrics.Column] | None], settings: Settings,
                 positions: dict[str, np.ndarray] | None = None, shared: dict | None = None):
        self.settings = settings
        self._columns = columns      # table → column key → the whole table's column (None: no table)
        self._positions = positions  # table → the group's row positions (None: every row)
        self._values: dict[str, float] = {}
        self._taken: dict[tuple[str, str], metrics.Column] = {}  # the group's columns, each cut once
        self._shared = {} if shared is None else shared  # the same dict for every group of a grouping

    def rows(self, table: str) -> int | None:
        """Number of records of ``table``; None when there is no such table (or it can't be grouped)."""
        cols = self._columns.get(table)
        if cols is None:
            return None
        return len(next(iter(cols.values()))) if self._positions is None else len(self._positions[table])

    def column(self, table: str, key: str) -> metrics.Column | None:
        cols = self._columns.get(table)
        if cols is None or key not in cols:
            return None
        if self._positions is None:
            return cols[key]
        taken = self._taken.get((table, key))
        if taken is None:  # metrics sharing a column share its cut (and the cut's typed values)
            taken = self._taken[table, key] = cols[key].take(self._positions[table])
        return taken

    def value(self, key: str) -> float:
        if key not in self._values:
            self._values[key] = catalogue.get(key).compute(self)
        return self._values[key]

    def shared(self, key: tuple, make):
        """A value that is the same for every group (made by the first group that asks)."""
        try:
            return self._shared[key]
        except KeyError:
            value = self._shared[key] = make()
            return value


def table_columns(ds: DataSet) -> dict[str, dict[str, metrics.Column] | None]:
    """table → column key → :class:`metrics.Column` (None for a missing table).
    Columns of a loaded data set say which kind the loader typed them as.

    Made once per data set (:func:`_kept`): a column keeps what it was coerced to, so the headline,
    every grouping and the analyses (pareto, segments, trends) share one coercion of each column
    instead of coercing the 100k rows again per caller."""
    return _kept(ds, "table_columns", lambda: _new_table_columns(ds))


def _kept(ds: DataSet, name: str, make):
    """``make()``, kept in ``ds.memo`` under ``name`` and made anew when the data set's frames are not
    the ones it was made of (a frame replaced, a column added)."""
    frames = tuple(ds.table(t) for t in _TABLES)
    made_of = (ds.typed, *(None if f is None else tuple(f.columns) for f in frames))
    cached = ds.memo.get(name)
    if cached is None or cached[1] != made_of or any(a is not b for a, b in zip(cached[0], frames)):
        cached = ds.memo[name] = (frames, made_of, make())
    return cached[2]


def _new_table_columns(ds: DataSet) -> dict[str, dict[str, metrics.Column] | None]:
    def loaded(table: str, key: str) -> str | None:
        columns = schema.TABLES[table]
        if not ds.typed:
            return None
        return ROW if key == ROW else columns.column(key).kind if key in columns.keys else None

    return {table: (None if (f := ds.table(table)) is None else
                    {key: metrics.Column(f[key], loaded=loaded(table, key)) for key in f.columns})
            for table in _TABLES}


def metric_keys(keys=None) -> list[str]:
    """The requested metric keys (default: every registered metric), checked against the registry."""
    return catalogue.names() if keys is None else [catalogue.get(k).key for k in keys]


def slot_arrivals(c: pd.DataFrame | None) -> pd.Series:
    """Mean queued calls per hour of each weekday × hour slot (:func:`metrics.slot_arrivals`)."""
    if c is None or "start" not in c.columns:
        return pd.Series(dtype=float, index=pd.MultiIndex.from_tuples([], names=["weekday", "hour"]))
    return metrics.slot_arrivals(c["start"], c["ivr_selfserved"] if "ivr_selfserved" in c.columns else None)


def headline(ds: DataSet, settings: Settings | None = None, keys=None) -> dict[str, float]:
    """The KPIs of the data set (default: every registered one, in display
    order); ``nan`` where undefined or where the data lacks the sheet/column."""
    records = Records(table_columns(ds), settings or Settings())
    return {k: records.value(k) for k in metric_keys(keys)}


# ---------------------------------------------------------------- groups

def _period_labels(when: pd.Series, by: str) -> pd.Series:
    if by in periods.GRAINS:  # day / ISO week / month labels are written and read back in one module
        # a label depends on the day only: label each distinct day once (100k stamps, a few hundred days)
        codes, days = pd.factorize(when.dt.normalize())
        labels = periods.labels(pd.Series(days, name=when.name), by)
        return pd.Series(labels.array.take(codes, allow_fill=True), index=when.index, name=labels.name)
    if by == "weekday":
        return when.dt.day_of_week.astype("Int64")
    return when.dt.hour.astype("Int64")


def record_moment(frame: pd.DataFrame, table: str) -> pd.Series | None:
    """When each record happened, for day / week / month / weekday and the period filter.

    A ticket's moment is its 创建时间 where that cell is filled, else its 日期:
    the template's 创建时间 is optional and a book typed by hand leaves it blank,
    so preferring the *column* would put every such ticket nowhere.  Feedback
    has its 日期, calls their 呼入时间.  None when the table has neither."""
    if table == "calls":
        return frame["start"] if "start" in frame.columns else None
    date = frame["date"] if "date" in frame.columns else None
    created = frame["created_at"] if table == "tickets" and "created_at" in frame.columns else None
    if created is None or date is None:
        return created if date is None else date
    return created.where(created.notna(), date)


def time_of_day(frame: pd.DataFrame, table: str) -> pd.Series | None:
    """The timestamps that carry an hour: tickets' 创建时间, calls' 呼入时间 (a 日期 has no hour)."""
    col = {"tickets": "created_at", "calls": "start"}.get(table)
    return frame[col] if col in frame.columns else None


def untimed_records(ds: DataSet) -> dict[str, int]:
    """Per table that hour-of-day views count (tickets, calls): records without a time of day,
    left out of those views (counting them at hour 0 would invent a midnight peak)."""
    out = {}
    for table in ("tickets", "calls"):
        frame = ds.table(table)
        if frame is not None:
            when = time_of_day(frame, table)
            out[table] = len(frame) if when is None else int(when.isna().sum())
    return out


def _when(frame: pd.DataFrame, table: str, by: str) -> pd.Series | None:
    """The timestamp a table is grouped by for a period key (hours need a time of day)."""
    return time_of_day(frame, table) if by == "hour" else record_moment(frame, table)


def group_labels(ds: DataSet, by: str) -> dict[str, pd.Series | None]:
    """The group label of every row of each table (None: the table can't be grouped by `by`).
    Worked out once per data set and grouping: the report groups by the same columns and periods
    for several sheets and analyses.  The labels are shared: callers must not change them."""
    return {table: table_labels(ds, by, table) for table in _TABLES}


def table_labels(ds: DataSet, by: str, table: str) -> pd.Series | None:
    """:func:`group_labels` of one table, worked out once per data set, grouping and table, and only
    when asked for: :func:`grouped` reads a table's labels when a metric of it is computed."""
    source = _label_sources(ds, by)[table]
    return None if source is None else _kept(ds, ("group_labels", by, table), source.labels)


@dataclass(frozen=True)
class _LabelSource:
    """How a table's rows get their group label."""
    labels: Callable[[], pd.Series]
    carried: bool  # the tickets' labels carried to the rows (by ticket id or agent): they add no group
    positions: Callable[[], dict] | None = None  # label → rows without the labels (None: from the labels)


def _label_sources(ds: DataSet, by: str) -> dict[str, _LabelSource | None]:
    return _kept(ds, ("label_sources", by), lambda: {table: _label_source(ds, by, table) for table in _TABLES})


def _label_source(ds: DataSet, by: str, table: str) -> _LabelSource | None:
    frame, t = ds.table(table), ds.tickets
    if frame is None:
        return None
    if by in PERIODS and (when := _when(frame, table, by)) is not None:
        return _LabelSource(lambda: _period_labels(when, by), carried=False)
    if by not in PERIODS and by in frame.columns and (table != "feedback" or by in ("customer_id", "ticket_id")):
        return _LabelSource(lambda: frame[by], carried=False)
    if t is None or by not in t.columns:
        return None
    if table == "feedback" and "ticket_id" in t.columns and "ticket_id" in frame.columns:
        # feedback has no group column of its own: it belongs to its ticket's group
        return _LabelSource(lambda: _ticket_labels(ds, by), carried=True, positions=lambda: _ticket_positions(ds, by))
    if table == "calls" and by not in PERIODS and "agent_id" in t.columns and "agent_id" in frame.columns:
        # agent attributes (team, name) reach calls through the agent id, when each agent has one value
        return _LabelSource(lambda: _agent_labels(t, frame, by), carried=True)
    return None


def _ticket_labels(ds: DataSet, by: str) -> pd.Series:
    """Each feedback row's ticket's ``by`` (blank without such a ticket)."""
    return pd.Series(ds.tickets[by].array.take(_feedback_tickets(ds), allow_fill=True), index=ds.feedback.index,
                     name="ticket_id")


def _ticket_positions(ds: DataSet, by: str) -> dict:
    """:func:`label_positions` of :func:`_ticket_labels`, from the tickets' groups: each feedback
    row takes its ticket's group number, so its ticket's label is neither copied nor hashed again."""
    tickets = table_positions(ds, by, "tickets")
    group_of = np.full(len(ds.tickets) + 1, -1)  # per ticket row; the extra last entry: no ticket (-1)
    for group, rows in enumerate(tickets.values()):
        group_of[rows] = group
    return code_positions(group_of[_feedback_tickets(ds)], list(tickets))


def _agent_labels(tickets: pd.DataFrame, calls: pd.DataFrame, by: str) -> pd.Series:
    """Each call's agent's ``by``, where the agent's tickets have one value of it (blank otherwise)."""
    per_agent = tickets[["agent_id", by]].dropna().groupby("agent_id")[by].agg(
        lambda v: v.iloc[0] if v.nunique() == 1 else None)
    return calls["agent_id"].map(per_agent.dropna())


def _feedback_tickets(ds: DataSet) -> np.ndarray:
    """Each feedback row's ticket: the position of the last ticket row with its id (-1: none).
    The same for every grouping, so worked out once per data set: the ids of both tables are
    hashed together once (``factorize``), where dropping duplicates and an index lookup hashed
    the 100k ticket ids three times."""
    if "feedback_tickets" not in ds.memo:
        tickets = ds.tickets["ticket_id"].to_numpy(dtype=object)
        codes, ids = pd.factorize(np.concatenate([tickets, ds.feedback["ticket_id"].to_numpy(dtype=object)]))
        last = np.full(len(ids) + 1, -1)  # per id, its last ticket row; the extra entry [-1] is a blank id's
        np.maximum.at(last, codes[:len(tickets)], np.arange(len(tickets)))
        last[-1] = -1
        ds.memo["feedback_tickets"] = last[codes[len(tickets):]]
    return ds.memo["feedback_tickets"]


def has_column(ds: DataSet, key: str) -> bool:
    return key in PERIODS or any(
        f is not None and key in f.columns for f in (ds.tickets, ds.feedback, ds.calls))


def grouped(ds: DataSet, settings: Settings | None, by: str, keys=None) -> pd.DataFrame:
    """KPIs per value of `by` (a column key or a period): one row per group,
    one column per metric of ``keys`` (default: every registered metric)."""
    if not has_column(ds, by):
        raise KeyError(by)
    keys = metric_keys(keys)
    groups = _TablePositions(ds, by)
    # a table carrying the tickets' labels (feedback by ticket, calls by agent) has none of its own
    values = sorted({v for table, source in groups.sources.items() if source is not None and not source.carried
                     for v in groups[table]}, key=lambda v: (str(type(v)), v))
    columns = {table: (cols if groups.sources[table] is not None else None) for table, cols in table_columns(ds).items()}
    # only answered calls carry an agent: queue-level rates per agent would read 100 %
    undefined = {k for k in keys if by in AGENT_KEYS and catalogue.get(k).queue}
    settings, shared = settings or Settings(), {}
    rows = {}
    for value in values:
        records = Records(columns, settings, _GroupRows(groups, value), shared)
        rows[value] = [np.nan if k in undefined else records.value(k) for k in keys]
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=keys)
    frame.index.name = by
    return frame


def cells(frame: pd.DataFrame) -> dict:
    """group → metric → value of a :func:`grouped` frame, as plain dicts of Python scalars (the
    values ``iterrows`` gives, unwrapped): for callers that read it cell by cell, where
    ``DataFrame.at`` and ``iterrows`` cost more than a small frame's metrics.

    >>> cells(pd.DataFrame({"volume": [3.0, 1.0]}, index=["A", "B"]))
    {'A': {'volume': 3.0}, 'B': {'volume': 1.0}}
    """
    return {group: dict(zip(frame.columns, row)) for group, row in zip(frame.index, frame.to_numpy().tolist())}


def group_positions(ds: DataSet, by: str) -> dict[str, dict | None]:
    """Per table, group label → positions of its rows (None: the table can't be grouped by ``by``),
    of :func:`group_labels`; worked out once per data set and grouping, like the labels."""
    return {table: table_positions(ds, by, table) for table in _TABLES}


def table_positions(ds: DataSet, by: str, table: str) -> dict | None:
    """:func:`group_positions` of one table (worked out when asked for, like :func:`table_labels`)."""
    source = _label_sources(ds, by)[table]
    if source is None:
        return None
    return _kept(ds, ("group_positions", by, table),
                 source.positions or (lambda: label_positions(table_labels(ds, by, table))))


class _TablePositions(dict):
    """table → group label → rows, of one grouping: a table's labels are worked out when a metric
    first reads that table.  The report's breakdowns and trend checks read tickets and feedback
    only, and carrying each agent's team or name to 50k calls cost as much as the rest of a grouping."""

    def __init__(self, ds: DataSet, by: str):
        super().__init__()
        self.ds, self.by, self.sources = ds, by, _label_sources(ds, by)

    def __missing__(self, table: str) -> dict:
        positions = self[table] = table_positions(self.ds, self.by, table)
        return positions


_NO_ROWS = np.empty(0, dtype=np.intp)


class _GroupRows(Mapping):
    """table → the rows of one group (a :class:`Records`' positions) of the tables that can be grouped."""

    def __init__(self, groups: _TablePositions, value):
        self._groups, self._value = groups, value

    def __getitem__(self, table: str) -> np.ndarray:
        if self._groups.sources.get(table) is None:
            raise KeyError(table)
        return self._groups[table].get(self._value, _NO_ROWS)

    def __iter__(self):
        return (table for table, source in self._groups.sources.items() if source is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def label_positions(labels: pd.Series) -> dict:
    """label → the ascending positions of its rows (blank labels belong to no group), keyed by the
    labels as ``Series.unique`` gives them, in that order.

    What ``labels.groupby(labels).indices`` gives, but the labels are hashed once (``factorize``)
    and their integer codes sorted: the groupby and the ``unique`` beside it hashed the 100k text
    labels twice more per grouping, a third of the report's grouping time.

    >>> {k: v.tolist() for k, v in label_positions(pd.Series(["b", None, "a", "b"])).items()}
    {'b': [0, 3], 'a': [2]}
    """
    codes, uniques = pd.factorize(labels.array)  # the array's own scalars (a Series would give an Index's)
    return code_positions(np.asarray(codes), uniques)


def code_positions(codes: np.ndarray, labels) -> dict:
    """label → the ascending positions of the rows whose code is that label's index in ``labels``
    (-1: no label); labels no row has are left out.

    >>> {k: v.tolist() for k, v in code_positions(np.array([1, -1, 1, 0]), ["a", "b", "c"]).items()}
    {'a': [3], 'b': [0, 2]}
    """
    # blanks (-1) first, then each code's rows in row order; numpy sorts 16-bit integers stably by
    # radix, a third of the time of the 64-bit codes' merge sort (a grouping has far fewer labels)
    order = np.argsort(codes.astype(np.int16) if len(labels) < 2 ** 15 else codes, kind="stable")
    ends = np.cumsum(np.bincount(codes + 1, minlength=len(labels) + 1))
    return {label: order[ends[i]:ends[i + 1]] for i, label in enumerate(labels) if ends[i] < ends[i + 1]}


def load_matrix(ds: DataSet) -> pd.DataFrame:
    """Arrivals per weekday (0 = Monday) × hour (0–23): tickets by created_at plus calls by start."""
    stamps = [when.dropna() for table in ("tickets", "calls")
              if (frame := ds.table(table)) is not None and (when := time_of_day(frame, table)) is not None]
    when = pd.concat(stamps) if stamps else pd.Series([], dtype="datetime64[ns]")
    slots = when.dt.day_of_week.to_numpy(dtype=np.int64) * 24 + when.dt.hour.to_numpy(dtype=np.int64)
    counts = np.bincount(slots, minlength=7 * 24).astype(np.int64).reshape(7, 24)
    return pd.DataFrame(counts, index=pd.RangeIndex(7, name="weekday"), columns=pd.RangeIndex(24, name="hour"))


# ---------------------------------------------------------------- scope

def _matches(series: pd.Series, wanted, key: str) -> pd.Series:
    if key == "priority":
        levels = {parse_priority(w)[0] for w in wanted}
        return series.isin([lv for lv in levels if lv is not None]).fillna(False)
    norm = {norm_text(w).casefold() for w in wanted}
    return series.map(lambda v: v is not None and not pd.isna(v) and norm_text(v).casefold() in norm)


def values_of(ds: DataSet, key: str) -> list:
    """The distinct values of a column across the tables that have it (for "values in the data")."""
    found = {v for f in (ds.tickets, ds.feedback, ds.calls) if f is not None and key in f.columns
             for v in f[key].dropna().unique()}
    return sorted(found, key=lambda v: (str(type(v)), v))


def matches_any(ds: DataSet, key: str, wanted) -> bool:
    """Whether any record of any table has one of the wanted values in column ``key`` (as --where reads them)."""
    return any(bool(_matches(f[key], list(wanted), key).any())
               for f in (ds.tickets, ds.feedback, ds.calls) if f is not None and key in f.columns)


def moment_range(ds: DataSet) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """First and last record moment across the tables (None without any)."""
    stamps = [when.dropna() for table in ("tickets", "feedback", "calls")
              if (f := ds.table(table)) is not None and (when := record_moment(f, table)) is not None]
    stamps = [s for s in stamps if len(s)]
    if not stamps:
        return None
    return min(s.min() for s in stamps), max(s.max() for s in stamps)


def _period_mask(when: pd.Series, start, end) -> pd.Series:
    mask = pd.Series(True, index=when.index)
    if start is not None:
        mask &= when >= pd.Timestamp(start)
    if end is not None:
        mask &= when < pd.Timestamp(end) + pd.Timedelta(days=1)
    return mask.fillna(False)


def _tenure_agents(t: pd.DataFrame, months: float, reference) -> set:
    hired = t.dropna(subset=["agent_id", "hire_date"]).groupby("agent_id")["hire_date"].min()
    tenure_months = (pd.Timestamp(reference) - hired).dt.days / _AVG_MONTH_DAYS
    return set(tenure_months[tenure_months >= months].index)


def apply_scope(ds: DataSet, settings: Settings | None = None, where: dict | None = None) -> DataSet:
    """Keep the records inside the period and scope of the settings and `where` (key -> allowed values)."""
    s = settings or Settings()
    filters = {col: list(getattr(s, field)) for field, col in SCOPE_FIELDS.items() if getattr(s, field)}
    for key, wanted in (where or {}).items():
        filters[key] = list(wanted)
    frames = {"tickets": ds.tickets, "feedback": ds.feedback, "calls": ds.calls}
    masks = {k: (None if f is None else pd.Series(True, index=f.index)) for k, f in frames.items()}
    for table, f in frames.items():
        when = None if f is None else record_moment(f, table)
        if when is not None and (s.period_start or s.period_end):
            masks[table] &= _period_mask(when, s.period_start, s.period_end)
    for key, wanted in filters.items():
        for table, f in frames.items():
            if f is not None and key in f.columns:
                masks[table] &= _matches(f[key], wanted, key)
    t = ds.tickets
    if s.min_tenure_months and t is not None and {"agent_id", "hire_date"} <= set(t.columns):
        reference = s.period_end or (t["date"].max() if "date" in t.columns else pd.Timestamp(s.today()))
        keep = _tenure_agents(t, s.min_tenure_months, reference)
        for table, f in frames.items():
            if f is not None and "agent_id" in f.columns:
                masks[table] &= f["agent_id"].isin(keep)
    if t is not None and ds.feedback is not None and "ticket_id" in t.columns \
            and "ticket_id" in ds.feedback.columns and not masks["tickets"].all():
        # feedback follows its ticket: out-of-scope tickets take their feedback with them
        kept_ids = set(t.loc[masks["tickets"], "ticket_id"].dropna())
        has_ticket = ds.feedback["ticket_id"].isin(set(t["ticket_id"].dropna()))
        masks["feedback"] &= ~has_ticket | ds.feedback["ticket_id"].isin(kept_ids)
    return replace(ds, **{k: (None if f is None else f[masks[k].to_numpy()]) for k, f in frames.items()})
