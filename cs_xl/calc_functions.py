"""Native Excel functions for ``cs-xl calc`` where the ``formulas`` engine departs from Excel.

Measured with ``formulas`` 1.3.4: ``AVERAGE`` of a range holding any text
cell (a header, ``"5分钟"``) gives ``#VALUE!`` where Excel ignores the text;
``COUNTIFS(..., "<>")`` counts one row; ``COUNTIFS`` with ``">=3"`` counts
the *text* ``"4"``.  The KPI formulas users write next to CS_* cells use
exactly these functions over whole columns with headers, so they are
replaced here by Excel's rules:

* statistics (``SUM AVERAGE COUNT COUNTA MIN MAX MEDIAN PERCENTILE(.INC)``)
  read the numbers of a range and skip its text, logical and blank cells; a
  number given directly counts; an error cell in the range is the result;
* the ``*IF``/``*IFS`` family keeps the rows matching every criterion with
  :mod:`cs_xl.criteria` — the same COUNTIFS reading the CS_* criteria use.
"""
from __future__ import annotations

import numpy as np

from . import criteria


_ENGINE: tuple = ()


def _engine():
    """(EMPTY, Error, XlError) of the formulas engine, imported once (it is slow to import)."""
    global _ENGINE
    if not _ENGINE:
        import schedula
        from formulas.tokens.operand import Error, XlError
        _ENGINE = (schedula.EMPTY, Error, XlError)
    return _ENGINE


class _ErrorResult(Exception):
    def __init__(self, error):
        self.error = error


def _cells(arg) -> list:
    return list(np.asarray(arg, dtype=object).ravel()) if isinstance(arg, np.ndarray) else [arg]


def _raw(cell):
    """An engine cell as a raw Excel cell for :mod:`cs_xl.criteria`."""
    empty, _, xl_error = _engine()
    if isinstance(cell, np.ndarray):  # a criterion computed by an expression: a 1×1 array
        cell = cell.ravel()[0] if cell.size else empty
    if cell is empty:
        return None
    return str(cell) if isinstance(cell, xl_error) else cell


def _numbers(*args) -> list[float]:
    """The numbers Excel's statistics read: numeric cells of ranges, numbers (or
    numeric text) given directly; an error anywhere is raised as the result."""
    empty, error, xl_error = _engine()
    out = []
    for arg in args:
        direct = not isinstance(arg, np.ndarray)
        for cell in _cells(arg):
            if isinstance(cell, xl_error):
                raise _ErrorResult(cell)
            if cell is empty or cell is None or isinstance(cell, (bool, np.bool_)):
                continue
            if isinstance(cell, (int, float, np.integer, np.floating)):
                out.append(float(cell))
            elif direct and isinstance(cell, str):
                try:
                    out.append(float(cell))
                except ValueError:
                    raise _ErrorResult(error.errors["#VALUE!"]) from None
    return out


def _safe(fn):
    def call(*args):
        try:
            return fn(*args)
        except _ErrorResult as exc:
            return exc.error
    call.__name__ = fn.__name__
    return call


def _div0():
    return _engine()[1].errors["#DIV/0!"]


def _num_error():
    return _engine()[1].errors["#NUM!"]


@_safe
def SUM(*args):
    return float(sum(_numbers(*args)))


@_safe
def AVERAGE(*args):
    x = _numbers(*args)
    return sum(x) / len(x) if x else _div0()


@_safe
def COUNT(*args):
    return float(sum(1 for arg in args for c in _cells(arg)
                     if isinstance(c, (int, float, np.integer, np.floating)) and not isinstance(c, (bool, np.bool_))))


@_safe
def COUNTA(*args):
    empty = _engine()[0]
    return float(sum(1 for arg in args for c in _cells(arg) if c is not empty and c is not None and c != ""))


@_safe
def MIN(*args):
    x = _numbers(*args)
    return min(x) if x else 0.0


@_safe
def MAX(*args):
    x = _numbers(*args)
    return max(x) if x else 0.0


@_safe
def MEDIAN(*args):
    x = _numbers(*args)
    return float(np.median(x)) if x else _num_error()


@_safe
def PERCENTILE(values, k):
    x = _numbers(values)
    p = _numbers(k)
    if not x or len(p) != 1 or not 0 <= p[0] <= 1:
        return _num_error()
    return float(np.percentile(x, p[0] * 100, method="linear"))  # linear = PERCENTILE.INC


def _blank_tail(pairs) -> int:
    """Blank rows below the used part of whole-column ranges that every criterion
    accepts (COUNTIF(A:A, "<>投诉") counts the empty rows of the column, as in Excel)."""
    tails = {getattr(rng, "rows", 0) - np.size(rng) for rng, _ in pairs}
    if len(tails) != 1 or (tail := tails.pop()) <= 0:
        return 0
    return tail if all(criteria.parse(_raw(c)).matches(None) for _, c in pairs) else 0


def _mask(pairs) -> np.ndarray:
    pairs = list(pairs)
    cells = [[_raw(c) for c in _cells(rng)] for rng, _ in pairs]
    if len({len(c) for c in cells}) > 1:
        raise _ErrorResult(_engine()[1].errors["#VALUE!"])
    keep = np.ones(len(cells[0]), dtype=bool)
    for column, (_, criterion) in zip(cells, pairs):
        keep &= criteria.parse(_raw(criterion)).mask(column)
    return keep


def _pairs(args) -> list:
    if len(args) % 2:
        raise _ErrorResult(_engine()[1].errors["#VALUE!"])
    return [(args[i], args[i + 1]) for i in range(0, len(args), 2)]


def _selected(values, keep: np.ndarray) -> list:
    cells = _cells(values)
    if len(cells) != len(keep):
        raise _ErrorResult(_engine()[1].errors["#VALUE!"])
    return _numbers(np.array([c for c, k in zip(cells, keep) if k], dtype=object))


@_safe
def COUNTIFS(*args):
    pairs = _pairs(args)
    return float(_mask(pairs).sum() + _blank_tail(pairs))


@_safe
def COUNTIF(rng, criterion):
    return float(_mask([(rng, criterion)]).sum() + _blank_tail([(rng, criterion)]))


@_safe
def SUMIFS(sum_range, *args):
    return float(sum(_selected(sum_range, _mask(_pairs(args)))))


@_safe
def SUMIF(rng, criterion, sum_range=None):
    return float(sum(_selected(rng if sum_range is None else sum_range, _mask([(rng, criterion)]))))


@_safe
def AVERAGEIFS(average_range, *args):
    x = _selected(average_range, _mask(_pairs(args)))
    return sum(x) / len(x) if x else _div0()


@_safe
def AVERAGEIF(rng, criterion, average_range=None):
    x = _selected(rng if average_range is None else average_range, _mask([(rng, criterion)]))
    return sum(x) / len(x) if x else _div0()


FUNCTIONS = {f.__name__: f for f in (SUM, AVERAGE, COUNT, COUNTA, MIN, MAX, MEDIAN, PERCENTILE, COUNTIFS,
                                     COUNTIF, SUMIFS, SUMIF, AVERAGEIFS, AVERAGEIF)}
FUNCTIONS.update({"PERCENTILE.INC": PERCENTILE, "_XLFN.PERCENTILE.INC": PERCENTILE})
