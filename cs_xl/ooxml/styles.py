"""``xl/styles.xml``: the styles of new cells appended, existing ones never renumbered.

The generated sheets are drawn with their own small style table (index 0 being the defaults);
:func:`merge` appends each new font, fill, border, number format, cell format and conditional
format (dxf) to the book's table — reusing an identical entry when there is one, so refreshing
a book again and again does not grow its styles — and says where each index went.  Input sheets
keep their ``s="…"`` indexes, so they stay byte for byte.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape, unescape

from defusedxml import ElementTree

NAME = "xl/styles.xml"
FIRST_CUSTOM_FORMAT = 164   # ids below are Excel's built-in number formats
# the schema's order of the blocks in <styleSheet>: a block that is missing goes before the next present one
ORDER = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs",
         "tableStyles", "colors", "extLst")
CHILD = {"numFmts": "numFmt", "fonts": "font", "fills": "fill", "borders": "border", "cellXfs": "xf", "dxfs": "dxf"}
# indexes that mean "the book's default" in any style table: font 0, fills 0–1 (none, gray125), border 0
DEFAULTS = {"fonts": 1, "fills": 2, "borders": 1, "cellXfs": 1}


@dataclass
class Merged:
    data: bytes                 # the new styles.xml
    xf: dict[int, int]          # generated cell-format index → index in the book
    dxf: dict[int, int]         # generated conditional-format index → index in the book


def _block(data: bytes, name: str) -> re.Match | None:
    return re.search(rb"<%s\b([^>]*?)(?:/>|>(.*?)</%s>)" % (name.encode(), name.encode()), data, re.S)


def children(data: bytes, name: str) -> list[bytes]:
    """The raw child elements of the block ``name`` (``fonts`` → every ``<font>…</font>``)."""
    block = _block(data, name)
    if block is None or block.group(2) is None:
        return []
    child = CHILD[name].encode()
    return re.findall(rb"<%s\b[^>]*?(?:/>|>.*?</%s>)" % (child, child), block.group(2), re.S)


def _formats(data: bytes) -> dict[int, str]:
    """Custom number formats: id → format code."""
    return {int(m.group(1)): unescape(m.group(2).decode("utf-8")) for m in
            (re.search(rb'numFmtId="(\d+)"[^>]*?formatCode="([^"]*)"', e) for e in children(data, "numFmts")) if m}


def _set_block(data: bytes, name: str, items: list[bytes]) -> bytes:
    """``data`` with the block ``name`` holding ``items`` (its other attributes kept; created if absent)."""
    block = _block(data, name)
    body = b"".join(items)
    if block is None:
        if not items:
            return data
        later = [m.start() for m in (re.search(rb"<%s\b" % n.encode(), data) for n in ORDER[ORDER.index(name) + 1:]) if m]
        at = min(later) if later else data.rindex(b"</styleSheet>")
        return data[:at] + b'<%s count="%d">' % (name.encode(), len(items)) + body + b"</%s>" % name.encode() + data[at:]
    attributes = re.sub(rb'\s*count="\d+"', b"", block.group(1))
    new = b'<%s count="%d"%s>' % (name.encode(), len(items), attributes) + body + b"</%s>" % name.encode()
    return data[:block.start()] + new + data[block.end():]


def _append(existing: list[bytes], new: list[bytes], keep_first: int) -> dict[int, int]:
    """Map each of ``new`` to an equal entry of ``existing`` or to its appended place
    (``existing`` grows in place); the first ``keep_first`` entries are the defaults, mapped to themselves."""
    where = {}
    for index, item in enumerate(new):
        if index < keep_first:
            where[index] = index
            continue
        if item not in existing:
            existing.append(item)
        where[index] = existing.index(item)
    return where


def _renumber(element: bytes, attribute: str, mapping: dict[int, int]) -> bytes:
    return re.sub(rb'\b%s="(\d+)"' % attribute.encode(),
                  lambda m: b'%s="%d"' % (attribute.encode(), mapping.get(int(m.group(1)), int(m.group(1)))), element)


def merge(book: bytes, generated: bytes) -> Merged:
    """Append what the ``generated`` style table uses to the ``book``'s (see the module doc)."""
    ElementTree.fromstring(book)  # refuse a malformed or hostile part before editing it
    formats, new_formats = _formats(book), _formats(generated)
    by_code = {code: number for number, code in formats.items()}
    format_map = {}
    for number, code in new_formats.items():
        if code not in by_code:
            by_code[code] = max([FIRST_CUSTOM_FORMAT - 1, *formats, *by_code.values()]) + 1
            formats[by_code[code]] = code
        format_map[number] = by_code[code]
    out = book
    maps = {}
    for name in ("fonts", "fills", "borders"):
        items = children(out, name)
        maps[name] = _append(items, children(generated, name), DEFAULTS[name])
        out = _set_block(out, name, items)
    numbers = {"numFmtId": format_map, "fontId": maps["fonts"], "fillId": maps["fills"], "borderId": maps["borders"]}

    def remapped(element: bytes) -> bytes:
        for attribute, mapping in numbers.items():
            element = _renumber(element, attribute, mapping)
        return element

    xfs = children(out, "cellXfs")
    xf_map = _append(xfs, [remapped(x) for x in children(generated, "cellXfs")], DEFAULTS["cellXfs"])
    out = _set_block(out, "cellXfs", xfs)
    dxfs = children(out, "dxfs")
    dxf_map = _append(dxfs, [_renumber(d, "numFmtId", format_map) for d in children(generated, "dxfs")], 0)
    out = _set_block(out, "dxfs", dxfs)
    used = sorted(set(format_map.values()) - {int(m) for m in re.findall(rb'numFmtId="(\d+)"', b"".join(children(book, "numFmts")))})
    if used:
        numfmts = children(out, "numFmts") + [f'<numFmt numFmtId="{n}" formatCode="{escape(formats[n])}"/>'.encode("utf-8")
                                              for n in used]
        out = _set_block(out, "numFmts", numfmts)
    return Merged(out, xf_map, dxf_map)
