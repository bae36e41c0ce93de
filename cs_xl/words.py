"""Words shown to people, keyed by codes: one table per kind, zh and en side by side.

Code keeps codes (stable, for tests and JSON) and asks this module for the
words.  Data-quality reasons are a code plus arguments (``Reason``): the
English text is the stable string of the JSON output, the Chinese text is
what the 数据质量 sheet of a Chinese book shows; nothing is parsed back from
prose.  This module imports nothing of the project (every layer may use it).
"""
from __future__ import annotations

from typing import NamedTuple

# code → (English template, Chinese template); templates take the reason's arguments
REASONS: dict[str, tuple[str, str]] = {
    "excel_error": ("Excel error value", "Excel错误值"),
    "bool_in_number": ("TRUE/FALSE in a numeric column", "数值列中出现TRUE/FALSE"),
    "date_serial": ("date stored as an Excel serial number", "日期以Excel序列号存储"),
    "date_text": ("date stored as text", "日期以文本存储"),
    "date_range": ("date outside {first}-{last}", "日期超出{first}-{last}"),
    "negative": ("negative value", "负数"),
    "not_date": ("not a date", "不是日期"),
    "not_finite": ("not a finite number", "不是有限数值"),
    "not_number": ("not a number", "不是数字"),
    "not_whole": ("not a whole number", "不是整数"),
    "not_yes_no": ("not a yes/no value", "不是是/否值"),
    "number_text": ("number stored as text", "数字以文本存储"),
    "time_as_duration": ("time value read as a duration", "时间值按时长读取"),
    "unit_unknown": ("unit not recognised", "无法识别的单位"),
    "unit_text": ("text with unit '{unit}'", "带单位文本'{unit}'"),
    "unit_to_minutes": ("text with unit '{unit}' converted to minutes", "带单位文本'{unit}'已换算为分钟"),
    "unit_to_seconds": ("text with unit '{unit}' converted to seconds", "带单位文本'{unit}'已换算为秒"),
    "unknown_priority": ("unknown priority", "未知优先级"),
    "from_timestamps": ("computed from timestamps", "由时间戳计算"),
    "from_timestamps_absent": ("computed from timestamps (column absent)", "由时间戳计算(缺少该列)"),
    "future_date": ("date in the future", "未来日期"),
    "missing_column": ("missing required column", "缺少必填列"),
    "missing_value": ("missing required value", "必填值为空"),
    "total_row": ("total/summary row", "合计/汇总行"),
    "frt_before_created": ("negative duration: first response before created", "时长为负:首次响应早于创建"),
    "resolved_before_frt": ("negative duration: resolved before first response", "时长为负:解决早于首次响应"),
    "resolved_before_created": ("resolved before created", "解决早于创建"),
    "duplicate": ("duplicate {key}", "重复的{key}"),
    "duplicate_column": ("duplicate column for {header}, ignored", "与“{header}”重复的列,已忽略"),
    "outside": ("outside {low:g}-{high:g}", "超出范围{low:g}-{high:g}"),
}

ACTIONS: dict[str, tuple[str, str]] = {
    "repaired": ("repaired", "已修正"),
    "dropped": ("dropped", "已剔除"),
    "flagged": ("flagged", "已标记"),
}

LANGS = ("zh", "en")


class Reason(NamedTuple):
    """Why a cell was repaired, dropped or flagged: a code of :data:`REASONS` and its arguments."""
    code: str
    args: tuple = ()

    def text(self, lang: str = "en") -> str:
        """>>> Reason("outside", (("low", 1), ("high", 5))).text("zh")
        '超出范围1-5'
        """
        en, zh = REASONS[self.code]
        return (zh if lang == "zh" else en).format(**dict(self.args))

    def __str__(self) -> str:
        return self.text("en")


def reason(code: str, **args) -> Reason:
    """A :class:`Reason`, checked against the table so a typo fails where it is made."""
    if code not in REASONS:
        raise KeyError(f"unknown data-quality reason code {code!r}")
    return Reason(code, tuple(sorted(args.items())))


def action_text(action: str, lang: str = "en") -> str:
    en, zh = ACTIONS.get(action, (action, action))
    return zh if lang == "zh" else en


# One-line messages of the command line (errors and notes), kept here with the
# other words until the words table consolidates them.  English, like the
# loader's messages; headers and sheet names are quoted as the book has them.
CLI_MESSAGES = {
    "untimed": "{n:,} {noun} records have no time of day ({header}) and are not in the hour view",
}


def cli_message(key: str, **values) -> str:
    return CLI_MESSAGES[key].format(**values)
