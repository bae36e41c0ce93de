"""The CS_* worksheet functions: names, arguments and calls, bound to the metric registry.

Every function here is a metric of the registry (``CS_`` + KEY, e.g.
``CS_FRT_RATE``) or one of SPEC §4's short names for one (``CS_CSAT`` …),
plus the plain statistics ``CS_AVG``/``CS_MEDIAN``/``CS_PCTL`` and the
spilled ``CS_BREAKDOWN``.  Arguments are the metric function's own
parameters, in its order: parameters named like a column (``frt``,
``priority``, ``answered`` …) take ranges, ``sla``/``deadlines`` take a small
table, the rest are scalars.  Functions with a range take up to
``CRITERIA_PAIRS`` trailing ``(criteria_range, criteria)`` pairs, read as
COUNTIFS reads them (:mod:`cs_xl.criteria`).

There is no metric arithmetic here: a call turns Excel arguments into
columns (:mod:`cs_xl.udf_args`), keeps the rows the criteria select and
hands them to the registry's function.  ``udfs/cs_udfs.py`` (xlwings) and
``cs_xl.calc`` (``cs-xl calc``) both call these objects, so a formula gives
the same number in Excel and headless.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


from . import catalogue, metrics
from . import criteria as crit
from .udf_args import Column, UdfError, align, channel_table, column, level_table, result, scalar

CRITERIA_PAIRS = 5

# parameters of the metric functions that are columns of a sheet, with their cell kind
COLUMN_KINDS = {
    "values": "number", "frt": "minutes", "resolve": "minutes", "priority": "priority", "status": "text",
    "flag": "flag", "contacts": "count", "transferred": "flag", "reopened": "flag", "ticket_id": "text",
    "rating": "number", "yes_no": "flag", "score": "number", "complaint": "flag", "customer": "text",
    "date": "date", "repeat_7d": "count", "answered": "flag", "wait_s": "seconds",
    "ivr_selfserved": "flag", "talk": "seconds", "hold": "seconds", "wrap": "seconds", "start": "datetime",
    "channel": "text", "response": "minutes", "replies": "count",
}
TABLE_PARAMS = {"sla", "deadlines", "channel_limits"}  # level → minutes; channel class → minutes
HIDDEN_PARAMS = {"kind"}                     # fixed by the function's definition, not typed by users

PARAM_DOCS = {
    "values": "数值区域 values, e.g. F:F", "frt": "首次响应时间(分钟) range, e.g. 响应时间统计表!F:F",
    "resolve": "问题解决时间(分钟) range", "priority": "优先级 range (一级…四级 / L1…L4)",
    "status": "状态 range", "flag": "一次解决 range (是/否)", "ticket_id": "工单编号 range",
    "rating": "评分(1-5星) range", "yes_no": "是否满意 range", "score": "0-10 / 1-5 score range",
    "complaint": "是否投诉 range", "customer": "客户ID range", "date": "日期 range",
    "answered": "是否接通 range", "wait_s": "等待时长(秒) range", "ivr_selfserved": "IVR分流 range",
    "talk": "通话时长(秒) range", "hold": "保持时长(秒) range", "wrap": "话后处理(秒) range",
    "start": "呼入时间 range", "threshold": "minutes, default 3", "p": "percentile 0–1, e.g. 0.9",
    "sla": "SLA minutes: 4 cells 一级…四级, or rows of level | minutes",
    "deadlines": "deadline minutes: 4 cells 一级…四级, or rows of level | minutes",
    "channel": "渠道 range", "channel_limits": "FRT target minutes: 3 cells 即时通讯, 电话, 邮件, or rows of "
    "channel | minutes", "response": "平均响应时长(分钟) range", "replies": "人工回复次数 range",
    "seconds": "seconds, default 20", "days": "days, default 7", "volume": "ticket volume",
}


@dataclass(frozen=True)
class Param:
    name: str
    role: str                  # "column", "table" or "scalar"
    default: Any = None        # inspect.Parameter.empty: required
    kind: str | None = None    # cell kind of a column

    @property
    def required(self) -> bool:
        return self.default is inspect.Parameter.empty

    @property
    def doc(self) -> str:
        return PARAM_DOCS.get(self.name, self.name.replace("_", " "))


def _param(p: inspect.Parameter) -> Param:
    if p.name in COLUMN_KINDS:
        return Param(p.name, "column", p.default, COLUMN_KINDS[p.name])
    return Param(p.name, "table" if p.name in TABLE_PARAMS else "scalar", p.default)


@dataclass(frozen=True)
class ExcelFunction:
    """One CS_* function: ``fn(*excel_args)`` returns a cell value (number or ``"#N/A"``)."""
    name: str
    func: Callable
    params: tuple[Param, ...]
    doc: str
    key: str | None = None                                   # registry key, when it is a metric
    fixed: dict = field(default_factory=dict)                # hidden keyword arguments

    @property
    def takes_criteria(self) -> bool:
        return any(p.role == "column" for p in self.params)

    @property
    def arg_names(self) -> list[str]:
        names = [p.name for p in self.params]
        if self.takes_criteria:
            for i in range(1, CRITERIA_PAIRS + 1):
                names += [f"criteria_range{i}", f"criteria{i}"]
        return names

    def __call__(self, *args) -> Any:
        if len(args) > len(self.arg_names):
            raise UdfError(f"{self.name} takes at most {len(self.arg_names)} arguments, got {len(args)}")
        given = dict(zip(self.arg_names, args))
        try:
            kwargs = self._keyword_arguments(given)
            return result(self.func(**kwargs, **self.fixed))
        except UdfError as exc:
            raise UdfError(f"{self.name}: {exc.message}", exc.code) from None
        except (ValueError, TypeError) as exc:  # the metric's own checks (threshold < 0 …)
            raise UdfError(f"{self.name}: {exc}") from None

    def _keyword_arguments(self, given: dict) -> dict:
        kwargs, columns = {}, []
        for p in self.params:
            value = given.get(p.name)
            if p.role == "scalar" and value is not None:
                value = scalar(p.name, value)  # a blank cell ("" on Office.js) is an omitted argument
            if value is None:
                if p.required and p.role != "column":
                    raise UdfError(f"{p.name} is required")
                if not p.required:
                    kwargs[p.name] = p.default
                    continue
            if p.role == "column":
                columns.append((p, None if value is None else column(p.name, value)))
            elif p.role == "table":
                kwargs[p.name] = (channel_table if p.name == "channel_limits" else level_table)(p.name, value)
            else:
                kwargs[p.name] = value
        kwargs.update(_selected_columns(columns, _criteria_pairs(given)))
        return kwargs


def _criteria_pairs(given: dict) -> list[tuple[Column, Any]]:
    pairs = []
    for i in range(1, CRITERIA_PAIRS + 1):
        rng, criterion = given.get(f"criteria_range{i}"), given.get(f"criteria{i}")
        if rng is None and criterion is None:
            continue
        if rng is None:
            raise UdfError(f"criteria{i} has no criteria_range{i}")
        pairs.append((column(f"criteria_range{i}", rng), scalar(f"criteria{i}", criterion)))
    return pairs


def _selected_columns(columns: list[tuple[Param, Column | None]], pairs: list) -> dict:
    """The rows of each given column that the criteria keep (header and blank rows left out)."""
    present = [(p, c) for p, c in columns if c is not None]
    keep = align([c for _, c in present], [p.kind for p, _ in present], [c for c, _ in pairs])
    for rng, criterion in pairs:
        keep &= crit.parse(criterion).mask(rng.cells)
    out = {p.name: None for p, c in columns if c is None}
    for p, c in present:
        cells = np.empty(len(c.cells), dtype=object)  # an object array: the metrics read it without a Python loop
        cells[:] = c.cells
        out[p.name] = cells if keep.all() else cells[keep]
    return out


# ------------------------------------------------------------------ the catalogue of functions

udf_name = catalogue.udf_name


def _metric_doc(metric: catalogue.Metric) -> str:
    """The registry's names and definitions (defaults of 参数) as the function's help."""
    return (f"{metric.name('zh')} ({metric.name('en')}): {metric.definition('zh')} / "
            f"{metric.definition('en')}")


def _bind(name: str, func: Callable, doc: str, key: str | None = None, **fixed) -> ExcelFunction:
    params = tuple(_param(p) for p in inspect.signature(func).parameters.values() if p.name not in HIDDEN_PARAMS)
    return ExcelFunction(name, func, params, doc, key, fixed)


def _metric_functions() -> dict[str, ExcelFunction]:
    """One function per registry entry, named by the registry (CS_ + KEY), calling ``Metric.func``."""
    return {metric.udf: _bind(metric.udf, metric.func, _metric_doc(metric), key)
            for key, metric in catalogue.METRICS.items()}


# SPEC §4's short names for registry metrics
ALIASES = {"CS_CSAT": "csat_rate", "CS_SAT_RATE": "satisfied_rate", "CS_REPEAT_RATE": "repeat_complaint_rate"}
# SPEC §4 argument order where it differs from the metric function's: CS_REPEAT_RATE(customer, date, complaint, [days])
ALIAS_ORDER = {"CS_REPEAT_RATE": ("customer", "date", "complaint", "days", "repeat_7d")}


def _statistics() -> dict[str, ExcelFunction]:
    return {
        "CS_AVG": _bind("CS_AVG", metrics.mean, "平均值 (mean) of the valid numbers of a range", kind="number"),
        "CS_MEDIAN": _bind("CS_MEDIAN", metrics.median, "中位数 (median, PERCENTILE.INC at 0.5) of the valid numbers",
                           kind="number"),
        "CS_PCTL": _bind("CS_PCTL", metrics.percentile_inc,
                         "百分位 (PERCENTILE.INC) of the valid numbers: CS_PCTL(values, 0.9)", kind="number"),
    }


def _build() -> dict[str, ExcelFunction]:
    functions = _metric_functions()
    for alias, key in ALIASES.items():
        base = functions[udf_name(key)]
        order = ALIAS_ORDER.get(alias)
        params = base.params if order is None else tuple(sorted(base.params, key=lambda p: order.index(p.name)))
        functions[alias] = ExcelFunction(alias, base.func, params, base.doc, key)
    functions.update(_statistics())
    return functions


FUNCTIONS: dict[str, ExcelFunction] = _build()


# ------------------------------------------------------------------ CS_BREAKDOWN

def _metric_by_name(metric: Any) -> ExcelFunction:
    text = str(metric or "").strip()
    candidates = {text.upper(), "CS_" + text.upper()}
    for fn in FUNCTIONS.values():
        if fn.name in candidates or (fn.key and catalogue.get(fn.key).name("zh") == text):
            return fn
    raise UdfError(f"unknown metric {metric!r}: use a key such as frt_rate or a CS_* name")


def breakdown(group, values, metric, arg=None) -> list[list]:
    """CS_BREAKDOWN(group, values, metric, [arg]): one row per group — group, count, metric.

    ``metric`` is a registry key (``frt_rate``), a CS_* name or a 中文 name;
    ``arg`` its second argument (a threshold …).  Groups are the distinct
    non-blank labels, sorted; count is the group's rows; a group whose metric
    is undefined shows #N/A."""
    fn = _metric_by_name(scalar("metric", metric))
    if not fn.params or fn.params[0].role != "column":
        raise UdfError(f"CS_BREAKDOWN needs a metric of one column, {fn.name} takes {', '.join(fn.arg_names[:3])}")
    labels, cells = column("group", group), column("values", values)
    keep = align([labels, cells], ["text", fn.params[0].kind or "number"])
    rows: dict[Any, list] = {}
    for label, cell, k in zip(labels.cells, cells.cells, keep):
        if k and label is not None:
            rows.setdefault(label, []).append(cell)
    extra = () if arg is None else (arg,)
    title = catalogue.get(fn.key).name("zh") if fn.key else fn.name
    table = [["分组", "数量", title]]
    for label in sorted(rows, key=lambda v: (str(type(v)), v)):
        table.append([label, float(len(rows[label])), fn([[c] for c in rows[label]], *extra)])
    return table


def call(name: str, *args) -> Any:
    """Evaluate a CS_* function by name (case-insensitive), as a formula would."""
    upper = name.upper()
    if upper == "CS_BREAKDOWN":
        return breakdown(*args)
    if upper not in FUNCTIONS:
        raise UdfError(f"unknown function {name}", "#NAME?")
    return FUNCTIONS[upper](*args)


def names() -> list[str]:
    return sorted([*FUNCTIONS, "CS_BREAKDOWN"])
