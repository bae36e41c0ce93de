"""Hostile and broken .xlsx files, built by hand for the zip-directory check's tests.

A zip bomb is written without ever holding (or compressing) its inflated
content: a piece of XML is deflated once with a full flush, which ends it on a
byte boundary with a fresh dictionary, so the same compressed bytes repeated
N times are a valid deflate stream of the piece repeated N times (RFC 1951
§3.2.3: a stream is a sequence of blocks).  A 1.5 GB comment-filled sheet
part costs ≈ 1.5 MB on disk and a second to write.
"""
from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook

_LOCAL = struct.Struct("<4s5H3L2H")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_END = struct.Struct("<4s4H2LH")
_DOS_TIME, _DOS_DATE = 0, (2024 - 1980) << 9 | 1 << 5 | 1


@dataclass
class Part:
    """One zip entry: its name, raw deflate stream, CRC-32 and inflated size.
    ``declared_size`` (default: the true size) is what the directory claims."""
    name: str
    deflated: bytes
    crc: int
    size: int
    declared_size: int | None = None


def deflate_pieces(pieces: list[tuple[bytes, int]]) -> tuple[bytes, int, int]:
    """(raw deflate stream, CRC-32, size) of the concatenation of ``piece × times`` for each piece."""
    out, crc, size = [], 0, 0
    for piece, times in pieces:
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        block = compressor.compress(piece) + compressor.flush(zlib.Z_FULL_FLUSH)
        out.append(block * times)
        for _ in range(times):
            crc = zlib.crc32(piece, crc)
        size += len(piece) * times
    out.append(zlib.compressobj(9, zlib.DEFLATED, -15).flush())  # the empty final block
    return b"".join(out), crc, size


def part(name: str, pieces: list[tuple[bytes, int]], declared_size: int | None = None) -> Part:
    return Part(name, *deflate_pieces(pieces), declared_size=declared_size)


def write_zip(path: Path, parts: list[Part]) -> Path:
    """A plain (non-zip64) zip of ``parts``, deflated, as Excel writes one."""
    body, directory = io.BytesIO(), io.BytesIO()
    for p in parts:
        name = p.name.encode()
        size = p.size if p.declared_size is None else p.declared_size
        offset = body.tell()
        body.write(_LOCAL.pack(b"PK\x03\x04", 20, 0, 8, _DOS_TIME, _DOS_DATE, p.crc, len(p.deflated), size,
                               len(name), 0) + name + p.deflated)
        directory.write(_CENTRAL.pack(b"PK\x01\x02", 20, 20, 0, 8, _DOS_TIME, _DOS_DATE, p.crc, len(p.deflated),
                                      size, len(name), 0, 0, 0, 0, 0, offset) + name)
    end = _END.pack(b"PK\x05\x06", 0, 0, len(parts), len(parts), directory.tell(), body.tell(), 0)
    path.write_bytes(body.getvalue() + directory.getvalue() + end)
    return path


def plain_book(path: Path) -> Path:
    """A small valid tickets workbook (what the hostile variants start from)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "工单"
    ws.append(["工单编号", "创建时间", "首次响应时间"])
    ws.append(["T1", "2024-01-02 09:00", "2024-01-02 09:05"])
    wb.save(path)
    return path


def book_parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


SHEET = "xl/worksheets/sheet1.xml"


def with_part(source: Path, target: Path, name: str, pieces: list[tuple[bytes, int]],
              declared_size: int | None = None) -> Path:
    """``source`` with the part ``name`` replaced by ``pieces`` (each repeated)."""
    parts = [part(n, [(data, 1)]) if n != name else part(n, pieces, declared_size)
             for n, data in book_parts(source).items()]
    return write_zip(target, parts)


COMMENT = b"<!--" + b"x" * (1 << 20) + b"-->"  # 1 MiB of comment: deflates ≈ 1000:1


def comment_bomb(source: Path, target: Path, gigabytes: float = 1.5, declared_size: int | None = None) -> Path:
    """The issue's file: the sheet part inflates to ``gigabytes`` GB, mostly XML comments,
    between its own head and tail (so it is well-formed XML)."""
    xml = book_parts(source)[SHEET]
    head, tail = xml.split(b"<sheetData>", 1)
    times = int(gigabytes * 1e9 / len(COMMENT))
    return with_part(source, target, SHEET, [(head, 1), (COMMENT, times), (b"<sheetData>" + tail, 1)],
                     declared_size)


def billion_laughs() -> bytes:
    """The classic entity-expansion document: 10 levels × 10 references ≈ 10⁹ "lol"s."""
    lines = ['<?xml version="1.0"?>', "<!DOCTYPE lolz [", ' <!ENTITY lol "lol">']
    lines += [f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)]
    lines += ["]>", "<lolz>&lol9;</lolz>"]
    return "\n".join(lines).encode()


def external_entity(head: bytes) -> bytes:
    """An XXE: the part declares an entity read from the local file system, then uses it."""
    doctype = b'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    declaration, rest = head.split(b"?>", 1) if head.startswith(b"<?xml") else (b"", head)
    return (declaration + b"?>" if declaration else b"") + doctype + rest
