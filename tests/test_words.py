"""cs_xl.words: every data-quality reason is a code with English and Chinese wording."""
import re
from pathlib import Path

import pytest

from cs_xl import coerce
from cs_xl.load import load
from cs_xl.words import REASONS, Reason, action_text, reason

SRC = Path(__file__).resolve().parents[1] / "cs_xl"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _codes_in_source() -> set[str]:
    """Reason codes the parsers and the loader create (literal or f-string prefix)."""
    text = "".join(p.read_text(encoding="utf-8") for p in SRC.glob("*.py"))
    literal = set(re.findall(r'\breason\("([a-z_]+)"', text))
    prefixes = set(re.findall(r'\breason\(f"([a-z_]+)\{', text))
    return literal | {code for code in REASONS for p in prefixes if code.startswith(p)}


def test_every_code_the_source_uses_has_words():
    used = _codes_in_source()
    assert len(used) >= 25  # the scan itself found the calls
    assert used <= set(REASONS)


@pytest.mark.parametrize("code", sorted(REASONS))
def test_every_reason_reads_in_both_languages(code):
    en, zh = REASONS[code]
    assert CJK.search(zh) and not CJK.search(en.split("'")[0]), code


@pytest.mark.parametrize("why, en, zh", [
    (reason("unit_to_minutes", unit="分钟"), "text with unit '分钟' converted to minutes", "带单位文本'分钟'已换算为分钟"),
    (reason("unit_to_seconds", unit="min"), "text with unit 'min' converted to seconds", "带单位文本'min'已换算为秒"),
    (reason("unit_text", unit="星"), "text with unit '星'", "带单位文本'星'"),
    (reason("duplicate", key="ticket_id"), "duplicate ticket_id", "重复的ticket_id"),
    (reason("outside", low=1.0, high=5.0), "outside 1-5", "超出范围1-5"),
    (reason("date_range", first=1900, last=2261), "date outside 1900-2261", "日期超出1900-2261"),
])
def test_reasons_with_values(why, en, zh):
    assert (why.text("en"), why.text("zh"), str(why)) == (en, zh, en)


def test_unknown_code_fails_where_it_is_made():
    with pytest.raises(KeyError, match="no_such_reason"):
        reason("no_such_reason")


def test_parsers_report_codes_not_prose():
    _, problem = coerce.minutes("5分钟")
    assert problem.why == Reason("unit_to_minutes", (("unit", "分钟"),))
    assert problem.reason == "text with unit '分钟' converted to minutes"


def test_loaded_issues_keep_code_and_english_reason(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("日期,客服工号,首次响应时间(分钟)\n2024-03-01,A1,abc\n", encoding="utf-8")
    [issue] = load(path).quality.issues
    assert (issue.why.code, issue.reason, issue.why.text("zh")) == ("not_number", "not a number", "不是数字")


def test_actions():
    assert action_text("dropped", "zh") == "已剔除" and action_text("dropped", "en") == "dropped"
