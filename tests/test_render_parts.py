"""The part writer (render/parts.py + ooxml/): the same sheets as the openpyxl writer, written into an
existing book whose other parts stay byte for byte.  Every check reads the saved file back."""
from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from ci import absent
from cs_xl.book import backup_path, replace_sheets
from cs_xl.render.layout import Area, Cell, ChartLayout, ChartSeries, EqualsRule, SheetLayout
from test_render_xlsx import real_layouts, write_openpyxl, write_parts


def last6(color) -> str | None:
    """An RGB colour without its alpha byte (openpyxl writes 00RRGGBB, XlsxWriter FFRRGGBB)."""
    return None if color is None or color.rgb is None or not isinstance(color.rgb, str) else color.rgb[-6:]


def font_of(font) -> tuple:
    # a font without a size is drawn at the default 11 pt
    return bool(font.b), bool(font.i), font.sz or 11.0, last6(font.color), font.name


def fill_of(fill) -> tuple:
    return (fill.fill_type, last6(fill.fgColor)) if fill.fill_type else (None, None)


def side_of(side) -> tuple:
    return (side.style, last6(side.color)) if side is not None and side.style else (None, None)


def border_of(border) -> tuple:
    return tuple(side_of(getattr(border, side)) for side in ("left", "right", "top", "bottom"))


def align_of(align) -> tuple:
    return align.horizontal, align.vertical, bool(align.wrap_text)


def ref(text) -> str:
    return text.replace("$", "").replace("'", "")


def title_of(title) -> str | None:
    if title is None or title.tx is None or title.tx.rich is None:
        return None
    return "".join(run.t for p in title.tx.rich.p for run in (p.r or []))


def chart_of(chart) -> dict:
    series = [(ref(s.tx.strRef.f), ref(s.val.numRef.f), ref((s.cat.strRef or s.cat.numRef).f),
               s.marker.symbol if s.marker else None, s.marker.size if s.marker else None, bool(s.smooth))
              for s in chart.series]
    anchor = chart.anchor._from
    return {"type": chart.tagname, "bar": getattr(chart, "barDir", None), "title": title_of(chart.title),
            "series": series, "anchor": (anchor.row, anchor.col), "style": chart.style,
            "gap": getattr(chart, "gapWidth", None), "overlap": getattr(chart, "overlap", None) or 0,  # 0 when absent
            "x_title": title_of(chart.x_axis.title), "y_title": title_of(chart.y_axis.title),
            "y_range": (chart.y_axis.scaling.min, chart.y_axis.scaling.max),
            # a source-linked axis format is the cells' own (XlsxWriter writes General, openpyxl nothing)
            "y_format": None if not chart.y_axis.numFmt or chart.y_axis.numFmt.sourceLinked
            else chart.y_axis.numFmt.formatCode,
            "label_every": chart.x_axis.tickLblSkip, "reversed": chart.x_axis.scaling.orientation,
            "legend": chart.legend.position if chart.legend else None}


def chart_size(path: Path, sheet: str) -> list[tuple[int, int]]:
    """(cx, cy) in EMU of every chart anchor of ``sheet``, from the drawing part itself."""
    import re
    wb = openpyxl.load_workbook(path)
    index = wb.sheetnames.index(sheet)
    with zipfile.ZipFile(path) as z:
        drawings = [n for n in z.namelist() if n.startswith("xl/drawings/drawing")]
        found = []
        for name in drawings:
            found += re.findall(r'<xdr:ext cx="(\d+)" cy="(\d+)"', z.read(name).decode())
    return sorted((int(a), int(b)) for a, b in found) if index >= 0 else []


def _or_one(value):
    return 1 if value is None else value


def look_of(path: Path, layouts) -> dict:
    """Everything a reader sees of the layouts' sheets: cells with their styles, sheet settings, charts."""
    wb = openpyxl.load_workbook(path)
    out = {}
    for layout in layouts:
        ws = wb[layout.name]
        cells = {}
        for cell in layout.cells:
            got = ws.cell(cell.row, cell.col)
            cells[cell.row, cell.col] = (got.value, got.number_format, got.data_type, bool(got.quotePrefix),
                                         font_of(got.font), fill_of(got.fill), border_of(got.border),
                                         align_of(got.alignment))
        conditional = sorted((str(rng.sqref), rule.type, rule.operator, tuple(rule.formula or ()),
                              # a conditional format cannot change the font's name (Excel greys it out),
                              # so XlsxWriter leaves it out of the dxf where openpyxl writes it
                              font_of(rule.dxf.font)[:4] if rule.dxf and rule.dxf.font else None,
                              last6(rule.dxf.fill.bgColor) if rule.dxf and rule.dxf.fill else None,
                              tuple((v.type, None if v.type in ("min", "max") else v.val)  # min/max take no value
                                    for v in rule.colorScale.cfvo) if rule.colorScale else None,
                              tuple(last6(c) for c in rule.colorScale.color) if rule.colorScale else None)
                             for rng in ws.conditional_formatting for rule in rng.rules)
        setup, margins = ws.page_setup, ws.page_margins
        out[layout.name] = {
            "cells": cells, "merges": sorted(str(r) for r in ws.merged_cells.ranges),
            "widths": {k: v.width for k, v in ws.column_dimensions.items() if v.customWidth},
            "heights": {k: v.height for k, v in ws.row_dimensions.items() if v.height is not None},
            "freeze": ws.freeze_panes, "zoom": ws.sheet_view.zoomScale, "conditional": conditional,
            # fitToWidth/fitToHeight default to 1 when absent (XlsxWriter leaves defaults out)
            "print": (setup.orientation, str(setup.paperSize), _or_one(setup.fitToWidth), _or_one(setup.fitToHeight),
                      ws.sheet_properties.pageSetUpPr.fitToPage, ws.print_options.horizontalCentered,
                      margins.left, margins.right, margins.top, margins.bottom, ws.oddFooter.center.text),
            "charts": [chart_of(c) for c in ws._charts]}
    out["active"] = wb.active.title
    out["selected"] = [ws.title for ws in wb.worksheets if ws.sheet_view.tabSelected]
    return out


def hand_made() -> list[SheetLayout]:
    """Parts the report does not use today: merges, a frozen column, a formula-looking text, a date
    without a format, a boolean, a conditional format on a merged title's sheet."""
    chart = ChartLayout("col", "手工图", (8, 5), 12.0, 6.0, [ChartSeries((2, 2), Area(3, 2, 4, 2))], Area(3, 1, 4, 1),
                        gap_width=50, overlap=0, legend="b", x_title="组", y_title="值")
    return [SheetLayout("手工", cells=[Cell(1, 1, "合并标题", style="title"), Cell(2, 2, "值", style="header"),
                                     Cell(3, 1, "甲"), Cell(3, 2, 1234.5, "#,##0", "center"),
                                     Cell(4, 1, "乙"), Cell(4, 2, 0.25, "0.0%"), Cell(3, 3, "@user", None, "alert"),
                                     Cell(5, 1, dt.datetime(2024, 3, 1, 8, 30)), Cell(5, 2, True),
                                     Cell(6, 1, None, None, "tile_target_bad")],
                        merges=[Area(1, 1, 1, 3)], widths={2: 15.5}, heights={1: 24},
                        freeze=(2, 3), conditional=[EqualsRule(Area(2, 2, 4, 2), "x", "bad")], charts=[chart])]


@pytest.mark.parametrize("layouts", [real_layouts, hand_made], ids=["report", "hand-made"])
def test_both_writers_give_the_same_cells_styles_settings_and_charts(tmp_path, layouts):
    layouts = layouts()
    write_openpyxl(layouts, tmp_path / "openpyxl.xlsx")
    write_parts(layouts, tmp_path / "parts.xlsx")
    want, got = look_of(tmp_path / "openpyxl.xlsx", layouts), look_of(tmp_path / "parts.xlsx", layouts)
    for name in [layout.name for layout in layouts]:
        for key in want[name]:
            if key == "cells":
                for where, cell in want[name]["cells"].items():
                    assert got[name]["cells"][where] == cell, (name, where)
            else:
                assert got[name][key] == want[name][key], (name, key)
    assert got["active"] == want["active"] == layouts[0].name
    assert got["selected"] == [layouts[0].name]
    sizes = {(round(l.width_cm * 360000), round(l.height_cm * 360000)) for layout in layouts for l in layout.charts}
    assert set(chart_size(tmp_path / "parts.xlsx", layouts[0].name)) == sizes


def test_ooxml_doctests():
    import doctest
    import cs_xl.ooxml.content_types, cs_xl.ooxml.package, cs_xl.ooxml.relationships, cs_xl.ooxml.worksheet
    modules = [cs_xl.ooxml.content_types, cs_xl.ooxml.package, cs_xl.ooxml.relationships, cs_xl.ooxml.worksheet]
    results = [doctest.testmod(m) for m in modules]
    assert sum(r.failed for r in results) == 0 and sum(r.attempted for r in results) >= 8


# ---------------------------------------------------------------- the package around the generated sheets

CALC_CHAIN = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
              '<calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><c r="B2" i="3"/></calcChain>')


def raw_entries(path: Path) -> dict[str, tuple[int, int, int, bytes]]:
    """Each zip entry as stored: CRC, sizes and its compressed bytes (no inflating)."""
    out = {}
    with zipfile.ZipFile(path) as z, open(path, "rb") as handle:
        for info in z.infolist():
            handle.seek(info.header_offset + 26)
            skip = int.from_bytes(handle.read(2), "little") + int.from_bytes(handle.read(2), "little")
            handle.seek(skip, 1)
            out[info.filename] = (info.CRC, info.compress_size, info.file_size, handle.read(info.compress_size))
    return out


def with_calc_chain(path: Path) -> None:
    """Add a calcChain part the way Excel saves one (openpyxl never writes it)."""
    tmp = path.with_suffix(".tmp.xlsx")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/'
                                    b'officeDocument/2006/relationships/calcChain" Target="calcChain.xml"/></Relationships>')
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", b'<Override PartName="/xl/calcChain.xml" ContentType="application/'
                                    b'vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"/></Types>')
            dst.writestr(info, data)
        dst.writestr("xl/calcChain.xml", CALC_CHAIN)
    os.replace(tmp, path)


def user_book(path: Path, layouts) -> Path:
    """A book as a user has it after an earlier refresh (drawn by the openpyxl writer): 说明, an input
    sheet with shared strings and a formula, the old report sheets with their charts, a user sheet;
    print areas on the input sheet and on an old report sheet; a calcChain."""
    from cs_xl.render.xlsx import write_sheets
    wb = openpyxl.Workbook()
    wb.active.title = "说明"
    wb["说明"]["A1"] = "read me"
    data = wb.create_sheet("输入")
    for i in range(1, 201):
        data.append([f"T{i:04d}", f"客服{i % 7}", i * 1.5])
    data["E1"] = "=SUM(C:C)"
    write_sheets(wb, layouts)
    wb.create_sheet("我的笔记")["B2"] = "=1+1"
    data.print_area = "A1:C200"
    wb[layouts[1].name].print_area = "A1:B5"
    wb.active = 0
    for ws in wb.worksheets:
        ws.sheet_view.tabSelected = ws.title == "说明"
    wb.save(path)
    with_calc_chain(path)
    return path


def reached(path: Path) -> set[str]:
    from cs_xl.render.parts import reachable
    from cs_xl.ooxml import relationships
    with zipfile.ZipFile(path) as z:
        roots = [r.part("") for r in relationships.parse(z.read("_rels/.rels"))]
        return reachable(z, roots)


def test_a_refresh_rewrites_only_the_generated_sheets_parts(tmp_path):
    layouts = real_layouts()
    path = user_book(tmp_path / "b.xlsx", layouts)
    before = raw_entries(path)
    with zipfile.ZipFile(path) as z:
        names_before = z.namelist()
    replace_sheets(path, path, layouts, remove=[s.name for s in layouts])
    after = raw_entries(path)
    owned = {"[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml"}
    wb = openpyxl.load_workbook(path)
    # the kept sheets' parts: 说明 (deselected: it was selected), 输入, 我的笔记 by their old names
    kept = {n for n in names_before if n.startswith("xl/worksheets/sheet")
            and n.rsplit("sheet", 1)[1] in ("2.xml", f"{len(layouts) + 3}.xml")}
    kept |= {"docProps/core.xml", "docProps/app.xml", "_rels/.rels", "xl/theme/theme1.xml"}
    for name in kept:
        assert after[name] == before[name], name  # CRC, sizes and the compressed bytes themselves
    assert "xl/calcChain.xml" not in after                        # dropped: Excel rebuilds it
    with zipfile.ZipFile(path) as z:
        assert b"calcChain" not in z.read("[Content_Types].xml") + z.read("xl/_rels/workbook.xml.rels")
        # no part is left behind that nothing refers to (the old drawings and charts are gone)
        orphans = {n for n in z.namelist() if "_rels/" not in n and n != "[Content_Types].xml"} - reached(path)
        assert orphans == set()
        assert len([n for n in z.namelist() if n.startswith("xl/charts/chart")]) == sum(len(l.charts) for l in layouts)
    assert wb.sheetnames == ["说明", "输入", *[l.name for l in layouts], "我的笔记"]  # back in their places
    assert wb["输入"]["E1"].value == "=SUM(C:C)" and wb["输入"]["B7"].value == "客服0"
    assert wb["我的笔记"]["B2"].value == "=1+1"
    assert wb["输入"].print_area == "'输入'!$A$1:$C$200"       # its print area still names it
    assert not wb[layouts[1].name].print_area                  # the old report sheet's went with it
    assert wb.active.title == layouts[0].name
    assert [ws.title for ws in wb.worksheets if ws.sheet_view.tabSelected] == [layouts[0].name]
    assert set(owned) <= set(after) and backup_path(path).exists()


def test_refreshing_again_reuses_the_appended_styles(tmp_path):
    layouts = real_layouts()
    path = user_book(tmp_path / "b.xlsx", layouts)
    names = [s.name for s in layouts]
    replace_sheets(path, path, layouts, remove=names)
    with zipfile.ZipFile(path) as z:
        first = z.read("xl/styles.xml")
        parts = sorted(z.namelist())
    replace_sheets(path, path, layouts, remove=names)
    with zipfile.ZipFile(path) as z:
        assert z.read("xl/styles.xml") == first      # nothing appended twice: a book does not grow per refresh
        assert sorted(z.namelist()) == parts          # the new parts take the freed names


def test_existing_styles_keep_their_numbers(tmp_path):
    """An input cell's style index still means the same font, fill and format after new styles are appended."""
    from openpyxl.styles import Font, PatternFill
    layouts = real_layouts()
    path = tmp_path / "b.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "输入"
    ws["A1"], ws["B1"] = "红字", 0.125
    ws["A1"].font = Font(name="Arial", color="FF0000", italic=True)
    ws["A1"].fill = PatternFill("solid", fgColor="FFFF00")
    ws["B1"].number_format = "0.000%"
    wb.save(path)
    replace_sheets(path, path, layouts, remove=[])
    cell_a, cell_b = openpyxl.load_workbook(path)["输入"]["A1"], openpyxl.load_workbook(path)["输入"]["B1"]
    assert (cell_a.font.name, cell_a.font.color.rgb[-6:], cell_a.font.i) == ("Arial", "FF0000", True)
    assert cell_a.fill.fgColor.rgb[-6:] == "FFFF00" and cell_b.number_format == "0.000%"


def test_a_1904_book_gets_its_dates_right(tmp_path):
    path = tmp_path / "b.xlsx"
    wb = openpyxl.Workbook()
    wb.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    wb.save(path)
    replace_sheets(path, path, hand_made(), remove=[])
    assert openpyxl.load_workbook(path)["手工"]["A5"].value == dt.datetime(2024, 3, 1, 8, 30)


def vba_project(folder: Path) -> Path:
    """A real vbaProject.bin (module Module1 with Sub RefreshReport), built by ms-ovba."""
    try:
        import ms_ovba  # noqa: F401
    except ImportError:
        absent("ms-ovba is not installed (pip install ms-ovba): it builds the VBA project of the .xlsm test")
    folder.mkdir()
    (folder / "Module1.bas").write_bytes(b'Attribute VB_Name = "Module1"\r\nSub RefreshReport()\r\n'
                                         b'    MsgBox "refresh"\r\nEnd Sub\r\n')
    subprocess.run([sys.executable, "-m", "ms_ovba", "."], cwd=folder, check=True, capture_output=True, timeout=120)
    return folder / "vbaProject.bin"


def test_an_xlsm_keeps_its_macros_and_buttons(tmp_path):
    """The VBA project, the form-control button (legacy VML drawing) and its macro survive a refresh byte
    for byte, and the book stays macro-enabled."""
    import xlsxwriter
    layouts = real_layouts()
    path = tmp_path / "book.xlsm"
    book = xlsxwriter.Workbook(path)
    book.set_vba_name("ThisWorkbook")
    sheet = book.add_worksheet("说明")
    sheet.set_vba_name("Sheet1")
    sheet.write("A1", "点按钮刷新")
    sheet.insert_button("B3", {"macro": "RefreshReport", "caption": "刷新报表", "width": 120, "height": 30})
    old = book.add_worksheet(layouts[0].name)
    old.write("A1", "旧汇总")
    old.activate()  # as after an earlier refresh: the report's first sheet is the open one
    book.add_vba_project(str(vba_project(tmp_path / "vba")))
    book.close()
    before = raw_entries(path)
    replace_sheets(path, path, layouts, remove=[s.name for s in layouts])
    after = raw_entries(path)
    for name in ("xl/vbaProject.bin", "xl/worksheets/sheet1.xml", "xl/worksheets/_rels/sheet1.xml.rels",
                 "xl/drawings/vmlDrawing1.vml", "xl/sharedStrings.xml"):  # XlsxWriter shares the strings
        assert after[name] == before[name], name
    with zipfile.ZipFile(path) as z:
        types = z.read("[Content_Types].xml").decode()
        assert "application/vnd.ms-excel.sheet.macroEnabled.main+xml" in types and "vnd.ms-office.vbaProject" in types
        assert b"[0]!RefreshReport" in z.read("xl/drawings/vmlDrawing1.vml") or b"RefreshReport" in z.read(
            "xl/drawings/vmlDrawing1.vml")
    wb = openpyxl.load_workbook(path, keep_vba=True)
    assert wb.sheetnames[0] == "说明" and wb[layouts[0].name]["A1"].value == layouts[0].cells[0].value
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice:
        assert libreoffice_converts(soffice, path, tmp_path)


def libreoffice_converts(soffice: str, path: Path, tmp_path: Path) -> bool:
    profile = tmp_path / "profile"
    run = subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                          "--outdir", str(tmp_path / "pdf"), str(path)], capture_output=True, text=True, timeout=300)
    pdf = tmp_path / "pdf" / (path.stem + ".pdf")
    return run.returncode == 0 and pdf.exists() and pdf.read_bytes().startswith(b"%PDF")


@pytest.mark.libreoffice
def test_libreoffice_opens_a_book_the_part_writer_wrote(tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        absent("LibreOffice (soffice) is not installed; install libreoffice-calc-nogui to run this test")
    layouts = real_layouts() + hand_made()
    path = user_book(tmp_path / "b.xlsx", layouts)
    replace_sheets(path, path, layouts, remove=[s.name for s in layouts])
    assert libreoffice_converts(soffice, path, tmp_path)


# ---------------------------------------------------------------- atomic: a kill at any moment

KILLS = 8
MORE_KILLS = 8  # while no kill has landed mid-save yet: more, each at the start of saving
ROOT = Path(__file__).parents[1]


def run_until(command: list[str], step: str) -> tuple[subprocess.Popen, float]:
    """Start ``command`` (a refresh printing progress lines) and return once it reports ``step``
    ("绘制": drawing the report, "保存": saving the book), with that moment's time."""
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    for line in child.stdout:
        if step in line:
            return child, time.perf_counter()
    raise AssertionError(f"the refresh ended without {step}")


def test_a_refresh_killed_at_any_moment_leaves_the_old_or_the_new_book(tmp_path):
    """``cs-xl refresh`` in a child process, killed (SIGKILL) at random moments while it writes the book:
    the book is always a whole workbook — the one before or the one after, never a third — and the
    next refresh removes the temp files the killed ones left."""
    from cs_xl.book import stale_temps
    from test_refresh import GENERATED, make_book
    path = make_book(tmp_path / "b.xlsx", n=1500)
    command = [sys.executable, "-m", "cs_xl", "refresh", str(path)]
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT, timeout=600)
    refreshed = path.read_bytes()          # a refresh of a refreshed book writes the same bytes again
    steps = {}
    for step in ("绘制", "保存"):  # how long from the start of drawing / of saving to the end of the run
        child, start = run_until(command, step)
        child.stdout.read()
        child.wait()
        steps[step] = time.perf_counter() - start
    assert path.read_bytes() == refreshed
    rng = random.Random(10)
    temps = []
    for kill in range(KILLS + MORE_KILLS):
        if kill >= KILLS and sum(temps):
            break
        step = ("绘制", "保存")[kill % 2 or kill >= KILLS]  # while drawing and saving, or saving only
        child, _ = run_until(command, step)
        time.sleep(rng.uniform(0, 1.1 if kill < KILLS else 0.3) * steps[step])
        child.kill()
        child.wait()
        child.stdout.close()
        with zipfile.ZipFile(path) as z:
            assert z.testzip() is None     # every entry's CRC checks out
        assert path.read_bytes() == refreshed
        temps.append(len(stale_temps(path)))
    wb = openpyxl.load_workbook(path)
    assert set(GENERATED) <= set(wb.sheetnames) and "参数" in wb.sheetnames
    print(f"\n{len(temps)} kills while drawing ({steps['绘制']:.2f} s to the end) or saving ({steps['保存']:.2f} s): "
          f"the book whole each time; temp files left after each kill: {temps}")
    assert sum(temps) > 0  # some kills did land mid-save
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT, timeout=600)
    assert stale_temps(path) == [] and path.read_bytes() == refreshed


def test_a_save_in_progress_keeps_its_temp_file(tmp_path):
    """The stale-file sweep leaves a temp file another save still holds (its lock is taken)."""
    from cs_xl.book import remove_stale_temps, stale_temps
    path = tmp_path / "b.xlsx"
    openpyxl.Workbook().save(path)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, sys, tempfile, time\n"
        f"fd, name = tempfile.mkstemp(prefix='.b.xlsx.', suffix='.tmp', dir={str(tmp_path)!r})\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\nprint(name, flush=True)\ntime.sleep(60)\n")],
        stdout=subprocess.PIPE, text=True)
    try:
        held = Path(holder.stdout.readline().strip())
        dead = tmp_path / ".b.xlsx.abcdefgh.tmp"
        dead.write_bytes(b"half a zip")
        assert sorted(stale_temps(path)) == sorted([held, dead])
        assert remove_stale_temps(path) == [dead]
        assert held.exists() and not dead.exists()
    finally:
        holder.kill()
        holder.wait()
    assert remove_stale_temps(path) == [held]  # once its writer is gone, it is a leftover too


def test_unreadable_books_and_a_sheet_in_the_way_are_clear_errors(tmp_path):
    from cs_xl.book import BookError
    bad = tmp_path / "bad.xlsx"
    bad.write_text("not a zip")
    with pytest.raises(BookError, match="bad.xlsx: not a readable"):
        replace_sheets(bad, bad, hand_made(), remove=[])
    with pytest.raises(BookError, match="no such workbook"):
        replace_sheets(tmp_path / "missing.xlsx", tmp_path / "missing.xlsx", hand_made(), remove=[])
    path = tmp_path / "b.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "手工"  # a user's sheet with the report's name, not in the list to replace
    wb.save(path)
    original = path.read_bytes()
    with pytest.raises(BookError, match="a sheet called 手工 is in the way"):
        replace_sheets(path, path, hand_made(), remove=[])
    assert path.read_bytes() == original
