"""Timesheet files: CSV/XLSX in English and Chinese, row errors (cells, long days, future and early dates,
repeats) and idempotent ids."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timezone
from pathlib import Path

import openpyxl

from pipelines.timesheets.parse import RowError, TimesheetParse, TimesheetRules, parse_timesheet
from tests.conftest import write_config
from warehouse.settings import TimesheetSource, load_settings

ENGLISH_CSV = (
    "Name,Email,Date,Hours,Task,Comment\n"
    "Ada Lovelace,ada@example.com,2024-01-31,8,ERP-12,analysis\n"
    "Ada Lovelace,ada@example.com,2024/2/1,\"7,5\",ERP-13,\n"
    "Bob,,2024-02-01,1.25h,,standup\n"
)


def _xlsx(rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_english_csv_with_bom():
    result = parse_timesheet(("\ufeff" + ENGLISH_CSV).encode("utf-8"), "jan.csv", "ts")
    assert isinstance(result, TimesheetParse)
    assert result.errors == []
    worklogs = result.rows["worklogs"]
    assert [(w["person_id"], w["started_at"], w["hours"], w["task_key"], w["comment"]) for w in worklogs] == [
        ("ts:ada@example.com", datetime(2024, 1, 31), 8.0, "ERP-12", "analysis"),
        ("ts:ada@example.com", datetime(2024, 2, 1), 7.5, "ERP-13", None),
        ("ts:Bob", datetime(2024, 2, 1), 1.25, None, "standup"),
    ]
    assert all(w["task_id"] is None and w["origin"] == "timesheet" and w["source"] == "ts" for w in worklogs)
    assert len({w["worklog_id"] for w in worklogs}) == 3
    assert result.rows["identities"] == [
        {"identity_id": "ts:ada@example.com", "source": "ts", "account": "ada@example.com",
         "display_name": "Ada Lovelace", "email": "ada@example.com"},
        {"identity_id": "ts:Bob", "source": "ts", "account": "Bob", "display_name": "Bob", "email": None},
    ]


def test_chinese_gbk_csv_with_title_row_and_row_errors():
    text = (
        "2024年1月工时表,,,,\n"
        "姓名,日期,工时(小时),任务编号,备注\n"
        "张三,2024年1月31日,8,ERP-12,开发\n"
        ",2024-01-31,4,ERP-1,\n"
        "李四,31/01/2024,abc,ERP-2,\n"
        "王五,2024-02-01,-1,,\n"
        "王五,2024-02-02,25,,\n"
        ",,,,\n"
        "合计,,8,,\n"
    )
    result = parse_timesheet(text.encode("gbk"), "一月.csv", "ts")
    assert [(w["person_id"], w["started_at"], w["task_key"], w["comment"]) for w in result.rows["worklogs"]] == [
        ("ts:张三", datetime(2024, 1, 31), "ERP-12", "开发"),
    ]
    assert result.errors == [
        RowError(4, "姓名", "", "missing person"),
        RowError(5, "日期", "31/01/2024", result.errors[1].reason),
        RowError(5, "工时(小时)", "abc", "hours is not a number"),
        RowError(6, "工时(小时)", "-1", "hours is negative"),
        RowError(7, "工时(小时)", "25", "hours is more than 24 in one day"),
    ]
    assert "unparseable date" in result.errors[1].reason


def test_xlsx_with_date_cells_times_and_serials():
    data = _xlsx([
        ["员工", "邮箱", "日期", "工时", "任务"],
        ["张三", "zhang@example.com", date(2024, 3, 1), 6, "ERP-7"],
        ["张三", "zhang@example.com", datetime(2024, 3, 4, 0, 0), time(7, 30), "ERP-7"],
        ["李四", None, 45355, "2", 12],
        ["李四", None, "not a date", 2, None],
    ])
    result = parse_timesheet(data, "march.xlsx", "ts")
    assert [(w["person_id"], w["started_at"], w["hours"], w["task_key"]) for w in result.rows["worklogs"]] == [
        ("ts:zhang@example.com", datetime(2024, 3, 1), 6.0, "ERP-7"),
        ("ts:zhang@example.com", datetime(2024, 3, 4), 7.5, "ERP-7"),
        ("ts:李四", datetime(2024, 3, 4), 2.0, "12"),
    ]
    assert result.errors == [RowError(5, "日期", "not a date", result.errors[0].reason)]


def test_xlsx_row_numbers_count_blank_and_title_rows():
    data = _xlsx([["Team timesheet"], [], ["Person", "Date", "Hours"], ["Ann", "2024-05-02", 30]])
    result = parse_timesheet(data, "may.xlsx", "ts")
    assert result.errors == [RowError(4, "Hours", "30", "hours is more than 24 in one day")]


def test_missing_required_column_is_one_error_naming_file_and_headers():
    result = parse_timesheet(b"Name,Date,Task\nAnn,2024-01-02,ERP-1\nBob,2024-01-02,ERP-2\n", "bad.csv", "ts")
    assert result.rows["worklogs"] == []
    (error,) = result.errors
    assert error.row == 1
    assert "bad.csv" in error.reason and "hours" in error.reason and "工时" in error.reason


def test_column_map_names_unusual_headers():
    data = b"Consultant;Day;Billable;Ticket\nAnn;2024-01-02;3;ERP-1\n"
    mapping = {"Consultant": "person", "Day": "date", "Billable": "hours", "Ticket": "task"}
    result = parse_timesheet(data, "export.csv", "ts", column_map=mapping)
    assert result.errors == []
    (worklog,) = result.rows["worklogs"]
    assert (worklog["person_id"], worklog["hours"], worklog["task_key"]) == ("ts:Ann", 3.0, "ERP-1")
    reversed_map = {field: header for header, field in mapping.items()}
    assert parse_timesheet(data, "export.csv", "ts", column_map=reversed_map).rows == result.rows


def test_missing_column_error_names_the_configured_header():
    data = b"Consultant,Day\nAnn,2024-01-02\n"
    (error,) = parse_timesheet(data, "x.csv", "ts", column_map={"Consultant": "person", "Billable": "hours"}).errors
    assert "hours: Billable, hours" in error.reason


def test_worklog_ids_are_stable_across_reimport_and_edits_elsewhere():
    first = parse_timesheet(ENGLISH_CSV.encode(), "jan.csv", "ts")
    again = parse_timesheet(ENGLISH_CSV.encode(), "jan-copy.csv", "ts")
    assert [w["worklog_id"] for w in first.rows["worklogs"]] == [w["worklog_id"] for w in again.rows["worklogs"]]
    lines = ENGLISH_CSV.splitlines()
    edited = "\n".join([lines[0], "Cy,,2024-01-30,2,,", *reversed(lines[1:])]) + "\n"
    edited_ids = {w["worklog_id"] for w in parse_timesheet(edited.encode(), "jan.csv", "ts").rows["worklogs"]}
    assert {w["worklog_id"] for w in first.rows["worklogs"]} < edited_ids
    other_source = parse_timesheet(ENGLISH_CSV.encode(), "jan.csv", "hr")
    assert not {w["worklog_id"] for w in other_source.rows["worklogs"]} & edited_ids


def test_an_exact_repeat_of_a_row_is_an_error_naming_the_first():
    data = b"Name,Date,Hours,Task\nAnn,2024-01-02,2,ERP-1\nAnn,2024-01-02,2.0,ERP-1\nAnn,2024-01-02,2,ERP-2\n"
    result = parse_timesheet(data, "dup.csv", "ts")
    assert [w["task_key"] for w in result.rows["worklogs"]] == ["ERP-1", "ERP-2"]
    assert result.errors == [RowError(3, None, None, "duplicate of row 2 (same person, date, hours, task and comment)")]
    single = parse_timesheet(b"Name,Date,Hours,Task\nAnn,2024-01-02,2,ERP-1\n", "one.csv", "ts")
    assert single.rows["worklogs"][0]["worklog_id"] == result.rows["worklogs"][0]["worklog_id"]


def test_a_persons_day_over_the_limit_flags_every_row_of_that_day():
    data = ("Name,Date,Hours,Task\nAnn,2024-01-02,10,ERP-1\nBob,2024-01-02,8,ERP-1\n"
            "Ann,2024-01-03,8,ERP-1\nAnn,2024-01-02,7,ERP-2\n").encode()
    result = parse_timesheet(data, "long.csv", "ts")
    assert [(w["person_id"], w["hours"]) for w in result.rows["worklogs"]] == [("ts:Bob", 8.0), ("ts:Ann", 8.0)]
    reason = ("Ann has 17 hours on 2024-01-02, more than the 16 a person may log in one day "
              "(max_hours_per_day of the timesheet source)")
    assert result.errors == [RowError(2, "Hours", "10", reason), RowError(5, "Hours", "7", reason)]
    roomy = parse_timesheet(data, "long.csv", "ts", rules=TimesheetRules(max_hours_per_day=18))
    assert roomy.errors == [] and len(roomy.rows["worklogs"]) == 4
    only_long = parse_timesheet(b"Name,Date,Hours\nCy,2024-01-02,9\nCy,2024-01-02,8\n", "x.csv", "ts")
    assert only_long.rows == {"worklogs": [], "identities": []}


def _settings(tmp_path: Path, body: str = ""):
    return load_settings(write_config(tmp_path, '[calendar]\ntimezone = "Asia/Shanghai"\n' + body))


def test_dates_after_today_in_the_calendar_zone_are_errors(tmp_path):
    settings = _settings(tmp_path)
    evening_in_utc = datetime(2024, 3, 1, 17, 0, tzinfo=timezone.utc)  # already 2 March in Shanghai
    rules = TimesheetRules.from_settings(settings, TimesheetSource(kind="timesheet", name="ts"), now=evening_in_utc)
    data = b"Name,Date,Hours\nAnn,2024-03-01,1\nAnn,2024-03-02,1\nAnn,2024-03-03,1\n"
    result = parse_timesheet(data, "x.csv", "ts", rules=rules)
    assert [w["started_at"].day for w in result.rows["worklogs"]] == [1, 2]
    assert result.errors == [
        RowError(4, "Date", "2024-03-03", "date is in the future (today is 2024-03-02 in Asia/Shanghai)"),
    ]


def test_dates_before_the_project_start_are_errors_when_the_start_is_known(tmp_path):
    settings = _settings(tmp_path, '[[projects]]\nkey = "ERP"\nstart_date = "2024-02-01"\n'
                                   '[[projects]]\nkey = "MOB"\nstart_date = "2024-01-15"\n'
                                   'source_projects = ["acme/mobile-app"]\n[[projects]]\nkey = "OPS"\n')
    rules = TimesheetRules.from_settings(settings, TimesheetSource(kind="timesheet", name="ts", max_hours_per_day=24))
    data = ("Name,Date,Hours,Task\nAnn,2024-01-31,1,ERP-12\nAnn,2024-02-01,1,erp-12\n"
            "Ann,2024-01-10,1,acme/mobile-app#3\nAnn,2024-01-10,1,OPS-1\nAnn,2024-01-10,2,\nAnn,2024-01-10,3,12\n")
    result = parse_timesheet(data.encode(), "x.csv", "ts", rules=rules)
    assert [w["task_key"] for w in result.rows["worklogs"]] == ["erp-12", "OPS-1", None, "12"]
    assert result.errors == [
        RowError(2, "Date", "2024-01-31", "date is before project ERP starts on 2024-02-01 ([[projects]] start_date)"),
        RowError(4, "Date", "2024-01-10", "date is before project MOB starts on 2024-01-15 ([[projects]] start_date)"),
    ]


def test_unreadable_files_give_one_error_instead_of_raising():
    for data, name, words in (
        (b"PK\x03\x04 not really a zip", "broken.xlsx", "cannot read"),
        (b"\xd0\xcf\x11\xe0legacy", "old.xls", ".xls"),
        (b"", "empty.csv", "missing required column"),
    ):
        result = parse_timesheet(data, name, "ts")
        assert result.rows["worklogs"] == []
        (error,) = result.errors
        assert name in error.reason and words in error.reason
