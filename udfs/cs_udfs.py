"""The CS_* worksheet functions for Excel, through xlwings — one module, both paths.

* **Classic** (Windows desktop with the xlwings add-in): name this module in
  the ``xlwings.conf`` sheet ("UDF Modules": ``cs_udfs``), press *Import
  Functions*, type ``=CS_FRT_RATE(响应时间统计表!F:F, 3)``.  Ranges arrive as
  ``xw.Range`` objects (the ``"range"`` converter) and are cut to the sheet's
  used rows before any cell is read.
* **xlwings Server / Lite** (Excel on the web, Windows and Mac): with
  ``XLWINGS_ON_SERVER=true`` the same functions are registered with
  ``xlwings.server``'s decorators; ``custom_functions_meta(cs_udfs)`` gives
  Office.js their names, help and arguments.  Ranges use the ``"raw"``
  converter: the JSON values are cleaned by :mod:`cs_xl.udf_args` after the
  unused tail is cut, instead of xlwings' per-cell conversion (≈ 1 s instead
  of 35–65 s for a whole column on xlwings 0.37.8).

The two buttons, ``refresh_report`` (「刷新报表」) and ``check_data`` (「检查数据」, only 数据质量),
are here too: an ``@xw.sub`` for the classic add-in (the workbook's VBA calls them through
``RunPython``) and an xlwings Server/Lite ``@script`` bound to a shape on 说明.  Both read the open
book's cells and redraw the generated sheets with :mod:`cs_xl.live_refresh`.

Every function is generated from :mod:`cs_xl.excel_functions`, which binds
each one to the metric registry: nothing is computed here.  Bad arguments
raise :class:`cs_xl.udf_args.UdfError` (classic xlwings writes its text into
the cell, Office.js shows ``#VALUE!`` with it on hover); undefined results
are ``#N/A``.
"""
from __future__ import annotations

import inspect
import os

import xlwings as xw

from cs_xl import excel_functions as ef, live_refresh
from cs_xl.template import README_SHEET

ON_SERVER = os.environ.get("XLWINGS_ON_SERVER", "").lower() == "true"

if ON_SERVER:
    from xlwings.server import arg, func, script
    # raw JSON values: cleaned by cs_xl.udf_args after trimming (the whole-column workaround)
    RANGE_CONVERTER = "raw"
else:
    from xlwings import arg, func
    # the Range object itself: trimmed to the used rows before its values are read
    RANGE_CONVERTER = "range"

_ARG = inspect.Parameter.POSITIONAL_OR_KEYWORD


def _range_args(fn: ef.ExcelFunction) -> list[str]:
    ranges = [p.name for p in fn.params if p.role in ("column", "table")]
    return ranges + [n for n in fn.arg_names if n.startswith("criteria_range")]


def _signature(fn: ef.ExcelFunction) -> inspect.Signature:
    params = []
    for p in fn.params:
        default = inspect.Parameter.empty if p.required else p.default
        params.append(inspect.Parameter(p.name, _ARG, default=default))
    extra = fn.arg_names[len(fn.params):]  # criteria pairs, all optional
    params += [inspect.Parameter(n, _ARG, default=None) for n in extra]
    return inspect.Signature(params)


def _docs(fn: ef.ExcelFunction) -> dict[str, str]:
    docs = {p.name: p.doc for p in fn.params}
    for n in fn.arg_names[len(fn.params):]:
        docs[n] = "range tested like COUNTIFS" if n.startswith("criteria_range") else \
            'criterion like COUNTIFS: "物流咨询", ">=3", "<>投诉", "物流*"'
    return docs


def _udf(fn: ef.ExcelFunction):
    """An xlwings function named like the formula, with the metric's arguments."""
    def udf(*args):
        return fn(*args)

    udf.__name__ = udf.__qualname__ = fn.name
    udf.__doc__ = fn.doc
    udf.__module__ = __name__
    udf.__signature__ = _signature(fn)
    udf = func(udf)
    ranges = set(_range_args(fn))
    for name, doc in _docs(fn).items():
        udf = arg(name, RANGE_CONVERTER, doc=doc)(udf) if name in ranges else arg(name, doc=doc)(udf)
    return udf


for _fn in ef.FUNCTIONS.values():
    globals()[_fn.name] = _udf(_fn)


@func
@arg("group", RANGE_CONVERTER, doc="分组列, e.g. 响应时间统计表!E:E (问题类型)")
@arg("values", RANGE_CONVERTER, doc="数值列, e.g. 响应时间统计表!F:F")
@arg("metric", doc="metric key or name, e.g. frt_rate / CS_FRT_RATE / 首次响应达标率")
@arg("arg", doc="the metric's second argument, e.g. the threshold 3")
def CS_BREAKDOWN(group, values, metric, arg=None):
    """分组统计 (pivot): a spilled table of group, count and the metric per group."""
    return ef.breakdown(group, values, metric, arg)


# ---------------------------------------------------------------- the buttons

# Lite/Server buttons: a shape named like this on 说明, hyperlinked to the cell (see README); the
# desktop .xlsm has its form buttons in the same cells (cs_xl.macro_book)
README = README_SHEET["zh"]
BUTTON_SHAPES = {"refresh_report": f"[cs_refresh]{README}!B3", "check_data": f"[cs_check]{README}!C3"}

if ON_SERVER:
    @script(button=BUTTON_SHAPES["refresh_report"], show_taskpane=False)
    def refresh_report(book: xw.Book):
        """「刷新报表」: rebuild every generated sheet from the open book's cells."""
        live_refresh.press(book, "refresh")

    @script(button=BUTTON_SHAPES["check_data"], show_taskpane=False)
    def check_data(book: xw.Book):
        """「检查数据」: rebuild only 数据质量 from the open book's cells."""
        live_refresh.press(book, "check")
else:
    @xw.sub
    def refresh_report():
        """「刷新报表」 (VBA: ``RunPython "import cs_udfs; cs_udfs.refresh_report()"``)."""
        live_refresh.press(xw.Book.caller(), "refresh")

    @xw.sub
    def check_data():
        """「检查数据」 (VBA: ``RunPython "import cs_udfs; cs_udfs.check_data()"``)."""
        live_refresh.press(xw.Book.caller(), "check")


__all__ = [*ef.FUNCTIONS, "CS_BREAKDOWN", "refresh_report", "check_data"]
