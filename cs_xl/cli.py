"""``cs-xl`` — the command line.

    cs-xl kpis BOOK_OR_CSV [--json] [--threshold T] [--by KEY] [--from D] [--to D] [--where KEY=VALUE …]
    cs-xl kpis HISTORY [--engine duckdb|spark] [--params BOOK] [--map MAP] [--master URL] [same flags]
    cs-xl demo [--out cs_demo.xlsx] [--seed N] [--lang zh|en]
    cs-xl template [--lang zh|en] [--out PATH] [--xlsm]
    cs-xl refresh BOOK [--out PATH] [--data HISTORY [--engine duckdb|spark] [--map MAP] [--master URL]]
    cs-xl calc BOOK [--out PATH]
    cs-xl analyze BOOK [--json] [--threshold T] [--from D] [--to D] [--where KEY=VALUE …]
    cs-xl import FORMAT SRC… [--map MAP.toml] [--out BOOK.xlsx] [--append] [--clock calendar|business] [--json]

Errors are one line on stderr and exit code 2; no tracebacks for bad input; output
cut short by a closed pipe (``| head``) ends quietly.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import sys
from pathlib import Path

from .values import display_width, json_number, number_text

EXIT_USAGE = 2
ENGINES = ("pandas", "duckdb", "spark")
EXIT_CLOSED_PIPE = 141  # 128 + SIGPIPE, what `cat` exits with when the reader goes away


class CliError(Exception):
    """A user-facing error: printed as one line, exit code 2."""


# ---------------------------------------------------------------- formatting

def _pad(text: str, width: int, right: bool = False) -> str:
    gap = " " * max(0, width - display_width(text))
    return gap + text if right else text + gap


_UNITS = {"min": "分钟", "sec": "秒"}


def kpi_table(kpis: dict, catalogue) -> str:
    """Aligned two-column table: 指标 (key) | 值."""
    rows = []
    for key, value in kpis.items():
        info = catalogue[key]
        unit = _UNITS.get(info.fmt, "")
        label = f"{info.zh}{'(' + unit + ')' if unit else ''} ({key})"
        rows.append((label, number_text(value, info.fmt)))
    left = max(display_width(r[0]) for r in rows)
    right = max(display_width(r[1]) for r in rows)
    lines = [_pad("指标 (key)", left) + "  " + _pad("值", right, True), "-" * (left + right + 2)]
    lines += [_pad(a, left) + "  " + _pad(b, right, True) for a, b in rows]
    return "\n".join(lines)


def _group_label(by: str, value) -> str:
    """A group as a reader names it: weekdays 周一…周日, priorities 一级…四级 (JSON keeps the numbers)."""
    from .params import LEVEL_ZH
    from .words import word
    if by == "weekday":
        return word("weekdays", "zh")[int(value)]
    if by == "priority":
        return LEVEL_ZH.get(int(value), str(value))
    return str(value)


def grouped_table(frame, by: str, catalogue, keys) -> str:
    """Groups as rows, the main KPIs as columns (only KPIs defined somewhere)."""
    keys = [k for k in keys if frame[k].notna().any()]
    header = [by] + [catalogue[k].zh for k in keys]
    body = [[_group_label(by, idx)] + [number_text(row[k], catalogue[k].fmt) for k in keys]
            for idx, row in frame.iterrows()]
    widths = [max(display_width(r[i]) for r in [header] + body) for i in range(len(header))]
    fmt_row = lambda r: "  ".join(_pad(c, w, i > 0) for i, (c, w) in enumerate(zip(r, widths)))  # noqa: E731
    return "\n".join([fmt_row(header), "-" * (sum(widths) + 2 * len(widths))] + [fmt_row(r) for r in body])


def _json_label(value):
    if hasattr(value, "item"):
        value = value.item()
    return value if isinstance(value, (int, float, str)) else str(value)


# ---------------------------------------------------------------- commands

def _parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _parse_threshold(text: str) -> float:
    """A finite number of minutes ≥ 0 (metrics would raise on -1, nan or inf deep inside)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"not a number of minutes ≥ 0: {text!r}")
    return value


def _parse_where(items) -> dict[str, list[str]]:
    where: dict[str, list[str]] = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise CliError(f"--where expects KEY=VALUE, got {item!r}")
        where.setdefault(key.strip(), []).extend(v.strip() for v in value.split(","))
    return where


def _column_key(ds, key: str) -> str:
    """Accept a schema key or a header (客服组 / Team) for --by/--where."""
    from . import kpis
    from .schema import ALIASES, normalize_header
    if kpis.has_column(ds, key):
        return key
    for aliases in ALIASES.values():
        found = aliases.get(normalize_header(key))
        if found and kpis.has_column(ds, found):
            return found
    sheets = ", ".join(ds.sheets.values()) or "the data"
    raise CliError(f"column {key!r} not found in {sheets} of {ds.source} "
                   f"(periods: day, week, month, weekday, hour)")


def _with_flags(settings, args):
    """The command-line flags on top of the book's 参数."""
    changes = {}
    if args.threshold is not None:
        changes["frt_threshold_min"] = args.threshold
    if args.date_from:
        changes["period_start"] = args.date_from
    if args.date_to:
        changes["period_end"] = args.date_to
    return settings.with_(**changes)


def _scoped_inputs(path: Path, args=None):
    """Data set, settings and in-scope records of a book, read the way a refresh
    reads them (参数 first), with the command-line flags on top."""
    from . import pipeline
    given = _params_of(args) if args is not None else None  # --params: its clock fills the minutes too
    ds, settings = pipeline.read_path(path, settings=given)
    if args is None:
        return ds, settings, pipeline.scope(ds, settings)
    settings = _with_flags(settings, args)
    _check_period(settings, args)
    typed = _parse_where(args.where)
    where = {_column_key(ds, k): v for k, v in typed.items()}
    scoped = pipeline.scope(ds, settings, where)
    unmatched = _unmatched_where(ds, typed, where)
    if unmatched:  # even when other tables still have records: 渠道=微信 leaves calls, but no ticket
        note(unmatched)
    elif not _has_records(scoped) and _has_records(ds):
        note(_why_empty(ds, settings, typed))
    return ds, settings, scoped


def _check_period(settings, args) -> None:
    """A period ending before it starts holds nothing by construction: say so, don't print zeros."""
    from .words import cli_message
    start, end = settings.period_start, settings.period_end
    if start is not None and end is not None and start > end:
        key = "reversed_range" if args.date_from and args.date_to else "reversed_period"
        raise CliError(cli_message(key, start=start, end=end))


def _has_records(ds) -> bool:
    return any(f is not None and len(f) for f in (ds.tickets, ds.feedback, ds.calls))


def _unmatched_where(ds, typed: dict, where: dict) -> str | None:
    """A note for the first --where that no record of any table matches, naming the values there are."""
    from . import kpis
    from .words import cli_message
    for (typed_key, wanted), key in zip(typed.items(), where):
        if not kpis.matches_any(ds, key, wanted):
            values = [_group_label(key, v) for v in kpis.values_of(ds, key)]
            shown = ", ".join(values[:NOTE_VALUES]) + (", …" if len(values) > NOTE_VALUES else "")
            return cli_message("no_match", column=typed_key, wanted=",".join(wanted), values=shown or "none")
    return None


def _why_empty(ds, settings, typed: dict) -> str:
    """Why nothing is in scope when every filter alone matches something: the period, or the combination."""
    from . import kpis
    from .words import cli_message
    from .settings import Settings
    start, end = settings.period_start, settings.period_end
    span = kpis.moment_range(ds)
    if (start or end) and span is not None \
            and not _has_records(kpis.apply_scope(ds, Settings(period_start=start, period_end=end))):
        first, last = (moment.date() for moment in span)
        return cli_message("no_match_in_period", start=start or "…", end=end or "…", first=first, last=last)
    filters = [f"{k}={','.join(v)}" for k, v in typed.items()]
    if start or end:
        filters.append(f"{start or '…'} to {end or '…'}")
    return cli_message("no_match_together", filters="; ".join(filters) or "参数")


NOTE_VALUES = 12  # values listed in a "no record has …" note; more are elided


def _engine_of(args) -> str:
    """--engine, else pandas for a workbook or CSV file and duckdb for a history (folder, Parquet, glob, .duckdb)."""
    if args.engine:
        return args.engine
    path = Path(args.path)
    return "pandas" if path.is_file() and path.suffix.lower() in (".xlsx", ".xlsm", ".csv") else "duckdb"


def _params_of(args):
    """The 参数 of --params BOOK (None without the flag)."""
    if not getattr(args, "params", None):  # commands without --params (analyze)
        return None
    from .params import read_params_from_book
    settings = read_params_from_book(Path(args.params))
    if settings is None:
        raise CliError(f"{args.params}: no 参数 / Settings sheet")
    return settings


def cmd_kpis(args) -> int:
    engine = _engine_of(args)
    if args.issues and (not args.json or args.by or engine != "pandas"):
        raise CliError("--issues lists a workbook's or CSV's data-quality issues in the --json object "
                       "(without --by; the SQL engines count issues only)")
    if engine != "pandas":
        return _kpis_sql(args, engine)
    if args.map or args.master:
        raise CliError("--map and --master are for the SQL engines (--engine duckdb or spark)")
    return _kpis_pandas(args)


def _kpis_sql(args, engine_name: str) -> int:
    """KPIs of a history through a SQL engine: the same registry, 参数 and output as a book."""
    from . import catalogue
    from .backends import open_engine
    from .backends.duckdb import console_progress
    from .backends.sql import SqlError, SqlKpis, read_map
    from .settings import Settings
    settings = _with_flags(_params_of(args) or Settings(), args)
    _check_period(settings, args)
    try:
        engine = open_engine(engine_name, args.path, master=args.master, progress=console_progress())
    except ImportError as exc:
        raise CliError(f"--engine {engine_name} needs {exc.name}: pip install 'cs_xl[{engine_name}]'") from None
    except Exception as exc:  # pyspark's own errors: no Java, an unreachable master
        if engine_name != "spark":
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CliError(f"Spark did not start ({first}); it needs Java 17+ (JAVA_HOME) and a reachable --master") from None
    try:
        sql = SqlKpis(engine, settings, column_map=read_map(args.map) if args.map else None,
                      count_cells=not args.by)  # --by shows no data quality
        typed = _parse_where(args.where)
        where = {_sql_column_key(sql, k): v for k, v in typed.items()}
        if where:
            sql.rescope(where)
        if args.by:
            by = _sql_column_key(sql, args.by)
            _print_grouped(sql.grouped(by), by, args.json)
            return 0
        values = sql.headline()
        if args.json:
            out = {k: json_number(v) for k, v in values.items()}
            out["data_quality"] = sql.quality()
            out["definitions"] = {"clock": settings.clock().describe("en"), "engine": engine_name}
            print(json.dumps(out, ensure_ascii=False, indent=1))
        else:
            print(f"{args.path}  ({engine_name}: {', '.join(sql.clean)})")
            print(kpi_table(values, catalogue.METRICS))
            quality = sql.quality()
            print(f"数据质量 / data quality: {quality['issues']:,} cells or records "
                  f"({', '.join(f'{k} {n:,}' for k, n in quality['by_action'].items()) or 'none'})")
        return 0
    except SqlError as exc:
        raise CliError(str(exc)) from None
    finally:
        engine.close()


def _sql_column_key(sql, key: str) -> str:
    """A schema key or a header (客服组 / Team) for --by/--where over a SQL history."""
    from .schema import ALIASES, normalize_header
    if sql.has_column(key):
        return key
    for aliases in ALIASES.values():
        found = aliases.get(normalize_header(key))
        if found and sql.has_column(found):
            return found
    raise CliError(f"column {key!r} not found in {', '.join(sql.clean)} (periods: day, week, month, weekday, hour)")


def _print_grouped(groups: list, by: str, as_json: bool) -> None:
    import pandas as pd
    from . import catalogue
    if as_json:
        print(json.dumps([{by: _json_label(label), **{k: json_number(v) for k, v in values.items()}}
                          for label, values in groups], ensure_ascii=False, indent=1))
        return
    frame = pd.DataFrame([values for _label, values in groups], index=[label for label, _values in groups])
    print(grouped_table(frame, by, catalogue.METRICS, MAIN_KEYS))


def _kpis_pandas(args) -> int:
    ds, settings, scoped = _scoped_inputs(Path(args.path), args)  # pandas is imported while the book is parsed
    from . import catalogue, kpis
    if args.by:
        by = _column_key(ds, args.by)
        frame = kpis.grouped(scoped, settings, by)
        if by == "hour":
            _note_untimed(scoped)
        if args.json:
            groups = [{by: _json_label(label), **{k: json_number(v) for k, v in zip(frame.columns, row)}}
                      for label, row in zip(frame.index, frame.itertuples(index=False, name=None))]
            print(json.dumps(groups, ensure_ascii=False, indent=1))
        else:
            print(grouped_table(frame, by, catalogue.METRICS, MAIN_KEYS))
        return 0
    if not args.json:
        print(f"{ds.source}  ({', '.join(ds.sheets.values())})")
    _print_headline(ds, scoped, settings, args.json, every_issue=args.issues)
    return 0


def _print_headline(ds, scoped, settings, as_json: bool, clock=None, extra: dict | None = None,
                    every_issue: bool = False) -> None:
    """The headline KPIs as a table or one JSON object (with data_quality, the
    clock rule under definitions, and ``extra`` keys)."""
    from . import catalogue, kpis
    values = kpis.headline(scoped, settings)
    clock = clock or settings.clock()
    if as_json:
        out = {k: json_number(v) for k, v in values.items()}
        out["data_quality"] = _quality_json(ds)
        if every_issue:  # 数据质量 lists the first issues of each reason; this is all of them
            out["data_quality"]["list"] = [_issue_json(i) for i in ds.quality.issues]
        out.update(extra or {})
        out["definitions"] = {"clock": clock.describe("en")}  # how minutes from timestamps were counted
        print(json.dumps(out, ensure_ascii=False, indent=1))
    else:
        print(kpi_table(values, catalogue.METRICS))
        print(_quality_line(ds))
        print(f"计时规则 / clock: {clock.describe(settings.lang)}")


def note(text: str) -> None:
    """A remark about the output (not an error): stderr, so --json stays parseable."""
    print(f"cs-xl: note: {text}", file=sys.stderr)


def _note_untimed(ds) -> None:
    """Say how many records the hour view left out for lack of a time of day."""
    from . import kpis
    from .words import cli_message
    from .load import TABLE_NOUNS
    from .schema import TABLES
    for table, n in kpis.untimed_records(ds).items():
        if n:
            column = TABLES[table].column("created_at" if table == "tickets" else "start")
            header = ds.headers.get(table, {}).get(column.key, column.zh)
            note(cli_message("untimed", n=n, noun=TABLE_NOUNS[table], header=header))


MAIN_KEYS = ("volume", "frt_rate", "frt_avg", "frt_p90", "sla_rate", "resolution_rate", "fcr_rate",
             "csat_rate", "nps", "complaint_rate", "offered", "answer_rate", "asa", "aht")


def _quality_json(ds) -> dict:
    """Counts by action and reason, plus records dropped apart from the cells of records kept."""
    from .dataset import quality_counts
    counts = quality_counts(ds)
    return {**ds.quality.summary(), **{k: v for k, v in counts.items() if k != "issues"}}


def _issue_json(issue) -> dict:
    """One data-quality issue as JSON: where, what the cell held (text where JSON has no such value),
    the reason in stable English and the action."""
    value = json_number(issue.value)
    if value is not None and not isinstance(value, (str, int, float, bool)):
        value = str(value)
    return {"sheet": issue.sheet, "row": issue.row, "column": issue.column, "value": value,
            "reason": issue.reason, "action": issue.action}


def _quality_line(ds) -> str:
    """Records dropped apart from cells repaired/dropped, in the words of refresh and 数据质量."""
    from .dataset import quality_counts_text
    if not len(ds.quality):
        return "数据质量: 无问题 (no data-quality issues)"
    return f"数据质量: {quality_counts_text(ds, 'en')}; details: cs-xl refresh → 数据质量 sheet"


def _refuse_if_open(target: Path, force: bool) -> None:
    """Replacing a workbook open in Excel/LibreOffice loses the user's typing or our
    result, whichever is saved last: refuse unless --force says the lock is stale."""
    from .book import BookOpen, refuse_if_open
    from .words import cli_message
    if force:
        return
    try:
        refuse_if_open(target)
    except BookOpen as exc:
        raise CliError(cli_message("book_open", path=exc.path, lock=exc.lock.name)) from None


def cmd_demo(args) -> int:
    from . import catalogue, kpis, sample
    out = Path(args.out)
    _refuse_if_open(out, args.force)
    print(f"writing demo workbook {out} (seed {args.seed}) …")  # progress: stdout, errors alone on stderr
    sample.write_demo_inputs(out, seed=args.seed, lang=args.lang)
    _refresh(out, None)
    ds, settings, scoped = _scoped_inputs(out)  # the same numbers as the refreshed 汇总
    print(kpi_table(kpis.headline(scoped, settings), catalogue.METRICS))
    print(_quality_line(ds))
    print(f"demo workbook: {out.resolve()}")
    return 0


def _refresh(path: Path, out: Path | None):
    from .refresh import refresh
    return refresh(path, out=out)


def _require_workbook(path: Path) -> None:
    """refresh writes sheets into a workbook: a CSV export has none to write into."""
    from .book import WORKBOOK_SUFFIXES
    from .words import cli_message
    if path.suffix.lower() not in WORKBOOK_SUFFIXES:
        raise CliError(cli_message("refresh_needs_workbook", path=path, suffix=path.suffix or "(no suffix)"))


def cmd_refresh(args) -> int:
    path = Path(args.book)
    _require_workbook(path)
    if args.out:
        _require_workbook(Path(args.out))
    if not path.exists():
        raise CliError(f"no such file: {path}")
    _refuse_if_open(Path(args.out) if args.out else path, args.force)  # the book read is only read
    if args.data is None:
        if args.engine or args.map or args.master:
            raise CliError("--engine, --map and --master go with --data (a Parquet/CSV/DuckDB history)")
        print(_refresh(path, Path(args.out) if args.out else None))
        return 0
    from .backends.sql import read_map
    from .refresh import refresh
    engine = args.engine or "duckdb"
    try:
        result = refresh(path, out=Path(args.out) if args.out else None, data=args.data, engine=engine,
                         column_map=read_map(args.map) if args.map else None, master=args.master)
    except ImportError as exc:
        raise CliError(f"--engine {engine} needs {exc.name}: pip install 'cs_xl[{engine}]'") from None
    print(result)
    return 0


def cmd_report(args) -> int:
    """The 分析报告 of a workbook as a Markdown or HTML file (the refreshed sheet's text, charts as images)."""
    from . import pipeline
    from .report.export import charts_available, write_report
    path = Path(args.book)
    if not path.exists():
        raise CliError(f"no such file: {path}")
    out = Path(args.out) if args.out else path.with_name(f"{path.stem}_report.{args.format}")
    ds, settings = pipeline.read_path(path)
    model = pipeline.build(ds, settings, pipeline.scope(ds, settings))
    charts = write_report(model, out, args.format)
    extra = f", {len(charts)} charts" if args.format == "html" and charts_available() else \
        ", no charts (pip install 'cs-xl[charts]' for matplotlib)" if args.format == "html" else ""
    print(f"report written: {out.resolve()}{extra}")
    return 0


TEMPLATE_NAMES = {(False, "zh"): "cs_template.xlsx", (False, "en"): "cs_template_en.xlsx",
                  (True, "zh"): "cs_report.xlsm", (True, "en"): "cs_report_en.xlsm"}


def cmd_template(args) -> int:
    out = Path(args.out or TEMPLATE_NAMES[(args.xlsm, args.lang)])
    _refuse_if_open(out, args.force)
    if args.xlsm:
        from .macro_book import write_macro_template
        if out.suffix.lower() != ".xlsm":
            raise CliError(f"{out}: --xlsm writes a macro-enabled workbook; name it .xlsm")
        write_macro_template(out, lang=args.lang)
    else:
        from .template import write_template
        write_template(out, lang=args.lang)
    print(f"template written: {out.resolve()}")
    return 0


EXIT_NOT_EVALUATED = 1


def cmd_calc(args) -> int:
    from .calc import calc, default_output
    path = Path(args.book)
    if not path.exists():
        raise CliError(f"no such file: {path}")
    out = Path(args.out) if args.out else default_output(path)
    _refuse_if_open(out, args.force)  # the copy open in Excel would lose its results (or the user's typing)
    result = calc(path, out)
    for line in result.warnings + result.problems:
        print(f"cs-xl calc: {line}", file=sys.stderr)
    print(result)
    return EXIT_NOT_EVALUATED if result.problems else 0


def _import_clock(args):
    """The clock of an import: --clock, else the 参数 of the book appended to, else the map's own."""
    from .clock import Clock
    from .importers.base import clock_of
    from .importers import load_map
    if args.clock:
        return Clock(mode=args.clock)
    if args.append and args.out and Path(args.out).exists():
        from . import pipeline
        return pipeline.read_path(Path(args.out))[1].clock()
    return clock_of(load_map(args.format, args.map), None)


def cmd_import(args) -> int:
    """Export(s) → canonical records → the standard workbook (refreshed) or straight to KPIs."""
    from . import importers
    from .load import load_grids
    from .settings import Settings
    if args.append and not args.out:
        raise CliError("--append needs --out BOOK (the workbook to add to)")
    clock = _import_clock(args)
    imported = importers.run(args.format, args.sources, args.map, clock)
    rows = {k: len(f) for k, f in imported.frames.items()}
    print(f"imported {', '.join(f'{k} {n:,}' for k, n in rows.items())}; "
          f"left out {sum(imported.rejected().values()):,} {imported.rejected() or ''}", file=sys.stderr)
    settings = Settings(lang=args.lang, clock_mode=clock.mode, timezone=clock.timezone)
    if args.out:
        from .importers.book import write_book
        out = Path(args.out)
        if out.exists() and not args.append:
            raise CliError(f"{out} exists; use --append to add to it (existing rows are never changed)")
        write_book(imported, out, lang=args.lang, append=args.append, settings=settings)
        from .refresh import ConsoleProgress, refresh
        refresh(out, progress=ConsoleProgress(sys.stderr))  # stdout carries only the KPIs (--json stays parseable)
        ds, settings, scoped = _scoped_inputs(out)
    else:
        ds = load_grids(importers.to_grids(imported, args.lang), clock=clock)
        scoped = ds
    ds.quality.issues[:0] = imported.issues  # the import's own left-outs, by source file and line
    _print_headline(ds, scoped, settings, args.json, clock,
                    {"import": {"rows": rows, "rejected": imported.rejected()}})
    return 0


def cmd_analyze(args) -> int:
    """Every analysis of :mod:`cs_xl.analysis.run` on the in-scope records, without building a workbook."""
    from .analysis import run
    ds, settings, scoped = _scoped_inputs(Path(args.path), args)
    results = run.to_json(run.analyze(scoped, settings))
    if args.json:
        print(json.dumps({**results, "data_quality": _quality_json(ds)}, ensure_ascii=False, indent=1))
    else:
        print(f"{ds.source}  ({', '.join(ds.sheets.values())})")
        for name, result in results.items():
            print(f"[{name}]")
            print(json.dumps(result, ensure_ascii=False))
        print(_quality_line(ds))
    return 0


def _add_scope_flags(parser) -> None:
    """--threshold, --from, --to and --where: the command line on top of the book's 参数."""
    parser.add_argument("--threshold", type=_parse_threshold, metavar="T", help="FRT threshold in minutes (default 3)")
    parser.add_argument("--from", dest="date_from", type=_parse_date, metavar="D",
                        help="period start YYYY-MM-DD (a ticket's moment: its 创建时间, else its 日期)")
    parser.add_argument("--to", dest="date_to", type=_parse_date, metavar="D", help="period end YYYY-MM-DD (inclusive)")
    parser.add_argument("--where", action="append", metavar="KEY=VALUE",
                        help="keep records whose KEY equals VALUE (comma-separated values allowed); repeatable")


def _add_force(parser) -> None:
    parser.add_argument("--force", action="store_true",
                        help="write even when a lock file (~$BOOK.xlsx, .~lock.BOOK.xlsx#) says the workbook is "
                             "open: only for a stale lock left by a crash")


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line too (argparse prints the usage first);
    sub-commands inherit the class."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = OneLineErrorParser(
        prog="cs-xl",
        description="Customer-service response-time and effectiveness metrics for Excel workbooks and CSV exports.")
    from . import __version__
    p.add_argument("--version", action="version", version=f"cs-xl {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    k = sub.add_parser("kpis", help="headline KPIs of a workbook or CSV export",
                       description="Headline KPIs of a template workbook (.xlsx/.xlsm) or a CSV export: every metric, "
                                   "undefined ones shown as — (null in --json), never 0.")
    k.add_argument("path", help="workbook (.xlsx/.xlsm) or CSV file; with --engine duckdb/spark a Parquet file, "
                   "a folder or glob of Parquet/CSV files, or a .duckdb database")
    k.add_argument("--json", action="store_true", help="one JSON object (null = undefined) with data_quality counts")
    k.add_argument("--issues", action="store_true", help="with --json: every data-quality issue (sheet, row, column, "
                   "value, reason, action) under data_quality.list — the 数据质量 sheet lists only the "
                   "first ones of each reason")
    k.add_argument("--by", metavar="KEY", help="one result per group: a column key or header "
                   "(agent_id, team, channel, issue_type, module, priority, customer_type, 客服组 …) "
                   "or a period (day, week, month, weekday, hour); the table names weekdays 周一… and "
                   "priorities 一级…, --json keeps the numbers (weekday 0 = Monday, priority 1…4)")
    _add_scope_flags(k)
    k.add_argument("--engine", choices=ENGINES,
                   help="pandas reads a workbook/CSV; duckdb scans a history too large for a sheet — a Parquet "
                   "file, a folder or glob of Parquet/CSV files (Hive partitions too) or a .duckdb database — "
                   "with the same metrics in SQL; spark runs that SQL on Spark (local or a cluster, see --master) "
                   "(default: pandas for .xlsx/.xlsm/.csv, else duckdb)")
    k.add_argument("--params", metavar="BOOK", help="take 参数 (thresholds, SLA, scope lists, period) from this workbook")
    k.add_argument("--map", metavar="MAP", help="SQL engines: an importer map (preset such as zendesk, or a .toml "
                   "file) whose [columns] say which source column is which (default: template headers or keys)")
    k.add_argument("--master", metavar="URL", help="--engine spark: the Spark master (spark://host:7077, yarn, "
                   "local[4]; default: $SPARK_MASTER, else local[*])")
    k.set_defaults(func=cmd_kpis)

    d = sub.add_parser("demo", help="build a refreshed demo workbook from bundled sample data")
    d.add_argument("--out", default="cs_demo.xlsx", help="output path (default cs_demo.xlsx)")
    d.add_argument("--seed", type=int, default=7, help="random seed of the sample data (default 7)")
    d.add_argument("--lang", choices=("zh", "en"), default="zh", help="template language (default zh)")
    _add_force(d)
    d.set_defaults(func=cmd_demo)

    t = sub.add_parser("template", help="write the blank standard template")
    t.add_argument("--lang", choices=("zh", "en"), default="zh")
    t.add_argument("--out", help="output path (default cs_template.xlsx / cs_template_en.xlsx; "
                                 "with --xlsm cs_report.xlsm / cs_report_en.xlsm)")
    t.add_argument("--xlsm", action="store_true",
                   help="the macro-enabled workbook: 「刷新报表」/「检查数据」 buttons on 汇总, VBA calling xlwings, "
                        "an xlwings.conf sheet")
    _add_force(t)
    t.set_defaults(func=cmd_template)

    r = sub.add_parser("refresh", help="rebuild every summary sheet of a workbook (headless 刷新报表)")
    r.add_argument("book", help="the workbook to refresh")
    r.add_argument("--out", help="write the refreshed workbook here instead of in place")
    r.add_argument("--data", metavar="PATH", help="compute the sheets from this history instead of the book's input "
                   "sheets: a Parquet/CSV file, a glob, a folder (Hive partitions too) or a .duckdb file; "
                   "the book's 参数 apply (aggregates only: see README, Past a sheet's rows)")
    r.add_argument("--engine", choices=("duckdb", "spark"), help="with --data: the SQL engine (default duckdb)")
    r.add_argument("--map", metavar="MAP", help="with --data: an importer map (preset such as zendesk, or a .toml "
                   "file) naming the history's columns")
    r.add_argument("--master", metavar="URL", help="with --data --engine spark: the Spark master (spark://host:7077, "
                   "yarn, local[4]; default $SPARK_MASTER, else local[*])")
    _add_force(r)
    r.set_defaults(func=cmd_refresh)

    w = sub.add_parser("report", help="write the 分析报告 (written analysis) as Markdown or HTML",
                       description="The written analysis of a workbook (the 分析报告 sheet's text: period and scope, "
                       "KPIs against targets, the strongest findings with their evidence sheets, recommendations) "
                       "as a file for e-mail and wikis; HTML embeds the charts as PNG images (needs matplotlib).")
    w.add_argument("book", help="workbook (.xlsx/.xlsm) or CSV file")
    w.add_argument("--format", choices=("md", "html"), default="md", help="md (default) or html")
    w.add_argument("--out", help="output path (default BOOK_report.md / .html beside the book)")
    w.set_defaults(func=cmd_report)

    c = sub.add_parser("calc", help="evaluate every formula (CS_* and native) headless and cache the results",
                       description="Evaluate every formula cell of a workbook — the CS_* functions and the native "
                       "Excel functions mixed with them — against its data, and write a copy whose cells hold "
                       "the results, so any viewer shows numbers. Exit code 1 when a formula could not be "
                       "evaluated (its cell gets an Excel error; the message names the cell).")
    c.add_argument("book", help="the workbook (.xlsx/.xlsm) to calculate")
    c.add_argument("--out", help="where to write the calculated copy (default BOOK_calc.xlsx beside it)")
    _add_force(c)
    c.set_defaults(func=cmd_calc)
    a = sub.add_parser("analyze", help="every analysis (alerts, staffing, audit …) as plain results, no workbook built",
                       description="Run every analysis of the report on a workbook's in-scope records (its 参数 "
                       "sheet applies) and print the plain results: with --json one object, one key per analysis "
                       "(null = undefined), plus data_quality.")
    a.add_argument("path", help="workbook (.xlsx/.xlsm) or CSV file")
    a.add_argument("--json", action="store_true", help="one JSON object: analysis name → its result")
    _add_scope_flags(a)
    a.set_defaults(func=cmd_analyze)
    from .importers import FORMATS
    i = sub.add_parser("import", help="turn helpdesk / event-log / call-centre exports into the standard workbook",
                       description="Import exports (CSV/TSV/XLSX) with a built-in or custom TOML map; "
                       "with --out write and refresh the standard workbook, else print the KPIs.")
    i.add_argument("format", choices=FORMATS, help="export format")
    i.add_argument("sources", nargs="+", metavar="SRC", help="export file(s)")
    i.add_argument("--map", metavar="MAP", help="a map file (.toml) or a built-in preset name "
                   "(servicenow, helpdesk, vinst, olist …) on top of the format's own")
    i.add_argument("--out", metavar="BOOK", help="write the standard workbook here and refresh it")
    i.add_argument("--append", action="store_true",
                   help="add to the existing --out workbook: only new ids, existing rows untouched")
    i.add_argument("--clock", choices=("calendar", "business"),
                   help="minutes from timestamps: calendar, or business hours 09:00-18:00 with "
                   "China's holidays (default: the map's)")
    i.add_argument("--lang", choices=("zh", "en"), default="zh", help="workbook language (default zh)")
    i.add_argument("--json", action="store_true", help="KPIs as one JSON object, with import counts")
    i.set_defaults(func=cmd_import)
    return p


def _user_errors() -> tuple[type[Exception], ...]:
    """Exceptions that describe bad input or an unusable file: one line, exit 2."""
    from .book import BookError
    from .calc import CalcError
    from .load import LoadError
    from .params import ParamsError
    from .settings import ClockError
    return CliError, LoadError, ParamsError, BookError, CalcError, ClockError


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except _user_errors() as exc:
        print(f"cs-xl: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (FileNotFoundError, PermissionError) as exc:
        print(f"cs-xl: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("cs-xl: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `cs-xl kpis … | head`: the reader has what it wanted
        _silence_stdout()
        return EXIT_CLOSED_PIPE


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush into the closed pipe
    raises nothing either (the recipe of the Python docs on SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
