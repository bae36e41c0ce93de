"""book.replace_sheets: the seam a refresh writes through, fed plain layouts only."""
from __future__ import annotations

import openpyxl

from cs_xl.book import backup_path, replace_sheets
from cs_xl.render.layout import Cell, SheetLayout


def book(tmp_path, titles):
    wb = openpyxl.Workbook()
    wb.active.title = titles[0]
    for title in titles[1:]:
        wb.create_sheet(title)
    wb["输入"]["A1"] = "keep me"
    path = tmp_path / "b.xlsx"
    wb.save(path)
    return path


def test_layouts_take_the_places_of_the_sheets_they_replace(tmp_path):
    path = book(tmp_path, ["说明", "Summary", "输入", "趋势", "手工表"])
    layouts = [SheetLayout("汇总", [Cell(1, 1, "新汇总")]), SheetLayout("趋势", [Cell(1, 1, "新趋势")]),
               SheetLayout("数据质量", [Cell(1, 1, "新质量")])]
    seen = []
    written = replace_sheets(path, path, layouts, remove=["Summary", "趋势", "汇总"],
                             former={"汇总": ("汇总", "Summary")}, on_sheet=seen.append)
    assert written == ["汇总", "趋势", "数据质量"]
    wb = openpyxl.load_workbook(path)
    # 汇总 where its English twin was, 趋势 where it was, the new 数据质量 at the end
    assert wb.sheetnames == ["说明", "汇总", "输入", "趋势", "手工表", "数据质量"]
    assert wb["汇总"]["A1"].value == "新汇总" and wb["输入"]["A1"].value == "keep me"
    assert wb.active.title == "汇总"                       # the first layout is the one the book opens on
    assert sorted(seen) == sorted(written)
    assert backup_path(path).exists()                      # saved through save_atomic
