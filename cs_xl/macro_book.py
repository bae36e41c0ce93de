"""The macro-enabled workbook (``workbook/cs_report.xlsm``, ``cs-xl template --xlsm``): the standard
template plus what the 「刷新报表」 and 「检查数据」 buttons need on the classic xlwings path.

* an ``xlwings.conf`` sheet naming the Python module of the CS_* formulas and the buttons;
* a VBA project whose macros ``RefreshReport`` and ``CheckData`` call the add-in's ``RunPython``
  late-bound (``Application.Run "xlwings.xlam!RunPython", …``): no reference to the add-in and no
  workbook name in the code, so the macros work whatever the file is called.  The sources are
  ``workbook/vba/*.bas``; ``workbook/build_template.py`` builds ``cs_xl/data/vbaProject.bin``
  from them with ms-ovba (olevba reads the sources back; tests/test_macro_book.py checks it);
* two form buttons on 说明, the sheet the book opens on, assigned to those macros (drawn as
  legacy VML by xlsxwriter).  Not on 汇总: ``cs-xl refresh`` replaces every generated sheet, parts
  and all, so a control on one would be lost; 说明 is never rewritten, so its drawing, the VBA
  project and ``xlwings.conf`` come through every refresh byte for byte.

openpyxl writes the package: ``wb.vba_archive`` carries the VBA project and the VML drawing in,
and 说明's ``legacy_drawing`` points at the drawing — the same attributes openpyxl fills when it
opens an .xlsm with ``keep_vba=True``.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from .words import word

VBA_PROJECT = Path(__file__).resolve().parent / "data" / "vbaProject.bin"
VML_PART = "xl/drawings/vmlDrawing1.vml"  # where xlsxwriter puts the first sheet's button drawing
XLWINGS_CONF = "xlwings.conf"
UDF_MODULES = "udfs.cs_udfs"
# the VBA project ms-ovba builds has these document modules: the book and one sheet must carry the names
WORKBOOK_CODE_NAME, SHEET_CODE_NAME = "ThisWorkbook", "Sheet1"
# (word of the caption, macro, top-left cell on 说明): in the blank rows under the title, above the steps
BUTTONS = (("refresh_button", "RefreshReport", "B3"), ("check_button", "CheckData", "C3"))
BUTTON_PIXELS = (120, 36)  # width, height: two default rows


def write_xlwings_conf(wb: Workbook) -> Worksheet:
    """The ``xlwings.conf`` sheet (key in A, value in B): the UDF module, imported by *Import
    Functions* and by the buttons.  Other keys (Interpreter_Win …) fall back to the add-in's."""
    ws = wb.create_sheet(XLWINGS_CONF)
    ws.append(["UDF Modules", UDF_MODULES])
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 24
    return ws


def _column_widths(ws: Worksheet) -> dict[int, float]:
    return {col: ws.column_dimensions[get_column_letter(col)].width
            for col in range(1, ws.max_column + 1) if ws.column_dimensions[get_column_letter(col)].width}


def button_parts(host: Worksheet, lang: str, vba_project: Path = VBA_PROJECT) -> zipfile.ZipFile:
    """A package holding the VBA project and the VML drawing of the two buttons on ``host``,
    written by xlsxwriter on a sheet with the same column widths (VML anchors count cells)."""
    import xlsxwriter  # only the macro workbook needs it

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet(host.title)
    for col, width in _column_widths(host).items():
        sheet.set_column(col - 1, col - 1, width)
    for caption, macro, cell in BUTTONS:
        sheet.insert_button(cell, {"macro": macro, "caption": word(caption, lang),
                                   "width": BUTTON_PIXELS[0], "height": BUTTON_PIXELS[1]})
    book.add_vba_project(str(vba_project))
    book.close()
    return zipfile.ZipFile(io.BytesIO(buffer.getvalue()))


def build_macro_template(lang: str = "zh", vba_project: Path = VBA_PROJECT) -> Workbook:
    """The blank template with ``xlwings.conf``, the VBA project and the buttons on 说明; save it
    as .xlsm."""
    from .template import build_template
    wb = build_template(lang)
    write_xlwings_conf(wb)
    wb.code_name = WORKBOOK_CODE_NAME
    host = wb.worksheets[0]  # 说明: never replaced by a refresh
    host.sheet_properties.codeName = SHEET_CODE_NAME
    wb.vba_archive = button_parts(host, lang, vba_project)
    host.legacy_drawing = VML_PART
    return wb


def write_macro_template(path, lang: str = "zh") -> Path:
    """Save the macro-enabled template to ``path`` (.xlsm; atomically, keeping a .bak)."""
    from .book import save_atomic
    path = Path(path)
    if path.suffix.lower() != ".xlsm":
        raise ValueError(f"{path}: a workbook with macros must be saved as .xlsm")
    return save_atomic(build_macro_template(lang), path)
