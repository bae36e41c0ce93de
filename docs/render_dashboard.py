#!/usr/bin/env python3
"""Render the refreshed demo workbook to pictures: ``docs/dashboard.png`` for the README.

What it does, step by step:

1. ``python3 -m cs_xl.cli demo --out TMP/cs_demo.xlsx`` — the demo workbook,
   template filled with sample data and refreshed (the same file a user gets),
   with the clock fixed at :data:`DEMO_TODAY` through ``SOURCE_DATE_EPOCH`` so
   the picture does not depend on the day it was rendered;
2. for each generated sheet (汇总, 按客服, 按维度, 趋势, 时段负荷, 数据质量) a copy
   of the book that keeps only that sheet (openpyxl deletes the others; charts,
   number formats and conditional formatting survive the round trip);
3. LibreOffice headless converts every copy to PDF in one run, with a fresh
   user profile (``-env:UserInstallation``) so a running LibreOffice or a
   stale lock cannot block it;
4. ``pdftoppm -png`` turns each PDF's pages into PNGs in the output folder
   (default ``/tmp/cs_xl_render``), named ``<sheet>-<page>.png``;
5. page 1 of 汇总 is copied to ``docs/dashboard.png`` and ``docs/dashboard.json``
   records what it shows: the day, the picture's SHA-256 and every 汇总 cell
   (``--no-docs`` skips both).  ``tests/test_docs.py`` rebuilds the demo and
   fails when 汇总 no longer matches the picture: then re-run this script.

Needs LibreOffice (``soffice``), poppler-utils (``pdftoppm``) and a CJK font
(fonts-noto-cjk) so the Chinese renders.  Re-runnable: the temp folder is new
each run and the output PNGs are overwritten.

Usage (from the repository root)::

    python3 docs/render_dashboard.py                 # docs/dashboard.png + /tmp/cs_xl_render/*.png
    python3 docs/render_dashboard.py --out /tmp/pics --resolution 100 --no-docs
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import openpyxl

REPO = Path(__file__).resolve().parents[1]
DASHBOARD = REPO / "docs" / "dashboard.png"
RECORD = REPO / "docs" / "dashboard.json"
DEMO_TODAY = dt.date(2024, 6, 1)  # the day after the sample's last month (cs_xl/sample.py)
SHEETS = {  # tab name → file stem (ASCII, so every tool in the chain is happy)
    "汇总": "summary", "按客服": "agents", "按维度": "breakdowns",
    "趋势": "trends", "时段负荷": "load", "数据质量": "quality",
}


def demo_env() -> dict[str, str]:
    """The environment with the clock at noon UTC of :data:`DEMO_TODAY` (the same day in every timezone
    from UTC−11 to UTC+11, so in the 参数 timezone too)."""
    noon = dt.datetime.combine(DEMO_TODAY, dt.time(12), dt.timezone.utc)
    return {**os.environ, "SOURCE_DATE_EPOCH": str(int(noon.timestamp()))}


def build_demo(folder: Path) -> Path:
    """The refreshed demo workbook, built by the product's own CLI on :data:`DEMO_TODAY`."""
    book = folder / "cs_demo.xlsx"
    run = subprocess.run([sys.executable, "-m", "cs_xl.cli", "demo", "--out", str(book)],
                         cwd=REPO, capture_output=True, text=True, env=demo_env())
    if run.returncode != 0:
        sys.exit(f"cs-xl demo failed:\n{run.stdout}{run.stderr}")
    return book


def single_sheet_copy(book: Path, sheet: str, out: Path) -> Path:
    """A copy of ``book`` with ``sheet`` as its only sheet."""
    wb = openpyxl.load_workbook(book)
    for name in wb.sheetnames:
        if name != sheet:
            del wb[name]
    wb.active = 0
    wb.save(out)
    return out


def summary_cells(book: Path) -> dict[str, object]:
    """Every filled cell of 汇总 (coordinate → value; numbers to 10 significant digits, dates as ISO
    text): what the picture shows, in a form a test can compare."""
    ws = openpyxl.load_workbook(book)["汇总"]
    cells = {}
    for row in ws.iter_rows():
        for cell in row:
            if cell.value is None:
                continue
            value = cell.value
            if isinstance(value, float):
                value = float(f"{value:.10g}")
            elif isinstance(value, (dt.date, dt.datetime)):
                value = value.isoformat()
            cells[cell.coordinate] = value
    return cells


def record(book: Path, picture: Path) -> dict:
    """docs/dashboard.json's content for ``picture`` rendered from ``book``."""
    return {"today": DEMO_TODAY.isoformat(),
            "png_sha256": hashlib.sha256(picture.read_bytes()).hexdigest(),
            "summary_cells": summary_cells(book)}


def to_pdf(books: list[Path], folder: Path) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        sys.exit("LibreOffice (soffice) is not installed")
    profile = folder / "lo-profile"
    subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(folder), *map(str, books)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)


def to_png(pdf: Path, out_dir: Path, stem: str, resolution: int) -> list[Path]:
    """Every page of ``pdf`` as ``out_dir/<stem>-<page>.png`` (old pages of that stem removed first)."""
    for old in out_dir.glob(f"{stem}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-png", "-r", str(resolution), str(pdf), str(out_dir / stem)], check=True)
    return sorted(out_dir.glob(f"{stem}-*.png"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/cs_xl_render"), help="folder for every page's PNG")
    parser.add_argument("--resolution", type=int, default=80, help="pdftoppm dots per inch (default 80)")
    parser.add_argument("--no-docs", action="store_true", help="don't overwrite docs/dashboard.png")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cs_xl_render_") as tmp:
        folder = Path(tmp)
        book = build_demo(folder)
        copies = [single_sheet_copy(book, sheet, folder / f"{stem}.xlsx") for sheet, stem in SHEETS.items()]
        to_pdf(copies, folder)
        pages = {stem: to_png(folder / f"{stem}.pdf", args.out, stem, args.resolution) for stem in SHEETS.values()}
        if not args.no_docs:
            shutil.copyfile(pages["summary"][0], DASHBOARD)
            RECORD.write_text(json.dumps(record(book, DASHBOARD), ensure_ascii=False, indent=1) + "\n",
                              encoding="utf-8")
    for stem, files in pages.items():
        print(f"{stem}: {len(files)} page(s) → {', '.join(str(f) for f in files)}")
    if not args.no_docs:
        print(f"dashboard: {DASHBOARD} ({DASHBOARD.stat().st_size / 1024:.0f} KB), {RECORD}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
