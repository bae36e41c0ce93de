"""The macro-enabled workbook (workbook/cs_report.xlsm, ``cs-xl template --xlsm``): its VBA read back
with olevba equals workbook/vba/*.bas, its buttons are assigned to those macros, the macros call
Python that exists, LibreOffice opens it, and both refreshes leave the macros, buttons and
``xlwings.conf`` as they were."""
from __future__ import annotations

import html
import importlib
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pytest

from ci import absent
from cs_xl.macro_book import UDF_MODULES, VBA_PROJECT, XLWINGS_CONF, build_macro_template
from cs_xl.refresh import refresh
from cs_xl.template import fill_inputs
from test_template import snapshot

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "workbook" / "cs_report.xlsm"
VBA_SOURCES = sorted((ROOT / "workbook" / "vba").glob("*.bas"))
VML_NS = {"x": "urn:schemas-microsoft-com:office:excel", "v": "urn:schemas-microsoft-com:vml"}
REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def quiet(done, total, message):
    pass


def olevba_modules(data: bytes) -> dict[str, str]:
    """Module name → source code, as olevba (oletools) reads a vbaProject.bin or an .xlsm."""
    olevba = pytest.importorskip("oletools.olevba", reason="oletools is in the test extra")
    parser = olevba.VBA_Parser("project", data=data)
    return {name: code.replace("\r\n", "\n") for _, _, name, code in parser.extract_macros()}


def bas_code(path: Path) -> str:
    """A .bas file's text (its Attribute header included, as the module stream stores it)."""
    return path.read_text().replace("\r\n", "\n")


def buttons(xlsm: Path) -> dict[str, tuple[str, str]]:
    """Sheet name → [(caption, assigned macro)] of the form buttons in the package's VML drawings."""
    r_id = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    with zipfile.ZipFile(xlsm) as z:
        rels = {r.get("Id"): r.get("Target").lstrip("/") for r in ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))}
        out = {}
        for sheet in ElementTree.fromstring(z.read("xl/workbook.xml")).iter():
            if not sheet.tag.endswith("}sheet"):
                continue
            part = rels[sheet.get(r_id)]
            part = part if part.startswith("xl/") else "xl/" + part
            rels_part = part.replace("worksheets/", "worksheets/_rels/") + ".rels"
            if rels_part not in z.namelist():
                continue
            sheet_xml = z.read(part).decode()
            for rel in ElementTree.fromstring(z.read(rels_part)):
                if rel.get("Type").endswith("/vmlDrawing") and f'id="{rel.get("Id")}"' in sheet_xml:
                    vml = ElementTree.fromstring(z.read(rel.get("Target").lstrip("/")))
                    for shape in vml.iter("{urn:schemas-microsoft-com:vml}shape"):
                        data = shape.find("x:ClientData", VML_NS)
                        if data is not None and data.get("ObjectType") == "Button":
                            caption = "".join(shape.find("v:textbox", VML_NS).itertext()).strip()
                            out.setdefault(sheet.get("name"), []).append(
                                (caption, data.find("x:FmlaMacro", VML_NS).text))
        return out


# ------------------------------------------------------------------ the VBA project

def test_vba_project_reads_back_as_the_bas_sources():
    modules = olevba_modules(VBA_PROJECT.read_bytes())
    assert VBA_SOURCES
    for bas in VBA_SOURCES:
        assert modules[bas.stem + ".bas"] == bas_code(bas), bas.name
    assert {"Sheet1.cls", "ThisWorkbook.cls"} <= set(modules)  # the document modules ms-ovba adds


def test_committed_xlsm_carries_that_project_byte_for_byte():
    with zipfile.ZipFile(COMMITTED) as z:
        assert z.read("xl/vbaProject.bin") == VBA_PROJECT.read_bytes()
    modules = olevba_modules(COMMITTED.read_bytes())
    assert modules["CsButtons.bas"] == bas_code(ROOT / "workbook" / "vba" / "CsButtons.bas")


def test_a_fresh_ms_ovba_build_of_the_sources_reads_back_the_same(tmp_path):
    """The committed project is rebuilt by the script from the .bas files (ms-ovba is not byte
    deterministic, so the read-back is what is compared)."""
    try:
        import ms_ovba  # noqa: F401
    except ImportError:
        absent("ms-ovba is not installed (pip install -e '.[test]')")
    sys.path.insert(0, str(ROOT / "workbook"))
    try:
        build = importlib.import_module("build_template")
    finally:
        sys.path.remove(str(ROOT / "workbook"))
    fresh = build.build_vba_project(out=tmp_path / "vbaProject.bin")
    assert olevba_modules(fresh.read_bytes()) == olevba_modules(VBA_PROJECT.read_bytes())


def test_macros_call_runpython_late_bound_with_python_that_exists():
    """No add-in reference and no workbook name in the code; each RunPython command imports and
    calls a function that is there."""
    code = bas_code(ROOT / "workbook" / "vba" / "CsButtons.bas")
    assert 'Application.Run "xlwings.xlam!RunPython"' in code and "ThisWorkbook.Name" not in code
    commands = re.findall(r'RunCs "([^"]+)"', code)
    assert len(commands) == 2
    for command in commands:
        imports, call = command.split(";")
        module_name = re.match(r"from (\w+) import (\w+)", imports.strip()).groups()
        module = importlib.import_module(".".join(module_name))
        assert callable(getattr(module, re.match(r"\w+\.(\w+)\(\)", call.strip()).group(1)))


# ------------------------------------------------------------------ the workbook

def test_committed_xlsm_equals_a_fresh_build(tmp_path):
    fresh = tmp_path / "fresh.xlsm"
    build_macro_template("zh").save(fresh)
    assert snapshot(openpyxl.load_workbook(COMMITTED)) == snapshot(openpyxl.load_workbook(fresh)), \
        "workbook/cs_report.xlsm is stale: run `python workbook/build_template.py` and commit it"
    assert buttons(COMMITTED) == buttons(fresh)


def test_buttons_are_assigned_to_the_macros():
    assert buttons(COMMITTED) == {"说明": [("刷新报表", "[0]!RefreshReport"), ("检查数据", "[0]!CheckData")]}
    code = bas_code(ROOT / "workbook" / "vba" / "CsButtons.bas")
    assert "Public Sub RefreshReport()" in code and "Public Sub CheckData()" in code


def test_xlwings_conf_names_the_udf_module_and_code_names_match_the_project():
    wb = openpyxl.load_workbook(COMMITTED, keep_vba=True)
    conf = wb[XLWINGS_CONF]
    assert [conf["A1"].value, conf["B1"].value] == ["UDF Modules", UDF_MODULES]
    assert importlib.import_module(UDF_MODULES).CS_FRT_RATE  # the module xlwings imports exists
    assert wb.code_name == "ThisWorkbook" and wb.worksheets[0].sheet_properties.codeName == "Sheet1"
    with zipfile.ZipFile(COMMITTED) as z:
        types = z.read("[Content_Types].xml").decode()
    assert "application/vnd.ms-excel.sheet.macroEnabled.main+xml" in types


def test_template_command_writes_the_xlsm_in_both_languages(tmp_path):
    for lang, caption in (("zh", "刷新报表"), ("en", "Refresh report")):
        out = tmp_path / f"book_{lang}.xlsm"
        run = subprocess.run([sys.executable, "-m", "cs_xl", "template", "--xlsm", "--lang", lang, "--out", str(out)],
                             cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr
        (sheet, found), = buttons(out).items()
        assert found[0] == (caption, "[0]!RefreshReport") and sheet == openpyxl.load_workbook(out).sheetnames[0]
    bad = subprocess.run([sys.executable, "-m", "cs_xl", "template", "--xlsm", "--out", str(tmp_path / "x.xlsx")],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and ".xlsm" in bad.stderr and not (tmp_path / "x.xlsx").exists()


@pytest.mark.libreoffice
def test_libreoffice_opens_it_with_its_buttons_and_vba_modules(tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        absent("LibreOffice (soffice) is not installed")
    shutil.copy(COMMITTED, tmp_path / "cs_report.xlsm")
    run = subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless",
                          "--norestore", "--convert-to", "ods", "--outdir", str(tmp_path), str(tmp_path / "cs_report.xlsm")],
                         capture_output=True, text=True, timeout=300)
    ods = tmp_path / "cs_report.ods"
    assert ods.exists(), run.stderr
    with zipfile.ZipFile(ods) as z:
        content = z.read("content.xml").decode()
        module = html.unescape(z.read("Basic/VBAProject/CsButtons.xml").decode())
    labels = re.findall(r'<form:button [^>]*form:label="([^"]+)"', content)
    assert labels == ["刷新报表", "检查数据"]
    # LibreOffice reads the module's code and binds each button to its macro in that module
    assert "Public Sub RefreshReport()" in module and 'Application.Run "xlwings.xlam!RunPython"' in module
    bound = re.findall(r'form:performaction" xlink:href="vnd\.sun\.star\.script:VBAProject\.CsButtons\.(\w+)\?', content)
    assert bound == ["RefreshReport", "CheckData"]


# ------------------------------------------------------------------ survival

@pytest.fixture(scope="module")
def filled_xlsm(tmp_path_factory) -> Path:
    """The macro workbook with a few hundred records, refreshed once by cs-xl refresh."""
    from test_refresh import frames
    path = tmp_path_factory.mktemp("xlsm") / "book.xlsm"
    wb = build_macro_template("zh")
    fill_inputs(wb, frames(300), "zh")
    wb.save(path)
    return path


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def test_cs_xl_refresh_keeps_the_vba_project_buttons_and_conf(filled_xlsm, tmp_path):
    before = parts(filled_xlsm)
    out = tmp_path / "refreshed.xlsm"
    refresh(filled_xlsm, out=out, progress=quiet)
    after = parts(out)
    assert after["xl/vbaProject.bin"] == before["xl/vbaProject.bin"]
    vml = [n for n in before if n.endswith(".vml")]
    assert vml and all(after[n] == before[n] for n in vml)
    assert buttons(out) == buttons(filled_xlsm) == {"说明": [("刷新报表", "[0]!RefreshReport"),
                                                            ("检查数据", "[0]!CheckData")]}
    wb = openpyxl.load_workbook(out)
    assert [wb[XLWINGS_CONF]["A1"].value, wb[XLWINGS_CONF]["B1"].value] == ["UDF Modules", UDF_MODULES]
    assert wb["汇总"]["B4"].value is not None  # the report was drawn
    assert olevba_modules(out.read_bytes())["CsButtons.bas"] == bas_code(ROOT / "workbook" / "vba" / "CsButtons.bas")
