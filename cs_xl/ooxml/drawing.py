"""``xl/drawings/drawingN.xml``: where a sheet's charts sit — one cell anchor and an exact size each,
as the openpyxl writer anchors them (a chart keeps its size when columns are resized)."""
from __future__ import annotations

from dataclasses import dataclass

XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
C = "http://schemas.openxmlformats.org/drawingml/2006/chart"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
EMU_PER_CM = 360_000


@dataclass(frozen=True)
class Anchor:
    row: int           # 1-based top-left cell
    col: int
    width_cm: float
    height_cm: float
    rel_id: str        # the chart's relationship id in the drawing's rels


def _anchor(number: int, a: Anchor) -> str:
    cx, cy = round(a.width_cm * EMU_PER_CM), round(a.height_cm * EMU_PER_CM)
    return (f"<xdr:oneCellAnchor><xdr:from><xdr:col>{a.col - 1}</xdr:col><xdr:colOff>0</xdr:colOff>"
            f"<xdr:row>{a.row - 1}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from>"
            f'<xdr:ext cx="{cx}" cy="{cy}"/><xdr:graphicFrame macro="">'
            f'<xdr:nvGraphicFramePr><xdr:cNvPr id="{number + 1}" name="Chart {number}"/><xdr:cNvGraphicFramePr/>'
            f'</xdr:nvGraphicFramePr><xdr:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></xdr:xfrm>'
            f'<a:graphic><a:graphicData uri="{C}"><c:chart xmlns:c="{C}" r:id="{a.rel_id}"/></a:graphicData>'
            f"</a:graphic></xdr:graphicFrame><xdr:clientData/></xdr:oneCellAnchor>")


def to_xml(anchors: list[Anchor]) -> bytes:
    body = "".join(_anchor(n, a) for n, a in enumerate(anchors, start=1))
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<xdr:wsDr xmlns:xdr="{XDR}" xmlns:a="{A}" xmlns:r="{R}">{body}</xdr:wsDr>').encode("utf-8")
