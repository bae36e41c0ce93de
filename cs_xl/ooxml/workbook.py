"""``xl/workbook.xml``: the sheet list (order, ids, relationship ids), defined names whose
``localSheetId`` follows its sheet, the active tab, the 1904 date system."""
from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape

from defusedxml import ElementTree

from .relationships import OFFICE

NAME = "xl/workbook.xml"
NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_SHEETS = re.compile(rb"<sheets>(.*?)</sheets>", re.S)
_SHEET = re.compile(rb"<sheet\b[^>]*/>")
_DEFINED_NAME = re.compile(rb"<definedName\b([^>]*?)(/>|>.*?</definedName>)", re.S)
_LOCAL = re.compile(rb'\blocalSheetId="(\d+)"')
_VIEW = re.compile(rb"<workbookView\b[^>]*?/?>")


@dataclass(frozen=True)
class SheetEntry:
    name: str
    sheet_id: int
    rel_id: str


@dataclass(frozen=True)
class NewSheet:
    name: str
    rel_id: str


def sheets(data: bytes) -> list[SheetEntry]:
    root = ElementTree.fromstring(data)
    return [SheetEntry(e.get("name"), int(e.get("sheetId")), e.get(f"{{{OFFICE}}}id"))
            for e in root.iter(f"{{{NS}}}sheet")]


def date1904(data: bytes) -> bool:
    root = ElementTree.fromstring(data)
    pr = root.find(f"{{{NS}}}workbookPr")
    return pr is not None and pr.get("date1904") in ("1", "true")


def _r_prefix(data: bytes) -> bytes | None:
    match = re.search(rb'xmlns:(\w+)="' + re.escape(OFFICE.encode()) + rb'"', data)
    return match.group(1) if match else None


def edit(data: bytes, order: list[SheetEntry | NewSheet], active: int) -> bytes:
    """``data`` with its sheets in ``order`` (kept entries keep their element as written; new ones
    get fresh sheet ids), defined names of dropped sheets removed and the others' ``localSheetId``
    moved with their sheet, and the tab ``active`` (index into ``order``) opened first."""
    old = sheets(data)
    match = _SHEETS.search(data)
    raw = _SHEET.findall(match.group(1))
    if len(raw) != len(old):
        raise ValueError("workbook.xml: cannot match the sheet elements")
    by_name = {entry.name: element for entry, element in zip(old, raw)}
    prefix = _r_prefix(data)
    # new sheets take the smallest ids the kept ones leave free (so refreshing twice writes the same file)
    taken = {e.sheet_id for e in order if isinstance(e, SheetEntry)}
    free = (n for n in range(1, len(order) + len(taken) + 2) if n not in taken)
    elements = []
    for entry in order:
        if isinstance(entry, SheetEntry):
            elements.append(by_name[entry.name])
            continue
        rel = (f'{prefix.decode()}:id="{entry.rel_id}"' if prefix else
               f'xmlns:r="{OFFICE}" r:id="{entry.rel_id}"')
        elements.append(f'<sheet name="{escape(entry.name)}" sheetId="{next(free)}" {rel}/>'.encode("utf-8"))
    data = data[:match.start(1)] + b"".join(elements) + data[match.end(1):]
    new_index = {old.index(e): i for i, e in enumerate(order) if isinstance(e, SheetEntry)}
    data = _DEFINED_NAME.sub(lambda m: _moved_name(m, new_index), data)
    data = re.sub(rb"<definedNames>\s*</definedNames>", b"", data)
    return _VIEW.sub(lambda m: _active(m.group(0), active), data, count=1)


def _moved_name(match: re.Match, new_index: dict[int, int]) -> bytes:
    local = _LOCAL.search(match.group(1))
    if local is None:
        return match.group(0)
    index = new_index.get(int(local.group(1)))
    if index is None:
        return b""  # the name belonged to a sheet that is gone (a print area of an old report sheet)
    return _LOCAL.sub(f'localSheetId="{index}"'.encode(), match.group(0), count=1)


def _active(view: bytes, active: int) -> bytes:
    """The workbookView with ``activeTab`` = ``active`` (and the first visible tab not past it)."""
    view = re.sub(rb'\s(activeTab|firstSheet)="\d+"', b"", view)
    end = -2 if view.endswith(b"/>") else -1
    return view[:end].rstrip() + f' activeTab="{active}"'.encode() + view[end:]
