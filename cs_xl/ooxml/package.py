"""The zip container of a workbook: read parts, copy untouched ones without recompressing.

A refresh rewrites a handful of small parts and keeps the rest — input sheets of tens of
megabytes, the VBA project, printer settings — byte for byte.  Those entries are copied with
their compressed bytes as they are (no inflate, no deflate): :func:`copy_raw`.
"""
from __future__ import annotations

import struct
import zipfile
from pathlib import PurePosixPath
from typing import Iterable, Mapping

LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # signature … file name length, extra field length
DATA_DESCRIPTOR = 0x08                      # flag bit: sizes follow the data instead of the header
NEW_PART_LEVEL = 6                          # the rewritten parts are small; compress them well


def part_path(base: str, target: str) -> str:
    """A relationship target resolved against the part that names it (zip names have no leading /).

    >>> part_path("xl/worksheets/sheet1.xml", "../drawings/drawing1.xml")
    'xl/drawings/drawing1.xml'
    >>> part_path("xl/workbook.xml", "/xl/styles.xml")
    'xl/styles.xml'
    """
    if target.startswith("/"):
        return target.lstrip("/")
    parts: list[str] = []
    for piece in (str(PurePosixPath(base).parent) + "/" + target).split("/"):
        if piece in ("", "."):
            continue
        if piece == "..":
            if parts:
                parts.pop()
        else:
            parts.append(piece)
    return "/".join(parts)


def rels_path(part: str) -> str:
    """Where the relationships of ``part`` live.

    >>> rels_path("xl/worksheets/sheet1.xml")
    'xl/worksheets/_rels/sheet1.xml.rels'
    """
    path = PurePosixPath(part)
    return str(path.parent / "_rels" / f"{path.name}.rels")


def relative(base: str, part: str) -> str:
    """The target of ``part`` as written in the rels of ``base`` (relative, as Excel writes it).

    >>> relative("xl/worksheets/sheet3.xml", "xl/drawings/drawing2.xml")
    '../drawings/drawing2.xml'
    >>> relative("xl/workbook.xml", "xl/worksheets/sheet3.xml")
    'worksheets/sheet3.xml'
    """
    here = PurePosixPath(base).parent.parts
    there = PurePosixPath(part).parts
    common = 0
    while common < min(len(here), len(there) - 1) and here[common] == there[common]:
        common += 1
    return "/".join([".."] * (len(here) - common) + list(there[common:]))


def copy_raw(src: zipfile.ZipFile, info: zipfile.ZipInfo, dst: zipfile.ZipFile) -> None:
    """Append the entry ``info`` of ``src`` to ``dst`` with its compressed bytes unchanged.

    The local header is written anew (without a data descriptor: the sizes are known); the
    CRC, sizes and compression method are the source's, so readers check the same data."""
    src.fp.seek(info.header_offset)
    header = LOCAL_HEADER.unpack(src.fp.read(LOCAL_HEADER.size))
    if header[0] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header for {info.filename}")
    src.fp.seek(header[-2] + header[-1], 1)  # skip the file name and extra field
    out = zipfile.ZipInfo(info.filename, info.date_time)
    out.compress_type, out.external_attr, out.create_system = info.compress_type, info.external_attr, info.create_system
    out.flag_bits = info.flag_bits & ~DATA_DESCRIPTOR
    out.CRC, out.compress_size, out.file_size = info.CRC, info.compress_size, info.file_size
    out.header_offset = dst.fp.tell()
    dst.fp.write(out.FileHeader(zip64=info.file_size > zipfile.ZIP64_LIMIT or info.compress_size > zipfile.ZIP64_LIMIT))
    remaining = info.compress_size
    while remaining:
        chunk = src.fp.read(min(remaining, 1 << 20))
        if not chunk:
            raise zipfile.BadZipFile(f"{info.filename} is truncated")
        dst.fp.write(chunk)
        remaining -= len(chunk)
    dst.start_dir = dst.fp.tell()
    dst.filelist.append(out)
    dst.NameToInfo[out.filename] = out
    dst._didModify = True


def write_package(source: zipfile.ZipFile, target, replaced: Mapping[str, bytes], removed: Iterable[str] = ()) -> None:
    """Write ``target``: every entry of ``source`` in its order, ``replaced`` ones with their new bytes
    (new names appended at the end), ``removed`` ones left out unless replaced, the rest copied raw."""
    removed = set(removed)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=NEW_PART_LEVEL) as dst:
        seen = set()
        for info in source.infolist():
            name = info.filename
            seen.add(name)
            if name in replaced:  # a new part may take the name of a removed one
                dst.writestr(_fresh(name, info.date_time), replaced[name])
            elif name not in removed:
                copy_raw(source, info, dst)
        for name, data in replaced.items():
            if name not in seen:
                dst.writestr(_fresh(name), data)


def _fresh(name: str, date_time=(1980, 1, 1, 0, 0, 0)) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info
