"""Every data-quality reason the loader can report has Chinese wording for the 数据质量 sheet."""
import re
from pathlib import Path

import pytest

from cs_xl.i18n import action_label, reason_label
from cs_xl.load import DURATIONS

SRC = Path(__file__).resolve().parents[1] / "cs_xl"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _literal_reasons():
    """Reason strings written literally in the parsers and the loader."""
    text = (SRC / "coerce.py").read_text(encoding="utf-8") + (SRC / "load.py").read_text(encoding="utf-8")
    # f-strings (with {…}) are covered by test_reasons_with_values
    found = set(re.findall(r'Problem\("([^"{}]+)"', text))
    found |= set(re.findall(r'"([^"{}]+)", "(?:dropped|repaired|flagged)"\)', text))
    found |= {reason for *_, reason in DURATIONS}
    return sorted(found)


@pytest.mark.parametrize("reason", _literal_reasons())
def test_every_literal_reason_is_translated(reason):
    label = reason_label(reason, "zh")
    assert label != reason and CJK.search(label), reason


@pytest.mark.parametrize("reason, expected", [
    ("text with unit '分钟' converted to minutes", "带单位文本'分钟'已换算为分钟"),
    ("text with unit 'min' converted to seconds", "带单位文本'min'已换算为秒"),
    ("text with unit '星'", "带单位文本'星'"),
    ("duplicate ticket_id", "重复的ticket_id"),
    ("outside 1-5", "超出范围1-5"),
    ("date outside 1900-2261", "日期超出1900-2261"),
])
def test_reasons_with_values(reason, expected):
    assert reason_label(reason, "zh") == expected


def test_english_and_unknown_stay_as_reported():
    assert reason_label("not a number", "en") == "not a number"
    assert reason_label("something new", "zh") == "something new"
    assert action_label("dropped", "zh") == "已剔除" and action_label("dropped", "en") == "dropped"
