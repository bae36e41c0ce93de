"""Loading and saving workbooks: the only module that does either with openpyxl.

Everything that writes a user's workbook goes through :func:`save_atomic`, so
the guarantees live in one place:

* the new file is written to a temporary file *in the same directory* (so the
  final rename never crosses a file system), flushed and fsync'ed;
* the previous file is kept beside it as ``BOOK.bak`` (e.g. ``book.xlsx.bak``);
* only then ``os.replace`` swaps the new file in — an atomic rename, so a crash
  at any moment leaves either the old or the new workbook, never half of one;
* any failure removes the temporary file and raises :class:`BookError` with a
  message naming the file; the original is untouched;
* a temporary file is locked (``flock``) while it is written, so when a save is
  killed the next save of the same book can tell its leftovers from a save still
  running, and removes them (:func:`remove_stale_temps`).

:func:`replace_sheets` is the small interface the refresh uses ("replace these
sheets by these layouts").  It takes plain data only — sheet layouts
(:mod:`cs_xl.render.layout`), names, progress callbacks — and writes through the
part writer (:mod:`cs_xl.render.parts`): only the generated sheets' parts are
written, every other part of the package is copied as it is (a full openpyxl
load + save of a 100k-row book cost tens of seconds, see FACTS.md).
"""
from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Mapping, Sequence

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

from . import zipcheck

if TYPE_CHECKING:  # the layouts are plain data; book needs their type for the signature only
    from openpyxl.workbook.workbook import Workbook  # imported where a book is opened: a refresh never
    #                                                  loads openpyxl (over a second of its start-up)

    from .render.layout import SheetLayout

MACRO_SUFFIXES = (".xlsm", ".xltm")
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")  # what openpyxl opens and saves
TEMP_RANDOM = 8  # characters tempfile.mkstemp puts between prefix and suffix


class BookError(Exception):
    """A workbook could not be opened or saved; the message names the file."""


class BookOpen(BookError):
    """The workbook is open in Excel, WPS or LibreOffice: its lock file lies beside it."""

    def __init__(self, path: Path, lock: Path):
        self.path, self.lock = Path(path), Path(lock)
        super().__init__(f"{self.path} is open in another program (lock file {self.lock.name})")


def lock_files(path) -> list[Path]:
    """The lock files beside ``path`` that say it is open for editing: Excel/WPS write
    ``~$book.xlsx`` (Excel drops the name's first two characters when it is long, so
    ``~$ok.xlsx`` is looked for too), LibreOffice ``.~lock.book.xlsx#``."""
    path = Path(path)
    names = (f"~${path.name}", f"~${path.name[2:]}", f".~lock.{path.name}#")
    return [lock for lock in dict.fromkeys(path.with_name(n) for n in names) if lock.exists()]


def refuse_if_open(path) -> None:
    """Raise :class:`BookOpen` when ``path`` has a lock file: replacing the file would lose
    either the user's unsaved typing or (at their next save) what was written."""
    locks = lock_files(path)
    if locks:
        raise BookOpen(path, locks[0])


def backup_path(path: Path) -> Path:
    """Where the previous version of ``path`` is kept: ``book.xlsx`` → ``book.xlsx.bak``."""
    path = Path(path)
    return path.with_name(path.name + ".bak")


def open_book(path) -> Workbook:
    """Load a workbook for editing; macros (``vbaProject.bin``) are kept for .xlsm.

    openpyxl parses the XML with defusedxml when it is installed, which is the
    XML-bomb protection SPEC §6 asks for; macros are carried, never run.
    """
    path = Path(path)
    if not path.exists():
        raise BookError(f"{path}: no such workbook")
    zipcheck.check(path, BookError)  # zip bombs, DOCTYPEs: refused before openpyxl inflates anything
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException
    keep_vba = path.suffix.lower() in MACRO_SUFFIXES
    try:
        return openpyxl.load_workbook(path, keep_vba=keep_vba, keep_links=True)
    except PermissionError as exc:
        raise BookError(f"{path}: cannot read the workbook ({exc.strerror}); "
                        "is it open and locked in another program?") from exc
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, InvalidFileException) as exc:
        raise BookError(f"{path}: not a readable .xlsx/.xlsm workbook ({exc})") from exc


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _lock(handle: int) -> bool:
    """Take an exclusive lock on an open temp file without waiting; False when another process holds it.
    The lock goes with the process, so a killed refresh's temp file is free to be removed."""
    if fcntl is None:
        return True  # Windows: a temp file in use cannot be deleted anyway
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


_HELD: dict[Path, int] = {}  # temp files this process is writing, each kept open and locked until done


def _new_temp(path: Path) -> Path:
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    _lock(handle)
    _HELD[Path(name)] = handle
    return Path(name)


def _drop_temp(tmp: Path) -> None:
    tmp.unlink(missing_ok=True)
    handle = _HELD.pop(tmp, None)
    if handle is not None:
        os.close(handle)


def stale_temps(path) -> list[Path]:
    """The temp files an interrupted save of ``path`` left beside it (``.BOOK.xxxxxxxx.tmp``)."""
    path = Path(path)
    prefix = f".{path.name}."
    try:
        names = os.listdir(path.parent)
    except OSError:
        return []
    return [path.with_name(n) for n in names
            if n.startswith(prefix) and n.endswith(".tmp") and len(n) == len(prefix) + TEMP_RANDOM + 4]


def remove_stale_temps(path) -> list[Path]:
    """Remove the temp files a killed save of ``path`` left behind; a temp file another save is still
    writing (its lock is held) is left alone.  Returns the files removed."""
    removed = []
    for tmp in stale_temps(path):
        if tmp in _HELD:
            continue
        try:
            handle = os.open(tmp, os.O_RDWR)
        except OSError:
            continue
        try:
            if _lock(handle):
                tmp.unlink()
                removed.append(tmp)
        except OSError:
            pass
        finally:
            os.close(handle)
    return removed


def _copy_mode(source: Path, target: Path) -> None:
    """Give the new file the old file's permissions (mkstemp creates 0600)."""
    if source.exists():
        shutil.copymode(source, target)
    else:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(target, 0o666 & ~umask)


def _keep_backup(path: Path) -> None:
    """Copy the current file to BOOK.bak, itself atomically (copy to a temp, rename)."""
    if not path.exists():
        return
    bak = backup_path(path)
    tmp = _new_temp(path)
    try:
        shutil.copy2(path, tmp)
        os.replace(tmp, bak)
    finally:
        _drop_temp(tmp)


def save_atomic(wb: Workbook, path, backup: bool = True) -> Path:
    """Save ``wb`` to ``path`` atomically, keeping the previous file as ``path.bak``.

    Raises :class:`BookError` (the original file unchanged, no temp file left)
    when the directory is not writable, the file is locked, or saving fails.
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise BookError(f"{path}: the folder {path.parent} does not exist")
    remove_stale_temps(path)
    try:
        tmp = _new_temp(path)
    except PermissionError as exc:
        raise BookError(f"{path}: cannot write in {path.parent} ({exc.strerror})") from exc
    try:
        wb.save(tmp)
        _fsync_file(tmp)
        _copy_mode(path, tmp)
        if backup:
            _keep_backup(path)
        os.replace(tmp, path)
    except PermissionError as exc:
        raise BookError(f"{path}: cannot replace the workbook ({exc.strerror}); "
                        "close it in Excel/WPS or check the file's permissions — nothing was changed") from exc
    except OSError as exc:
        raise BookError(f"{path}: saving failed ({exc}); the original file was not changed") from exc
    finally:
        _drop_temp(tmp)
    _fsync_dir(path.parent)
    return path


def replace_sheets(source, target, layouts: Sequence[SheetLayout], remove: Iterable[str],
                   former: Mapping[str, Sequence[str]] | None = None, backup: bool = True,
                   on_sheet: Callable[[str], None] | None = None,
                   on_save: Callable[[], None] | None = None) -> list[str]:
    """Replace the sheets called ``remove`` of the workbook ``source`` by ``layouts``; save to ``target``.

    Every sheet in ``remove`` that exists is removed.  Each layout becomes a
    sheet where the first existing of its ``former[name]`` names was (default:
    its own name), so a re-created sheet goes back to its place — also when
    its name changed language; layouts without a former place are appended in
    order.  The first layout's sheet is the one the book opens on.  All other
    sheets are left as they are.  Saved with :func:`save_atomic`;
    ``on_sheet(name)`` is called before each sheet is written and
    ``on_save()`` just before saving (progress).  Returns the names written.
    """
    from .render.parts import PartsError
    from .render.parts import replace_sheets as replace_parts  # the part writer (render/parts.py)
    source = Path(source)
    if not source.exists():
        raise BookError(f"{source}: no such workbook")
    zipcheck.check(source, BookError)  # the part writer reads the book's zip: hostile ones are refused first
    try:
        book = replace_parts(source, list(layouts), remove, former, on_sheet)
    except PermissionError as exc:
        raise BookError(f"{source}: cannot read the workbook ({exc.strerror}); "
                        "is it open and locked in another program?") from exc
    except PartsError as exc:
        raise BookError(str(exc)) from exc
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, SyntaxError) as exc:
        raise BookError(f"{source}: not a readable .xlsx/.xlsm workbook ({exc})") from exc
    if on_save:
        on_save()
    save_atomic(book, target, backup=backup)
    return [layout.name for layout in layouts]
