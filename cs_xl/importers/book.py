"""Imported frames → the standard workbook (new, or appended to an existing one).

A new book is the blank template with the records filled into its input
Tables; ``append`` opens an existing book and adds only records whose id
(工单编号 / 话务编号) it does not hold yet, never touching existing rows.
What the import left out is listed on the 导入日志 (Import log) sheet with
the source file and line, which a refresh keeps (it is not a generated
sheet).  Saving is atomic with a .bak of the previous file.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..book import open_book, save_atomic
from ..dataset import QUALITY_COLUMNS, QualityIssue
from ..params import NO, YES
from ..schema import TABLES
from ..settings import Settings
from ..render.cells import write_text_safe
from ..input_stream import save_filled
from ..template import build_template, fill_inputs
from ..words import action_text, reason
from .base import Imported
from .log import LOG_HEADERS, LOG_SHEET



def write_book(imported: Imported, out, lang: str = "zh", append: bool = False,
               settings: Settings | None = None) -> dict[str, int]:
    """Write the records into ``out``; returns rows written per table.  A new
    book's 参数 sheet holds ``settings`` (the clock rule the minutes were
    measured with, so the book states it)."""
    out = Path(out)
    if append:
        wb = open_book(out)
        frames = _new_records(imported, out)
    else:
        wb = build_template(lang, settings)
        frames = imported.frames
    records = {k: cells(f, lang) for k, f in frames.items()}
    written = fill_inputs(wb, records, lang) if append else None
    _write_log(wb, imported.issues, lang)
    if append:
        save_atomic(wb, out)
        return written
    return save_filled(wb, records, out, lang)  # a new book: the records stream in as it is saved


def cells(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Cell values as staff would type them: flags 是/否 (Yes/No)."""
    words = {True: YES[lang], False: NO[lang]}
    out = frame.copy()
    for key in out.columns:
        if out[key].dtype == bool or any(isinstance(v, bool) for v in out[key]):  # (an empty append has none)
            out[key] = out[key].map(lambda v: words.get(v, v) if isinstance(v, bool) else v)
    return out


def _new_records(imported: Imported, book: Path) -> dict[str, pd.DataFrame]:
    """Records whose id the book already holds are left out (and reported)."""
    from ..pipeline import read_path
    ds, _ = read_path(book)
    frames = {}
    for key, frame in imported.frames.items():
        id_key = TABLES[key].id_key
        existing = ds.table(key)
        if id_key not in frame.columns or existing is None or id_key not in existing.columns:
            frames[key] = frame
            continue
        held = set(existing[id_key].dropna().astype(str))
        again = frame[id_key].astype(str).isin(held)
        for value in frame.loc[again, id_key]:
            imported.issues.append(QualityIssue(Path(book).name, None, TABLES[key].column(id_key).zh, value,
                                                reason("already_in_book", key=id_key), "flagged"))
        frames[key] = frame[~again]
    return frames


def _write_log(wb, issues: list[QualityIssue], lang: str) -> None:
    if not issues:
        return
    name = LOG_SHEET[lang]
    if name not in wb.sheetnames:
        wb.create_sheet(name).append(LOG_HEADERS[lang])
    ws = wb[name]
    for issue in issues:
        ws.append([None] * len(QUALITY_COLUMNS))
        row = ws.max_row
        values = (issue.sheet, issue.row, issue.column, issue.value, issue.why.text(lang),
                  action_text(issue.action, lang))
        for col, value in enumerate(values, start=1):
            write_text_safe(ws.cell(row=row, column=col), value)
