"""Chatwoot exports: the conversations export (map: presets/chatwoot.toml) or,
when the header has ``message_type``, the messages export read as an event log
(map: presets/chatwoot_messages.toml): human replies only, bot hand-off,
every reply's wait (平均响应时长) and the reply count (在线咨询回复率)."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from ..clock import Clock
from . import eventlog
from ..read_files import read_text
from .base import WORKBOOK_SUFFIXES, Imported, read_raw
from .generic import load as load_with_preset

MESSAGES_MAP = "chatwoot_messages"


def load(path, map=None, clock: Clock | None = None) -> Imported:
    if is_messages(path):
        return eventlog.load(path, MESSAGES_MAP if map is None else map, clock)
    return load_with_preset(path, map, clock, fmt="chatwoot")


def read(path, map=None, clock: Clock | None = None) -> pd.DataFrame:
    return load(path, map, clock).frame


def is_messages(path) -> bool:
    """A messages export: one row per message, with Chatwoot's message_type field."""
    if Path(path).suffix.lower() in WORKBOOK_SUFFIXES:
        return "message_type" in read_raw(path)[0].columns
    header = read_text(path).split("\n", 1)[0]
    return "message_type" in re.split(r'[,\t;|"\s]+', header)
