"""Chinese wording of the data-quality reasons and actions.

The loader and the cell parsers report in English (stable strings for JSON,
scripts and tests); the 数据质量 sheet of a Chinese workbook shows them in
Chinese through :func:`reason_label` / :func:`action_label`.
"""
from __future__ import annotations

import re

REASONS_ZH = {
    "Excel error value": "Excel错误值",
    "TRUE/FALSE in a numeric column": "数值列中出现TRUE/FALSE",
    "date stored as an Excel serial number": "日期以Excel序列号存储",
    "date stored as text": "日期以文本存储",
    "negative value": "负数",
    "not a date": "不是日期",
    "not a finite number": "不是有限数值",
    "not a number": "不是数字",
    "not a whole number": "不是整数",
    "not a yes/no value": "不是是/否值",
    "number stored as text": "数字以文本存储",
    "time value read as a duration": "时间值按时长读取",
    "unit not recognised": "无法识别的单位",
    "unknown priority": "未知优先级",
    "computed from timestamps": "由时间戳计算",
    "computed from timestamps (column absent)": "由时间戳计算(缺少该列)",
    "date in the future": "未来日期",
    "missing required column": "缺少必填列",
    "missing required value": "必填值为空",
    "total/summary row": "合计/汇总行",
    "negative duration: first response before created": "时长为负:首次响应早于创建",
    "negative duration: resolved before first response": "时长为负:解决早于首次响应",
}
# reasons with a value inside: (pattern, Chinese template)
_PATTERNS_ZH = (
    (re.compile(r"^text with unit '(.*)' converted to minutes$"), "带单位文本'{0}'已换算为分钟"),
    (re.compile(r"^text with unit '(.*)' converted to seconds$"), "带单位文本'{0}'已换算为秒"),
    (re.compile(r"^text with unit '(.*)'$"), "带单位文本'{0}'"),
    (re.compile(r"^duplicate (.*)$"), "重复的{0}"),
    (re.compile(r"^outside (.*)$"), "超出范围{0}"),
    (re.compile(r"^date outside (.*)$"), "日期超出{0}"),
)
ACTIONS_ZH = {"repaired": "已修正", "dropped": "已剔除", "flagged": "已标记"}


def reason_label(reason: str, lang: str = "zh") -> str:
    """The reason as shown on the 数据质量 sheet; English stays as reported."""
    if lang != "zh" or not isinstance(reason, str):
        return reason
    if reason in REASONS_ZH:
        return REASONS_ZH[reason]
    for pattern, template in _PATTERNS_ZH:
        m = pattern.match(reason)
        if m:
            return template.format(*m.groups())
    return reason


def action_label(action: str, lang: str = "zh") -> str:
    return ACTIONS_ZH.get(action, action) if lang == "zh" else action


# One-line messages of the command line (errors and notes), kept here with the
# other words until the words table consolidates them.  English, like the
# loader's messages; headers and sheet names are quoted as the book has them.
CLI_MESSAGES = {
    "untimed": "{n:,} {noun} records have no time of day ({header}) and are not in the hour view",
}


def cli_message(key: str, **values) -> str:
    return CLI_MESSAGES[key].format(**values)
