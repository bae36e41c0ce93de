"""The metric registry: entries, definitions rendered from the settings,
composite rules, and adding a metric with one function + one entry."""
import csv
import inspect
import json
import math
import re

import numpy as np
import pandas as pd
import pytest

from cs_xl import catalogue, cli, kpis, metrics, schema
from cs_xl.catalogue import Metric, Parameter
from cs_xl.dataset import ROW, DataSet
from cs_xl.settings import Settings
from cs_xl.template import README_SHEET, build_template

SPEC_KEYS = (  # SPEC §3, in its order
    "volume", "frt_rate", "frt_avg", "frt_median", "frt_p90", "resolve_avg", "resolve_median",
    "resolve_p90", "handle_avg", "sla_rate", "resolution_rate", "ontime_rate", "backlog", "fcr_rate",
    "csat_avg", "csat_rate", "satisfied_rate", "survey_rate", "nps", "attitude_avg", "complaint_rate",
    "repeat_complaint_rate", "offered", "queued", "answer_rate", "abandon_rate", "asa", "avg_wait",
    "service_level", "aht", "ivr_rate", "agents_needed",
)


# ------------------------------------------------------------------ entries

def test_covers_every_spec_key_in_display_order():
    # SPEC §3 plus peak_queue, which the 参数 alert rule 排队人数超过50人 needs (seed 001),
    # and seed 004's two conversation metrics of message-level exports (issue 11)
    assert catalogue.names() == [k for k in list(SPEC_KEYS[:31]) + ["peak_queue", "agents_needed", "avg_response",
                                                                   "online_reply_rate"]]
    assert list(catalogue.METRICS) == catalogue.names()


def test_entries_are_complete():
    for key, m in catalogue.METRICS.items():
        assert m.key == key and callable(m.func)
        assert m.table in ("tickets", "feedback", "calls")
        assert m.fmt in ("pct", "min", "sec", "count", "score", "nps")
        assert m.higher_is_better in (True, False, None)
        assert m.zh and m.en and m.definition("zh") and m.definition("en")


def test_inputs_are_columns_of_the_table_the_function_takes():
    for m in catalogue.METRICS.values():
        known = set(schema.TABLES[m.table].keys) | {ROW}
        assert set(m.inputs) <= known, m.key
        args = list(inspect.signature(m.func).parameters)
        assert all(a in args for a in m.column_args), m.key
        # in the function's own order
        assert [args.index(a) for a in m.column_args] == sorted(args.index(a) for a in m.column_args), m.key


def test_parameters_name_real_settings_fields_and_arguments():
    fields = set(vars(Settings()))
    for m in catalogue.METRICS.values():
        for p in m.params:
            assert p.field in fields, (m.key, p.field)
            assert p.arg in inspect.signature(m.func).parameters, (m.key, p.arg)
    assert catalogue.get("frt_rate").params == (Parameter("threshold", "frt_threshold_min"),
                                                Parameter("channel_limits", "frt_channel_min"))


def test_formats_and_directions():
    get = catalogue.get
    assert (get("frt_rate").fmt, get("frt_avg").fmt, get("asa").fmt, get("nps").fmt) == ("pct", "min", "sec", "nps")
    assert get("frt_avg").higher_is_better is False and get("csat_rate").higher_is_better is True
    assert get("volume").higher_is_better is None


def test_get_names_the_known_keys():
    assert catalogue.get("nps").name("en") == "NPS"
    with pytest.raises(KeyError, match="frt_rate"):
        catalogue.get("frt_ratio")


def test_udf_names():
    assert catalogue.udf_name("frt_rate") == "CS_FRT_RATE"
    assert catalogue.get("agents_needed").udf == "CS_AGENTS_NEEDED"


def test_queue_metrics():
    assert {k for k, m in catalogue.METRICS.items() if m.queue} == {
        "queued", "answer_rate", "abandon_rate", "avg_wait", "service_level", "ivr_rate", "peak_queue",
        "agents_needed"}


# ------------------------------------------------------------------ definitions from the settings

def test_definitions_follow_the_settings():
    s = Settings(frt_threshold_min=5, sla_min={1: 4, 2: 8, 3: 20, 4: 20}, default_priority=2,
                 short_abandon_s=5, repeat_days=14, service_level_s=30, target_service_level=0.9)
    assert "≤5分钟" in catalogue.get("frt_rate").definition("zh", s)
    assert "≤ 5 min" in catalogue.get("frt_rate").definition("en", s)
    assert "一级4、二级8、三/四级20分钟" in catalogue.get("sla_rate").definition("zh", s)
    assert "无优先级按二级" in catalogue.get("sla_rate").definition("zh", s)
    assert "L1 4, L2 8, L3/L4 20 min" in catalogue.get("sla_rate").definition("en", s)
    assert "5秒" in catalogue.get("abandon_rate").definition("zh", s)
    assert "14天内" in catalogue.get("repeat_complaint_rate").definition("zh", s)
    assert "30秒内" in catalogue.get("service_level").definition("zh", s)
    assert "90%在30秒内" in catalogue.get("agents_needed").definition("zh", s)


def test_default_definitions_say_the_defaults():
    assert "≤3分钟" in catalogue.get("frt_rate").definition("zh")
    assert "一级5、二级10、三/四级30分钟" in catalogue.get("sla_rate").definition("zh")
    assert "未设置" in catalogue.get("abandon_rate").definition("zh")
    assert "not set" in catalogue.get("abandon_rate").definition("en")


def test_no_frozen_parameter_prose():
    # "T默认3分钟", "一级5、二级10": parameter values are placeholders, never prose
    for m in catalogue.METRICS.values():
        for template in (m.definition_zh, m.definition_en):
            text = re.sub(r"\{\w+\}", "", template)
            assert "默认" not in text and "default" not in text, m.key
    assert "3" not in catalogue.get("frt_rate").definition_zh
    assert "5" not in catalogue.get("sla_rate").definition_zh


def test_readme_sheet_renders_the_definitions_with_the_template_settings():
    ws = build_template("zh", Settings(frt_threshold_min=5))[README_SHEET["zh"]]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    frt = next(r for r in rows if r[2] == "frt_rate")
    assert "≤5分钟" in frt[1]


# ------------------------------------------------------------------ composite rules (hand-worked)

def _records(**tables):
    return kpis.headline(DataSet(**tables), Settings())


def test_volume_without_ids_counts_rows():
    out = _records(tickets=pd.DataFrame({"frt_min": [1.0, 2.0, 9.0], ROW: [3, 4, 5]}))
    assert out["volume"] == 3


def test_feedback_only_complaint_rate_is_per_record_and_survey_rate_undefined():
    f = pd.DataFrame({"complaint": pd.array([True, False, False, True], dtype="boolean"),
                      "rating": [5.0, 4.0, np.nan, 1.0], ROW: [3, 4, 5, 6]})
    out = _records(feedback=f)
    assert out["complaint_rate"] == 2 / 4
    assert math.isnan(out["survey_rate"])
    t = pd.DataFrame({"ticket_id": ["A", "B", "C", "D", "E"], ROW: [3, 4, 5, 6, 7]})
    both = _records(tickets=t, feedback=f)
    assert both["complaint_rate"] == 2 / 5 and both["survey_rate"] == 3 / 5


def test_queued_without_ivr_is_offered():
    c = pd.DataFrame({"answered": pd.array([True, False, True], dtype="boolean"), ROW: [3, 4, 5]})
    out = _records(calls=c)
    assert out["offered"] == out["queued"] == 3
    assert math.isnan(out["ivr_rate"])


def test_agents_needed_from_the_busiest_slot_and_aht():
    # Monday 09:00 holds 100 calls on one Monday; AHT 180 s → A = 5 Erlangs → 8 agents (metrics docstring)
    start = pd.Timestamp("2024-03-04 09:00") + pd.to_timedelta(np.arange(100) * 30, unit="s")
    c = pd.DataFrame({"start": start, "answered": pd.array([True] * 100, dtype="boolean"),
                      "talk_s": [180.0] * 100, ROW: np.arange(100) + 3})
    assert _records(calls=c)["agents_needed"] == 8


def test_grouped_computes_only_the_requested_keys(ds=None):
    t = pd.DataFrame({"team": ["A", "A", "B"], "frt_min": [1.0, 5.0, 2.0], ROW: [3, 4, 5]})
    frame = kpis.grouped(DataSet(tickets=t), Settings(), "team", keys=["frt_rate", "volume"])
    assert list(frame.columns) == ["frt_rate", "volume"]
    assert frame.loc["A"].tolist() == [0.5, 2] and frame.loc["B"].tolist() == [1.0, 1]


# ------------------------------------------------------------------ adding a metric

def long_talk_share(talk, limit=600):
    """Share of calls with talk ≥ limit seconds (a metric defined only in this test)."""
    x = metrics._inputs(talk=(talk, "seconds"))["talk"]
    valid = ~np.isnan(x)
    return float((x[valid] >= limit).mean()) if valid.any() else math.nan


@pytest.fixture
def new_metric():
    m = catalogue.register(Metric(
        "long_talk_share", long_talk_share, "calls", ("talk_s",), "pct", False, "长通话占比", "Long talk share",
        "通话≥{service_level_s}的来电占比", "Calls talking ≥ {service_level_s}",
        params=(Parameter("limit", "service_level_s"),)))
    yield m
    catalogue.unregister(m.key)


def test_a_registered_metric_reaches_kpis_json_the_readme_and_the_docs(new_metric, tmp_path, capsys):
    from cs_xl import metric_docs
    path = tmp_path / "calls.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([["呼入时间", "是否接通", "通话时长(秒)"],
                                  ["2024-03-01 09:00", "是", "10"], ["2024-03-01 09:05", "是", "25"],
                                  ["2024-03-01 09:09", "是", "30"], ["2024-03-01 09:30", "否", ""]])
    assert cli.main(["kpis", str(path), "--json", "--threshold", "3"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["long_talk_share"] == pytest.approx(2 / 3)  # 25 and 30 of 10, 25, 30 reach 20 s
    ws = build_template("zh")[README_SHEET["zh"]]
    assert ["长通话占比", "通话≥20秒的来电占比", "long_talk_share"] in [[c.value for c in r][:3] for r in ws.iter_rows()]
    assert "CS_LONG_TALK_SHARE" in metric_docs.markdown() and "long_talk_share" in metric_docs.markdown()


def test_register_refuses_a_duplicate_key():
    with pytest.raises(ValueError, match="already registered"):
        catalogue.register(catalogue.get("nps"))
