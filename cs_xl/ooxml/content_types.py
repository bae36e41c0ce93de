"""``[Content_Types].xml``: the type of every part; overrides dropped and added as text edits."""
from __future__ import annotations

import re
from html import escape
from typing import Iterable, Mapping

from defusedxml import ElementTree

NAME = "[Content_Types].xml"
NS = "http://schemas.openxmlformats.org/package/2006/content-types"
WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
DRAWING = "application/vnd.openxmlformats-officedocument.drawing+xml"
CHART = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
_OVERRIDE = re.compile(rb'<Override\b[^>]*?PartName="([^"]*)"[^>]*/>\s*')


def edit(data: bytes, removed: Iterable[str], added: Mapping[str, str]) -> bytes:
    """``data`` without the overrides of ``removed`` parts and with one per ``added`` part → type.

    >>> xml = b'<Types xmlns="x"><Override PartName="/xl/a.xml" ContentType="t"/></Types>'
    >>> edit(xml, ["xl/a.xml"], {"xl/b.xml": "u"}).decode()
    '<Types xmlns="x"><Override PartName="/xl/b.xml" ContentType="u"/></Types>'
    """
    ElementTree.fromstring(data)  # refuse a malformed or hostile part before editing it
    gone = {"/" + name for name in removed} | {"/" + name for name in added}
    kept = _OVERRIDE.sub(lambda m: b"" if m.group(1).decode() in gone else m.group(0), data)
    new = "".join(f'<Override PartName="/{escape(name)}" ContentType="{escape(kind)}"/>'
                  for name, kind in added.items()).encode("utf-8")
    end = kept.rindex(b"</Types>")
    return kept[:end] + new + kept[end:]
