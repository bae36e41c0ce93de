"""One big sheet parsed on both workers: its XML cut between rows into small one-sheet workbooks.

python-calamine parses a sheet on one thread.  When one sheet holds most of a book (100,000
tickets beside smaller feedback and call sheets), the worker parsing it is the read's critical
path while the other worker, done with the small sheets, waits.  Cut between two ``<row>``
elements, each piece is the same sheet XML with fewer rows.  Stored (not compressed) in a copy
of the book's workbook part, relationships, styles and shared strings, a piece is read by
python-calamine exactly as it reads that stretch of the whole sheet (same cell types, number
formats, date system, shared strings), and :func:`join` lays the pieces' cells back into the
whole sheet's grid.  The sheet XML has to be inflated anyway to find its error cells, so the
cut costs a copy into the pieces, not a second inflate.

A sheet is only cut where the cut is certainly between rows: never when its rows could hide in
comments, CDATA or processing instructions, use a namespace prefix, or lack their row numbers
(calamine counts such rows from the one before).  Otherwise it is parsed whole, as before.
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from typing import Any, Sequence

# Cutting holds a copy of the sheet's XML (python-calamine copies each piece once more while it
# opens it): worth it for a sheet that keeps a worker busy for seconds — the 100,000-ticket sheet
# is 119 MB and parses in 2.4 s — not for the 24 MB of 20,000 tickets (0.5 s), where it saved
# nothing measurable and raised the read's peak memory from 196 to 265 MB.
MIN_BYTES = 48 << 20

_SHEET_DATA = re.compile(rb"<sheetData\b[^>]*>")
_ROW_NUMBER = re.compile(rb"""\sr\s*=\s*["'](\d+)["']""")
_HIDING = b"!?"  # after '<': comments, CDATA, DOCTYPE and processing instructions, where '<row ' is no row


def worth_cutting(size: int, others: Sequence[int]) -> bool:
    """Whether a sheet of ``size`` bytes beside sheets of ``others`` bytes is parsed in pieces: when
    it outweighs all the others together, one worker would parse it alone while the other idles."""
    return size >= MIN_BYTES and size > sum(others)


@dataclass
class Cut:
    """A sheet's XML as pieces: ``head`` + each row span + ``tail`` is one piece's XML."""
    head: memoryview
    spans: list[memoryview]
    tail: memoryview
    first_rows: list[int]  # the 1-based row number each piece starts with (the first piece: 1)

    def piece_size(self, i: int) -> int:
        return len(self.head) + len(self.spans[i]) + len(self.tail)

    def piece(self, i: int) -> bytes:
        return b"".join((self.head, self.spans[i], self.tail))


def cut(xml: bytes, pieces: int) -> Cut | None:
    """``xml`` cut into ``pieces`` runs of whole rows of about equal size, or None when it
    cannot be cut for certain between rows.

    >>> xml = b'<worksheet><sheetData><row r="1"><c/></row><row r="2"><c/></row></sheetData></worksheet>'
    >>> found = cut(xml, 2)
    >>> found.piece(1)
    b'<worksheet><sheetData><row r="2"><c/></row></sheetData></worksheet>'
    >>> found.first_rows, cut(xml.replace(b'<row r="2">', b'<row>'), 2)
    ([1, 2], None)
    """
    opening = _SHEET_DATA.search(xml)
    start, end = (opening.end(), xml.rfind(b"</sheetData>")) if opening else (-1, -1)
    if opening is None or end < start or _hides_markup(xml, start, end):
        return None
    bounds, first_rows = [start], [1]
    for k in range(1, pieces):
        at = xml.find(b"<row ", max(bounds[-1] + 1, start + (end - start) * k // pieces), end)
        number = _ROW_NUMBER.search(xml, at, xml.find(b">", at)) if at >= 0 else None
        if number is None:
            return None
        bounds.append(at)
        first_rows.append(int(number.group(1)))
    bounds.append(end)
    view = memoryview(xml)
    return Cut(view[:start], [view[a:b] for a, b in zip(bounds, bounds[1:])], view[end:], first_rows)


def _hides_markup(xml: bytes, start: int, end: int) -> bool:
    """Whether ``xml[start:end]`` holds '<!' or '<?'.  Searched for the rare second character
    (memchr speed) rather than for '<', which starts every element."""
    for mark in _HIDING:
        at = xml.find(mark, start, end)
        while at >= 0:
            if xml[at - 1] == ord("<"):
                return True
            at = xml.find(mark, at + 1, end)
    return False


def piece_books(archive: zipfile.ZipFile, part: str, carried: Sequence[str], found: Cut) -> list[bytes]:
    """One stored workbook per piece: the ``carried`` parts (workbook, rels, styles, shared
    strings) as they are, and the sheet's ``part`` holding that piece's rows alone.

    Bytes, not buffers: ``getvalue()`` hands over the buffer's memory and ``BytesIO(b).read()``
    gives ``b`` itself, so python-calamine's own copy is the only other one."""
    kept = [(name, archive.read(name)) for name in carried]
    books = []
    for i, span in enumerate(found.spans):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as book:
            for name, content in kept:
                book.writestr(name, content)
            info = zipfile.ZipInfo(part)
            info.file_size = found.piece_size(i)  # zipfile decides on zip64 from the size it is told
            with book.open(info, "w") as sheet:  # written in parts: the piece is never joined in memory
                for chunk in (found.head, span, found.tail):
                    sheet.write(chunk)
        books.append(buffer.getvalue())
    return books


Piece = tuple[tuple[int, int] | None, list[list[Any]]]  # (calamine's 0-based start, rows) of one piece


def join(pieces: Sequence[Piece], first_rows: Sequence[int]) -> Piece | None:
    """The whole sheet's (start, rows) from its pieces' — the same cells python-calamine gives for the
    whole sheet: rows between pieces and cells left or right of a narrower piece are blank ('').
    None when a piece holds rows outside its stretch (the cut was not what the pieces say).

    >>> join([((0, 1), [["a"]]), ((3, 0), [["b", "c"]])], [1, 3])
    ((0, 0), [['', 'a'], ['', ''], ['', ''], ['b', 'c']])
    """
    present = []
    for i, (start, rows) in enumerate(pieces):
        ends_before = first_rows[i + 1] - 1 if i + 1 < len(pieces) else None
        if start is None or not rows:
            continue
        if start[0] < first_rows[i] - 1 or (ends_before is not None and start[0] + len(rows) > ends_before):
            return None
        present.append((start, rows))
    if not present:
        return None, []
    first_row, first_col = present[0][0][0], min(start[1] for start, _ in present)
    end_col = max(start[1] + len(rows[0]) for start, rows in present)
    width, out = end_col - first_col, []
    for (row, col), rows in present:
        out.extend([""] * width for _ in range(row - first_row - len(out)))
        _widen(rows, col - first_col, end_col - col - len(rows[0]))
        out.extend(rows)
    return (first_row, first_col), out


def _widen(rows: list[list[Any]], left: int, right: int) -> None:
    """Blank cells added left and right of each row, in place (a 50,000-row piece one column
    narrower than the sheet: extending each list costs a fraction of copying it)."""
    if left:
        for row in rows:
            row[:0] = [""] * left
    if right:
        pad = [""] * right
        for row in rows:
            row += pad
