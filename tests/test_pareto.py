"""Issue 12 (1): 帕累托 — causes of the records over target, with planted facts.

Expected numbers come from the planted frames with plain pandas (FRT > 3 min on a channel
outside the chat/phone/e-mail classes; resolved past 三级's 1,440 min), never from the code
under test."""
from __future__ import annotations

import unicodedata
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

from cs_xl.analysis import pareto, run
from cs_xl.dataset import DataSet
from cs_xl.params import read_params, write_params
from cs_xl.refresh import refresh
from cs_xl.report import build_report
from cs_xl.settings import DEFAULT_FEEDBACK_CLASSES, Settings
from cs_xl.template import build_template, fill_inputs
from test_alerts_staffing_report import demo_book  # noqa: F401  (the refreshed demo, a fixture)

SHEETS = {"tickets": "响应时间统计表", "feedback": "效果统计表", "calls": "话务记录"}
CAUSES = {"系统延迟": 0.60, "高峰排队": 0.25, "客户未提供完整信息": 0.10, "需二线支持": 0.05}
COMMENTS = ["排队等了很久", "转接了好几次, 等待太久", "系统卡顿, 页面打不开", "客服态度不耐烦", "很满意", None]


def planted(seed: int = 3, n: int = 1200) -> dict[str, pd.DataFrame]:
    """Tickets on APP (the 3-minute fallback target), 三级 (1,440 min to resolve); the slow ones
    (FRT > 3 or resolution > 1,440) carry cause notes drawn 60/25/10/5 %, the fast ones the same
    notes evenly (a note alone does not make a ticket slow)."""
    rng = np.random.default_rng(seed)
    frt = np.round(rng.lognormal(np.log(2.0), 0.8, n), 1)
    resolve = np.round(rng.lognormal(np.log(300), 1.2, n), 1)
    slow = (frt > 3) | (resolve > 1440)
    notes = np.where(slow, rng.choice(list(CAUSES), n, p=list(CAUSES.values())), rng.choice(list(CAUSES), n))
    notes = np.where(rng.random(n) < 0.1, None, notes).astype(object)  # some slow tickets without a note
    t = pd.DataFrame({"ticket_id": [f"T{i:05d}" for i in range(n)], "date": pd.Timestamp("2024-03-04"),
                      "agent_id": rng.choice(["A1", "A2", "A3"], n), "issue_type": rng.choice(["咨询", "投诉", "物流咨询"], n),
                      "frt_min": frt, "resolve_min": resolve, "note": notes, "channel": "APP", "priority": "三级",
                      "status": "已解决"})
    f = pd.DataFrame({"ticket_id": t["ticket_id"].sample(n // 2, random_state=seed).to_numpy()})
    f["rating"] = rng.integers(1, 6, len(f)).astype(float)
    f["comment"] = rng.choice(np.array(COMMENTS, dtype=object), len(f))
    return {"tickets": t, "feedback": f}


def over(t: pd.DataFrame) -> pd.Series:
    return (t["frt_min"] > 3) | (t["resolve_min"] > 1440)


def loaded(frames) -> DataSet:
    return DataSet(tickets=frames["tickets"].assign(_row=range(3, 3 + len(frames["tickets"])), priority=3),
                   feedback=frames["feedback"].assign(_row=range(3, 3 + len(frames["feedback"]))), sheets=SHEETS)


def test_a_cause_of_60_percent_of_slow_tickets_ranks_first_with_its_share():
    frames = planted()
    t = frames["tickets"]
    result = pareto.pareto(loaded(frames), Settings())
    slow = t[over(t)]
    assert result["over"] == len(slow)
    assert result["frt_over"] == int((t["frt_min"] > 3).sum()) and result["late"] == int((t["resolve_min"] > 1440).sum())
    notes = next(r for r in result["rankings"] if r.by == "note")
    expected = slow["note"].value_counts()
    assert [(c.cause, c.count) for c in notes.causes] == list(expected.items())
    first = notes.causes[0]
    assert first.cause == "系统延迟" and first.share == pytest.approx(expected.iloc[0] / expected.sum())
    assert 0.55 < first.share < 0.65  # the planted 60 %
    cumulative = (expected.cumsum() / expected.sum()).tolist()
    assert [c.cumulative for c in notes.causes] == pytest.approx(cumulative)
    # the vital few: every cause whose predecessors are still short of 80 %
    assert [c.vital for c in notes.causes] == [before < 0.8 for before in [0.0, *cumulative[:-1]]]
    assert notes.without == int(slow["note"].isna().sum())
    issue = next(r for r in result["rankings"] if r.by == "issue_type")
    assert dict((c.cause, c.count) for c in issue.causes) == slow["issue_type"].value_counts().to_dict()


def expected_classes(frames) -> dict[str, int]:
    """Plain keyword counting of the comments on slow tickets with the default table."""
    t, f = frames["tickets"], frames["feedback"]
    on_slow = f[f["ticket_id"].isin(t.loc[over(t), "ticket_id"])]["comment"].dropna()
    out: dict[str, int] = {}
    for comment in on_slow:
        hits = {name: sum(comment.count(k) for k in words) for name, words in DEFAULT_FEEDBACK_CLASSES}
        name, n = max(hits.items(), key=lambda kv: kv[1])  # ties: the first class (dicts keep the order)
        if n:
            out[name] = out.get(name, 0) + 1
    return out


def test_feedback_comments_of_slow_tickets_are_classed_process_people_tools():
    frames = planted()
    result = pareto.pareto(loaded(frames), Settings())
    classes = next(r for r in result["rankings"] if r.by == "feedback_class")
    expected = expected_classes(frames)
    assert {c.cause: c.count for c in classes.causes} == expected
    assert classes.causes[0].cause == "流程"  # 排队 / 转接 / 等待: two of the four complaint texts
    t, f = frames["tickets"], frames["feedback"]
    on_slow = f[f["ticket_id"].isin(t.loc[over(t), "ticket_id"])]
    assert classes.without == int(on_slow["comment"].isna().sum())
    assert classes.unclassified == int((on_slow["comment"] == "很满意").sum())


def test_the_keyword_table_of_params_decides_the_classes():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "参数"
    write_params(ws, Settings())
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    at = next(i for i, r in enumerate(rows) if r[4] == "feedback_classes")
    assert rows[at + 1][:2] == ["分类", "关键词"] and rows[at + 2][0] == "流程"
    for r in range(at + 2, at + 5):  # the defaults replaced by one class of the users' own
        rows[r][:2] = [None, None]
    rows[at + 2][:2] = ["表扬", "满意, thanks"]
    settings = read_params(rows)
    assert settings.feedback_classes == (("表扬", ("满意", "thanks")),)
    frames = planted()
    classes = next(r for r in pareto.pareto(loaded(frames), settings)["rankings"] if r.by == "feedback_class")
    t, f = frames["tickets"], frames["feedback"]
    praise = f[f["ticket_id"].isin(t.loc[over(t), "ticket_id"]) & (f["comment"] == "很满意")]
    assert [(c.cause, c.count) for c in classes.causes] == [("表扬", len(praise))]


def test_english_template_names_the_default_classes_in_english_and_reads_them_back():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Settings"
    write_params(ws, Settings(), "en")
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    at = next(i for i, r in enumerate(rows) if r[4] == "feedback_classes")
    assert [r[0] for r in rows[at + 1:at + 5]] == ["Class", "Process", "People", "Tools"]
    assert read_params(rows).feedback_classes == DEFAULT_FEEDBACK_CLASSES  # the same classes, named in English


def test_classify_takes_the_class_with_most_hits():
    classes = (("流程", ("排队", "等待")), ("工具", ("系统",)))
    assert pareto.classify("系统卡, 排队, 等待", classes) == "流程"
    assert pareto.classify("系统卡, 排队", classes) == "流程"  # a tie: the first class of the table
    assert pareto.classify("SYSTEM down", (("工具", ("system",)),)) == "工具"
    assert pareto.classify(None, classes) is None


def pareto_lines(ds: DataSet) -> list[str]:
    sheet = next(s for s in build_report(ds, Settings(), lang="zh").sheets if s.key == "pareto")
    return [line for b in sheet.blocks for line in getattr(b, "lines", [])]


def test_over_target_tickets_without_a_cause_column_are_not_called_none_over_target():
    """Tickets over target but with no 问题类型/备注/评价内容: the sheet says there is no cause to
    rank — not that no ticket is over target (a 10M history without those columns said so)."""
    t = planted()["tickets"].drop(columns=["issue_type", "note"])
    assert over(t).sum() > 0
    lines = pareto_lines(DataSet(tickets=t.assign(_row=range(3, 3 + len(t)), priority=3), sheets=SHEETS))
    assert any("没有可排序的原因" in line for line in lines)
    assert not any("没有超时的记录" in line for line in lines)
    fast = t.assign(frt_min=1.0, resolve_min=10.0, _row=range(3, 3 + len(t)), priority=3)
    assert any("没有超时的记录" in line for line in pareto_lines(DataSet(tickets=fast, sheets=SHEETS)))


def test_report_and_json_name_the_leading_cause():
    frames = planted()
    ds = loaded(frames)
    rep = build_report(ds, Settings(), lang="zh")
    sheet = next(s for s in rep.sheets if s.key == "pareto")
    assert sheet.name == "帕累托"
    lines = [line for b in sheet.blocks for line in getattr(b, "lines", [])]
    t = frames["tickets"]
    notes = t[over(t)]["note"].value_counts()
    share = notes.iloc[0] / notes.sum()
    said = f"超时工单中备注原因「系统延迟」最多: {notes.iloc[0]} 条, 占 {share:.1%}"
    assert any(said in line and "「帕累托」" in line for line in lines)
    results = run.to_json(run.analyze(ds, Settings(), ["pareto"]))
    assert results["pareto"]["rankings"][1]["causes"][0] == {
        "cause": "系统延迟", "count": int(notes.iloc[0]), "share": pytest.approx(share),
        "cumulative": pytest.approx(share), "vital": True}


def test_refreshed_book_has_the_pareto_sheet_numbers_and_a_bar_plus_line_chart(tmp_path):
    frames = planted()
    wb = build_template("zh")
    fill_inputs(wb, frames, "zh")
    path = tmp_path / "book.xlsx"
    wb.save(path)
    refresh(path, progress=lambda *a: None)
    book = openpyxl.load_workbook(path)
    ws = book["帕累托"]
    column = [c.value for c in ws["A"]]
    at = column.index("按备注原因")
    header = column.index("排名", at) + 1   # 1-based
    rows = [[ws.cell(r, c).value for c in range(1, 8)] for r in range(header + 1, header + 5)]
    t = frames["tickets"]
    notes = t[over(t)]["note"].value_counts()
    assert [(r[1], r[2]) for r in rows] == list(notes.items())
    assert [r[4] for r in rows] == pytest.approx((notes.cumsum() / notes.sum()).tolist())
    assert all(r[5] == 0.8 for r in rows)
    assert len(ws._charts) == 3  # one per ranking
    with zipfile.ZipFile(path) as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    combos = [c for c in charts if "<c:barChart>" in c and "<c:lineChart>" in c]
    assert len(combos) == 3 and all(c.count("<c:valAx>") == 2 for c in combos)
    assert "帕累托" in book.sheetnames and book.sheetnames.index("帕累托") < book.sheetnames.index("数据质量")


# ---------------------------------------------------------------- the refreshed demo, reopened

def minutes(cell) -> float:
    """A duration cell as the demo's documented dirty cells mean it ("5分钟", "５", "3 min", "1.5h", #N/A, −12)."""
    if cell is None:
        return float("nan")
    text = unicodedata.normalize("NFKC", str(cell)).strip()
    factor = 60.0 if text.endswith("h") else 1.0
    text = text.removesuffix("h").removesuffix("min").removesuffix("分钟").strip()
    try:
        value = float(text) * factor
    except ValueError:
        return float("nan")
    return value if value >= 0 else float("nan")


LEVELS = {"一级": 1, "二级": 2, "三级": 3, "四级": 4, "L1": 1, "P2": 2, "紧急": 1}
DEADLINE = {1: 60.0, 2: 240.0, 3: 1440.0, 4: 2880.0}   # 参数 defaults; unknown or blank: 三级
CHANNEL_TARGET = {"在线": 1.0, "电话": 3.0, "邮件": 240.0}  # the demo's chat/phone/e-mail channels; others 3


def sheet_frame(wb, name: str, header_has: str) -> pd.DataFrame:
    rows = list(wb[name].iter_rows(values_only=True))
    at = next(i for i, r in enumerate(rows) if r and header_has in r)
    return pd.DataFrame(rows[at + 1:], columns=rows[at]).dropna(how="all")


def demo_over_target(wb) -> pd.DataFrame:
    t = sheet_frame(wb, "响应时间统计表", "客户类型").drop_duplicates("工单编号", keep="last")
    frt = t["首次响应时间(分钟)"].map(minutes)
    resolve = t["问题解决时间(分钟)"].map(minutes)
    target = t["渠道"].map(CHANNEL_TARGET).fillna(3.0)
    deadline = t["优先级"].map(LEVELS).fillna(3).map(DEADLINE)
    resolved = t["状态"].isin(["已解决", "已关闭"]) & resolve.notna()
    return t[(frt > target + 1e-9) | (resolved & (resolve > deadline + 1e-9))]


def test_demo_pareto_sheet_and_report_match_the_input_sheets(demo_book):
    wb = openpyxl.load_workbook(demo_book)
    slow = demo_over_target(wb)
    ws = wb["帕累托"]
    column = [c.value for c in ws["A"]]

    def ranking(title):
        header = column.index("排名", column.index(title)) + 1
        out, r = [], header + 1
        while ws.cell(r, 1).value is not None:
            out.append((ws.cell(r, 2).value, ws.cell(r, 3).value))
            r += 1
        return out
    notes = slow["备注"].dropna().value_counts()
    assert ranking("按备注原因") == sorted(notes.items(), key=lambda kv: (-kv[1], kv[0]))
    f = sheet_frame(wb, "效果统计表", "评价内容")
    comments = f[f["工单编号"].isin(slow["工单编号"])]["评价内容"].dropna()
    expected: dict[str, int] = {}
    for comment in comments:
        hits = {name: sum(comment.count(k) for k in words) for name, words in DEFAULT_FEEDBACK_CLASSES}
        name, n = max(hits.items(), key=lambda kv: kv[1])
        if n:
            expected[name] = expected.get(name, 0) + 1
    shown = ranking("按评价分类 (流程 / 人员 / 工具)")
    assert dict(shown) == expected and shown[0][0] == "流程"  # the demo's planted leading class
    assert len(ws._charts) == 3
    report = "\n".join(r[0] for r in wb["分析报告"].iter_rows(values_only=True) if r and r[0])
    total = sum(expected.values())
    assert (f"超时工单中评价分类「流程」最多: {expected['流程']} 条, 占 {expected['流程'] / total:.1%} (共 {total} 条"
            in report and "(依据: 「帕累托」)" in report)
