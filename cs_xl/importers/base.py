"""What every importer shares: reading an export into text rows with their
line numbers, loading a TOML map (a preset shipped in the package or the
user's file), and the result object.

An export is read as text, every cell a string, so nothing is guessed before
the map says what a column means.  Every row that cannot be used becomes a
:class:`cs_xl.dataset.QualityIssue` naming the source file and line (the
``sheet`` and ``row`` of the issue); nothing is dropped silently.
"""
from __future__ import annotations

import csv
import io
import json
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pandas as pd

from ..clock import Clock, parse_moments
from ..dataset import QualityIssue
from ..read_files import LoadError, read_grids, read_text
from ..schema import TABLES
from ..words import Reason, reason

LINE = "_line"  # source line of each record, kept on the raw frame for messages
DELIMITERS = (",", "\t", ";", "|")
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
JSON_SUFFIXES = (".json", ".ndjson", ".jsonl")


class ImportError_(LoadError):
    """An export or a map that cannot be used: one line naming file (and line, column)."""


# ---------------------------------------------------------------- the result

@dataclass
class Imported:
    """Canonical-key frames per table, plus what was left out or repaired on the way."""
    frames: dict[str, pd.DataFrame]
    issues: list[QualityIssue] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.frames = {key: numbers_typed(frame, key) for key, frame in self.frames.items()}

    @property
    def frame(self) -> pd.DataFrame:
        """The main table's frame (the first one)."""
        return next(iter(self.frames.values()))

    def rejected(self) -> dict[str, int]:
        """Rows left out, by reason (English wording)."""
        out: dict[str, int] = {}
        for issue in self.issues:
            if issue.action == "dropped" and issue.column is None:
                out[issue.reason] = out.get(issue.reason, 0) + 1
        return out

    def extend(self, other: "Imported") -> None:
        for key, frame in other.frames.items():
            mine = self.frames.get(key)
            self.frames[key] = frame if mine is None else pd.concat([mine, frame], ignore_index=True)
        self.issues.extend(other.issues)
        self.sources.extend(other.sources)


NUMBER_KINDS = ("minutes", "seconds", "number", "count")


def numbers_typed(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Numeric columns hold numbers, not digit text: cells that read as a
    plain number become floats; anything else stays as typed, so the loader
    still reports it ("5分钟", "n/a") at its row."""
    frame = frame.copy()
    for key in frame.columns:
        if key in TABLES[table].keys and TABLES[table].column(key).kind in NUMBER_KINDS:
            parsed = pd.to_numeric(frame[key], errors="coerce")
            frame[key] = parsed.astype(object).where(parsed.notna(), frame[key])
    return frame


class Issues:
    """Collects the quality issues of one source file."""

    def __init__(self, path: Path):
        self.name = Path(path).name
        self.items: list[QualityIssue] = []

    def add(self, line, column, value, why: Reason, action: str) -> None:
        line = None if line is None else int(line)
        self.items.append(QualityIssue(self.name, line, column, value, why, action))

    def rows(self, frame: pd.DataFrame, mask, why: Reason, column: str | None = None) -> None:
        """One 'dropped' issue per row of ``frame`` where ``mask`` holds."""
        for line, value in zip(frame.loc[mask, LINE], frame.loc[mask, column] if column else [None] * int(mask.sum())):
            self.add(line, None, value, why, "dropped")


# ---------------------------------------------------------------- maps

def preset_names() -> list[str]:
    return sorted(p.name[:-5] for p in resources.files(__package__).joinpath("presets").iterdir()
                  if p.name.endswith(".toml"))


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _read_toml(text: str, where: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ImportError_(f"{where}: not a valid TOML map ({exc})") from None


def load_map(fmt: str, map_arg=None) -> dict:
    """The map of format ``fmt``: its preset, overlaid with ``map_arg`` (a
    preset name such as ``servicenow``, a path to a .toml file, or a dict)."""
    spec = _read_toml(resources.files(__package__).joinpath("presets").joinpath(f"{fmt}.toml").read_text("utf-8"),
                      f"preset {fmt}")
    if map_arg is None:
        return spec
    if isinstance(map_arg, dict):
        return _merge(spec, map_arg)
    path = Path(map_arg)
    if path.suffix.lower() != ".toml" and str(map_arg) in preset_names():
        over = _read_toml(resources.files(__package__).joinpath("presets").joinpath(f"{map_arg}.toml").read_text("utf-8"),
                          f"preset {map_arg}")
    elif path.is_file():
        over = _read_toml(path.read_text("utf-8-sig"), str(path))
    else:
        raise ImportError_(f"{map_arg}: no such map file or preset (presets: {', '.join(preset_names())})")
    if over.get("format", fmt) != fmt:
        raise ImportError_(f"{map_arg}: this map is for format {over['format']!r}, not {fmt!r}")
    return _merge(spec, over)


def clock_of(spec: dict, clock: Clock | None) -> Clock:
    """The caller's clock (from 参数) or the map's [clock] mode in the default hours."""
    if clock is not None:
        return clock
    return Clock(mode=spec.get("clock", {}).get("mode", "calendar"))


def table_of(spec: dict, where: str) -> str:
    table = spec.get("table", "tickets")
    if table not in TABLES:
        raise ImportError_(f"{where}: table = {table!r} is not one of {', '.join(TABLES)}")
    return table


# ---------------------------------------------------------------- raw rows

def _pick_delimiter(header_line: str) -> str:
    return max(DELIMITERS, key=header_line.count)  # ties keep the first: ","


def read_raw(path, source: dict | None = None) -> tuple[pd.DataFrame, Issues]:
    """An export as text cells: header = first row, one column per header,
    ``_line`` = the source line (Excel row for workbooks) of each record.

    Records with more fields than the header are dropped and reported;
    shorter records are padded (exporters drop trailing empty fields) and
    reported too, so a truncated line is never read as a clean one."""
    path = Path(path)
    source = source or {}
    issues = Issues(path)
    if not path.exists():
        raise ImportError_(f"{path}: file not found")
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        return _read_workbook_rows(path, issues), issues
    if path.suffix.lower() in JSON_SUFFIXES:
        return _read_json_records(path, issues), issues
    text = read_text(path)
    delimiter = source.get("delimiter") or _pick_delimiter(text.split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if not header:
        raise ImportError_(f"{path}: the file is empty")
    width = len(header)
    rows, lines = [], []
    for record in reader:
        line = reader.line_num  # physical line where the record ends (quoted newlines included)
        if not record or record == [""]:
            continue
        if len(record) != width:
            issues.add(line, None, delimiter.join(record)[:80], reason("field_count", found=len(record),
                                                                       expected=width),
                       "dropped" if len(record) > width else "repaired")
            if len(record) > width:
                continue
            record = record + [""] * (width - len(record))
        rows.append(record)
        lines.append(line)
    frame = pd.DataFrame(rows, columns=[h.strip() for h in header], dtype=object)
    frame[LINE] = lines
    return frame, issues


def _read_workbook_rows(path: Path, issues: Issues) -> pd.DataFrame:
    """The first sheet of an .xlsx export, as text cells (Excel row numbers as lines)."""
    grid = next((g for g in read_grids(path).sheets if g.rows), None)
    if grid is None:
        raise ImportError_(f"{path}: the workbook has no data")
    header = ["" if v is None else str(v).strip() for v in grid.rows[0]]
    body = [["" if v is None else (v if isinstance(v, str) else _cell_text(v)) for v in row]
            for row in grid.rows[1:]]
    frame = pd.DataFrame(body, columns=header, dtype=object)
    frame[LINE] = range(grid.first_row + 1, grid.first_row + 1 + len(body))
    return frame


def _read_json_records(path: Path, issues: Issues) -> pd.DataFrame:
    """A JSON export as text cells, one column per field with nested fields joined by dots
    (``via.channel``, ``satisfaction_rating.score``).  Zendesk's full JSON export is NDJSON, one
    ticket a line, possibly wrapped as ``{"ticket": {…}}`` or in a ``{"tickets": […]}`` array (its
    help article); all three read alike.  A line that is no JSON object is reported and skipped."""
    text = read_text(path)
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        whole = None
    if whole is not None:
        items = next((v for v in whole.values() if isinstance(v, list)), [whole]) \
            if isinstance(whole, dict) and len(whole) == 1 else whole if isinstance(whole, list) else [whole]
        records = [(None, item) for item in items]
    else:
        records = []
        for line, raw in enumerate(text.splitlines(), start=1):
            if raw.strip():
                try:
                    records.append((line, json.loads(raw)))
                except json.JSONDecodeError:
                    issues.add(line, None, raw[:80], reason("not_json"), "dropped")
    rows, lines = [], []
    for line, record in records:
        record = _unwrapped(record)
        if not isinstance(record, dict):
            issues.add(line, None, str(record)[:80], reason("not_json"), "dropped")
            continue
        rows.append(dict(_flat(record)))
        lines.append(line if line is not None else len(lines) + 1)
    if not rows:
        raise ImportError_(f"{path}: no JSON records")
    frame = pd.DataFrame(rows, dtype=object).fillna("")
    frame[LINE] = lines
    return frame


def _unwrapped(record):
    """``{"ticket": {…}}`` → ``{…}`` (one key holding the record)."""
    if isinstance(record, dict) and len(record) == 1:
        inner = next(iter(record.values()))
        if isinstance(inner, dict):
            return inner
    return record


def _flat(record: dict, prefix: str = ""):
    """(dotted field, text) pairs; a list of plain values is one cell, space-separated (tags)."""
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _flat(value, name + ".")
        elif isinstance(value, list):
            if all(not isinstance(v, (dict, list)) for v in value):
                yield name, " ".join(_cell_text(v) for v in value if v is not None)
        elif value is not None:
            yield name, value if isinstance(value, str) else _cell_text(value)


def _cell_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def spelled(wanted: dict[str, str | list[str]], frame: pd.DataFrame) -> dict[str, str | list[str]]:
    """Each key's source column as the export spells it.  A map may list several spellings of one
    column (a list): exports differ by product version and by who wrote them (Zendesk's own CSV
    says ``Id``, its help page ``ID``); the first one in the header is used.  A list none of whose
    spellings is there stays a list, for :func:`require_columns` to name them all.

    >>> spelled({"ticket_id": ["ID", "Id"], "date": "Created at"}, pd.DataFrame(columns=["Id", "Created at"]))
    {'ticket_id': 'Id', 'date': 'Created at'}
    """
    out = {}
    for key, source in wanted.items():
        if isinstance(source, list):
            source = next((s for s in source if s in frame.columns), source)
        out[key] = source
    return out


def require_columns(frame: pd.DataFrame, wanted: dict[str, str | list[str]], path) -> None:
    """Every source column the map names must be in the export's header (one of its spellings)."""
    def named(source) -> str:
        return " or ".join(map(repr, source)) if isinstance(source, list) else repr(source)
    missing = [f"{named(source)} (for {key})" for key, source in wanted.items()
               if isinstance(source, list) or source not in frame.columns]
    if missing:
        found = ", ".join(c for c in frame.columns if c != LINE)
        raise ImportError_(f"{Path(path).name}: column {missing[0]} not in the header; found: {found}")


def blank_missing(frame: pd.DataFrame, markers) -> pd.DataFrame:
    """A source's missing-value markers (ServiceNow's ``?``) become blank cells."""
    markers = [m for m in markers if m != ""]
    if markers:
        frame = frame.replace(markers, "")
    return frame


def moments(frame: pd.DataFrame, column: str, source: dict, clock: Clock, issues: Issues) -> pd.Series:
    """A timestamp column in the workbook's timezone; unreadable text is reported at its line."""
    text = frame[column].fillna("").astype(str)
    parsed = parse_moments(text, clock.timezone, source.get("timestamp_format"),
                           bool(source.get("ignore_offset", False)))
    bad = parsed.isna() & (text.str.strip() != "")
    for line, value in zip(frame.loc[bad, LINE], text[bad]):
        issues.add(line, column, value, reason("not_date"), "dropped")
    return parsed
