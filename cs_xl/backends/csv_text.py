"""The encodings of CSV exports, as a workbook's CSV is read (read_files: UTF-8 with or
without BOM, GBK/GB18030 as Excel saves 「CSV」 on a Chinese Windows, UTF-16 for
「Unicode text」), for the SQL engines: which encoding a file is in, told from its first
bytes, and a streaming UTF-8 copy for an engine that reads UTF-8 only."""
from __future__ import annotations

import codecs
import glob as globlib
import shutil
from pathlib import Path

from .sql import SqlError

SNIFF_BYTES = 1 << 16  # a CSV's encoding is told from its first bytes (the header row is among them)
CHUNK_CHARS = 1 << 20
NOT_UTF8 = "save it as 'CSV UTF-8' in Excel"


def csv_files(location: str) -> list[str]:
    """The files of a path or glob (sorted; none when nothing on this machine matches)."""
    if any(ch in location for ch in "*?["):
        return sorted(f for f in globlib.glob(location, recursive=True) if Path(f).is_file())
    return [location] if Path(location).is_file() else []


def csv_encoding(path) -> str:
    """``utf-8``, or the encoding a CSV file is decoded from: ``utf-16`` (a byte-order mark: Excel's
    「Unicode text」), else ``gb18030`` (GBK's superset) — read_files' encodings, told apart on the
    first :data:`SNIFF_BYTES` (a character cut at their end is no error)."""
    with open(path, "rb") as f:
        head = f.read(SNIFF_BYTES)
    if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


def transcode(source: Path, target: Path, encoding: str) -> None:
    """``source`` decoded from ``encoding`` and written as UTF-8 to ``target``, a chunk at a time
    (memory stays flat however large the file); the source is only read."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(source, encoding=encoding, newline="") as read, \
                open(target, "w", encoding="utf-8", newline="") as write:
            shutil.copyfileobj(read, write, CHUNK_CHARS)
    except UnicodeDecodeError:
        target.unlink(missing_ok=True)
        raise SqlError(f"{source}: cannot decode the CSV as UTF-8 or GBK/GB18030; {NOT_UTF8}") from None


def fixed_part(location: str) -> str:
    """The folder of a path or glob before its first wildcard (the root its files are relative to)."""
    wild = [location.index(ch) for ch in "*?[" if ch in location]
    if not wild:
        return str(Path(location).parent)
    head = location[:min(wild)]
    return head if head.endswith(("/", "\\")) else str(Path(head).parent)
