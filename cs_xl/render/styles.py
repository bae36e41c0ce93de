"""The look of the generated sheets as plain data: every style a layout cell or a conditional
format names, by key.  Writers (openpyxl now, the part writer and xlwings later) translate these
records; nothing here imports a writer.

Colours are RGB hex strings as Excel writes them (``"DDEBF7"``).  A field left at None is not set
(the writer's default applies), so a translated style equals the one drawn before this module
existed, attribute for attribute.
"""
from __future__ import annotations

from dataclasses import dataclass

# the workbook's body font; a font without a name renders in a serif fallback in LibreOffice
FONT_NAME = "Calibri"


@dataclass(frozen=True)
class Font:
    bold: bool | None = None
    italic: bool | None = None
    size: float | None = None
    color: str | None = None
    name: str = FONT_NAME


@dataclass(frozen=True)
class Fill:
    """A solid fill; ``background`` is only given for conditional formats (Excel's dxf fills read it)."""
    color: str
    background: str | None = None


@dataclass(frozen=True)
class Edge:
    style: str                 # thin | thick …
    color: str


@dataclass(frozen=True)
class Border:
    left: Edge | None = None
    right: Edge | None = None
    top: Edge | None = None
    bottom: Edge | None = None


@dataclass(frozen=True)
class Align:
    horizontal: str | None = None
    vertical: str | None = None
    wrap: bool | None = None


@dataclass(frozen=True)
class Style:
    font: Font | None = None
    fill: Fill | None = None
    border: Border | None = None
    align: Align | None = None


HEADER_FONT = Font(bold=True)
HEADER_FILL = Fill("DDEBF7")
HEADER_BORDER = Border(bottom=Edge("thin", "808080"))
CENTER = Align(horizontal="center")
GOOD_FONT = Font(bold=True, color="006100")
BAD_FONT = Font(bold=True, color="9C0006")
TILE_EDGE = Edge("thick", "FFFFFF")

# a tile's colours by its target status: met, missed, no target
TILE_STATES = {True: "good", False: "bad", None: "plain"}
_TILE_FILLS = {"good": Fill("E2F0D9"), "bad": Fill("FCE4E4"), "plain": Fill("EDEDED")}
_TILE_VALUE_COLORS = {"good": "006100", "bad": "C00000", "plain": "1F3864"}
_TILE_ALIGN = Align(horizontal="center", vertical="center", wrap=False)


def _tile_styles() -> dict[str, Style]:
    """Three rows per tile (label / value / target), each in the tile's colour; the white thick
    edges frame the tile: top on the label, bottom on the target, both sides on every row."""
    out = {}
    for state, fill in _TILE_FILLS.items():
        out[f"tile_label_{state}"] = Style(
            Font(bold=True, size=10, color="404040"), fill,
            Border(left=TILE_EDGE, right=TILE_EDGE, top=TILE_EDGE),
            Align(horizontal="center", vertical="center", wrap=True))
        out[f"tile_value_{state}"] = Style(
            Font(bold=True, size=20, color=_TILE_VALUE_COLORS[state]), fill,
            Border(left=TILE_EDGE, right=TILE_EDGE), _TILE_ALIGN)
        out[f"tile_target_{state}"] = Style(
            Font(size=9, color="595959"), fill, Border(left=TILE_EDGE, right=TILE_EDGE, bottom=TILE_EDGE), _TILE_ALIGN)
    return out


STYLES: dict[str, Style] = {
    "title": Style(font=Font(bold=True, size=14)),
    "heading": Style(font=Font(bold=True, size=11)),
    "note": Style(font=Font(italic=True, color="666666")),
    "body": Style(font=Font(size=11), align=Align(vertical="top", wrap=True)),  # the written report's sentences
    "alert": Style(font=Font(bold=True, color="C00000")),
    # a table's header row: wraps long headers, centred both ways
    "header": Style(HEADER_FONT, HEADER_FILL, HEADER_BORDER, Align(horizontal="center", vertical="center", wrap=True)),
    "header_left": Style(HEADER_FONT, HEADER_FILL, HEADER_BORDER, Align(horizontal="left")),
    "header_center": Style(HEADER_FONT, HEADER_FILL, HEADER_BORDER, CENTER),
    "header_plain": Style(HEADER_FONT, HEADER_FILL),
    "header_plain_center": Style(HEADER_FONT, HEADER_FILL, align=CENTER),
    "row_label": Style(font=HEADER_FONT),
    "center": Style(align=CENTER),
    "wrap": Style(align=Align(vertical="top", wrap=True)),
    "card_value": Style(font=Font(bold=True, size=12)),
    # conditional formats: a met / missed status cell (font and fill), and the value beside it (font only)
    "good": Style(GOOD_FONT, Fill("C6EFCE", "C6EFCE")),
    "bad": Style(BAD_FONT, Fill("FFC7CE", "FFC7CE")),
    "good_text": Style(font=GOOD_FONT),
    "bad_text": Style(font=BAD_FONT),
    **_tile_styles(),
}
