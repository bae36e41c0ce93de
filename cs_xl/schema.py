"""The data model: canonical column keys, their Chinese/English headers and types.

Every sheet of the template (and every CSV export mapped onto it) is described
by a :class:`Table`; every column by a :class:`Column`.  Header matching goes
through :func:`normalize_header`, so ``首次响应时间（分钟）``,
``首次响应时间(分钟)`` and ``first response (min)`` all find ``frt_min``.

Column kinds (what :mod:`cs_xl.coerce` turns a cell into):

``date``      a calendar day (Excel serial, datetime, or text such as 2024/3/1)
``datetime``  a moment (same inputs, time kept)
``text``      a label, stripped
``minutes``   a duration in minutes (``"5分钟"``, ``"1.5h"`` converted)
``seconds``   a duration in seconds (``"2分"`` → 120)
``number``    a plain number (ratings, scores)
``count``     a whole number ≥ 0
``flag``      是/否 and its variants → True/False
``priority``  一级/L1/P1/紧急 … → 1..4
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    kind: str
    required: bool = False
    aliases: tuple[str, ...] = ()
    bounds: tuple[float, float] | None = None  # valid range, inclusive (ratings, scores, durations)

    def header(self, lang: str = "zh") -> str:
        return self.zh if lang == "zh" else self.en

    @property
    def names(self) -> tuple[str, ...]:
        return (self.zh, self.en, self.key, *self.aliases)


@dataclass(frozen=True)
class Table:
    key: str
    sheet_zh: str
    sheet_en: str
    columns: tuple[Column, ...]
    id_key: str | None = None
    sheet_aliases: tuple[str, ...] = ()
    _by_key: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        self._by_key.update({c.key: c for c in self.columns})

    def sheet(self, lang: str = "zh") -> str:
        return self.sheet_zh if lang == "zh" else self.sheet_en

    @property
    def sheet_names(self) -> tuple[str, ...]:
        return (self.sheet_zh, self.sheet_en, *self.sheet_aliases)

    def column(self, key: str) -> Column:
        return self._by_key[key]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.columns)

    @property
    def required(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)

    def match_headers(self, headers) -> dict[int, str]:
        """Map header positions to column keys (first match wins for a key)."""
        found: dict[int, str] = {}
        taken: set[str] = set()
        for pos, header in enumerate(headers):
            key = ALIASES[self.key].get(normalize_header(header))
            if key and key not in taken:
                found[pos] = key
                taken.add(key)
        return found


_BRACKETS = re.compile(r"[()\[\]{}<>【】〔〕〈〉《》「」『』]")
_SPACES = re.compile(r"[\s_\-:：/]+")


def normalize_header(text) -> str:
    """Canonical form of a header: NFKC (full → half width), case-folded,
    without brackets, spaces, underscores, hyphens, colons or slashes."""
    if text is None:
        return ""
    text = unicodedata.normalize("NFKC", str(text)).casefold()
    return _SPACES.sub("", _BRACKETS.sub("", text))


C = Column

# The longest durations a cell can plausibly hold (inclusive bounds, like ratings 1–5): a call does not
# last a day, a ticket is not open for ten years.  Beyond them the cell is a typing or export error, and
# kept it would wreck every mean (two 1e308-second calls overflow the AHT to infinity).
CALL_SECONDS = (0, 86_400)
TICKET_MINUTES = (0, 10 * 365 * 1440)

TICKETS = Table(
    "tickets", "响应时间统计表", "Tickets",
    (
        C("date", "日期", "Date", "date", True, ("受理日期", "day")),
        C("agent_id", "客服工号", "Agent ID", "text", True, ("工号", "agent", "agent no")),
        C("agent_name", "客服姓名", "Agent name", "text", False, ("姓名", "客服")),
        C("customer_id", "客户ID", "Customer ID", "text", False, ("客户编号", "customer", "requester id")),
        C("issue_type", "问题类型", "Issue type", "text", False, ("类型", "type", "category")),
        C("frt_min", "首次响应时间(分钟)", "First response (min)", "minutes", False,
          ("首次响应时间", "首响时间", "首次响应时长", "frt", "first response time", "first reply time (min)"),
          TICKET_MINUTES),
        C("resolve_min", "问题解决时间(分钟)", "Resolution (min)", "minutes", False,
          ("问题解决时间", "解决时间", "解决时长", "resolution time", "resolution time (min)"),
          TICKET_MINUTES),
        C("note", "备注", "Note", "text", False, ("notes", "remark", "原因")),
        C("ticket_id", "工单编号", "Ticket ID", "text", False, ("工单号", "ticket", "id", "编号")),
        C("team", "客服组", "Team", "text", False, ("团队", "组别", "group")),
        C("channel", "渠道", "Channel", "text", False, ("来源渠道", "来源", "source", "via")),
        C("customer_type", "客户类型", "Customer type", "text", False, ("客户分类", "segment")),
        C("module", "业务模块", "Module", "text", False, ("模块", "business module")),
        C("priority", "优先级", "Priority", "priority", False, ("级别", "话务级别", "level")),
        C("status", "状态", "Status", "text", False, ("工单状态", "处理状态")),
        C("first_contact_resolved", "一次解决", "First contact resolved", "flag", False,
          ("是否一次解决", "一次性解决", "fcr")),
        C("contacts", "联系次数", "Contacts", "count", False, ("接触次数",)),
        C("transferred", "是否转接", "Transferred", "flag", False, ("转接",)),
        C("reopened", "是否重开", "Reopened", "flag", False, ("重开",)),
        C("hire_date", "入职日期", "Hire date", "date", False, ("入职时间",)),
        C("created_at", "创建时间", "Created at", "datetime", False, ("提交时间", "created")),
        C("first_response_at", "首次响应时刻", "First response at", "datetime", False, ("首次回复时刻",)),
        C("resolved_at", "解决时刻", "Resolved at", "datetime", False, ("解决时间点", "solved at")),
        C("due_at", "承诺完成时间", "Due at", "datetime", False, ("due",)),
        # message-level exports only (Chatwoot messages, event logs naming reply activities); blank otherwise
        C("replies", "人工回复次数", "Human replies", "count", False, ("回复次数", "agent replies")),
        C("response_avg_min", "平均响应时长(分钟)", "Avg response (min)", "minutes", False,
          ("平均响应时长", "平均响应时间", "average response time"), TICKET_MINUTES),
    ),
    id_key="ticket_id",
    sheet_aliases=("客户服务响应时间统计表", "工单", "响应时间"),
)

FEEDBACK = Table(
    "feedback", "效果统计表", "Feedback",
    (
        C("ticket_id", "工单编号", "Ticket ID", "text", False, ("工单号", "ticket", "编号")),
        C("customer_id", "客户ID", "Customer ID", "text", False, ("客户编号", "customer")),
        C("date", "日期", "Date", "date", False, ("评价日期",)),
        C("rating", "评分(1-5星)", "Rating (1-5)", "number", False,
          ("评分", "星级", "满意度评分", "rating", "csat", "score"), (1, 5)),
        C("satisfied", "是否满意", "Satisfied", "flag", False, ("满意", "客户是否满意")),
        C("nps", "推荐意愿(0-10)", "Likelihood to recommend (0-10)", "number", False,
          ("推荐意愿", "nps", "推荐值"), (0, 10)),
        C("attitude", "服务态度(1-5)", "Attitude (1-5)", "number", False, ("服务态度", "态度评分", "attitude"), (1, 5)),
        C("complaint", "是否投诉", "Complaint", "flag", False, ("投诉",)),
        C("repeat_7d", "7天内重复投诉次数", "Repeat complaints in 7 days", "count", False,
          ("7天内同一客户重复投诉次数", "重复投诉次数", "repeat complaints")),
        # what the customer wrote: classified 流程/人员/工具 by 参数's keywords for the 帕累托 sheet
        C("comment", "评价内容", "Comment", "text", False,
          ("评价", "评论", "客户评价", "评价文本", "comments", "feedback comment", "satisfaction comment")),
    ),
    id_key="ticket_id",
    sheet_aliases=("客户服务效果统计表", "效果", "反馈"),
)

CALLS = Table(
    "calls", "话务记录", "Calls",
    (
        C("call_id", "话务编号", "Call ID", "text", False, ("通话编号", "call")),
        C("start", "呼入时间", "Call start", "datetime", True, ("来电时间", "start", "start time")),
        C("wait_s", "等待时长(秒)", "Wait (s)", "seconds", False, ("等待时长", "排队时长", "wait", "queue time"),
          CALL_SECONDS),
        C("answered", "是否接通", "Answered", "flag", False, ("接通", "answered")),
        C("talk_s", "通话时长(秒)", "Talk (s)", "seconds", False, ("通话时长", "talk time"), CALL_SECONDS),
        C("hold_s", "保持时长(秒)", "Hold (s)", "seconds", False, ("保持时长", "hold time"), CALL_SECONDS),
        C("wrap_s", "话后处理(秒)", "Wrap-up (s)", "seconds", False, ("话后处理", "话后处理时长", "wrap", "acw"),
          CALL_SECONDS),
        C("agent_id", "客服工号", "Agent ID", "text", False, ("工号", "agent")),
        C("priority", "优先级", "Priority", "priority", False, ("级别",)),
        C("ivr_selfserved", "IVR分流", "IVR self-served", "flag", False, ("ivr自助", "ivr", "自助服务")),
        C("outcome", "结果", "Outcome", "text", False, ("通话结果",)),
    ),
    id_key="call_id",
    sheet_aliases=("话务", "通话记录", "呼叫记录"),
)

TABLES: dict[str, Table] = {t.key: t for t in (TICKETS, FEEDBACK, CALLS)}

SETTINGS_SHEET = {"zh": "参数", "en": "Settings"}

# normalized alias -> key, per table; built once so header matching is a dict lookup
ALIASES: dict[str, dict[str, str]] = {}
for _t in TABLES.values():
    _m: dict[str, str] = {}
    for _c in _t.columns:
        for _n in _c.names:
            _m.setdefault(normalize_header(_n), _c.key)
    ALIASES[_t.key] = _m

RESOLVED_STATUSES = ("已解决", "已关闭", "resolved", "closed", "solved")
OPEN_STATUSES = ("处理中", "待确认", "open", "pending", "in progress", "new", "on-hold", "hold")

# Drop-down vocabularies of the template (SPEC §2)
ISSUE_TYPES = ("咨询", "投诉", "建议", "技术故障", "物流咨询", "支付问题", "产品功能")
CHANNELS = ("APP", "小程序", "官网", "电话", "邮件", "在线")
CUSTOMER_TYPES = ("新客户", "老客户", "VIP")
PRIORITIES = ("一级", "二级", "三级", "四级")

# Per-priority limits, level → minutes.  The defaults of Settings and of the
# metric functions (which must not import settings) both come from here.
# 一级 5 min, 二级 10 min, 三级/四级 30 min (seed 001: 处理时效承诺)
DEFAULT_SLA_MIN = {1: 5.0, 2: 10.0, 3: 30.0, 4: 30.0}
# 一级 must be solved within 1 hour (seed 001); the other levels are this
# project's defaults (4 h / 1 day / 2 days), editable on the 参数 sheet.
DEFAULT_RESOLVE_DEADLINE_MIN = {1: 60.0, 2: 240.0, 3: 1440.0, 4: 2880.0}
STATUSES = ("已解决", "处理中", "待确认", "已关闭")
YES_NO = ("是", "否", "未评价")
MODULES = ("物流", "支付", "产品功能")

# First-response target per channel class (seed 004: 即时通讯要求最高, 电话次之, 邮件相对宽松),
# minutes: chat 1, phone 3 (= the single threshold), e-mail 240 (half a working day).
# A channel in none of the classes (APP, 小程序, 官网 …) uses the single FRT threshold.
CHANNEL_CLASSES = ("chat", "phone", "email")
DEFAULT_FRT_CHANNEL_MIN = {"chat": 1.0, "phone": 3.0, "email": 240.0}
# A 渠道 cell belongs to the first class one of whose words it contains (case-folded):
# Zendesk "Chat"/"Web Widget"/"Phone call (incoming)"/"Email", Freshdesk "Chat"/"Phone"/"Email",
# Chatwoot "Channel::WebWidget"/"Channel::Email", ServiceNow "Phone"/"Email" all land in a class.
CHANNEL_CLASS_WORDS = {
    "chat": ("在线", "聊天", "即时", "微信", "chat", "messag", "whatsapp", "widget", "wechat"),
    "phone": ("电话", "热线", "语音", "phone", "voice", "call", "ivr"),
    "email": ("邮件", "邮箱", "mail"),
}


def channel_class(channel) -> str | None:
    """The class of a 渠道 value: chat, phone, email, or None (not one of them).

    >>> [channel_class(c) for c in ("在线", "Phone call (incoming)", "Channel::Email", "APP", None)]
    ['chat', 'phone', 'email', None, None]
    """
    if channel is None or channel != channel:  # None, NaN
        return None
    text = unicodedata.normalize("NFKC", str(channel)).casefold()
    if text in CHANNEL_CLASSES:
        return text
    return next((cls for cls, words in CHANNEL_CLASS_WORDS.items() if any(w in text for w in words)), None)
