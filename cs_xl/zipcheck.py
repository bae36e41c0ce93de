"""Refuse hostile or broken workbook packages before any parser sees them.

An .xlsx/.xlsm is a zip of XML parts.  Two kinds of file make the readers
(python-calamine, openpyxl, the ``formulas`` engine, the part writer) spend
unbounded time or memory, or read what they should not:

* **zip bombs** — a 1.5 MB file whose sheet part inflates to 1.5 GB of XML
  comments kept ``cs-xl kpis`` busy 12 s at 3.1 GB (and ``refresh`` > 120 s);
* **XML bombs** — a DOCTYPE declaring entities that expand a billion times
  ("billion laughs"), or read a local file or URL (XXE).

:func:`check` looks only at the zip directory and the first bytes of each
part, so it answers in milliseconds with bounded memory, whatever the file
claims to hold.  The sizes it checks are the ones the directory declares; that
is enough because both readers stop at the declared size (Python's zipfile
reads no further, calamine's zip crate fails with "File is larger than its
declared uncompressed size" — measured on a forged file, see tests), so a
part that lies about its size is refused by the reader, not inflated.

Every refusal raises the caller's own error class (``LoadError``, ``BookError``,
``CalcError``) with one line naming the file and the part, so each entry point
needs a single line: ``zipcheck.check(path, LoadError)``.
"""
from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from .words import cli_message

# ---------------------------------------------------------------- the limits, and why
#
# A sheet holds at most 1,048,576 rows × 16,384 columns (Excel's specification).
# The full grid at ~50 bytes per cell (<c r="XFD1048576" s="12" t="s"><v>…</v></c>)
# would be ≈ 860 GB, a bound too loose to protect anything, so the limit counts
# the rows a sheet can hold times a generous row: cs_xl's widest input table has
# 24–26 columns, written at ≈ 1,200 bytes per row (measured: the 100,000-ticket
# book's sheet part is 119 MB); 2 KiB per row leaves room for long texts and
# columns users add.  A full 1,048,576-row input sheet (≈ 1.25 GB) passes.
EXCEL_ROWS = 1_048_576
ROW_BYTES = 2_048
PART_LIMIT = EXCEL_ROWS * ROW_BYTES              # 2 GiB inflated per part
TOTAL_LIMIT = 2 * PART_LIMIT                     # all parts: three full input sheets ≈ 2.2 GB fit
# Spreadsheet XML deflates about 10:1 (measured 9.6–10.4 on the demo's input
# sheets; repetitive generated sheets reach a few dozen).  Deflate's ceiling
# is ≈ 1,030:1, which is what comment or whitespace padding reaches: a part of
# any real size deflated beyond 200:1 is padding, not data.
MAX_RATIO = 200
RATIO_FLOOR = 1 << 20                            # small parts (a 100 KB run of spaces) may deflate better
# Sizes the directory declares must be possible: deflate never grows data by
# more than 5 bytes per 16 KiB block (plus a few bytes of framing).
DEFLATE_GROWTH = 1 / 3_000
MAX_PARTS = 10_000                               # ≥ 2,500 sheets; each part's head is read below
PROLOG_BYTES = 8_192                             # an Office part's root element starts within its first ~100 bytes


@dataclass(frozen=True)
class Limits:
    part: int = PART_LIMIT
    total: int = TOTAL_LIMIT
    ratio: float = MAX_RATIO
    ratio_floor: int = RATIO_FLOOR
    parts: int = MAX_PARTS


def check(path, error: type[Exception] = ValueError, limits: Limits = Limits()) -> None:
    """Raise ``error`` (one line naming ``path`` and the part) unless the zip at ``path``
    is safe to hand to a parser.  A file that is not a zip at all is refused too
    (callers with their own, friendlier message for that check :func:`zipfile.is_zipfile` first)."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            problem = _directory_problem(infos, limits)
            for info in infos if problem is None else ():
                problem = _head_problem(archive, info)
                if problem:
                    break
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, zlib.error,
            RuntimeError, NotImplementedError) as exc:
        problem = cli_message("zip_damaged", reason=str(exc) or type(exc).__name__)
    if problem:
        raise error(f"{path}: {problem}")


def _mb(size: int) -> float:
    return size / 1e6


def _directory_problem(infos: list[zipfile.ZipInfo], limits: Limits) -> str | None:
    """What the directory alone gives away: too many parts, parts or a total too big
    to be spreadsheet data, impossible sizes, padding-level compression."""
    if len(infos) > limits.parts:
        return cli_message("zip_parts", n=len(infos), limit=limits.parts)
    for info in infos:
        if info.file_size > limits.part:
            return cli_message("zip_part_size", part=info.filename, size=_mb(info.file_size), limit=_mb(limits.part))
        if info.compress_type == zipfile.ZIP_DEFLATED and \
                info.compress_size > info.file_size * (1 + DEFLATE_GROWTH) + 64:
            return cli_message("zip_sizes", part=info.filename, size=info.file_size, packed=info.compress_size)
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > limits.ratio_floor and ratio > limits.ratio:
            return cli_message("zip_ratio", part=info.filename, size=_mb(info.file_size),
                               packed=_mb(info.compress_size), ratio=ratio, limit=limits.ratio)
    total = sum(info.file_size for info in infos)
    if total > limits.total:
        return cli_message("zip_total", size=_mb(total), limit=_mb(limits.total))
    return None


def _head_problem(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> str | None:
    """A DOCTYPE in an XML part's prolog: the only place entities (billion laughs, XXE) can be declared."""
    if info.is_dir() or info.file_size == 0:
        return None
    with archive.open(info) as stream:
        head = stream.read(PROLOG_BYTES)
    text = _xml_text(head)
    if text is None:
        return None  # a picture, vbaProject.bin, printer settings: not XML
    what = prolog_problem(text)
    return cli_message(what, part=info.filename, window=PROLOG_BYTES) if what else None


def _xml_text(head: bytes) -> str | None:
    """The decoded head of an XML part (UTF-8 or UTF-16, as OPC allows), or None when it is no XML."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", errors="replace")
    if head.startswith(b"<\x00"):
        return head.decode("utf-16-le", errors="replace")
    if head.startswith(b"\x00<"):
        return head.decode("utf-16-be", errors="replace")
    head = head.removeprefix(b"\xef\xbb\xbf")
    if not head.lstrip().startswith(b"<"):
        return None
    return head.decode("utf-8", errors="replace")


def prolog_problem(text: str) -> str | None:
    """The message key when the XML ``text`` declares a DOCTYPE (or anything with ``<!``)
    before its root element, or shows no root element at all; None for a plain prolog.

    >>> prolog_problem('<?xml version="1.0"?><!-- made by hand --><worksheet/>') is None
    True
    >>> prolog_problem('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')
    'xml_doctype'
    >>> prolog_problem('<!--' + 'x' * 100)
    'xml_no_root'
    """
    pos = 0
    while True:
        start = text.find("<", pos)
        if start < 0:
            return "xml_no_root"
        if text.startswith("<?", start):
            end = text.find("?>", start + 2)
            pos = end + 2
        elif text.startswith("<!--", start):
            end = text.find("-->", start + 4)
            pos = end + 3
        elif text.startswith("<!", start):
            return "xml_doctype"  # <!DOCTYPE …> (entity declarations live only in it)
        else:
            return None  # the root element: the prolog is over
        if end < 0:
            return "xml_no_root"
