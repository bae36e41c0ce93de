"""Hostile and broken workbooks are refused before any parser sees them (issue 10, item 5).

The files are built here (tests/hostile.py): the issue's 1.5 MB book whose sheet
part inflates to 1.5 GB of XML comments, one whose directory lies about that
size, billion laughs, an external entity, a truncated and a corrupted zip.
Every command that reads a book gets them in a child process: exit 2, one
line naming the file and the part.  Time and memory: test_zipcheck_benchmark.
"""
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

import hostile
from cs_xl import zipcheck
from cs_xl.book import BookError, open_book
from cs_xl.read_files import LoadError, read_grids

ROOT = Path(__file__).resolve().parents[1]


def cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cs_xl", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile")
    plain = hostile.plain_book(d / "plain.xlsx")
    head = hostile.book_parts(plain)[hostile.SHEET]
    data = plain.read_bytes()
    truncated = d / "truncated.xlsx"
    truncated.write_bytes(data[:len(data) // 2])
    return {
        "plain": plain,
        "bomb": hostile.comment_bomb(plain, d / "bomb.xlsx", 1.5),
        "liar": hostile.comment_bomb(plain, d / "liar.xlsx", 0.2, declared_size=len(head)),
        "laughs": hostile.with_part(plain, d / "laughs.xlsx", hostile.SHEET, [(hostile.billion_laughs(), 1)]),
        "xxe": hostile.with_part(plain, d / "xxe.xlsx", hostile.SHEET, [(hostile.external_entity(head), 1)]),
        "truncated": truncated,
    }


HOSTILE = {  # file → (part named, words of the reason)
    "bomb": (hostile.SHEET, "zip bomb"),
    "liar": (hostile.SHEET, "forged or damaged zip"),
    "laughs": (hostile.SHEET, "DOCTYPE"),
    "xxe": (hostile.SHEET, "DOCTYPE"),
}


def test_the_bomb_is_what_the_issue_measured(files):
    """1.5 MB on disk, 1.5 GB inflated (zipfile's own reading of the directory)."""
    with zipfile.ZipFile(files["bomb"]) as archive:
        sheet = archive.getinfo(hostile.SHEET)
    assert files["bomb"].stat().st_size < 2e6
    assert sheet.file_size > 1.4e9


@pytest.mark.parametrize("command", ["kpis", "refresh", "calc"])
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_cli_refuses_hostile_books(files, tmp_path, command, name):
    extra = ["--out", tmp_path / "out.xlsx"] if command != "kpis" else []
    before = files[name].read_bytes()
    proc = cli(command, files[name], *extra)
    part, reason = HOSTILE[name]
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("cs-xl: error: ")
    assert str(files[name]) in proc.stderr and part in proc.stderr and reason in proc.stderr
    assert not (tmp_path / "out.xlsx").exists()
    assert files[name].read_bytes() == before


@pytest.mark.parametrize("name", ["bomb", "xxe"])
def test_import_refuses_hostile_exports_and_books(files, tmp_path, name):
    """An .xlsx export to import, and a book to --append to, are checked the same way."""
    proc = cli("import", "zendesk", files[name])
    assert proc.returncode == 2 and HOSTILE[name][0] in proc.stderr and str(files[name]) in proc.stderr, proc.stderr
    export = tmp_path / "tickets.csv"
    export.write_text("工单编号,创建时间\nT9,2024-01-03 10:00\n", encoding="utf-8")
    proc = cli("import", "zendesk", export, "--out", files[name], "--append")
    assert proc.returncode == 2 and HOSTILE[name][0] in proc.stderr, proc.stderr


@pytest.mark.parametrize("command", ["kpis", "refresh", "calc"])
def test_cli_refuses_a_truncated_book(files, tmp_path, command):
    extra = ["--out", tmp_path / "out.xlsx"] if command != "kpis" else []
    proc = cli(command, files["truncated"], *extra)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert str(files["truncated"]) in proc.stderr and ("damaged" in proc.stderr or "not a zip" in proc.stderr)


def test_a_corrupted_part_is_refused_by_name(files, tmp_path):
    """Bytes flipped inside the sheet's deflate data: the head no longer inflates."""
    data = bytearray(files["plain"].read_bytes())
    with zipfile.ZipFile(files["plain"]) as archive:
        info = archive.getinfo(hostile.SHEET)
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)  # the local header's fixed 30 bytes
    data[start:start + 8] = b"\xff" * 8
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(bytes(data))
    with pytest.raises(LoadError, match="damaged"):
        zipcheck.check(broken, LoadError)


def test_every_entry_point_raises_its_own_error(files):
    with pytest.raises(LoadError, match="zip bomb"):
        read_grids(files["bomb"])
    with pytest.raises(BookError, match="DOCTYPE"):
        open_book(files["xxe"])


def test_the_bomb_is_refused_without_inflating_it(files, monkeypatch):
    """The check reads each part's head only: count what zipfile inflates while it runs."""
    inflated = []
    read = zipfile.ZipExtFile.read

    def counting_read(self, n=-1):
        data = read(self, n)
        inflated.append(len(data))
        return data

    monkeypatch.setattr(zipfile.ZipExtFile, "read", counting_read)
    for name in ("bomb", "plain", "xxe"):
        inflated.clear()
        with pytest.raises(ValueError) if name != "plain" else _nothing():
            zipcheck.check(files[name])
        parts = len(zipfile.ZipFile(files[name]).infolist())
        assert sum(inflated) <= parts * zipcheck.PROLOG_BYTES


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_a_lying_directory_is_stopped_by_the_readers_too(files, tmp_path):
    """Why checking declared sizes is enough: a part inflating past its declared size is cut off
    by both readers.  Here the sheet claims more than it packs can hold, so the forged-size rule
    is off, and the readers alone must stop (zipfile reads no further; calamine refuses)."""
    plain = files["plain"]
    forged = hostile.comment_bomb(plain, tmp_path / "forged.xlsx", 0.2, declared_size=1_000_000)
    zipcheck.check(forged)  # 1 MB claimed, 0.2 MB packed at ratio 1: the directory looks honest
    with zipfile.ZipFile(forged) as archive, archive.open(hostile.SHEET) as stream:
        with pytest.raises(zipfile.BadZipFile):
            while stream.read(1 << 16):
                pass
        assert stream._left == 0  # noqa: SLF001 — it stopped at the 1,000,000 bytes declared
    with pytest.raises(Exception, match="larger than its declared"):
        book = CalamineWorkbook.from_path(str(forged))
        book.get_sheet_by_name(book.sheet_names[0]).to_python()


def _first(infos, predicate):
    return next(info.filename for info in infos if predicate(info))


def test_limits_name_the_first_part_over_them(files):
    infos = zipfile.ZipFile(files["plain"]).infolist()
    biggest = max(info.file_size for info in infos)
    with pytest.raises(ValueError, match=_first(infos, lambda i: i.file_size > 1000)):
        zipcheck.check(files["plain"], limits=zipcheck.Limits(part=1000))
    with pytest.raises(ValueError, match="in all"):
        zipcheck.check(files["plain"], limits=zipcheck.Limits(total=biggest + 1))
    with pytest.raises(ValueError, match=f"holds {len(infos)} parts"):
        zipcheck.check(files["plain"], limits=zipcheck.Limits(parts=len(infos) - 1))
    ratio = max(i.file_size / i.compress_size for i in infos)
    with pytest.raises(ValueError, match="inflates"):
        zipcheck.check(files["plain"], limits=zipcheck.Limits(ratio=ratio - 0.5, ratio_floor=0))
    zipcheck.check(files["plain"], limits=zipcheck.Limits(ratio=ratio + 0.5, ratio_floor=0))


def test_limits_let_a_full_input_sheet_through():
    """Excel's 1,048,576 rows of the widest input table, at the bytes per row the 100k-ticket
    book measures (119 MB / 100,000 rows), fit the per-part limit with room to spare."""
    assert 1_048_576 * 119_297_324 / 100_000 < zipcheck.PART_LIMIT / 1.5
    assert 1.5e9 > zipcheck.PART_LIMIT * 0.5  # …while the issue's bomb is no small fraction of it


def test_plain_books_pass(files, tmp_path):
    zipcheck.check(files["plain"])
    head = hostile.book_parts(files["plain"])[hostile.SHEET]
    prolog = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<!-- written by a script -->\n'
    commented = hostile.with_part(files["plain"], tmp_path / "commented.xlsx", hostile.SHEET,
                                  [(prolog + head, 1)])
    zipcheck.check(commented)
    assert read_grids(commented).sheets[0].rows[1][0] == "T1"


def test_utf16_parts_are_scanned_too(files, tmp_path):
    head = hostile.external_entity(hostile.book_parts(files["plain"])[hostile.SHEET]).decode("utf-8")
    utf16 = ('<?xml version="1.0" encoding="UTF-16"?>' + head).encode("utf-16")  # with its BOM
    book = hostile.with_part(files["plain"], tmp_path / "utf16.xlsx", hostile.SHEET, [(utf16, 1)])
    with pytest.raises(ValueError, match="DOCTYPE"):
        zipcheck.check(book)


def test_a_prolog_padded_past_the_window_is_refused(files, tmp_path):
    """A DOCTYPE could hide behind comments longer than the head the check reads: no root
    element in the head is refused, as no Office part starts that way."""
    padding = b"<!--" + b" " * zipcheck.PROLOG_BYTES + b"-->"
    book = hostile.with_part(files["plain"], tmp_path / "padded.xlsx", hostile.SHEET,
                             [(b'<?xml version="1.0"?>' + padding + hostile.billion_laughs()[21:], 1)])
    with pytest.raises(ValueError, match="no root element"):
        zipcheck.check(book)


# ---------------------------------------------------------------- benchmark: time and memory of a refusal

def _measured(*args) -> tuple[int, str, float, float]:
    """(exit code, stderr, seconds, peak MB) of one `cs-xl …` child process (its own rusage, via wait4)."""
    import os
    import time
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "cs_xl", *map(str, args)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = proc.stderr.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, err, time.perf_counter() - t0, usage.ru_maxrss / 1024


@pytest.mark.benchmark
def test_zipcheck_benchmark(files, tmp_path):
    """Issue 10 measured the bomb at 12 s / 3.1 GB for `kpis` (exit 0) and > 120 s / 3.1 GB for
    `refresh`.  The floor: the same command on a missing file (interpreter + imports)."""
    import time
    rounds = 50
    t0 = time.perf_counter()
    for _ in range(rounds):
        with pytest.raises(ValueError):
            zipcheck.check(files["bomb"])
    print(f"\nzipcheck.check on the 1.5 GB bomb, in process: {(time.perf_counter() - t0) / rounds * 1e3:.2f} ms")
    for command in ("kpis", "refresh", "calc"):
        rc0, _, floor, floor_mb = _measured(command, tmp_path / "missing.xlsx")
        for name in ("bomb", "laughs", "xxe"):
            rc, err, seconds, peak = _measured(command, files[name])
            assert rc == 2 and HOSTILE[name][0] in err, err
            print(f"  cs-xl {command:8s} {name:7s} exit {rc}  {seconds:5.2f} s  peak {peak:6.0f} MB   "
                  f"(missing file, exit {rc0}: {floor:5.2f} s, {floor_mb:4.0f} MB; "
                  f"refusal costs {seconds - floor:+.2f} s)")
