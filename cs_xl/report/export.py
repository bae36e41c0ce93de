"""The written report (分析报告) as a file: Markdown for wikis, HTML with the charts as images for e-mail.

The text is the 分析报告 sheet's (one generator, :mod:`.narrative`); the charts
are the report model's own (the tables the workbook's native charts are drawn
from), rendered as PNG by matplotlib and embedded in the HTML as ``data:``
URIs, so the file travels alone.  PNG rather than SVG because mail clients
(Gmail, Outlook) do not show SVG.  matplotlib is the optional ``charts`` extra:
without it the HTML says how to add the charts and carries the text alone.
"""
from __future__ import annotations

import base64
import html
import io
import re
from dataclasses import dataclass

from ..values import number_text
from ..words import word
from .model import ChartSpec, HeatmapBlock, Report, SheetModel, TableBlock, TextBlock

CHARTS_PER_SHEET = 2          # the first charts of a sheet: the month trends, not the day ones too
CHART_SHEETS = ("summary", "trends", "alerts", "staffing", "load", "agents")  # before any other sheet's charts
SKIPPED_SHEETS = {"analysis", "quality"}
# CJK fonts tried in order for Chinese labels (the first installed one is used; DejaVu covers Latin)
CJK_FONTS = ["Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Serif CJK SC", "WenQuanYi Zen Hei", "SimHei",
             "Microsoft YaHei", "PingFang SC", "Source Han Sans SC"]
_NUMBERED = re.compile(r"^\d+\.\s")


@dataclass(frozen=True)
class Chart:
    title: str
    png: bytes


def analysis_sheet(model: Report) -> SheetModel:
    return next(s for s in model.sheets if s.key == "analysis")


# ---------------------------------------------------------------- text

def markdown(model: Report) -> str:
    """The 分析报告 as Markdown: a title, ``##`` sections, numbered findings, ``-`` KPI lines."""
    sheet = analysis_sheet(model)
    lines = [f"# {sheet.title}", ""]
    for block in sheet.blocks:
        text = block.lines[0]
        if block.style == "heading":
            lines += [f"## {text}", ""]
        elif block.style == "item":
            lines.append(text if _NUMBERED.match(text) else f"- {text}")
        else:
            lines += [text, ""]
    return "\n".join(_spaced(lines)).rstrip() + "\n"


def _spaced(lines: list[str]) -> list[str]:
    """A blank line after each run of list items (Markdown needs it before the next heading)."""
    out = []
    for i, line in enumerate(lines):
        out.append(line)
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if (line.startswith("- ") or _NUMBERED.match(line)) and not (nxt.startswith("- ") or _NUMBERED.match(nxt)) \
                and nxt != "":
            out.append("")
    return out


def html_document(model: Report, charts: list[Chart] | None = None, missing_note: str = "") -> str:
    """The 分析报告 as one HTML page: the same text, then the charts as embedded PNG images."""
    sheet = analysis_sheet(model)
    body = [f"<h1>{html.escape(sheet.title)}</h1>"]
    in_list = False
    for block in sheet.blocks:
        text = html.escape(block.lines[0])
        if block.style == "item":
            if not in_list:
                body.append("<ul>")
                in_list = True
            body.append(f"<li>{text}</li>")
            continue
        if in_list:
            body.append("</ul>")
            in_list = False
        body.append(f"<h2>{text}</h2>" if block.style == "heading" else f"<p>{text}</p>")
    if in_list:
        body.append("</ul>")
    if charts:
        body.append(f"<h2>{html.escape(word('charts', model.lang))}</h2>")
        for chart in charts:
            data = base64.b64encode(chart.png).decode("ascii")
            body.append(f'<figure><img alt="{html.escape(chart.title)}" src="data:image/png;base64,{data}">'
                        f"<figcaption>{html.escape(chart.title)}</figcaption></figure>")
    elif missing_note:
        body.append(f"<p><em>{html.escape(missing_note)}</em></p>")
    lang = "zh-CN" if model.lang == "zh" else "en"
    return (f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(sheet.title)}'
            "</title><style>body{font-family:'Noto Sans CJK SC','PingFang SC','Microsoft YaHei',sans-serif;"
            "max-width:60em;margin:2em auto;line-height:1.6}li{margin:.3em 0;list-style:none}"
            "img{max-width:100%}figure{margin:1.5em 0}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")


# ---------------------------------------------------------------- charts

def chart_blocks(model: Report) -> list[tuple[SheetModel, object]]:
    """(sheet, chart or heatmap) pairs to draw: the first few of each sheet, dashboard first."""
    order = {key: i for i, key in enumerate(CHART_SHEETS)}
    sheets = sorted((s for s in model.sheets if s.key not in SKIPPED_SHEETS),
                    key=lambda s: order.get(s.key, len(order)))
    out = []
    for sheet in sheets:
        drawn = [b for b in sheet.blocks if isinstance(b, (ChartSpec, HeatmapBlock))]
        out += [(sheet, b) for b in drawn[:CHARTS_PER_SHEET]]
    return out


def _table(sheet: SheetModel, name: str) -> TableBlock | None:
    return next((b for b in sheet.blocks if isinstance(b, TableBlock) and b.name == name), None)


def _figure():
    from matplotlib import font_manager
    from matplotlib.figure import Figure  # no pyplot: no global state, no display needed
    installed = {f.name for f in font_manager.fontManager.ttflist}
    family = ["DejaVu Sans", *(f for f in CJK_FONTS if f in installed)]
    fig = Figure(figsize=(8, 4.2), dpi=100)
    return fig, family


def render_chart(sheet: SheetModel, spec: ChartSpec) -> Chart | None:
    """A ChartSpec drawn from its table's rows (None when the table is empty)."""
    table = _table(sheet, spec.table_name)
    if table is None or not table.rows:
        return None
    keys = [c.key for c in table.columns]
    header = {c.key: c.header for c in table.columns}
    fmt = {c.key: c.fmt for c in table.columns}
    cats = [str(r[keys.index(spec.category_col)]) for r in table.rows]
    fig, family = _figure()
    ax = fig.add_subplot()
    if spec.kind == "pareto":
        return _pareto_chart(fig, ax, family, spec, table, cats)
    width = 0.8 / len(spec.value_cols)
    for i, key in enumerate(spec.value_cols):
        values = [float("nan") if (v := r[keys.index(key)]) is None else float(v) for r in table.rows]
        positions = [p + (i - (len(spec.value_cols) - 1) / 2) * width for p in range(len(cats))]
        if spec.kind == "line":
            ax.plot(range(len(cats)), values, marker="o" if len(cats) <= 31 else None, label=header[key])
        elif spec.kind == "bar":
            ax.barh(positions, values, height=width, label=header[key])
        else:
            ax.bar(positions, values, width=width, label=header[key])
    value_axis = ax.xaxis if spec.kind == "bar" else ax.yaxis
    if fmt[spec.value_cols[0]] == "pct":
        from matplotlib.ticker import PercentFormatter
        value_axis.set_major_formatter(PercentFormatter(1.0))
    if spec.kind == "bar":
        ax.set_yticks(range(len(cats)), cats)
        ax.invert_yaxis()
    else:
        step = max(1, len(cats) // 16)
        ax.set_xticks(range(0, len(cats), step), cats[::step], rotation=45 if len(cats) > 8 else 0, ha="right"
                      if len(cats) > 8 else "center")
    if len(spec.value_cols) > 1:
        ax.legend(prop={"family": family})
    _fonts(ax, family, spec.title)
    return Chart(spec.title, _png(fig))


def _pareto_chart(fig, ax, family: list[str], spec: ChartSpec, table: TableBlock, cats: list[str]) -> Chart:
    """Bars of the count, the cumulative share and its line on a 0–100 % axis on the right."""
    from matplotlib.ticker import PercentFormatter
    keys = [c.key for c in table.columns]
    column = lambda key: [0.0 if r[keys.index(key)] is None else float(r[keys.index(key)]) for r in table.rows]  # noqa: E731
    header = {c.key: c.header for c in table.columns}
    ax.bar(range(len(cats)), column(spec.value_cols[0]), label=header[spec.value_cols[0]])
    right = ax.twinx()
    right.set_zorder(ax.get_zorder() + 1)  # the lines over the bars
    right.patch.set_visible(False)
    for key, colour, style in zip(spec.value_cols[1:], ("C1", "C3"), ("-", "--")):
        right.plot(range(len(cats)), column(key), marker="o" if style == "-" else None, color=colour,
                   linestyle=style, label=header[key])
    right.set_ylim(0, 1.05)
    right.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xticks(range(len(cats)), cats, rotation=45 if len(cats) > 6 else 0, ha="right" if len(cats) > 6 else "center")
    right.legend(prop={"family": family}, loc="center right")
    _fonts(ax, family, spec.title)
    return Chart(spec.title, _png(fig))


def render_heatmap(block: HeatmapBlock) -> Chart | None:
    """A heatmap with each cell's value written in it (the sheet's conditional colour scale, as an image)."""
    rows = [[float("nan") if v is None else float(v) for v in row] for row in block.values]
    if not rows or all(v != v for row in rows for v in row):
        return None
    fig, family = _figure()
    ax = fig.add_subplot()
    image = ax.imshow(rows, aspect="auto", cmap="YlOrRd")
    fig.colorbar(image, ax=ax)
    ax.set_yticks(range(len(block.row_labels)), block.row_labels)
    ax.set_xticks(range(len(block.col_labels)), [str(c) for c in block.col_labels])
    for i, row in enumerate(block.values):
        for j, v in enumerate(row):
            if v is not None:
                ax.text(j, i, number_text(v, block.fmt), ha="center", va="center", fontsize=6)
    _fonts(ax, family, block.title)
    return Chart(block.title, _png(fig))


def _fonts(ax, family: list[str], title: str) -> None:
    ax.set_title(title, family=family)
    for label in (*ax.get_xticklabels(), *ax.get_yticklabels()):
        label.set_family(family)
    ax.figure.tight_layout()


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def charts_available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def render_charts(model: Report) -> list[Chart]:
    """Every chart of :func:`chart_blocks` as a PNG."""
    out = []
    for sheet, block in chart_blocks(model):
        chart = render_chart(sheet, block) if isinstance(block, ChartSpec) else render_heatmap(block)
        if chart is not None:
            out.append(chart)
    return out


def write_report(model: Report, path, fmt: str) -> list[Chart]:
    """Write the 分析报告 of ``model`` to ``path`` as ``md`` or ``html``; returns the charts embedded."""
    from pathlib import Path
    path = Path(path)
    if fmt == "md":
        path.write_text(markdown(model), encoding="utf-8")
        return []
    charts = render_charts(model) if charts_available() else []
    note = "" if charts_available() else word("charts_missing", model.lang)
    path.write_text(html_document(model, charts, note), encoding="utf-8")
    return charts


__all__ = ["Chart", "markdown", "html_document", "render_charts", "write_report", "TextBlock"]
