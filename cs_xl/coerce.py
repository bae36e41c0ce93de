"""Turn raw cell values into typed values, saying what was repaired or dropped.

One parser per column kind of :mod:`cs_xl.schema`.  A parser takes one cell
value and returns ``(value, problem)``: ``value`` is the typed value or
``None`` (blank/undefined), ``problem`` is ``None`` when the cell was fine,
else a :class:`Problem` naming the reason and the action taken.  Nothing is
ever turned into 0: what cannot be read becomes ``None`` and is reported.

:func:`coerce_values` applies a parser to a whole column (each distinct value
parsed once) and is what both the loader and the metric functions use, so an
Excel range and a loaded sheet are read by the same rules.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from itertools import repeat
from operator import itemgetter
from typing import Any, Callable, NamedTuple

import numpy as np
import pandas as pd

from .words import Reason, reason


class Problem(NamedTuple):
    why: Reason
    action: str  # "repaired" | "dropped" | "flagged"
    # True when the only issue is that a value was typed as text (normal in CSV)
    text_form: bool = False

    @property
    def reason(self) -> str:
        """The stable English wording (JSON, messages); :mod:`cs_xl.words` has the Chinese."""
        return self.why.text("en")


EXCEL_ERRORS = frozenset({
    "#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!",
    "#GETTING_DATA", "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#UNKNOWN!", "#N/A N/A",
})
BLANKS = frozenset({"", "-", "--", "—", "n/a", "na", "null", "none", "nan", "?"})

DROP_ERROR = Problem(reason("excel_error"), "dropped")
DROP_NEGATIVE = Problem(reason("negative"), "dropped")
DROP_NOT_NUMBER = Problem(reason("not_number"), "dropped")
DROP_NOT_FINITE = Problem(reason("not_finite"), "dropped")
DROP_BOOL_AS_NUMBER = Problem(reason("bool_in_number"), "dropped")
REPAIR_TEXT_NUMBER = Problem(reason("number_text"), "repaired", True)


def norm_text(value: Any) -> str:
    """NFKC-normalised, stripped text (full-width digits and letters → ASCII)."""
    return unicodedata.normalize("NFKC", str(value)).strip()


def _is_blank(value: Any) -> bool:
    # pd.NA arrives from nullable columns (string, Int64); np.float32 NaN is not a float
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    if isinstance(value, (float, np.floating)) and math.isnan(value):
        return True
    if isinstance(value, np.datetime64) and np.isnat(value):
        return True
    return isinstance(value, str) and value.strip() == ""


def _full_width(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


# BLANKS as typed, half- or full-width: a set lookup instead of NFKC on every id and note
_PLACEHOLDERS = BLANKS | {_full_width(b) for b in BLANKS}
_LONGEST_PLACEHOLDER = max(map(len, _PLACEHOLDERS))


def _is_placeholder(value: Any) -> bool:
    """Text that stands for "no value" ('-', 'N/A', 'null', '－' …): blank, not a problem."""
    return isinstance(value, str) and value.strip().casefold() in _PLACEHOLDERS


def excel_error(value: Any) -> bool:
    return isinstance(value, str) and value.strip().upper() in EXCEL_ERRORS


# ---------------------------------------------------------------- numbers

# unit words -> factor to minutes
_UNIT_MIN = {
    "": None, "分钟": 1, "分": 1, "min": 1, "mins": 1, "minute": 1, "minutes": 1, "m": 1,
    "小时": 60, "时": 60, "h": 60, "hr": 60, "hrs": 60, "hour": 60, "hours": 60,
    "秒": 1 / 60, "秒钟": 1 / 60, "s": 1 / 60, "sec": 1 / 60, "secs": 1 / 60,
    "second": 1 / 60, "seconds": 1 / 60,
    "天": 1440, "日": 1440, "d": 1440, "day": 1440, "days": 1440,
}
# suffixes that only label a plain number (ratings, counts)
_PLAIN_SUFFIX = {"", "星", "颗星", "分", "star", "stars", "pt", "pts", "point", "points", "次", "个", "times"}
_NUM = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
_PART = re.compile(rf"\s*({_NUM})\s*([a-z\u4e00-\u9fff]*)\s*")
_PLAIN = re.compile(rf"^{_NUM}$")
# commas are thousands separators only in groups of three ("1,234.5"); "1,5" is
# ambiguous (a European decimal comma?) and must not silently become 15
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?$")


def _strip_thousands(text: str) -> str | None:
    """'1,234' -> '1234'; text without commas unchanged; None for other comma use."""
    if "," not in text:
        return text
    return text.replace(",", "") if _THOUSANDS.match(text) else None


_THOUSANDS_IN_TEXT = re.compile(r"(?<![\d,.])\d{1,3}(?:,\d{3})+(?![\d,])")


def _split_units(text: str) -> list[tuple[float, str]] | None:
    """'1h30m' -> [(1,'h'), (30,'m')]; None when the text is not number+unit parts."""
    parts, pos = [], 0
    while pos < len(text):
        m = _PART.match(text, pos)
        if not m or m.end() == pos:
            return None
        parts.append((float(m.group(1)), m.group(2)))
        pos = m.end()
    return parts or None


def _number_from_text(text: str, unit: str | None) -> tuple[float | None, Problem | None]:
    """Parse a number typed as text; ``unit`` is 'min', 's' or None (plain)."""
    t = norm_text(text).casefold()
    if t in BLANKS:
        return None, None
    plain = _strip_thousands(t)
    if plain is not None and _PLAIN.match(plain):
        return float(plain), REPAIR_TEXT_NUMBER
    # unit parts may carry thousands separators too ("1,200秒"); any other comma is ambiguous
    parts = _split_units(_THOUSANDS_IN_TEXT.sub(lambda m: m.group(0).replace(",", ""), t))
    if parts is None:
        return None, DROP_NOT_NUMBER
    if unit is None:
        if len(parts) == 1 and parts[0][1] in _PLAIN_SUFFIX:
            return parts[0][0], Problem(reason("unit_text", unit=parts[0][1]), "repaired")
        return None, DROP_NOT_NUMBER
    factors = [_UNIT_MIN.get(u) for _, u in parts]
    if any(f is None for f in factors):
        return None, Problem(reason("unit_unknown"), "dropped")
    minutes = sum(v * f for (v, _), f in zip(parts, factors))
    value = minutes if unit == "min" else minutes * 60
    units = "".join(u for _, u in parts)
    target = "minutes" if unit == "min" else "seconds"
    return value, Problem(reason(f"unit_to_{target}", unit=units), "repaired")


def _number(value: Any, unit: str | None, whole: bool = False) -> tuple[float | None, Problem | None]:
    if _is_blank(value):
        return None, None
    problem = None
    if isinstance(value, bool) or isinstance(value, np.bool_):
        return None, DROP_BOOL_AS_NUMBER
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
    elif isinstance(value, (dt.timedelta, pd.Timedelta)):
        secs = pd.Timedelta(value).total_seconds()
        number = secs / 60 if unit == "min" else secs
        problem = Problem(reason("time_as_duration"), "repaired")
    elif isinstance(value, dt.time):
        secs = value.hour * 3600 + value.minute * 60 + value.second
        number = secs / 60 if unit == "min" else secs
        problem = Problem(reason("time_as_duration"), "repaired")
    elif isinstance(value, str):
        if excel_error(value):
            return None, DROP_ERROR
        number, problem = _number_from_text(value, unit)
        if number is None:
            return None, problem
    else:
        return None, DROP_NOT_NUMBER
    if not math.isfinite(number):
        return None, DROP_NOT_FINITE
    if number < 0:
        return None, DROP_NEGATIVE
    if whole and number != int(number):
        return None, Problem(reason("not_whole"), "dropped")
    return number, problem


def minutes(value):
    return _number(value, "min")


def seconds(value):
    return _number(value, "s")


def number(value):
    return _number(value, None)


def count(value):
    return _number(value, None, whole=True)


# ---------------------------------------------------------------- flags

_TRUE = {"是", "y", "yes", "true", "t", "1", "1.0", "√", "✓", "✔", "对", "有", "满意", "已解决", "ok"}
_FALSE = {"否", "n", "no", "false", "f", "0", "0.0", "×", "x", "✗", "✘", "错", "无", "不满意", "未解决"}
_NO_ANSWER = {"未评价", "未知", "未填", "unknown", "not rated", "n/a", "na", "-", "--", "—"}


def flag(value) -> tuple[bool | None, Problem | None]:
    """是/否 and variants (Y/N, yes/no, TRUE/FALSE, 1/0, √/×) → True/False;
    未评价 and blanks → None without a problem."""
    if _is_blank(value):
        return None, None
    if isinstance(value, (bool, np.bool_)):
        return bool(value), None
    if isinstance(value, (int, float, np.integer, np.floating)):
        if value in (0, 1):
            return bool(value), None
        return None, Problem(reason("not_yes_no"), "dropped")
    if excel_error(value):
        return None, DROP_ERROR
    if _is_placeholder(value):
        return None, None
    t = norm_text(value).casefold()
    if t in _TRUE:
        return True, None
    if t in _FALSE:
        return False, None
    if t in _NO_ANSWER:
        return None, None
    return None, Problem(reason("not_yes_no"), "dropped")


# ---------------------------------------------------------------- priority

_PRIORITY_WORDS = {
    1: ("一级", "1级", "l1", "p1", "紧急", "最高", "urgent", "critical", "一", "p0"),
    2: ("二级", "2级", "l2", "p2", "重要", "高", "high", "二"),
    3: ("三级", "3级", "l3", "p3", "普通", "中", "medium", "normal", "moderate", "三"),
    4: ("四级", "4级", "l4", "p4", "低频", "低", "low", "planning", "四"),
}
_PRIORITY = {w: level for level, words in _PRIORITY_WORDS.items() for w in words}
_LEADING_DIGIT = re.compile(r"^([1-4])\s*[-.:、 ]")
# "一级(紧急)", "P1 [urgent]": the label before a bracket decides
_BRACKETED = re.compile(r"^([^(\[]+?)\s*[(\[].*$")


def priority(value) -> tuple[int | None, Problem | None]:
    """一级/1级/L1/P1/紧急/1 → 1 … 四级/L4/P4/低频/4 → 4; '1 - Critical' → 1."""
    if _is_blank(value):
        return None, None
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        if float(value) in (1.0, 2.0, 3.0, 4.0):
            return int(value), None
        return None, Problem(reason("unknown_priority"), "dropped")
    if excel_error(value):
        return None, DROP_ERROR
    if _is_placeholder(value):
        return None, None
    t = norm_text(value).casefold()
    if (m := _BRACKETED.match(t)) and m.group(1) in _PRIORITY:
        t = m.group(1)
    if t in _PRIORITY:
        return _PRIORITY[t], None
    if t in {"1", "2", "3", "4"}:
        return int(t), None
    m = _LEADING_DIGIT.match(t)
    if m:
        return int(m.group(1)), None
    return None, Problem(reason("unknown_priority"), "dropped")


# ---------------------------------------------------------------- dates

_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
# datetime64[ns] (the frames' dtype) spans 1677-09-21 .. 2262-04-11; outside the
# years below a "date" is a typo (20244-01-01) or a number in the wrong column
_FIRST_YEAR, _LAST_YEAR = 1900, 2261
DROP_DATE_RANGE = Problem(reason("date_range", first=_FIRST_YEAR, last=_LAST_YEAR), "dropped")
DROP_NOT_DATE = Problem(reason("not_date"), "dropped")
SERIAL_REPAIR = Problem(reason("date_serial"), "repaired")
_SERIAL_END = 2958466  # 10000-01-01: one past Excel's last serial (9999-12-31)


def _in_range(ts: pd.Timestamp) -> bool:
    return _FIRST_YEAR <= ts.year <= _LAST_YEAR
_DATE_TEXT = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ tT]+(\d{1,2})[:时](\d{1,2})分?(?::?(\d{1,2})(?:\.\d+)?秒?)?)?"
    r"\s*(z|[+-]\d{2}:?\d{2})?$"
)
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def _moment_from_text(text: str) -> dt.datetime | None:
    t = norm_text(text).casefold()
    m = _DATE_TEXT.match(t)
    if m:
        y, mo, d, hh, mm, ss, _tz = m.groups()
        parts = (int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
    elif (m := _COMPACT.match(t)):
        parts = (int(m.group(1)), int(m.group(2)), int(m.group(3)), 0, 0, 0)
    elif (m := _DMY.match(t)):
        d, mo, y, hh, mm, ss = m.groups()
        parts = (int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
    else:
        return None
    try:
        return dt.datetime(*parts)
    except ValueError:
        return None


def moment(value) -> tuple[pd.Timestamp | None, Problem | None]:
    """See :func:`_moment`; dates outside the supported years are dropped."""
    ts, problem = _moment(value)
    if ts is not None and not _in_range(ts):
        return None, DROP_DATE_RANGE
    return ts, problem


def _moment(value) -> tuple[pd.Timestamp | None, Problem | None]:
    """A date-time from a datetime, an Excel serial number or text.

    Text with a UTC offset keeps its wall-clock time (exports label local time
    inconsistently; see FACTS.md).  Day-first text (29/2/2016) is accepted
    only with a four-digit year last."""
    if _is_blank(value):
        return None, None
    if isinstance(value, pd.Timestamp):
        return value.tz_localize(None) if value.tzinfo else value, None
    if isinstance(value, dt.datetime):
        return pd.Timestamp(value.replace(tzinfo=None)), None
    if isinstance(value, dt.date):
        return pd.Timestamp(value), None
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value), None
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        if 1 <= float(value) < _SERIAL_END:
            return pd.Timestamp(_EXCEL_EPOCH + dt.timedelta(days=float(value))).round("s"), SERIAL_REPAIR
        return None, DROP_NOT_DATE
    if isinstance(value, str):
        if excel_error(value):
            return None, DROP_ERROR
        if _is_placeholder(value):
            return None, None
        parsed = _moment_from_text(value)
        if parsed is None:
            return None, DROP_NOT_DATE
        return pd.Timestamp(parsed), Problem(reason("date_text"), "repaired", True)
    return None, DROP_NOT_DATE


def day(value):
    ts, problem = moment(value)
    return (ts.normalize() if ts is not None else None), problem


def text(value) -> tuple[str | None, Problem | None]:
    """A stripped label; placeholders ('-', 'N/A', '?') are blank, so that they
    never show up as a cause in a Pareto or as an agent called '-'."""
    if value.__class__ is str:  # the common case first: ids and labels, 100k of them
        t = value.strip()
        if not t or (len(t) <= _LONGEST_PLACEHOLDER and t.casefold() in _PLACEHOLDERS):
            return None, None
        if t[0] in "#＃" and excel_error(t):
            return None, DROP_ERROR
        return t, None
    if _is_blank(value) or _is_placeholder(value):
        return None, None
    if isinstance(value, float) and value.is_integer():
        return str(int(value)), None  # ids typed as numbers: 123.0 -> "123"
    if excel_error(value):
        return None, DROP_ERROR
    if isinstance(value, (dt.datetime, dt.date)):
        return str(pd.Timestamp(value).date() if isinstance(value, dt.date) and not isinstance(value, dt.datetime) else value), None
    t = str(value).strip()
    return (t or None), None


PARSERS: dict[str, Callable[[Any], tuple[Any, Problem | None]]] = {
    "minutes": minutes, "seconds": seconds, "number": number, "count": count,
    "flag": flag, "priority": priority, "date": day, "datetime": moment, "text": text,
}
_NUMERIC_KINDS = {"minutes", "seconds", "number", "count"}


class Coerced(NamedTuple):
    """A column parsed by :func:`coerce_cells`."""
    typed: pd.Series                          # positional index
    problems: list[tuple[int, Any, Problem]]  # (position, original cell, problem), by position
    missing: np.ndarray                       # per cell: the typed value is blank
    codes: np.ndarray | None                  # per cell: index of its distinct value (len(uniques): blank)
    uniques: np.ndarray | None                # the distinct cells (None: a column of numbers or dates only)
    # ``codes`` again when equal codes mean equal typed values, as in a column of ids that are strings
    # read as themselves (None: unknown, e.g. ' T1' and 'T1' read alike)
    value_codes: np.ndarray | None = None

    def cells_in(self, texts: frozenset[str]) -> np.ndarray:
        """Per cell: the cell, as typed, is one of ``texts`` (decided once per distinct value)."""
        if self.codes is None:  # numbers or dates and blanks only: no text at all
            return np.zeros(len(self.missing), dtype=bool)
        try:
            hit = pd.Series(self.uniques, dtype=object, copy=False).isin(list(texts)).to_numpy()
        except TypeError:  # unhashable cells
            hit = np.fromiter((isinstance(u, str) and u in texts for u in self.uniques), bool, len(self.uniques))
        return np.append(hit, False)[self.codes]


def coerce_values(values, kind: str) -> tuple[pd.Series, list[tuple[int, Any, Problem]]]:
    """Parse a column. Returns the typed Series (positional index) and the
    problems as (position, original value, Problem): cell for cell what the
    parser of ``kind`` gives (see :data:`PARSERS`), computed by column.

    Columns already typed (a float column for a number kind, the loader's
    dates, flags and priorities) skip the parsers; other values take
    :func:`coerce_cells`."""
    if isinstance(values, (pd.Series, np.ndarray)) and not (isinstance(values, np.ndarray) and values.dtype == object):
        series = (values if isinstance(values, pd.Series) else pd.Series(values)).reset_index(drop=True)
        if kind in _NUMERIC_KINDS and pd.api.types.is_numeric_dtype(series.dtype) \
                and not pd.api.types.is_bool_dtype(series.dtype):
            return _coerce_numeric_fast(series.astype(float), kind)
        typed = _already_typed(series, kind)
        if typed is not None:
            return typed
        values = series.to_numpy() if series.dtype == object else series.tolist()  # tolist: Python scalars
    coerced = coerce_cells(values, kind)
    return coerced.typed, coerced.problems


def coerce_cells(values, kind: str) -> Coerced:
    """Parse raw cells (an object array or any sequence), each distinct value once.

    The cells are factorised (hashing in C); the distinct values are grouped
    by Python class: numbers in a number column and ``datetime``/``date``
    objects in a date column are converted in one vectorised step by the
    parsers' rules, the others go through the parser one by one.  So a
    100k-row column costs one hashing pass plus its distinct values.  A
    number or date column that Excel typed (mostly floats, or datetimes)
    skips even the hashing for those cells (:func:`_mostly_typed`)."""
    cells = values if isinstance(values, np.ndarray) and values.dtype == object else _object_array(values)
    return _mostly_typed(cells, kind) or _distinct_values(cells, kind)


def _distinct_values(cells: np.ndarray, kind: str) -> Coerced:
    """:func:`coerce_cells` by distinct value: factorise, parse each distinct value once."""
    try:
        codes, uniques = pd.factorize(cells)  # blanks (None, NaN, NaT, NA) get code -1
    except TypeError:  # unhashable cells (lists …): each cell is its own value
        codes, uniques = np.arange(len(cells)), cells
    groups = _class_groups(uniques)
    codes, uniques, groups = _split_alike(cells, codes, uniques, groups)
    codes[codes < 0] = len(uniques)  # the blank entry, last
    values_u, problem_u = _parse_distinct(uniques, groups, kind)
    has_problem = np.zeros(len(values_u), dtype=bool)
    has_problem[list(problem_u)] = True
    at = np.flatnonzero(has_problem[codes])  # plain lists: a 100k-row serial column is 100k repairs
    problems = list(zip(at.tolist(), cells[at].tolist(), map(problem_u.__getitem__, codes[at].tolist())))
    typed = values_u.take(codes)
    missing = (np.equal(values_u, None) if kind == "text" else np.isnan(values_u) if values_u.dtype == float
               else np.isnat(values_u))[codes]
    value_codes = codes if kind == "text" and _read_as_themselves(uniques, values_u, groups) else None
    return Coerced(_series(typed, kind), problems, missing, codes, uniques, value_codes)


def _read_as_themselves(uniques: np.ndarray, values_u: np.ndarray, groups: list) -> bool:
    """Every distinct cell is a string that reads as itself or as blank: then distinct cells are
    distinct values (what lets the loader find repeated ids by their codes, without hashing again)."""
    if [cls for cls, _ in groups] != [str]:
        return False
    read = values_u[:len(uniques)]
    return bool(((read == uniques) | np.equal(read, None)).all())


def _mostly_typed(cells: np.ndarray, kind: str) -> Coerced | None:
    """A number column whose cells are mostly Python floats/ints, or a date column mostly
    ``datetime`` (or ``date``) objects — the usual shape of a column Excel typed: those cells are
    converted in one vectorised step by the group converters' rules, without hashing each; the
    rest (blanks, text, odd cells) take :func:`_distinct_values`.  None: not such a column."""
    found = _typed_cells(cells, kind)
    if found is None:
        return None
    convert, at = found
    typed = _blank_storage(kind, len(cells))
    if at is None:  # every cell of the one class: no positions to pick
        typed[:], found = convert(cells, kind)
        return Coerced(_series(typed, kind), [(int(pos), cells[pos], problem) for pos, problem in found],
                       np.isnan(typed) if typed.dtype == float else np.isnat(typed), None, None)
    typed[at], found = convert(cells[at], kind)
    problems = [(int(at[pos]), cells[at[pos]], problem) for pos, problem in found]
    codes = uniques = None
    rest = np.ones(len(cells), dtype=bool)
    rest[at] = False
    rest = np.flatnonzero(rest)
    if len(rest):
        other = _distinct_values(cells[rest], kind)
        typed[rest] = other.typed.to_numpy(dtype=typed.dtype)
        problems = sorted(problems + [(int(rest[pos]), cell, problem) for pos, cell, problem in other.problems],
                          key=lambda found: found[0])
        codes = np.full(len(cells), len(other.uniques))  # the typed cells count as blank when looking for text
        codes[rest] = other.codes
        uniques = other.uniques
    missing = np.isnan(typed) if typed.dtype == float else np.isnat(typed)
    return Coerced(_series(typed, kind), problems, missing, codes, uniques)


def _typed_cells(cells: np.ndarray, kind: str):
    """(converter, positions) of the cells :func:`_mostly_typed` converts at once — positions None
    when every cell is of that class — or None when they are not at least half of the column."""
    if kind in _NUMERIC_KINDS:
        options = ((_NUMBER_CLASSES, _number_cells),)
    elif kind in ("date", "datetime"):  # the most frequent of datetime, date and serial numbers (Office.js)
        options = (((dt.datetime,), _date_cells), ((dt.date,), _day_cells), (_NUMBER_CLASSES, _serial_cells))
    else:
        return None
    classes = set(map(type, cells))  # exact classes: one C pass, no array of them
    if not classes:
        return options[0][1], None
    for wanted, convert in options:
        if classes.issubset(wanted):
            return convert, None
    options = [(classes.intersection(wanted), convert) for wanted, convert in options]
    if not any(present for present, _ in options):  # none of these classes (a column of text)
        return None
    types = _TYPE_OF(cells)
    fast, convert = max(((_of_classes(types, present), convert) for present, convert in options),
                        key=lambda pair: np.count_nonzero(pair[0]))
    at = np.flatnonzero(fast)
    return (convert, at) if len(at) >= len(cells) / 2 else None


def _of_classes(types: np.ndarray, classes) -> np.ndarray:
    """Per cell (given its class): the class is one of ``classes``."""
    found = np.zeros(len(types), dtype=bool)
    for cls in classes:
        found |= types == cls
    return found


def _object_array(values) -> np.ndarray:
    """Any iterable of cells as a 1-D object array (a cell holding a list stays one cell)."""
    items = values if hasattr(values, "__len__") else list(values)
    return np.fromiter(items, dtype=object, count=len(items))


_TYPE_OF = np.frompyfunc(type, 1, 1)  # each value's class, in one C loop
_BOOL_CLASSES = (bool, np.bool_)


def _split_alike(cells: np.ndarray, codes: np.ndarray, uniques: np.ndarray, groups: list):
    """Cells that are equal but parse apart get distinct values of their own:
    ``True == 1 == 1.0`` and ``-0.0 == 0.0`` hash alike, so factorising merges
    them, but a bool in a number column is a problem while 1.0 is not, and a
    number column keeps the sign of -0.0 as the parser does."""
    shared = []
    for cls, at in groups:
        group = np.arange(len(uniques)) if at is None else at
        if cls in _BOOL_CLASSES:
            shared.extend(group)
        elif issubclass(cls, (int, float, np.number)):
            values = uniques[group]
            shared.extend(group[(values == 0) | (values == 1)])
    if not shared:
        return codes, uniques, groups
    at = np.flatnonzero(np.isin(codes, shared))
    variant = _variants(cells[at])
    if (variant == variant[0]).all():
        return codes, uniques, groups
    codes, uniques = codes.copy(), list(uniques)
    for code in shared:
        mine = codes[at] == code
        kinds, mine = variant[mine], at[mine]
        for i, which in enumerate(np.unique(kinds)):
            first = mine[kinds == which][0]
            if i == 0:
                uniques[code] = cells[first]  # the value's first cell may have been of another variant
            else:
                codes[mine[kinds == which]] = len(uniques)
                uniques.append(cells[first])
    uniques = _object_array(uniques)
    return codes, uniques, _class_groups(uniques)


def _variants(cells: np.ndarray) -> np.ndarray:
    """Per cell: 1 for a bool, 2 for a negative zero (a float), 0 for any other value."""
    out = np.zeros(len(cells), dtype=np.int8)
    for cls, at in _class_groups(cells):
        at = np.arange(len(cells)) if at is None else at
        if cls in _BOOL_CLASSES:
            out[at] = 1
        elif issubclass(cls, float):
            values = cells[at].astype(float)
            out[at[(values == 0) & np.signbit(values)]] = 2
    return out


def _parse_distinct(uniques: np.ndarray, groups: list, kind: str) -> tuple[np.ndarray, dict[int, Problem]]:
    """The storage of each distinct value plus a last blank entry, and the problems of those
    that have one (a blank has none)."""
    storage = _blank_storage(kind, len(uniques) + 1)
    problems: dict[int, Problem] = {}
    for cls, at in groups:
        group = uniques if at is None else uniques[at]
        typed, found = _group_converter(cls, kind)(group, kind)
        if at is None:
            storage[:len(uniques)] = typed
        else:
            storage[at] = typed
        for pos, problem in found:
            problems[int(pos if at is None else at[pos])] = problem
    return storage, problems


def _class_groups(values: np.ndarray) -> list[tuple[type, np.ndarray | None]]:
    """(class, positions) of each Python class among the values; positions are
    None when every value has that class."""
    if not len(values):
        return []
    if pd.api.types.infer_dtype(values, skipna=False) == "string":  # ids and labels: one C pass, not a class per value
        return [(str, None)]  # (a str subclass takes the same parsers as str)
    codes, classes = pd.factorize(_TYPE_OF(values))
    if len(classes) == 1:
        return [(classes[0], None)]
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(classes) + 1))
    return [(cls, order[bounds[i]:bounds[i + 1]]) for i, cls in enumerate(classes)]


def _group_converter(cls: type, kind: str):
    if kind == "text" and cls is str:  # (a str subclass reads the same: see _text_cells)
        return _text_cells
    if kind in _NUMERIC_KINDS and cls in _NUMBER_CLASSES:
        return _number_cells
    if kind in ("date", "datetime") and cls is dt.date:  # exact classes: pd.Timestamp and friends take the parser
        return _day_cells
    if kind in ("date", "datetime") and cls is dt.datetime:
        return _date_cells
    if kind in ("date", "datetime") and cls in _NUMBER_CLASSES:
        return _serial_cells
    return _each_cell


def _each_cell(cells: np.ndarray, kind: str) -> tuple[np.ndarray, list[tuple[int, Problem]]]:
    """Values through the parser, one by one."""
    parser = PARSERS[kind]
    results = [parser(cell) for cell in cells]
    return _storage([r[0] for r in results], kind), [(pos, r[1]) for pos, r in enumerate(results) if r[1] is not None]


def _text_cells(cells: np.ndarray, kind: str) -> tuple[np.ndarray, list[tuple[int, Problem]]]:
    """Strings as :func:`text` reads them, a C call or two a string: each is stripped, and only
    those that might be blank, a placeholder or an error text — at most as long as the longest
    placeholder, or starting with '#'/'＃' as every error text does — take the parser.  (``str.strip``
    gives a plain ``str`` for a subclass too, as the parser's ``str(value).strip()`` does.)

    >>> typed, problems = _text_cells(np.array([" T-001 ", "N/A", "#N/A", "合计"], dtype=object), "text")
    >>> typed.tolist(), [(pos, p.action) for pos, p in problems]
    (['T-001', None, None, '合计'], [(2, 'dropped')])
    """
    n = len(cells)
    typed = np.fromiter(map(str.strip, cells), dtype=object, count=n)
    stripped = typed.tolist()  # str.join would make this list of an array anyway
    suspect = np.fromiter(map(len, stripped), dtype=np.intp, count=n) <= _LONGEST_PLACEHOLDER
    joined = "".join(stripped)
    if "#" in joined or "＃" in joined:
        suspect |= np.fromiter(map(str.startswith, stripped, repeat(("#", "＃"))), dtype=bool, count=n)
    at = np.flatnonzero(suspect)
    if not len(at):
        return typed, []
    typed[at], found = _each_cell(cells[at], kind)
    return typed, [(int(at[pos]), problem) for pos, problem in found]


_YEAR_BOUNDS = (np.datetime64(f"{_FIRST_YEAR}-01-01", "us"), np.datetime64(f"{_LAST_YEAR + 1}-01-01", "us"))
_NUMBER_CLASSES = (float, int)  # exact classes: a bool is an int but a problem in a number column
_NAT = np.datetime64("NaT", "ns")


def _blank_storage(kind: str, n: int) -> np.ndarray:
    """A column of n blanks in the storage of ``kind`` (see :func:`_storage`)."""
    if kind in ("date", "datetime"):
        return np.full(n, _NAT)
    if kind == "text":
        return np.full(n, None, dtype=object)
    return np.full(n, np.nan)


def _storage(values: list, kind: str) -> np.ndarray:
    """Parsed values (None = blank) as an array: float for numbers, flags (1/0) and
    priorities, datetime64[ns] for dates, object for text."""
    if kind in ("date", "datetime"):
        return pd.to_datetime(pd.Series(values, dtype=object)).to_numpy(dtype="datetime64[ns]")
    if kind == "text":
        return _object_array(values)
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


def _series(storage: np.ndarray, kind: str) -> pd.Series:
    if kind == "priority":
        return pd.Series(storage).astype("Int64")
    if kind == "flag":
        return pd.Series(storage).astype("boolean")
    return pd.Series(storage, dtype=object if kind == "text" else None)


def _number_cells(cells: np.ndarray, kind: str) -> tuple[np.ndarray, list[tuple[int, Problem]]]:
    """Python floats and ints as :func:`_number` reads them (one vectorised pass)."""
    typed, problems = _coerce_numeric_fast(pd.Series(np.array(cells, dtype=float)), kind)
    return typed.to_numpy(), [(pos, problem) for pos, _value, problem in problems]


def _date_cells(cells: np.ndarray, kind: str) -> tuple[np.ndarray, list[tuple[int, Problem]]]:
    """Dates and datetimes as :func:`moment` / :func:`day` read them: dates outside the supported years dropped.
    Cells with a timezone (which the parser reads as wall-clock time) take the parser."""
    try:
        index = pd.DatetimeIndex(cells)
    except (pd.errors.OutOfBoundsDatetime, OverflowError):  # a year a nanosecond clock cannot hold (pandas < 3)
        stamps = np.array(cells, dtype="datetime64[us]")
    except (ValueError, TypeError):  # naive and aware datetimes mixed
        return _each_cell(cells, kind)
    else:
        if index.tz is not None:
            return _each_cell(cells, kind)
        stamps = index.as_unit("us").to_numpy()
    outside = (stamps < _YEAR_BOUNDS[0]) | (stamps >= _YEAR_BOUNDS[1])
    if kind == "date":
        stamps = stamps.astype("datetime64[D]")  # midnight of the day, as Timestamp.normalize
    typed = np.where(outside, np.datetime64("NaT", "ns"), stamps.astype("datetime64[ns]"))
    return typed, [(int(pos), DROP_DATE_RANGE) for pos in np.flatnonzero(outside)]


_ORDINAL_1970 = dt.date(1970, 1, 1).toordinal()
_DAY_BOUNDS = tuple(bound.astype("datetime64[D]") for bound in _YEAR_BOUNDS)


def _day_cells(cells: np.ndarray, kind: str) -> tuple[np.ndarray, list[tuple[int, Problem]]]:
    """``date`` objects (exact class) as :func:`moment` / :func:`day` read them — midnight of the
    day, dates outside the supported years dropped — from each one's ordinal: one C call a cell,
    where building a DatetimeIndex costs twice as much.

    >>> typed, problems = _day_cells(np.array([dt.date(2024, 2, 29), dt.date(1, 1, 1)], dtype=object), "datetime")
    >>> str(typed[0]), str(typed[1]), [(pos, p.action) for pos, p in problems]
    ('2024-02-29T00:00:00.000000000', 'NaT', [(1, 'dropped')])
    """
    days = np.fromiter(map(dt.date.toordinal, cells), dtype=np.int64, count=len(cells)) - _ORDINAL_1970
    stamps = days.astype("datetime64[D]")
    outside = (stamps < _DAY_BOUNDS[0]) | (stamps >= _DAY_BOUNDS[1])
    typed = stamps.astype("datetime64[ns]")  # days outside the ns clock wrap here, and are blanked next
    typed[outside] = _NAT
    return typed, [(int(pos), DROP_DATE_RANGE) for pos in np.flatnonzero(outside)]


_US_PER_DAY = 86_400_000_000
_EPOCH_64 = np.datetime64(_EXCEL_EPOCH, "s")


def _serial_cells(cells: np.ndarray, kind: str) -> tuple[np.ndarray, list[tuple[int, Problem]]]:
    """Excel serial numbers (Python floats and ints) as :func:`moment` / :func:`day` read them, in
    one vectorised pass: through Office.js (the web buttons) every date of a 100k-row sheet arrives
    as a serial, nearly all distinct, and the parser costs a Timestamp per cell.

    The parser's two roundings are kept: ``timedelta(days=x)`` rounds the day's fraction to the
    microsecond (half to even), then ``Timestamp.round("s")`` to the second (half to even), so a
    time typed as hh:mm:ss.5 lands on the same second here as there.

    >>> typed, problems = _serial_cells(np.array([45352.5, 0.5, 1.0], dtype=object), "datetime")
    >>> str(typed[0]), [(pos, p.action) for pos, p in problems]  # 1.0 is 1899-12-31: before 1900
    ('2024-03-01T12:00:00.000000000', [(0, 'repaired'), (1, 'dropped'), (2, 'dropped')])
    """
    days = np.asarray(cells, dtype=float)
    blank = np.isnan(days)  # NaN: a blank cell, as the parser reads it
    serial = (days >= 1) & (days < _SERIAL_END)  # else (blanks aside) not a date at all
    safe = np.where(serial, days, 1.0)
    whole = np.floor(safe)
    micros = whole.astype(np.int64) * _US_PER_DAY + np.rint((safe - whole) * _US_PER_DAY).astype(np.int64)
    seconds, rest = np.divmod(micros, 1_000_000)
    seconds += (rest > 500_000) | ((rest == 500_000) & (seconds % 2 == 1))
    stamps = _EPOCH_64 + seconds.astype("timedelta64[s]")
    outside = serial & ((stamps < _YEAR_BOUNDS[0]) | (stamps >= _YEAR_BOUNDS[1]))
    if kind == "date":
        stamps = stamps.astype("datetime64[D]")  # midnight of the day, as Timestamp.normalize
    typed = np.where(serial & ~outside, stamps, _EPOCH_64).astype("datetime64[ns]")  # in range: no overflow
    typed[~serial | outside] = _NAT
    found = (DROP_NOT_DATE, DROP_DATE_RANGE, SERIAL_REPAIR, None)
    which = np.where(blank, 3, np.where(~serial, 0, np.where(outside, 1, 2))).tolist()
    problems = list(enumerate(map(found.__getitem__, which)))
    return typed, problems if not blank.any() else [(pos, p) for pos, p in problems if p is not None]


def _already_typed(series: pd.Series, kind: str):
    """Columns the loader has already typed (and plain-text columns) skip the
    per-value parsers: metrics over a loaded sheet, grouped many times by a
    report, must not re-parse 100k cells per call.  Returns None when the
    column needs the general path."""
    dtype = series.dtype
    if kind == "flag" and pd.api.types.is_bool_dtype(dtype):
        return series.astype("boolean"), []
    if kind == "priority" and pd.api.types.is_integer_dtype(dtype) and series.dropna().isin([1, 2, 3, 4]).all():
        return series.astype("Int64"), []
    if kind in ("date", "datetime") and pd.api.types.is_datetime64_dtype(dtype):
        years = series.dt.year.dropna()
        if years.between(_FIRST_YEAR, _LAST_YEAR).all():
            typed = series.astype("datetime64[ns]")
            return (typed.dt.normalize() if kind == "date" else typed), []
    return None


def _coerce_numeric_fast(series: pd.Series, kind: str):
    arr = series.to_numpy(dtype=float, copy=True)
    problems = []
    bad_inf = np.isinf(arr)
    bad_neg = arr < 0
    bad_frac = (~np.isnan(arr)) & (arr != np.floor(arr)) if kind == "count" else np.zeros(len(arr), bool)
    for mask, problem in ((bad_inf, DROP_NOT_FINITE), (bad_neg, DROP_NEGATIVE),
                          (bad_frac, Problem(reason("not_whole"), "dropped"))):
        mask = mask & ~np.isnan(arr)  # one problem per cell: -inf is reported once, as not finite
        for pos in np.flatnonzero(mask):
            problems.append((int(pos), float(series.iat[pos]), problem))
        arr[mask] = np.nan
    problems.sort(key=lambda p: p[0])
    return pd.Series(arr), problems


def numbers(values, kind: str = "number") -> np.ndarray:
    """Valid numbers of a column as a float array, NaN where invalid or blank."""
    return coerce_values(values, kind)[0].to_numpy(dtype=float, na_value=np.nan)


def flags(values) -> np.ndarray:
    """是/否 column as a float array of 1.0 / 0.0 / NaN."""
    return coerce_values(values, "flag")[0].astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def priorities(values) -> np.ndarray:
    """Priority column as a float array of 1..4 / NaN."""
    return coerce_values(values, "priority")[0].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
