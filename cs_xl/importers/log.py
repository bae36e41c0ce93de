"""The 导入日志 (Import log) sheet: what an import left out or repaired, with
the source file and line.  :mod:`cs_xl.importers.book` writes it; every
refresh and ``cs-xl kpis`` read it back (:func:`log_issues`), so the rows an
import rejected stay on the 数据质量 sheet and in the counts — nothing is
dropped silently.  No Excel library here: it reads already-read grids."""
from __future__ import annotations

from ..dataset import QualityIssue
from ..read_files import Grids
from ..words import ACTIONS, reason

LOG_SHEET = {"zh": "导入日志", "en": "Import log"}
LOG_HEADERS = {"zh": ("来源文件", "行号", "列", "值", "原因", "处理"),
               "en": ("Source file", "Line", "Column", "Value", "Reason", "Action")}
_ACTION_CODES = {text: code.split()[-1] for code, words in ACTIONS.items() for text in (code, *words)}  # 剔除记录 → dropped


def log_issues(grids: Grids) -> list[QualityIssue]:
    """The issues listed on the import log sheet of ``grids`` (none without one).
    The reason is the logged text, in the language of the book that logged it."""
    grid = grids.sheet(LOG_SHEET.values())
    if grid is None:
        return []
    issues = []
    for row in grid.rows[1:]:
        source, line, column, value, why, action = (list(row) + [None] * 6)[:6]
        if source in (None, ""):
            continue
        issues.append(QualityIssue(str(source), _line(line), column or None, value,
                                   reason("logged", text=str(why or "")),
                                   _ACTION_CODES.get(str(action).strip(), "flagged")))
    return issues


def _line(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
