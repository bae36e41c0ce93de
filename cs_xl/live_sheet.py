"""The 实时看板 (Live KPIs) sheet of the template: KPI cards as formulas.

Each card is one row: the metric, a CS_* formula (Python through xlwings, or
``cs-xl calc`` headless), the nearest native Excel formula (works without any
add-in, but reads dirty cells such as ``"5分钟"`` as text and does not
deduplicate) and a note.  Users copy a row and add criteria pairs
(``=CS_FRT_RATE(F:F, 3, , , E:E, "物流咨询")``).  Settings come from the 参数
sheet's cells, so changing the threshold there changes the card.  汇总 stays
the refresh's values; this sheet is never generated or replaced.
"""
from __future__ import annotations

from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname

from .schema import CHANNEL_CLASSES, SETTINGS_SHEET, TABLES

LIVE_SHEET = {"zh": "实时看板", "en": "Live KPIs"}

# (metric key, CS_* formula, native formula, zh note, en note); {t.frt} = whole column
# of that table's column, {p.frt_threshold_min} = the 参数 value cell of that key
CARDS = (
    ("volume", "=CS_VOLUME({t.ticket_id})", "=COUNTA({t.ticket_id})-1",
     "原生公式不去重、含空编号时偏差", "the native formula does not deduplicate"),
    ("frt_rate", "=CS_FRT_RATE({t.frt_min}, {p.frt_threshold_min}, {t.channel}, {p.frt_channel_min.classes})",
     '=COUNTIFS({t.frt_min},"<="&{p.frt_threshold_min})/COUNT({t.frt_min})',
     "目标取「参数」各渠道（原生公式只用单一阈值）；加条件: =CS_FRT_RATE(F:F, 3, , , E:E, \"物流咨询\")",
     'targets per channel from the settings sheet (the native formula: one threshold); '
     'add criteria: =CS_FRT_RATE(F:F, 3, , , E:E, "Delivery enquiry")'),
    ("frt_avg", "=CS_FRT_AVG({t.frt_min})", "=AVERAGE({t.frt_min})",
     "“5分钟”等文字只有 CS_* 能读", "only CS_* reads text such as '5 min'"),
    ("frt_p90", "=CS_FRT_P90({t.frt_min})", "=PERCENTILE({t.frt_min},0.9)", "", ""),
    ("sla_rate", "=CS_SLA_RATE({t.frt_min}, {t.priority}, {p.sla_min.levels}, {p.default_priority}, {t.channel}, "
     "{p.frt_channel_min.classes})", "",
     "时效取「参数」各优先级与各渠道目标", "SLA per priority and channel target from the settings sheet"),
    ("csat_rate", "=CS_CSAT({f.rating})", '=COUNTIFS({f.rating},">=4",{f.rating},"<=5")/COUNTIFS({f.rating},">=1",{f.rating},"<=5")',
     "", ""),
    ("satisfied_rate", "=CS_SAT_RATE({f.satisfied})",
     '=COUNTIF({f.satisfied},"{yes}")/(COUNTIF({f.satisfied},"{yes}")+COUNTIF({f.satisfied},"{no}"))', "", ""),
    ("nps", "=CS_NPS({f.nps})",
     '=100*(COUNTIFS({f.nps},">=9",{f.nps},"<=10")-COUNTIFS({f.nps},">=0",{f.nps},"<=6"))/COUNTIFS({f.nps},">=0",{f.nps},"<=10")',
     "", ""),
    ("complaint_rate", "=CS_COMPLAINT_RATE({f.complaint}, B{row.volume})", '=COUNTIF({f.complaint},"{yes}")/C{row.volume}',
     "分母为受理量", "per ticket (volume)"),
    ("answer_rate", "=CS_ANSWER_RATE({c.answered}, {c.ivr_selfserved})",
     '=COUNTIFS({c.answered},"{yes}",{c.ivr_selfserved},"<>{yes}")/(COUNTIFS({c.answered},"{yes}",{c.ivr_selfserved},"<>{yes}")'
     '+COUNTIFS({c.answered},"{no}",{c.ivr_selfserved},"<>{yes}"))', "", ""),
    ("asa", "=CS_ASA({c.wait_s}, {c.answered})", '=AVERAGEIFS({c.wait_s},{c.answered},"{yes}")', "", ""),
    ("service_level", "=CS_SERVICE_LEVEL({c.wait_s}, {c.answered}, {p.service_level_s}, {c.ivr_selfserved})",
     '=COUNTIFS({c.answered},"{yes}",{c.wait_s},"<="&{p.service_level_s},{c.ivr_selfserved},"<>{yes}")'
     '/(COUNTIFS({c.answered},"{yes}",{c.ivr_selfserved},"<>{yes}")+COUNTIFS({c.answered},"{no}",{c.ivr_selfserved},"<>{yes}"))',
     "", ""),
    ("aht", "=CS_AHT({c.talk_s}, {c.hold_s}, {c.wrap_s}, {c.answered})",
     '=(SUMIFS({c.talk_s},{c.answered},"{yes}")+SUMIFS({c.hold_s},{c.answered},"{yes}")'
     '+SUMIFS({c.wrap_s},{c.answered},"{yes}"))/COUNTIFS({c.answered},"{yes}",{c.talk_s},"<>")', "", ""),
    ("ivr_rate", "=CS_IVR_RATE({c.ivr_selfserved})", '=COUNTIF({c.ivr_selfserved},"{yes}")/(COUNTA({c.start})-1)',
     "", ""),
)
FIRST_CARD_ROW = 4
HEADERS = {"zh": ("指标", "CS_* 公式 (Python)", "原生公式 (Excel)", "说明"),
           "en": ("Metric", "CS_* formula (Python)", "Native formula (Excel)", "Note")}
TITLE = {"zh": "实时看板 — 公式随数据即时更新（CS_* 需 xlwings 插件，或运行 cs-xl calc）",
         "en": "Live KPIs — formulas that follow the data (CS_* need the xlwings add-in, or run cs-xl calc)"}
NUMBER_FORMATS = {"pct": "0.0%", "min": "0.00", "sec": "0.0", "count": "#,##0", "score": "0.00", "nps": "0.0"}


class _Columns:
    """{t.frt_min} → 响应时间统计表!$F:$F (a table's column, whole)."""

    def __init__(self, table: str, lang: str):
        self.sheet = quote_sheetname(TABLES[table].sheet(lang))
        self.letters = {c.key: get_column_letter(i) for i, c in enumerate(TABLES[table].columns, start=1)}

    def __getattr__(self, key: str) -> str:
        letter = self.__dict__["letters"][key]
        return f"{self.sheet}!${letter}:${letter}"


class _Settings:
    """{p.frt_threshold_min} → 参数!$B$15 (the value cell of a 参数 key)."""

    def __init__(self, ws):
        self.sheet = quote_sheetname(ws.title)
        self.rows = {row[4].value: row[1].row for row in ws.iter_rows(min_row=1, max_col=5) if row[4].value}

    def __getitem__(self, key: str) -> str:
        return f"{self.sheet}!$B${self.rows[key]}"

    def __getattr__(self, key: str):
        return _Dotted(self, key)


class _Dotted:
    """{p.sla_min.1}: keys with a dot."""

    def __init__(self, settings: _Settings, prefix: str):
        self.settings, self.prefix = settings, prefix

    def __getattr__(self, part: str) -> str:
        if part in ("levels", "classes"):  # {p.sla_min.levels}: the per-priority (per-channel) cells as one range
            ends = ("1", "4") if part == "levels" else (CHANNEL_CLASSES[0], CHANNEL_CLASSES[-1])
            first, last = (self.settings[f"{self.prefix}.{end}"] for end in ends)
            return f"{first}:{last.split('!')[1]}"
        return self.settings[f"{self.prefix}.{part}"]

    def __format__(self, spec: str) -> str:
        return self.settings[self.prefix]


def card_rows() -> dict[str, int]:
    """Sheet row of each card's metric key."""
    return {key: FIRST_CARD_ROW + i for i, (key, *_rest) in enumerate(CARDS)}


def write_live_sheet(wb, lang: str = "zh"):
    """Add the 实时看板 sheet to a template workbook (after its input sheets)."""
    from .catalogue import get
    ws = wb.create_sheet(LIVE_SHEET[lang])
    fields = {"t": _Columns("tickets", lang), "f": _Columns("feedback", lang), "c": _Columns("calls", lang),
              "p": _Settings(wb[SETTINGS_SHEET[lang]]), "row": type("Rows", (), card_rows())(),
              "yes": "是" if lang == "zh" else "Yes", "no": "否" if lang == "zh" else "No"}
    ws["A1"] = TITLE[lang]
    ws["A1"].font = Font(bold=True, size=14)
    for col, text in enumerate(HEADERS[lang], start=1):
        cell = ws.cell(row=FIRST_CARD_ROW - 1, column=col, value=text)
        cell.font, cell.fill = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="4472C4")
    for row, (key, cs, native, note_zh, note_en) in zip(card_rows().values(), CARDS):
        info = get(key)
        ws.cell(row=row, column=1, value=info.name(lang))
        for col, formula in ((2, cs), (3, native)):
            if formula:
                cell = ws.cell(row=row, column=col, value=formula.format(**fields))
                cell.number_format = NUMBER_FORMATS[info.fmt]
        ws.cell(row=row, column=4, value=note_zh if lang == "zh" else note_en).alignment = Alignment(wrap_text=True)
    for letter, width in zip("ABCD", (22, 18, 18, 46)):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = f"A{FIRST_CARD_ROW}"
    return ws
