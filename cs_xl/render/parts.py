"""Layout → the parts of an existing workbook: the refresh's writer.

A refresh replaces a few generated sheets of a book that is mostly input data.  Loading and
saving the whole book with openpyxl parses and re-serialises every input cell only to write
it back unchanged (tens of seconds at 100k rows, see FACTS.md).  This writer instead:

* draws the generated sheets alone, without their cells, into a small side book with XlsxWriter —
  every style, merge, pane, conditional format, chart and print setting as
  :mod:`cs_xl.render.layout` decided, translated exactly as :mod:`cs_xl.render.xlsx` translates
  them for openpyxl;
* writes the cells themselves (:func:`cs_xl.ooxml.worksheet.sheet_data`): text inline, so the
  book's shared strings are not touched, each cell with the book's index of its style;
* moves those sheets' parts into the book (:mod:`cs_xl.ooxml`): sheet XML with the book's style
  indexes, drawings (anchored as openpyxl anchors), charts, rels, ``[Content_Types].xml``,
  ``workbook.xml`` (sheet order, defined names, the active tab) and the new styles appended to
  ``styles.xml``;
* drops the old generated sheets' parts and ``calcChain.xml`` (Excel rebuilds it), and copies
  every other part — input sheets, shared strings, 说明, 参数, user sheets, the VBA project,
  buttons, custom XML, printer settings — with its compressed bytes unchanged.

:class:`RefreshedBook` is what :func:`cs_xl.book.replace_sheets` saves through
:func:`cs_xl.book.save_atomic`.  New books (template, demo) are still written with openpyxl
(:mod:`cs_xl.render.xlsx`): there is nothing to keep, and one layout feeds both.
"""
from __future__ import annotations

import datetime as dt
import io
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import groupby
from operator import attrgetter
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

import xlsxwriter
from defusedxml import ElementTree

from ..ooxml import content_types, drawing, relationships, styles, workbook, worksheet
from ..ooxml.package import part_path, rels_path, relative, write_package
from ..ooxml.relationships import Relationship
from . import styles as looks
from .cells import FORMULA_STARTS, looks_like_formula
from .layout import Area, Cell, ChartLayout, ColorScale, EqualsRule, FormulaRule, SheetLayout, assert_known_styles

PAPER_SIZES = {"A4": 9}  # Excel's paper codes
BORDER_STYLES = {"thin": 1, "medium": 2, "dashed": 3, "dotted": 4, "thick": 5, "double": 6, "hair": 7}
LEGEND = {"b": "bottom", "t": "top", "l": "left", "r": "right"}
CHART_TYPES = {"bar": "bar", "col": "column", "line": "line"}
# openpyxl's formats for a date/time cell written without one (the layout always gives one today)
DEFAULT_DATE_FORMATS = {dt.datetime: "yyyy-mm-dd h:mm:ss", dt.date: "yyyy-mm-dd", dt.time: "h:mm:ss"}
STYLES_TYPE = f"{relationships.OFFICE}/styles"
STYLES_CONTENT = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"


class PartsError(ValueError):
    """The workbook's package cannot take the generated sheets (the message says why)."""


# ---------------------------------------------------------------- styles, in XlsxWriter's words

@lru_cache(maxsize=None)
def format_properties(style: str, number_format: str | None, quote: bool) -> tuple:
    """XlsxWriter format properties of a layout style key + number format (+ the quote prefix that keeps
    formula-looking text text), as a hashable tuple."""
    props: dict = {}
    look = looks.STYLES[style] if style else looks.Style()
    props.update(font_properties(look.font))
    if look.fill is not None:
        props.update(pattern=1, bg_color="#" + look.fill.color)
    if look.border is not None:
        for side in ("left", "right", "top", "bottom"):
            edge = getattr(look.border, side)
            if edge is not None:
                props[side] = BORDER_STYLES[edge.style]
                props[f"{side}_color"] = "#" + edge.color
    if look.align is not None:
        if look.align.horizontal:
            props["align"] = look.align.horizontal
        if look.align.vertical:
            props["valign"] = "vcenter" if look.align.vertical == "center" else look.align.vertical
        if look.align.wrap:
            props["text_wrap"] = True
    if number_format is not None:
        props["num_format"] = number_format
    if quote:
        props["quote_prefix"] = True
    return tuple(sorted(props.items()))


def font_properties(font: looks.Font | None) -> dict:
    if font is None:
        return {}
    given = {"bold": font.bold, "italic": font.italic, "font_size": font.size, "font_name": font.name,
             "font_color": font.color and "#" + font.color}
    return {k: v for k, v in given.items() if v is not None}


def dxf_properties(style: str) -> dict:
    """A conditional format's look: only the font, fill and border of the style count (as openpyxl's dxf)."""
    look = looks.STYLES[style]
    props = font_properties(look.font)
    if look.fill is not None:
        props.update(pattern=1, bg_color="#" + (look.fill.background or look.fill.color))
    if look.border is not None:
        for side in ("left", "right", "top", "bottom"):
            edge = getattr(look.border, side)
            if edge is not None:
                props[side], props[f"{side}_color"] = BORDER_STYLES[edge.style], "#" + edge.color
    return props


def cell_key(cell: Cell) -> tuple:
    """What a cell's format depends on: its style, its number format (a date's default when it has
    none) and whether its text needs the quote prefix."""
    value, number_format = cell.value, cell.number_format
    if number_format is None and isinstance(value, (dt.date, dt.time)):
        number_format = DEFAULT_DATE_FORMATS[dt.datetime if isinstance(value, dt.datetime) else type(value)]
    return cell.style, number_format, value.__class__ is str and looks_like_formula(value)


class Formats:
    """The XlsxWriter formats of a side book, made once per distinct look, and the cell-format (xf)
    index each look gets in the side book's style table."""

    def __init__(self, book: xlsxwriter.Workbook):
        self.book = book
        self.xf: dict[tuple, int] = {}
        self.dxfs: dict[str, object] = {}

    def register(self, cells: Iterable[Cell]) -> None:
        for cell in cells:
            key = cell_key(cell)
            if key not in self.xf:
                properties = format_properties(*key)
                # the cells are written by ooxml.worksheet, not by XlsxWriter, so the index a write
                # would give the format is asked for directly
                self.xf[key] = self.book.add_format(dict(properties))._get_xf_index() if properties else 0

    def dxf(self, style: str):
        if style not in self.dxfs:
            self.dxfs[style] = self.book.add_format(dxf_properties(style))
        return self.dxfs[style]


# ---------------------------------------------------------------- one sheet

def cell_rows(layout: SheetLayout, xf: Mapping[tuple, int]):
    """The layout's cells for :func:`cs_xl.ooxml.worksheet.sheet_data`: row by row, each cell with the
    book's index of its format (looked up once per style, number format and kind of value: the
    data-quality sheet can hold a million cells)."""
    cells = sorted(layout.cells, key=attrgetter("row", "col"))  # nearly sorted already: one pass
    heights = layout.heights
    known: dict[tuple, int] = {}
    rows = {row: list(group) for row, group in groupby(cells, attrgetter("row"))}
    for row in sorted(rows.keys() | heights.keys()):
        out = []
        for c in rows.get(row, ()):
            value = c.value
            kind = (c.style, c.number_format, value.__class__)
            index = known.get(kind)
            if index is None or (kind[2] is str and value.startswith(FORMULA_STARTS)):
                index = xf[cell_key(c)]
                if not (kind[2] is str and value.startswith(FORMULA_STARTS)):
                    known[kind] = index
            out.append((c.col, value, index))
        yield row, heights.get(row), out


def write_conditional(ws, rule, formats: Formats) -> None:
    area = rule.area
    box = (area.first_row - 1, area.first_col - 1, area.last_row - 1, area.last_col - 1)
    if isinstance(rule, EqualsRule):
        text = rule.text.replace('"', '""')
        ws.conditional_format(*box, {"type": "cell", "criteria": "equal to", "value": f'"{text}"',
                                     "format": formats.dxf(rule.style)})
    elif isinstance(rule, FormulaRule):
        ws.conditional_format(*box, {"type": "formula", "criteria": rule.formula, "format": formats.dxf(rule.style)})
    elif isinstance(rule, ColorScale):
        ws.conditional_format(*box, {"type": "3_color_scale", "min_type": "min", "min_color": "#" + rule.min_color,
                                     "mid_type": "percentile", "mid_value": rule.mid_percentile,
                                     "mid_color": "#" + rule.mid_color, "max_type": "max",
                                     "max_color": "#" + rule.max_color})
    else:
        raise TypeError(f"unknown conditional format {type(rule).__name__}")


def write_print_setup(ws, layout: SheetLayout) -> None:
    setup = layout.print_setup
    if setup.landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.set_paper(PAPER_SIZES[setup.paper])
    ws.fit_to_pages(setup.fit_width, setup.fit_height)
    if setup.centered:
        ws.center_horizontally()
    ws.set_margins(left=setup.margin_side, right=setup.margin_side,
                   top=setup.margin_top_bottom, bottom=setup.margin_top_bottom)
    ws.set_footer("&C" + setup.footer)


def _range(sheet: str, area: Area) -> list:
    return [sheet, area.first_row - 1, area.first_col - 1, area.last_row - 1, area.last_col - 1]


def _secondary_lines(book: xlsxwriter.Workbook, sheet: str, spec: ChartLayout, series_list):
    """The Pareto chart's lines (cumulative share, the 80 % line) on a 0–100 % axis on the right."""
    line = book.add_chart({"type": "line"})
    for series in series_list:
        name_row, col = series.name
        line.add_series({"name": [sheet, name_row - 1, col - 1], "values": _range(sheet, series.values),
                         "categories": _range(sheet, spec.categories), "y2_axis": True, "smooth": False,
                         "marker": {"type": spec.markers or "none",
                                    **({"size": spec.marker_size} if spec.marker_size else {})}})
    line.set_y2_axis({"min": 0, "max": 1, "num_format": "0%"})
    return line


def xl_chart(book: xlsxwriter.Workbook, sheet: str, spec: ChartLayout):
    """An XlsxWriter chart saying exactly what ``spec`` decided (as :func:`cs_xl.render.xlsx.xl_chart`)."""
    chart = book.add_chart({"type": CHART_TYPES[spec.kind]})
    bars = len(spec.series) - spec.line_series
    if spec.line_series:
        chart.combine(_secondary_lines(book, sheet, spec, spec.series[bars:]))
    for series in spec.series[:bars]:
        name_row, col = series.name
        options = {"name": [sheet, name_row - 1, col - 1], "values": _range(sheet, series.values),
                   "categories": _range(sheet, spec.categories)}
        if spec.kind != "line":  # bars (a Pareto chart's lines were combined above)
            options.update({k: v for k, v in (("gap", spec.gap_width), ("overlap", spec.overlap)) if v is not None})
        else:
            options["smooth"] = False  # a smoothed curve invents values between periods
            if spec.markers is not None:
                options["marker"] = {"type": spec.markers, **({"size": spec.marker_size} if spec.marker_size else {})}
        chart.add_series(options)
    chart.set_title({"name": spec.title})
    chart.set_style(spec.style)
    categories = {"name": spec.x_title} if spec.x_title else {}
    if spec.label_every is not None:
        categories["interval_unit"] = spec.label_every
    if spec.reverse_categories:
        categories["reverse"] = True
    values = {"name": spec.y_title} if spec.y_title else {}
    if spec.y_format is not None:
        values["num_format"] = spec.y_format
    values.update({k: v for k, v in (("min", spec.y_min), ("max", spec.y_max)) if v is not None})
    # XlsxWriter's x axis is the horizontal one: for horizontal bars that is the value axis
    horizontal, vertical = (values, categories) if spec.kind == "bar" else (categories, values)
    chart.set_x_axis(horizontal)
    chart.set_y_axis(vertical)
    chart.set_legend({"none": True} if spec.legend is None else {"position": LEGEND[spec.legend]})
    return chart


def write_sheet(book: xlsxwriter.Workbook, layout: SheetLayout, formats: Formats):
    """The sheet ``layout.name`` in the side book: every part of the layout but its cells, row heights
    and column widths (written by :mod:`cs_xl.ooxml.worksheet`: a million cells through XlsxWriter
    would take minutes) and the chart anchors (by :mod:`cs_xl.ooxml.drawing`)."""
    assert_known_styles(layout)
    ws = book.add_worksheet(layout.name)
    ws.set_zoom(layout.zoom)
    if layout.freeze is not None:
        row, col = layout.freeze
        ws.freeze_panes(row - 1, col - 1)
    formats.register(layout.cells)
    for area in layout.merges:
        # recorded without writing cells (merge_range would write the first cell and blanks)
        ws.merge.append([area.first_row - 1, area.first_col - 1, area.last_row - 1, area.last_col - 1])
    for rule in layout.conditional:
        write_conditional(ws, rule, formats)
    for chart in layout.charts:
        row, col = chart.anchor
        ws.insert_chart(row - 1, col - 1, xl_chart(book, layout.name, chart))
    write_print_setup(ws, layout)
    return ws


@dataclass
class SideBook:
    """The generated sheets drawn alone: the package XlsxWriter wrote, opened."""
    zip: zipfile.ZipFile
    sheets: list[str]                       # part of each layout's sheet, in layouts order
    xf: dict[tuple, int]                    # cell_key → cell-format index in the side book


def side_book(layouts: Sequence[SheetLayout], date_1904: bool,
              on_sheet: Callable[[str], None] | None = None) -> SideBook:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "date_1904": date_1904})
    formats = Formats(book)
    sheets = []
    for layout in layouts:
        if on_sheet:
            on_sheet(layout.name)
        sheets.append(write_sheet(book, layout, formats))
    if sheets:
        sheets[0].activate()
    book.close()
    package = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    entries = workbook.sheets(package.read(workbook.NAME))
    rels = {r.id: r for r in relationships.parse(package.read("xl/_rels/workbook.xml.rels"))}
    return SideBook(package, [rels[e.rel_id].part(workbook.NAME) for e in entries], formats.xf)


# ---------------------------------------------------------------- the package

def _rels(package: zipfile.ZipFile, part: str) -> list[Relationship]:
    name = rels_path(part)
    return relationships.parse(package.read(name)) if name in package.NameToInfo else []


def reachable(package: zipfile.ZipFile, starts: Iterable[str], skip: set[str] = frozenset()) -> set[str]:
    """Every part reachable from ``starts`` through relationships, not entering ``skip``."""
    seen, todo = set(), [s for s in starts if s not in skip]
    while todo:
        part = todo.pop()
        if part in seen or part not in package.NameToInfo:
            continue
        seen.add(part)
        todo += [t for r in _rels(package, part) if (t := r.part(part)) and t not in skip]
    return seen


def _free_name(pattern: str, taken: set[str]) -> str:
    n = 1
    while pattern.format(n) in taken:
        n += 1
    name = pattern.format(n)
    taken.add(name)
    return name


def _order(kept: list[workbook.SheetEntry], layouts: Sequence[SheetLayout], positions: Mapping[str, int],
           rel_ids: Mapping[str, str]) -> list:
    """The sheets in their new order: each layout where its old sheet was (ascending, as the openpyxl
    writer inserts them), the others appended in order."""
    order: list = list(kept)
    placed = sorted((positions[s.name], i) for i, s in enumerate(layouts) if s.name in positions)
    for index, i in placed:
        order.insert(min(index, len(order)), workbook.NewSheet(layouts[i].name, rel_ids[layouts[i].name]))
    order += [workbook.NewSheet(s.name, rel_ids[s.name]) for s in layouts if s.name not in positions]
    return order


@dataclass
class RefreshedBook:
    """A book with some sheets replaced by layouts, ready to ``save(path)`` (see the module doc)."""
    source: Path
    replaced: dict[str, bytes] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)

    def save(self, path) -> None:
        with zipfile.ZipFile(self.source) as package:
            write_package(package, path, self.replaced, self.removed)


def replace_sheets(source, layouts: Sequence[SheetLayout], remove: Iterable[str],
                   former: Mapping[str, Sequence[str]] | None = None,
                   on_sheet: Callable[[str], None] | None = None) -> RefreshedBook:
    """The parts of ``source`` with the sheets ``remove`` gone and ``layouts`` drawn (placed as
    :func:`cs_xl.book.replace_sheets` says)."""
    source = Path(source)
    with zipfile.ZipFile(source) as package:
        return _replace(package, source, list(layouts), set(remove), former or {}, on_sheet)


def _replace(package, source, layouts, remove, former, on_sheet) -> RefreshedBook:
    out = RefreshedBook(source)
    book_xml = package.read(workbook.NAME)
    rels_name = rels_path(workbook.NAME)
    book_rels = relationships.parse(package.read(rels_name))
    target = {r.id: r.part(workbook.NAME) for r in book_rels}
    entries = workbook.sheets(book_xml)
    gone = [e for e in entries if e.name in remove]
    kept = [e for e in entries if e.name not in remove]
    clash = {e.name for e in kept} & {s.name for s in layouts}
    if clash:
        raise PartsError(f"{source}: a sheet called {sorted(clash)[0]} is in the way of the report")
    old_index = {e.name: i for i, e in enumerate(entries) if e.name in remove}
    positions = {}
    for layout in layouts:
        index = next((old_index[n] for n in former.get(layout.name, (layout.name,)) if n in old_index), None)
        if index is not None:
            positions[layout.name] = index
    # the old generated sheets' parts (drawings, charts …) unless something kept still uses them
    gone_parts = {target[e.rel_id] for e in gone}
    calc_chain = {target[r.id] for r in book_rels if r.type == relationships.CALC_CHAIN}
    roots = [r.part("") for r in relationships.parse(package.read("_rels/.rels")) if r.mode != relationships.EXTERNAL]
    still_used = reachable(package, roots, gone_parts | calc_chain)
    dropped = (reachable(package, gone_parts) | calc_chain) - still_used
    out.removed = dropped | {rels_path(p) for p in dropped}
    book_rels = [r for r in book_rels if r.part(workbook.NAME) not in dropped]

    date_1904 = workbook.date1904(book_xml)
    side = side_book(layouts, date_1904, on_sheet)
    styles_part = next((target[r.id] for r in book_rels if r.type == STYLES_TYPE), None)
    side_styles = side.zip.read("xl/styles.xml")
    if styles_part is None:  # a book without styles takes the side book's table as it is
        styles_part = "xl/styles.xml"
        n_xf, n_dxf = len(styles.children(side_styles, "cellXfs")), len(styles.children(side_styles, "dxfs"))
        merged = styles.Merged(side_styles, dict(zip(range(n_xf), range(n_xf))), dict(zip(range(n_dxf), range(n_dxf))))
        book_rels.append(Relationship(relationships.new_id({r.id for r in book_rels}), STYLES_TYPE, "styles.xml"))
        added_types = {styles_part: STYLES_CONTENT}
    else:
        merged = styles.merge(package.read(styles_part), side_styles)
        added_types = {}
    out.replaced[styles_part] = merged.data

    taken = set(package.NameToInfo) - out.removed
    rel_ids = {}
    for layout, side_part in zip(layouts, side.sheets):
        sheet_part = _free_name("xl/worksheets/sheet{}.xml", taken)
        rel_ids[layout.name] = relationships.new_id({r.id for r in book_rels})
        book_rels.append(Relationship(rel_ids[layout.name], relationships.WORKSHEET, relative(workbook.NAME, sheet_part)))
        added_types[sheet_part] = content_types.WORKSHEET
        skeleton = worksheet.fitted(side.zip.read(side_part), layout.widths, merged.xf, merged.dxf)
        xf = {key: merged.xf[index] for key, index in side.xf.items()}
        cells, used = worksheet.sheet_data(cell_rows(layout, xf), date_1904)
        out.replaced[sheet_part] = worksheet.with_cells(skeleton, cells, used)
        added_types.update(_move_charts(side, side_part, sheet_part, layout, taken, out.replaced))

    out.replaced[rels_name] = relationships.to_xml(book_rels)
    order = _order(kept, layouts, positions, rel_ids)
    active = next((i for i, e in enumerate(order) if layouts and e.name == layouts[0].name), 0)
    out.replaced[workbook.NAME] = workbook.edit(book_xml, order, active)
    out.replaced[content_types.NAME] = content_types.edit(package.read(content_types.NAME), out.removed, added_types)
    if layouts:
        for entry in kept:
            _deselect(package, target[entry.rel_id], out.replaced)
    return out


def _move_charts(side: SideBook, side_part: str, sheet_part: str, layout: SheetLayout, taken: set[str],
                 replaced: dict[str, bytes]) -> dict[str, str]:
    """The sheet's drawing (anchored as the layout says) and charts, under fresh names; returns their types."""
    drawing_rel = next((r for r in _rels(side.zip, side_part) if r.type == relationships.DRAWING), None)
    if drawing_rel is None:
        return {}
    side_drawing = drawing_rel.part(side_part)
    drawing_part = _free_name("xl/drawings/drawing{}.xml", taken)
    chart_rels = {r.id: r.part(side_drawing) for r in _rels(side.zip, side_drawing)}
    # the charts in the order they were inserted: the order of their anchors in the side drawing
    in_order = [chart_rels[i] for i in _chart_ids(side.zip.read(side_drawing))]
    anchors, rels, types = [], [], {drawing_part: content_types.DRAWING}
    for n, (chart_part, spec) in enumerate(zip(in_order, layout.charts), start=1):
        new_chart = _free_name("xl/charts/chart{}.xml", taken)
        replaced[new_chart] = side.zip.read(chart_part)
        types[new_chart] = content_types.CHART
        rels.append(Relationship(f"rId{n}", relationships.CHART, relative(drawing_part, new_chart)))
        row, col = spec.anchor
        anchors.append(drawing.Anchor(row, col, spec.width_cm, spec.height_cm, f"rId{n}"))
    replaced[drawing_part] = drawing.to_xml(anchors)
    replaced[rels_path(drawing_part)] = relationships.to_xml(rels)
    replaced[rels_path(sheet_part)] = relationships.to_xml(
        [Relationship(drawing_rel.id, relationships.DRAWING, relative(sheet_part, drawing_part))])
    return types


def _chart_ids(drawing_xml: bytes) -> list[str]:
    root = ElementTree.fromstring(drawing_xml)
    return [e.get(f"{{{drawing.R}}}id") for e in root.iter(f"{{{drawing.C}}}chart")]


def _deselect(package: zipfile.ZipFile, part: str, replaced: dict[str, bytes]) -> None:
    """Unselect a kept sheet's tab (rewriting that sheet only when it was selected)."""
    with package.open(part) as handle:
        head = handle.read(4096)
    if worksheet.is_selected(head):
        replaced[part] = worksheet.deselected(package.read(part))
