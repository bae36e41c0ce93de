"""A finding: one conclusion an analysis draws, with the numbers behind it.

Every analysis module (Pareto, before/after, alerts, staffing, segment gaps,
agent trends) turns its plain results into findings; the written report
(分析报告, ``cs-xl report``) ranks them and phrases each one with the words of
:mod:`cs_xl.words` — so a sentence's numbers always come from the table the
finding points to, and the analyses stay free of words.

>>> f = Finding("fcr_falling", {"value": "物流咨询", "periods": 2}, sheet="预警", weight=0.8)
>>> f.kind, f.sheet
('issue', '预警')
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["issue", "improvement", "advice", "info"]


@dataclass(frozen=True)
class Finding:
    """``code`` names the sentence (a key of the words module), ``args`` fill it
    (plain numbers, strings, dates), ``sheet`` is where the evidence is, and
    ``weight`` (0–1, larger = stronger) orders findings in the written report."""
    code: str
    args: dict = field(default_factory=dict)
    sheet: str = ""
    weight: float = 0.0
    kind: Kind = "issue"


def strongest(findings: list[Finding], n: int) -> list[Finding]:
    """The ``n`` heaviest findings, heaviest first (ties keep their input order)."""
    return sorted(findings, key=lambda f: -f.weight)[:n]
