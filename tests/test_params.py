"""The 参数 sheet: write ⇄ read round trips, layouts, and error messages."""
from __future__ import annotations

import dataclasses
import datetime as dt

import openpyxl
import pytest

from cs_xl.params import ParamsError, read_params, read_params_from_book, write_params
from cs_xl.settings import DEFAULT_TARGETS, Change, Settings


def custom_settings() -> Settings:
    """A Settings object where every field differs from the default."""
    targets = {k: (v * 0.5 if v < 1 else v + 7, "<=" if d == ">=" else ">=") for k, (v, d) in DEFAULT_TARGETS.items()}
    targets["csat_avg"] = (4.5, ">=")  # a target beyond the defaults
    return Settings(
        period_start=dt.date(2024, 3, 4), period_end=dt.date(2024, 5, 26),
        teams=("在线一组", "电话客服组"), channels=("APP", "小程序"), customer_types=("VIP",),
        issue_types=("投诉", "技术故障"), modules=("物流",), min_tenure_months=3.0,
        frt_threshold_min=2.5, frt_channel_min={"chat": 0.5, "phone": 2.0, "email": 480.0},
        sla_min={1: 4.0, 2: 8.0, 3: 20.0, 4: 45.0},
        resolve_deadline_min={1: 50.0, 2: 200.0, 3: 1000.0, 4: 3000.0}, default_priority=2,
        service_level_s=30.0, short_abandon_s=5.0, repeat_days=14, target_service_level=0.75,
        targets=targets, alert_wait_factor=1.5, alert_queue_max=80, mask_names=True,
        timezone="Asia/Hong_Kong", lang="en",
        clock_mode="business", business_open=dt.time(8, 30), business_close=dt.time(17, 30),
        trend_periods=3, trend_min_change=0.05, trend_min_records=50, agent_baseline_weeks=6, agent_shift=0.4,
        agent_min_records=20, streak_months=2, staffing_gap_min=0.5, staffing_min_calls=2.0,
        compare_window_days=14, compare_confidence=0.9, compare_resamples=500, compare_min_records=5,
        changes=(Change("知识库更新", dt.date(2024, 4, 15), "fcr_rate", (("issue_type", ("物流咨询",)),)),
                 Change("排班调整", dt.date(2024, 4, 1), "frt_median",
                        (("channel", ("APP", "小程序")), ("customer_type", ("VIP",))))),
        segment_columns=("channel", "team", "issue_type"), segment_alpha=0.01, segment_min_effect=0.3,
        segment_min_records=50, pareto_line=0.7,
        feedback_classes=(("流程", ("排队", "转接")), ("系统", ("卡顿", "crash"))),
    )


def test_custom_settings_change_every_field():
    # guards the round-trip test: a new Settings field must get a non-default value here
    default, custom = Settings(), custom_settings()
    same = [f.name for f in dataclasses.fields(Settings) if getattr(default, f.name) == getattr(custom, f.name)]
    assert same == []


def sheet_with(settings: Settings, lang: str = "zh"):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "参数" if lang == "zh" else "Settings"
    write_params(ws, settings, lang)
    return wb, ws


def values(ws):
    return [list(r) for r in ws.iter_rows(values_only=True)]


def row_of(ws, key: str) -> int:
    for row in ws.iter_rows(min_col=5, max_col=5):
        if row[0].value == key:
            return row[0].row
    raise KeyError(key)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_round_trip_through_saved_book(tmp_path, lang):
    wb, ws = sheet_with(custom_settings(), lang)
    path = tmp_path / "p.xlsx"
    wb.save(path)
    assert read_params_from_book(path) == custom_settings()            # python-calamine
    reopened = openpyxl.load_workbook(path)[ws.title]
    assert read_params(values(reopened), sheet=ws.title) == custom_settings()  # openpyxl values


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_defaults_round_trip(tmp_path, lang):
    wb, ws = sheet_with(Settings(), lang)
    wb.save(tmp_path / "d.xlsx")
    assert read_params_from_book(tmp_path / "d.xlsx") == Settings()


def test_layouts_differ_only_in_labels():
    _, zh = sheet_with(Settings(), "zh")
    _, en = sheet_with(Settings(), "en")
    assert zh["A2"].value == "参数" and zh["B2"].value == "值" and zh["E2"].value == "key"
    assert en["A2"].value == "Parameter" and en["B2"].value == "Value" and en["E2"].value == "key"
    zh_keys = [r[4] for r in values(zh)[2:]]
    en_keys = [r[4] for r in values(en)[2:]]
    assert zh_keys == en_keys
    assert zh.cell(row_of(zh, "frt_threshold_min"), 1).value == "首次响应达标阈值(分钟)"
    assert en.cell(row_of(en, "frt_threshold_min"), 1).value == "FRT threshold (min)"
    assert zh.cell(row_of(zh, "mask_names"), 2).value == "否"
    assert en.cell(row_of(en, "mask_names"), 2).value == "No"


def test_sections_are_bold_headings_in_order():
    _, ws = sheet_with(Settings())
    # (a table's header row is bold too, but fills more than its first cell)
    headings = [r[0].value for r in ws.iter_rows(min_row=3) if r[0].font.bold and r[4].value is None
                and r[1].value is None]
    assert headings == ["统计周期", "统计范围", "指标参数", "目标", "预警规则", "客群差异", "帕累托", "计时规则", "显示", "优化前后对比"]


def test_every_settings_field_has_a_row():
    _, ws = sheet_with(Settings())
    keys = {r[4] for r in values(ws)[2:] if r[4]}
    fields_seen = {k.split(".")[0] if not k.startswith("target.") else "targets" for k in keys}
    fields_seen.discard("period_month")
    assert fields_seen == {f.name for f in dataclasses.fields(Settings)}
    assert {f"sla_min.{n}" for n in range(1, 5)} <= keys
    assert {f"resolve_deadline_min.{n}" for n in range(1, 5)} <= keys
    assert {"frt_channel_min.chat", "frt_channel_min.phone", "frt_channel_min.email"} <= keys
    assert {f"target.{k}" for k in DEFAULT_TARGETS} <= keys


def test_channel_targets_are_stated_strictest_first_and_read_back():
    """Seed 004: chat strictest, phone next, e-mail loosest; the defaults are shown on 参数."""
    _, ws = sheet_with(Settings())
    shown = {key: ws.cell(row=row_of(ws, key), column=2).value for key in
             ("frt_channel_min.chat", "frt_channel_min.phone", "frt_channel_min.email", "frt_threshold_min")}
    assert shown["frt_channel_min.chat"] < shown["frt_channel_min.phone"] < shown["frt_channel_min.email"]
    assert shown["frt_threshold_min"] == 3
    ws.cell(row=row_of(ws, "frt_channel_min.email"), column=2, value="8小时")
    ws.cell(row=row_of(ws, "frt_channel_min.chat"), column=2, value=None)  # blank = default
    got = read_params(list(ws.iter_rows(values_only=True)))
    assert got.frt_channel_min == {"chat": 1.0, "phone": 3.0, "email": 480.0}


def test_validations_on_flags_directions_and_numbers():
    _, ws = sheet_with(Settings())
    rules = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            for row in range(rng.min_row, rng.max_row + 1):
                rules[f"{openpyxl.utils.get_column_letter(rng.min_col)}{row}"] = dv
    flag = rules[f"B{row_of(ws, 'mask_names')}"]
    assert flag.type == "list" and flag.formula1 == '"是,否"'
    direction = rules[f"C{row_of(ws, 'target.frt_rate')}"]
    assert direction.type == "list" and direction.formula1 == '"≥,≤"'
    threshold = rules[f"B{row_of(ws, 'frt_threshold_min')}"]
    assert threshold.type == "decimal" and threshold.formula1 == "0"
    assert rules[f"B{row_of(ws, 'period_start')}"].type == "date"
    assert rules[f"B{row_of(ws, 'repeat_days')}"].type == "whole"


def edited(key: str, value, column: int = 2, settings: Settings | None = None):
    _, ws = sheet_with(settings or Settings())
    row = row_of(ws, key)
    ws.cell(row, column).value = value
    return ws, row


def test_blank_values_mean_defaults():
    _, ws = sheet_with(custom_settings())
    for row in ws.iter_rows(min_row=3):
        if row[4].value:  # a keyed row (a table's rows are its items, not values)
            row[1].value = None
            row[2].value = None
    # blank target values and directions fall back to the defaults too; the extra
    # csat_avg target has no default, so its blank row leaves it out
    assert read_params(values(ws)) == Settings(changes=custom_settings().changes,
                                               feedback_classes=custom_settings().feedback_classes)


def test_month_is_the_calendar_month():
    ws, _ = edited("period_month", "2024-02")
    s = read_params(values(ws))
    assert (s.period_start, s.period_end) == (dt.date(2024, 2, 1), dt.date(2024, 2, 29))  # 2024 is a leap year


@pytest.mark.parametrize("typed", ["2024年3月", "2024/3", "202403", dt.datetime(2024, 3, 1)])
def test_month_spellings(typed):
    # Excel turns a typed 2024-03 into the date 2024-03-01 unless the cell is text
    ws, _ = edited("period_month", typed)
    s = read_params(values(ws))
    assert (s.period_start, s.period_end) == (dt.date(2024, 3, 1), dt.date(2024, 3, 31))


def test_month_conflicting_with_start_date_is_an_error():
    ws, row = edited("period_month", "2024-03")
    ws.cell(row_of(ws, "period_start"), 2).value = dt.date(2024, 2, 1)
    with pytest.raises(ParamsError, match=rf"参数!B{row} 统计月份（自然月）: '2024-03' conflicts with period_start"):
        read_params(values(ws))


def test_end_date_before_start_date_is_an_error():
    ws, row = edited("period_end", dt.date(2024, 3, 1))
    ws.cell(row_of(ws, "period_start"), 2).value = dt.date(2024, 3, 31)
    with pytest.raises(ParamsError, match=rf"参数!B{row} 结束日期: '2024-03-01' is before the start date 2024-03-31"):
        read_params(values(ws))
    ws.cell(row, 2).value = dt.date(2024, 3, 31)  # a one-day period is fine
    assert read_params(values(ws)).period_end == dt.date(2024, 3, 31)


def test_bad_number_names_sheet_cell_and_label():
    ws, row = edited("frt_threshold_min", "abc")
    with pytest.raises(ParamsError) as err:
        read_params(values(ws))
    assert str(err.value).startswith(f"参数!B{row} 首次响应达标阈值(分钟): 'abc' is not a number")


def test_bad_values_in_english_sheet_use_its_name():
    _, ws = sheet_with(Settings(), "en")
    row = row_of(ws, "repeat_days")
    ws.cell(row, 2).value = 2.5
    with pytest.raises(ParamsError, match=rf"^Settings!B{row} Repeat complaint days: 2.5 is not a whole number"):
        read_params(values(ws), sheet="Settings")


@pytest.mark.parametrize("key,value,message", [
    ("sla_min.1", -3, "is not a number ≥ 0"),
    ("period_start", "下周一", "is not a date"),
    ("mask_names", "也许", "is not 是/否"),
    ("default_priority", "五级", "is not a priority"),
    ("timezone", "Beijing", "is not a time zone"),
    ("lang", "日本語", "is not 中文 or English"),
    ("target.frt_rate", "#N/A", "is not a number"),
    ("target.frt_rate", 250, "is not a share"),
    ("period_month", "2024-13", "is not a month"),
])
def test_bad_values(key, value, message):
    ws, row = edited(key, value)
    with pytest.raises(ParamsError, match=rf"^参数!B{row} .*{message}"):
        read_params(values(ws))


def test_bad_direction_names_its_column():
    ws, row = edited("target.avg_wait", "=", column=3)
    with pytest.raises(ParamsError, match=rf"^参数!C{row} 平均等待时长: '=' is not ≥ or ≤"):
        read_params(values(ws))


def test_unknown_key_is_reported():
    ws, row = edited("frt_threshold_min", "frt_treshold", column=5)
    with pytest.raises(ParamsError, match=rf"^参数!E{row} .*'frt_treshold' is not a known parameter key"):
        read_params(values(ws))


@pytest.mark.parametrize("typed,expected", [("85%", 0.85), (85, 0.85), (0.85, 0.85), ("８５％", 0.85)])
def test_rate_targets_accept_percent_spellings(typed, expected):
    ws, _ = edited("target.csat_rate", typed)
    assert read_params(values(ws)).targets["csat_rate"] == (pytest.approx(expected), ">=")


def test_durations_with_units_are_converted():
    ws, _ = edited("sla_min.2", "0.25h")        # 0.25 × 60 = 15 minutes
    ws.cell(row_of(ws, "service_level_s"), 2).value = "1分"  # 60 seconds
    s = read_params(values(ws))
    assert s.sla_min[2] == 15.0 and s.service_level_s == 60.0


def test_lists_accept_chinese_separators():
    ws, _ = edited("teams", "在线一组，在线二组、 电话组")
    assert read_params(values(ws)).teams == ("在线一组", "在线二组", "电话组")


def test_direction_change_alone_keeps_default_value():
    ws, row = edited("target.frt_rate", None)
    ws.cell(row, 3).value = "<="
    assert read_params(values(ws)).targets["frt_rate"] == (0.90, "<=")


def test_rows_without_key_are_read_by_label():
    ws, row = edited("frt_threshold_min", 4)
    ws.cell(row, 5).value = None
    assert read_params(values(ws)).frt_threshold_min == 4.0


def test_first_row_offset_in_messages():
    ws, row = edited("alert_queue_max", "很多")
    rows = values(ws)[1:]  # as if the range started on row 2
    with pytest.raises(ParamsError, match=rf"^参数!B{row} "):
        read_params(rows, first_row=2)


def test_no_header_row_is_an_error():
    with pytest.raises(ParamsError, match="no header row"):
        read_params([["a", "b"], [1, 2]])


def test_book_without_settings_sheet(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "响应时间统计表"
    wb.save(tmp_path / "b.xlsx")
    assert read_params_from_book(tmp_path / "b.xlsx") is None


# ---------------------------------------------------------------- clock rows (issue 11)

def _clock_rows(mode, opens, closes):
    from cs_xl.params import read_params
    rows = [["参数", "值", "方向", "说明", "key"],
            ["计时方式", mode, None, None, "clock_mode"],
            ["工作时间开始", opens, None, None, "business_open"],
            ["工作时间结束", closes, None, None, "business_close"]]
    return read_params(rows)


def test_clock_rows_read_words_times_and_day_fractions():
    import datetime as dt
    s = _clock_rows("工作时间", "8:30", 0.75)   # 0.75 of a day = 18:00 (Excel time cell)
    assert (s.clock_mode, s.business_open, s.business_close) == ("business", dt.time(8, 30), dt.time(18, 0))
    assert s.clock().minutes(dt.datetime(2024, 3, 1, 17, 30), dt.datetime(2024, 3, 4, 9, 30)) == 90
    assert _clock_rows("calendar", None, None).clock_mode == "calendar"


def test_bad_clock_rows_name_the_cell():
    import pytest
    from cs_xl.params import ParamsError
    with pytest.raises(ParamsError, match=r"参数!B2 计时方式: '每周' is not 自然时间 or 工作时间"):
        _clock_rows("每周", None, None)
    with pytest.raises(ParamsError, match=r"参数!B4 工作时间结束: '08:00' business hours must close after"):
        _clock_rows("工作时间", "09:00", "08:00")


def test_clock_rows_round_trip_through_the_sheet():
    import datetime as dt
    from openpyxl import Workbook
    from cs_xl.params import read_params, write_params
    from cs_xl.settings import Settings
    ws = Workbook().active
    write_params(ws, Settings(clock_mode="business", business_open=dt.time(8, 0)), "zh")
    back = read_params([[c.value for c in row] for row in ws.iter_rows()])
    assert (back.clock_mode, back.business_open, back.business_close) == ("business", dt.time(8), dt.time(18))


# ------------------------------------------------------------------ the 优化记录 table (a table held in 参数)

def changes_sheet(*items, lang: str = "zh"):
    """A 参数 sheet with the given 优化记录 rows typed under the table's header row."""
    _, ws = sheet_with(Settings(), lang)
    first = row_of(ws, "changes") + 2
    for r, item in enumerate(items, start=first):
        for c, value in enumerate(item, start=1):
            ws.cell(r, c, value)
    return ws, first


def test_changes_are_read_by_metric_name_key_and_english_name():
    ws, first = changes_sheet(("知识库更新", dt.date(2024, 4, 15), "一次解决率", "问题类型=物流咨询"),
                              ("排班调整", "2024/4/1", "frt_median", None),
                              ("IVR", dt.datetime(2024, 5, 2), "Answer rate", "渠道 = 电话 ; Customer type=VIP，老客户"))
    changes = read_params(values(ws)).changes
    assert changes == (Change("知识库更新", dt.date(2024, 4, 15), "fcr_rate", (("issue_type", ("物流咨询",)),)),
                       Change("排班调整", dt.date(2024, 4, 1), "frt_median"),
                       Change("IVR", dt.date(2024, 5, 2), "answer_rate",
                              (("channel", ("电话",)), ("customer_type", ("VIP", "老客户")))))
    assert [c.row for c in changes] == [first, first + 1, first + 2]


def test_blank_rows_inside_the_table_are_skipped_and_a_heading_ends_it():
    ws, first = changes_sheet(("A", dt.date(2024, 4, 1), "fcr_rate"), (), ("B", dt.date(2024, 4, 2), "csat_rate"))
    ws.cell(first + 5, 1, "显示")  # a section heading after the table: not an item
    ws.cell(first + 6, 1, "渠道")  # … and a row below it labelled like a parameter is read as one (blank value)
    assert [c.measure for c in read_params(values(ws)).changes] == ["A", "B"]


def test_a_row_labelled_like_a_parameter_inside_the_table_is_an_item():
    ws, first = changes_sheet(("渠道", dt.date(2024, 4, 1), "fcr_rate"))
    assert read_params(values(ws)).changes[0].measure == "渠道"


@pytest.mark.parametrize("item, column, message", [
    (("A", "next week", "fcr_rate"), "B", "生效日期: 'next week' is not a date"),
    (("A", dt.date(2024, 4, 1), "speed"), "C", "指标: 'speed' is not a metric"),
    (("A", dt.date(2024, 4, 1), "受理量"), "C", "指标: '受理量' is a count or composite KPI"),
    (("A", dt.date(2024, 4, 1), "NPS"), "C", "is a count or composite KPI"),
    (("A", dt.date(2024, 4, 1), "fcr_rate", "物流咨询"), "D", "范围(可选): '物流咨询' is not a scope"),
    (("A", dt.date(2024, 4, 1), "fcr_rate", "颜色=红"), "D", "is not a scope"),
    (("A", None, "fcr_rate"), "B", "生效日期: None is missing"),
    ((None, dt.date(2024, 4, 1), "fcr_rate"), "A", "措施: None is missing"),
])
def test_bad_change_cells_name_sheet_row_and_column(item, column, message):
    ws, first = changes_sheet(item)
    with pytest.raises(ParamsError) as err:
        read_params(values(ws))
    assert str(err.value).startswith(f"参数!{column}{first} 优化记录 · ")
    assert message in str(err.value)


def test_english_sheet_errors_use_its_headers():
    ws, first = changes_sheet(("A", dt.date(2024, 4, 1), "speed"), lang="en")
    with pytest.raises(ParamsError, match=rf"^参数!C{first} Optimisation log · Metric: 'speed' is not a metric"):
        read_params(values(ws))


def test_the_table_needs_its_header_row():
    _, ws = sheet_with(Settings())
    header = row_of(ws, "changes") + 1
    for c in range(1, 5):
        ws.cell(header, c).value = None
    ws.cell(header + 1, 1, "知识库更新")
    ws.cell(header + 1, 2, dt.date(2024, 4, 1))
    with pytest.raises(ParamsError, match=rf"参数!A{header + 1} 优化记录: '知识库更新' is not the table's header row"):
        read_params(values(ws))


def test_columns_are_found_by_their_headers_in_any_order():
    _, ws = sheet_with(Settings())
    header = row_of(ws, "changes") + 1
    for c, (head, value) in enumerate([("Metric", "fcr_rate"), ("措施", "A"), ("Effective date", dt.date(2024, 4, 1))], 1):
        ws.cell(header, c, head)
        ws.cell(header + 1, c, value)
    ws.cell(header, 4).value = None
    assert read_params(values(ws)).changes == (Change("A", dt.date(2024, 4, 1), "fcr_rate"),)
def test_segment_columns_are_read_by_header_and_a_stranger_is_named():
    wb, ws = sheet_with(Settings())
    r = row_of(ws, "segment_columns")
    ws.cell(row=r, column=2, value="客户类型, Priority；业务模块")
    assert read_params(values(ws)).segment_columns == ("customer_type", "priority", "module")
    ws.cell(row=r, column=2, value="客户类型,年龄段")
    with pytest.raises(ParamsError, match=rf"参数!B{r} 客群维度\(列\): .*'年龄段', not a column of the 响应时间统计表"):
        read_params(values(ws))
