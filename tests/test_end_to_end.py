"""Any template-shaped workbook or CSV: load + kpis equal a plain-pandas
reference computed from the same cells, to 1e-9 (property-based)."""
import csv
import math

import numpy as np
import openpyxl
from hypothesis import HealthCheck, given, settings, strategies as st

from cs_xl import kpis
from cs_xl.load import load

STATUSES = ["已解决", "已关闭", "处理中", "待确认", None]
PRIORITIES = ["一级", "二级", "三级", "四级", None]
SLA = {"一级": 5, "二级": 10, "三级": 30, "四级": 30, None: 30}

# ties at the thresholds (3 min, SLA 5/10/30) are drawn often: they count as met
minutes = st.one_of(st.none(), st.floats(0, 500, allow_nan=False).map(lambda x: round(x, 2)),
                    st.sampled_from([3.0, 5.0, 10.0, 30.0, 0.0]), st.sampled_from(["x", "#N/A", -3.0]))
row = st.tuples(st.integers(0, 27), st.sampled_from(["C001", "C002", "C003"]), minutes, minutes,
                st.sampled_from(STATUSES), st.sampled_from(PRIORITIES))
HEADERS = ["日期", "工单编号", "客服工号", "首次响应时间(分钟)", "问题解决时间(分钟)", "状态", "优先级"]


def _records(rows):
    return [[f"2024-03-{day + 1:02d}", f"T{i}", agent, frt, res, status, prio]
            for i, (day, agent, frt, res, status, prio) in enumerate(rows)]


def _valid(values):
    """Reference rule of SPEC §3: numeric, finite, ≥ 0; everything else ignored."""
    return [v for v in values if isinstance(v, float) and math.isfinite(v) and v >= 0]


def _reference(records):
    frt = [r[3] for r in records]
    res = [r[4] for r in records]
    valid_frt = _valid(frt)
    status = [r[5] for r in records]
    sla_met = [f <= SLA[p] for f, p in zip(frt, (r[6] for r in records)) if f in valid_frt]
    return {
        "volume": len(records),
        "frt_rate": (sum(v <= 3 for v in valid_frt) / len(valid_frt)) if valid_frt else None,
        "frt_avg": float(np.mean(valid_frt)) if valid_frt else None,
        "frt_p90": float(np.percentile(valid_frt, 90, method="linear")) if valid_frt else None,
        "resolve_median": float(np.median(_valid(res))) if _valid(res) else None,
        # a blank status falls back to having a resolution time (metrics.is_resolved)
        "resolution_rate": sum(s in ("已解决", "已关闭") or (s is None and r in _valid(res))
                               for s, r in zip(status, res)) / len(records),
        "sla_rate": (sum(sla_met) / len(sla_met)) if sla_met else None,
    }


def _check(ds, records):
    got = kpis.headline(ds)
    for key, expected in _reference(records).items():
        if expected is None:
            assert math.isnan(got[key]), key
        else:
            assert abs(got[key] - expected) < 1e-9, (key, got[key], expected)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(row, min_size=1, max_size=30))
def test_xlsx_with_title_row(tmp_path_factory, rows):
    records = _records(rows)
    path = tmp_path_factory.mktemp("e2e") / "book.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "响应时间统计表"
    ws.append(["客户服务响应时间统计表"])
    ws.append(HEADERS)
    for r in records:
        ws.append(r)
    for cell in ws["D"] + ws["E"]:  # Excel error cells, as Excel itself stores them
        if cell.value == "#N/A":
            cell.data_type = "e"
    wb.save(path)
    _check(load(path), records)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(row, min_size=1, max_size=30), st.sampled_from(["utf-8", "utf-8-sig", "gbk"]))
def test_csv_in_every_encoding(tmp_path_factory, rows, encoding):
    records = _records(rows)
    path = tmp_path_factory.mktemp("e2e") / "export.csv"
    with path.open("w", newline="", encoding=encoding) as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADERS)
        writer.writerows([["" if v is None else v for v in r] for r in records])
    _check(load(path), records)
