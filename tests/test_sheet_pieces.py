"""cs_xl.sheet_pieces: a big sheet parsed in pieces gives the grid python-calamine gives for the
whole sheet.

The reference is the same book read with cutting switched off (calamine parsing each sheet
whole, as before pieces existed); the books are written by openpyxl (shared strings), by
openpyxl's write-only mode (inline strings), by the template writer (the demo) and by
LibreOffice, with the 1900 and 1904 date systems, error cells, dates and blank rows around the
cut, and tables that do not start at A1."""
from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from ci import absent
from cs_xl import read_files, sheet_pieces
from cs_xl.read_files import LoadError, read_grids

# ---------------------------------------------------------------- cutting the XML


def sheet_xml(rows: str) -> bytes:
    return (b'<?xml version="1.0"?><worksheet xmlns="x"><dimension ref="A1:C9"/><sheetData>' + rows.encode()
            + b'</sheetData><mergeCells count="0"/></worksheet>')


ROWS = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, 11))


def test_pieces_hold_every_row_once_in_order_and_the_sheet_around_them():
    xml = sheet_xml(ROWS)
    found = sheet_pieces.cut(xml, 3)
    pieces = [found.piece(i) for i in range(3)]
    head, tail = xml[:xml.index(b"<row")], xml[xml.index(b"</sheetData>"):]
    assert all(p.startswith(head) and p.endswith(tail) for p in pieces)
    assert b"".join(p[len(head):len(p) - len(tail)] for p in pieces) == ROWS.encode()
    assert found.first_rows == [1] + [int(p[len(head):].split(b'"')[1]) for p in pieces[1:]]
    assert [found.piece_size(i) for i in range(3)] == list(map(len, pieces))


@pytest.mark.parametrize("hiding", ['<!-- <row r="4"> -->', '<![CDATA[<row r="4">]]>', '<?pi <row r="4"?>'])
def test_no_cut_where_a_row_could_be_text(hiding):
    assert sheet_pieces.cut(sheet_xml(ROWS[:200] + hiding + ROWS[200:]), 2) is None


def test_no_cut_of_rows_without_their_number_or_with_a_prefix():
    assert sheet_pieces.cut(sheet_xml(ROWS.replace('<row r="', '<row spans="1:1" x="')), 2) is None
    prefixed = sheet_xml(ROWS.replace("<row ", "<x:row ").replace("</row>", "</x:row>"))
    assert sheet_pieces.cut(prefixed, 2) is None


def test_text_with_exclamation_and_question_marks_is_no_hiding_place():
    rows = ROWS.replace("<v>3</v>", "<v>!?</v>").replace("<v>7</v>", '<is><t>好!?</t></is>')
    assert sheet_pieces.cut(sheet_xml(rows), 2) is not None


# ---------------------------------------------------------------- joining the parsed pieces

def test_join_fills_gaps_and_widths_with_blanks():
    pieces = [((2, 1), [["a", "b"], ["c", "d"]]), (None, []), ((6, 0), [["e"]]), ((8, 2), [["f", "g"]])]
    start, rows = sheet_pieces.join(pieces, [1, 5, 6, 8])
    assert start == (2, 0)
    assert rows == [["", "a", "b", ""], ["", "c", "d", ""], ["", "", "", ""], ["", "", "", ""],
                    ["e", "", "", ""], ["", "", "", ""], ["", "", "f", "g"]]


def test_join_refuses_a_piece_outside_its_rows():
    assert sheet_pieces.join([((0, 0), [["a"], ["b"], ["c"]]), ((3, 0), [["d"]])], [1, 3]) is None  # overlaps
    assert sheet_pieces.join([((0, 0), [["a"]]), ((1, 0), [["d"]])], [1, 3]) is None  # starts before its cut


def test_join_of_nothing_is_an_empty_sheet():
    assert sheet_pieces.join([(None, []), (None, [])], [1, 5]) == (None, [])


# ---------------------------------------------------------------- whole books: pieces = whole

@pytest.fixture
def cut_spy(monkeypatch):
    """Cut the biggest sheet of every book, and record each join."""
    joins = []
    real = sheet_pieces.join
    monkeypatch.setattr(sheet_pieces, "worth_cutting", lambda size, others: True)
    monkeypatch.setattr(sheet_pieces, "join", lambda *a: joins.append(real(*a)) or joins[-1])
    return joins


def whole(path: Path, monkeypatch) -> list[tuple]:
    with monkeypatch.context() as m:
        m.setattr(sheet_pieces, "worth_cutting", lambda size, others: False)
        return grid_tuples(read_grids(path))


def grid_tuples(grids) -> list[tuple]:
    return [(g.name, g.first_row, g.first_col, g.rows) for g in grids.sheets]


def mixed_cells() -> dict[tuple[int, int], object]:
    """(1-based row, column) → value: 400 rows from C4 of every kind of cell, error cells ('#N/A'),
    three blank rows in the middle, the first half one column wider on the left and the second
    half one column wider on the right."""
    cells = {}
    for i in range(400):
        r = 4 + i + (3 if i >= 200 else 0)
        values = [dt.datetime(2024, 3, 1, 8, 30) + dt.timedelta(hours=i), dt.date(2024, 1, 1) + dt.timedelta(days=i),
                  dt.time(9, i % 60), i * 1.5, i, i % 2 == 0, f" 客服{i % 7} ", "#N/A" if i % 50 == 0 else f"T{i}"]
        cells[r, 2 if i < 200 else 3 + len(values)] = "左" if i < 200 else "右"
        cells.update({(r, c): value for c, value in enumerate(values, start=3)})
    return cells


def mixed_book(path: Path, epoch=None) -> Path:
    """:func:`mixed_cells` written by openpyxl (inline strings), plus a small second sheet."""
    wb = openpyxl.Workbook()
    if epoch is not None:
        wb.epoch = epoch
    ws = wb.active
    ws.title = "响应时间统计表"
    for (r, c), value in mixed_cells().items():
        cell = ws.cell(r, c, value)
        if value == "#N/A":
            cell.data_type = "e"
    wb.create_sheet("小表").append(["a", 1])
    wb.save(path)
    return path


def xlsxwriter_book(path: Path) -> Path:
    """:func:`mixed_cells` written by XlsxWriter: shared strings, as Excel saves them."""
    import xlsxwriter
    with xlsxwriter.Workbook(str(path)) as wb:
        ws, when = wb.add_worksheet("响应时间统计表"), wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        for (r, c), value in mixed_cells().items():
            if value == "#N/A":
                ws.write_formula(r - 1, c - 1, "=NA()", None, "#N/A")
            elif isinstance(value, (dt.date, dt.time)):
                ws.write_datetime(r - 1, c - 1, value, when)
            else:
                ws.write(r - 1, c - 1, value)
        wb.add_worksheet("小表").write_row(0, 0, ["a", 1])
    return path


@pytest.mark.parametrize("epoch", [None, CALENDAR_MAC_1904])
def test_an_openpyxl_book_reads_the_same_in_pieces(tmp_path, monkeypatch, cut_spy, epoch):
    path = mixed_book(tmp_path / "book.xlsx", epoch)
    expected = whole(path, monkeypatch)
    assert grid_tuples(read_grids(path)) == expected
    assert len(cut_spy) == 1 and cut_spy[0] is not None  # it was read in pieces
    first = expected[0][3][0]  # B4: the left column, then the cells as written
    assert (first[0], first[1], first[8]) == ("左", dt.datetime(2024, 3, 1, 8, 30), "#N/A")


def test_shared_string_inline_string_and_template_books_read_the_same_in_pieces(tmp_path, monkeypatch, cut_spy):
    from cs_xl import sample
    from test_benchmarks import _write_full_book
    books = (xlsxwriter_book(tmp_path / "shared.xlsx"), _write_full_book(tmp_path / "full.xlsx", 3_000),
             sample.write_demo_inputs(tmp_path / "demo.xlsx"))
    for path in books:
        assert grid_tuples(read_grids(path)) == whole(path, monkeypatch), path.name
    assert len(cut_spy) == 3 and None not in cut_spy
    assert b't="s"' in zipfile.ZipFile(books[0]).read("xl/worksheets/sheet1.xml")


def test_a_book_libreoffice_saved_reads_the_same_in_pieces(tmp_path, monkeypatch, cut_spy):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        absent("LibreOffice (soffice) is not installed: needed to save a book as a spreadsheet program does")
    source = mixed_book(tmp_path / "source.xlsx")
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless", "--convert-to",
                    "xlsx", "--outdir", str(tmp_path / "lo"), str(source)], check=True, capture_output=True, timeout=300)
    path = tmp_path / "lo" / "source.xlsx"
    assert b't="s"' in zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")  # shared strings, as Excel writes
    assert grid_tuples(read_grids(path)) == whole(path, monkeypatch)
    assert len(cut_spy) == 1 and cut_spy[0] is not None


def rewrite_sheet(path: Path, target: Path, edit) -> Path:
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            data = source.read(info)
            out.writestr(info, edit(data) if info.filename == "xl/worksheets/sheet1.xml" else data)
    return target


def test_rows_out_of_order_are_read_whole(tmp_path, monkeypatch, cut_spy):
    """A row numbered before the cut but written after it: the pieces do not fit, the sheet is parsed whole."""
    def move_first_row_last(xml: bytes) -> bytes:
        start, end = xml.index(b'<row r="4"'), xml.index(b'<row r="5"')
        return xml[:start] + xml[end:].replace(b"</sheetData>", xml[start:end] + b"</sheetData>")
    path = rewrite_sheet(mixed_book(tmp_path / "a.xlsx"), tmp_path / "b.xlsx", move_first_row_last)
    assert grid_tuples(read_grids(path)) == whole(path, monkeypatch)
    assert cut_spy == [None]


def test_a_damaged_sheet_is_reported_as_when_read_whole(tmp_path, monkeypatch, cut_spy):
    path = rewrite_sheet(mixed_book(tmp_path / "a.xlsx"), tmp_path / "b.xlsx",
                         lambda xml: xml.replace(b'<row r="300"', b'<row r="300"><c r="Q"><v>'))
    with pytest.raises(LoadError) as in_pieces:
        read_grids(path)
    with monkeypatch.context() as m, pytest.raises(LoadError) as at_once:
        m.setattr(sheet_pieces, "worth_cutting", lambda size, others: False)
        read_grids(path)
    assert str(in_pieces.value) == str(at_once.value)


def test_only_a_sheet_outweighing_the_others_is_cut():
    big = sheet_pieces.MIN_BYTES
    assert sheet_pieces.worth_cutting(big, [big // 3, big // 3])
    assert not sheet_pieces.worth_cutting(big, [big // 2, big // 2 + 1])
    assert not sheet_pieces.worth_cutting(big - 1, [])


def test_piece_books_are_stored_and_carry_the_workbook_parts(tmp_path):
    path = xlsxwriter_book(tmp_path / "book.xlsx")
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml")
        carried = read_files._carried_parts(archive)
        books = sheet_pieces.piece_books(archive, "xl/worksheets/sheet1.xml", carried, sheet_pieces.cut(xml, 2))
    assert {"xl/workbook.xml", "xl/styles.xml", "xl/sharedStrings.xml"} <= set(carried)
    for book in books:
        with zipfile.ZipFile(io.BytesIO(book)) as piece:
            assert piece.namelist() == carried + ["xl/worksheets/sheet1.xml"]
            assert {i.compress_type for i in piece.infolist()} == {zipfile.ZIP_STORED}
