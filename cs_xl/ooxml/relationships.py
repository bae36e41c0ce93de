"""``*.rels`` parts: which part refers to which, by relationship id."""
from __future__ import annotations

from dataclasses import dataclass
from html import escape

from defusedxml import ElementTree

from .package import part_path

NS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WORKSHEET = f"{OFFICE}/worksheet"
DRAWING = f"{OFFICE}/drawing"
CHART = f"{OFFICE}/chart"
CALC_CHAIN = f"{OFFICE}/calcChain"
EXTERNAL = "External"


@dataclass(frozen=True)
class Relationship:
    id: str
    type: str
    target: str                 # as written (relative to the source part)
    mode: str | None = None     # "External" for links outside the package

    def part(self, source: str) -> str | None:
        """The zip name of the target, or None for an external link."""
        return None if self.mode == EXTERNAL else part_path(source, self.target)


def parse(data: bytes) -> list[Relationship]:
    root = ElementTree.fromstring(data)
    return [Relationship(e.get("Id"), e.get("Type"), e.get("Target"), e.get("TargetMode"))
            for e in root.iter(f"{{{NS}}}Relationship")]


def to_xml(relationships: list[Relationship]) -> bytes:
    """A rels part (written anew: rels carry no extensions worth keeping byte for byte)."""
    lines = [f'<Relationship Id="{escape(r.id)}" Type="{escape(r.type)}" Target="{escape(r.target)}"'
             + (f' TargetMode="{escape(r.mode)}"' if r.mode else "") + "/>" for r in relationships]
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{NS}">' + "".join(lines) + "</Relationships>").encode("utf-8")


def new_id(taken) -> str:
    """The first ``rIdN`` not in ``taken``.

    >>> new_id({"rId1", "rId3"})
    'rId2'
    """
    n = 1
    while f"rId{n}" in taken:
        n += 1
    return f"rId{n}"
