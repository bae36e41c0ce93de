"""Write the committed workbooks: workbook/cs_template.xlsx (中文), workbook/cs_template_en.xlsx
(English) and the macro-enabled workbook/cs_report.xlsm, after building the VBA project
cs_xl/data/vbaProject.bin from workbook/vba/*.bas.

Run ``python workbook/build_template.py`` after changing cs_xl.template,
cs_xl.params, cs_xl.schema, the metric catalogue or a .bas file;
tests/test_template.py and tests/test_macro_book.py fail while the committed
files differ from a fresh build.  Building the VBA project needs ms-ovba
(``pip install -e ".[test]"``); the other files do not.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing

from cs_xl.macro_book import VBA_PROJECT, build_macro_template  # noqa: E402
from cs_xl.template import build_template  # noqa: E402

OUTPUTS = {"zh": HERE / "cs_template.xlsx", "en": HERE / "cs_template_en.xlsx"}
MACRO_OUTPUT = HERE / "cs_report.xlsm"
VBA_SOURCES = HERE / "vba"


def build_vba_project(sources: Path = VBA_SOURCES, out: Path = VBA_PROJECT) -> Path:
    """vbaProject.bin from the .bas files in ``sources``, by ms-ovba's command line.

    ms-ovba 0.0.1 writes scratch files beside every file it reads — the .bas sources and the blank
    Sheet1/ThisWorkbook modules inside its own package — and *appends* to them on the next run, so
    a second build comes out corrupt.  It therefore runs on copies: of the sources and of the
    package itself, in a fresh folder that is thrown away."""
    import ms_ovba
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        shutil.copytree(Path(ms_ovba.__file__).parent, work / "lib" / "ms_ovba",
                        ignore=shutil.ignore_patterns("*.new", "*.bin", "__pycache__"))
        (work / "vba").mkdir()
        for bas in sorted(sources.glob("*.bas")):
            shutil.copyfile(bas, work / "vba" / bas.name)
        env = {**os.environ, "PYTHONPATH": str(work / "lib")}
        subprocess.run([sys.executable, "-m", "ms_ovba", "vba"], cwd=work, env=env, check=True, capture_output=True)
        shutil.copyfile(work / "vbaProject.bin", out)
    return out


def main() -> None:
    for lang, path in OUTPUTS.items():
        build_template(lang).save(path)
        print(f"wrote {path}")
    print(f"wrote {build_vba_project()}")
    build_macro_template("zh").save(MACRO_OUTPUT)
    print(f"wrote {MACRO_OUTPUT}")


if __name__ == "__main__":
    main()
