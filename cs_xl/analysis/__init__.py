"""Analysis: conclusions drawn from the KPIs, as plain results.

Each module returns plain data (dataclasses, lists, dicts of numbers and
dates) that a script or ``--json`` output can use without building a
workbook; the report only arranges them into tables and sentences.

* :mod:`.alerts`   — seed 001's alert rules (avg wait > target × factor, queue > limit)
* :mod:`.staffing` — agents needed per weekday × hour (Erlang C)
* :mod:`.audit`    — the weekly audit list of unfinished tickets
* :mod:`.compare`  — 优化前后: each 优化记录 row on equal windows before/after its date
* :mod:`.intervals` — confidence intervals of a change (Newcombe for rates, bootstrap otherwise)
* :mod:`.pareto`   — causes of the records over target ranked, 80 % line (帕累托)
* :mod:`.segments` — each customer segment against the rest (客群差异), tests in :mod:`.significance`
* :mod:`.run`      — every analysis in one dict of plain results (``cs-xl analyze``)
"""
