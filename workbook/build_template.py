"""Write the committed blank templates: workbook/cs_template.xlsx (中文) and
workbook/cs_template_en.xlsx (English).

Run ``python workbook/build_template.py`` after changing cs_xl.template,
cs_xl.params, cs_xl.schema or the metric catalogue; tests/test_template.py
fails while the committed files differ from a fresh build.
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing

from cs_xl.template import build_template  # noqa: E402

OUTPUTS = {"zh": HERE / "cs_template.xlsx", "en": HERE / "cs_template_en.xlsx"}


def main() -> None:
    for lang, path in OUTPUTS.items():
        build_template(lang).save(path)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
