"""WBS sheets: CSV/XLSX round trips, English and Chinese headers, MS Project predecessors and row errors."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from models.planning.model import Assignment, Plan, PlanLink, PlanTask, Resource
from models.planning.mspdi import read_mspdi
from models.planning.wbs_io import (
    CHINESE_HEADERS,
    COLUMNS,
    WbsError,
    format_predecessors,
    parse_predecessors,
    read_wbs,
    write_wbs,
)

MSPDI_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mspdi"


def _plan() -> Plan:
    tasks = [
        PlanTask("1", "Phase 1", wbs="1", duration_days=10, start=date(2024, 3, 4), finish=date(2024, 3, 15),
                 is_summary=True, outline_level=1),
        PlanTask("12", "Design", parent_id="1", wbs="1.1", duration_days=3, start=date(2024, 3, 4),
                 finish=date(2024, 3, 6), estimate_hours=24, assignee_id="Alice", outline_level=2),
        PlanTask("15", "Build", parent_id="1", wbs="1.2", duration_days=4.5, start=date(2024, 3, 7),
                 finish=date(2024, 3, 13), estimate_hours=36.5, assignee_id="Bob", outline_level=2),
        PlanTask("ERP-7", "Review", parent_id="1", wbs="1.3", duration_days=1, outline_level=2),
        PlanTask("20", "Go-live", wbs="2", duration_days=0, start=date(2024, 3, 15), finish=date(2024, 3, 15),
                 is_milestone=True, outline_level=1),
    ]
    return Plan(
        tasks=tasks,
        links=[
            PlanLink("12", "15", "FS", 0.0),
            PlanLink("12", "ERP-7", "SS", -1.0),
            PlanLink("15", "ERP-7", "FF", 0.5),
            PlanLink("ERP-7", "20", "FS", 2.0),
            PlanLink("15", "20", "SF", 0.0),
        ],
        resources=[Resource("Alice", "Alice"), Resource("Bob", "Bob")],
        assignments=[Assignment("12", "Alice", 1.0), Assignment("15", "Bob", 0.5), Assignment("15", "Alice", 1.0)],
        start=date(2024, 3, 4),
        name="plan",
    )


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@pytest.mark.parametrize("chinese", [False, True], ids=["english", "chinese"])
def test_round_trip(tmp_path, suffix, chinese):
    plan = _plan()
    path = tmp_path / f"plan{suffix}"
    write_wbs(plan, path, chinese=chinese)
    again = read_wbs(path)
    assert again.tasks == plan.tasks
    assert again.links == plan.links
    assert again.resources == plan.resources
    assert again.assignments == plan.assignments
    assert (again.start, again.name) == (plan.start, "plan")


def test_written_csv_has_the_documented_columns_and_ms_project_predecessors(tmp_path):
    path = tmp_path / "plan.csv"
    write_wbs(_plan(), path)
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == ",".join(COLUMNS)
    assert lines[3] == "1.2,15,Build,1,4.5,2024-03-07,2024-03-13,12,\"Bob[50%], Alice\",36.5"
    assert lines[4].split(",")[7] == "12SS-1d;15FF+0.5d"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf"), "BOM so that Excel shows Chinese text"
    write_wbs(_plan(), tmp_path / "zh.csv", chinese=True)
    assert (tmp_path / "zh.csv").read_text(encoding="utf-8-sig").splitlines()[0] == ",".join(
        CHINESE_HEADERS[c] for c in COLUMNS)


def test_written_xlsx_has_date_cells(tmp_path):
    path = tmp_path / "plan.xlsx"
    write_wbs(_plan(), path)
    sheet = openpyxl.load_workbook(path).active
    assert [c.value for c in sheet[1]] == list(COLUMNS)
    assert sheet["F2"].value == datetime(2024, 3, 4) and sheet["F2"].number_format == "yyyy-mm-dd"
    assert sheet["E4"].value == 4.5 and sheet["H4"].value == "12"


def test_hand_typed_chinese_sheet_in_gbk(tmp_path):
    path = tmp_path / "计划.csv"
    path.write_bytes((
        "任务编号,任务名称,工期,开始,完成,前置任务,负责人,工时\n"
        "A1,需求分析,5 个工作日,2024年3月4日,2024/3/8,,张三,40\n"
        "A2,开发,2周,2024-03-11,,A1FS+2 个工作日,\"张三[50%]、李四\",80h\n"
        "A3,测试,16小时,,,A2SS+50%；A1,李四,2天\n"
        "A4,上线,0,,,A3,,\n"
    ).encode("gb18030"))
    plan = read_wbs(path)
    assert [(t.task_id, t.name, t.duration_days, t.start, t.finish, t.estimate_hours, t.is_milestone)
            for t in plan.tasks] == [
        ("A1", "需求分析", 5.0, date(2024, 3, 4), date(2024, 3, 8), 40.0, False),
        ("A2", "开发", 10.0, date(2024, 3, 11), None, 80.0, False),
        ("A3", "测试", 2.0, None, None, 16.0, False),
        ("A4", "上线", 0.0, None, None, None, True),
    ]
    assert [(l.predecessor_id, l.successor_id, l.type, l.lag_days) for l in plan.links] == [
        ("A1", "A2", "FS", 2.0), ("A2", "A3", "SS", 5.0), ("A1", "A3", "FS", 0.0), ("A3", "A4", "FS", 0.0),
    ]
    assert [(a.task_id, a.resource_id, a.units) for a in plan.assignments] == [
        ("A1", "张三", 1.0), ("A2", "张三", 0.5), ("A2", "李四", 1.0), ("A3", "李四", 1.0),
    ]
    assert [r.resource_id for r in plan.resources] == ["张三", "李四"]
    assert plan.name == "计划"


def test_ms_project_style_sheet_without_ids_uses_row_numbers_and_wbs_parents(tmp_path):
    path = tmp_path / "export.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Project export"])
    sheet.append([])
    sheet.append(["WBS", "Name", "Duration", "Start", "Finish", "Predecessors", "Resource Names"])
    sheet.append(["1", "Phase", None, datetime(2024, 3, 4), datetime(2024, 3, 12), None, None])
    sheet.append(["1.1", "Design", "3 days", datetime(2024, 3, 4), datetime(2024, 3, 6), None, "Alice"])
    sheet.append(["1.2", "Build", "4d", datetime(2024, 3, 7), datetime(2024, 3, 12), "2", "Bob"])
    sheet.append([])
    sheet.append(["2", "Done", "0 days", None, None, "3FS+1 wk", None])
    workbook.save(path)
    plan = read_wbs(path)
    assert [(t.task_id, t.parent_id, t.is_summary, t.outline_level, t.duration_days) for t in plan.tasks] == [
        ("1", None, True, 1, 7.0), ("2", "1", False, 2, 3.0), ("3", "1", False, 2, 4.0), ("4", None, False, 1, 0.0),
    ]
    assert [(l.predecessor_id, l.successor_id, l.lag_days) for l in plan.links] == [("2", "3", 0.0), ("3", "4", 5.0)]


def test_empty_duration_counts_working_days_between_start_and_finish(tmp_path):
    path = tmp_path / "plan.csv"
    path.write_text("task_id,name,start,finish\n1,A,2024-09-27,2024-10-08\n", encoding="utf-8")
    assert read_wbs(path).tasks[0].duration_days == 8.0, "Monday–Friday"
    holidays = {date(2024, 10, d) for d in range(1, 8)}

    def china(first: date, last: date) -> int:
        return sum(1 for n in range((last - first).days + 1)
                   if (d := date.fromordinal(first.toordinal() + n)).weekday() < 5 and d not in holidays)

    assert read_wbs(path, workdays_between=china).tasks[0].duration_days == 3.0


def test_predecessor_syntax():
    ids = ["12", "15", "ERP-12", "3"]
    assert parse_predecessors("12FS+2d;15SS-1d", ids) == [("12", "FS", 2.0, "days"), ("15", "SS", -1.0, "days")]
    assert parse_predecessors("ERP-12ss+1.5 days, 3", ids) == [("ERP-12", "SS", 1.5, "days"), ("3", "FS", 0.0, "days")]
    assert parse_predecessors("12FF+4h；15SF-1w", ids) == [("12", "FF", 0.5, "days"), ("15", "SF", -5.0, "days")]
    assert parse_predecessors("3+2d", ids) == [("3", "FS", 2.0, "days")]
    assert parse_predecessors("12完成-开始+1天", ids) == [("12", "FS", 1.0, "days")]
    assert parse_predecessors("15FS+25%", ids) == [("15", "FS", 25.0, "percent")]
    with pytest.raises(ValueError, match="unknown task id in '99FS'"):
        parse_predecessors("99FS", ids)
    with pytest.raises(ValueError, match="elapsed unit 'ed'"):
        parse_predecessors("12FS+2ed", ids)
    links = [PlanLink("12", "1", "FS", 0.0), PlanLink("15", "1", "SS", -1.0), PlanLink("3", "1", "FS", 0.25),
             PlanLink("ERP-12", "1", "FF", 0.0)]
    assert format_predecessors(links) == "12;15SS-1d;3FS+0.25d;ERP-12FF"


def test_errors_name_file_row_and_field_and_are_all_reported(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "task_id,name,parent_id,duration_days,start,finish,predecessors,assignee,estimate_hours\n"
        "1,Ok,,2,2024-03-04,2024-03-05,,,\n"
        "2,Bad date,,1,2024-13-40,,,,\n"
        "3,Bad duration,,five,,,,,\n"
        "1,Duplicate,,1,,,,,\n"
        "4,Unknown predecessor,,1,,,9FS+1d,,\n"
        "5,Unknown parent,77,1,,,,,\n"
        "6,Backwards,,1,2024-03-08,2024-03-04,,,\n"
        "7,Elapsed,,2ed,,,,,\n"
        "8,Negative hours,,1,,,,,-3\n"
        ",No id,,1,,,,,\n",
        encoding="utf-8",
    )
    with pytest.raises(WbsError) as caught:
        read_wbs(path)
    issues = [(i.row, i.field) for i in caught.value.issues]
    assert issues == [
        (3, "start"), (4, "duration_days"), (5, "task_id"), (6, "predecessors"), (7, "parent_id"), (8, "finish"),
        (9, "duration_days"), (10, "estimate_hours"), (11, "task_id"),
    ]
    message = str(caught.value)
    assert f"{path}: row 3, field 'start': not a calendar date (got '2024-13-40')" in message
    assert f"{path}: row 5, field 'task_id': duplicate task id (first on row 2) (got '1')" in message
    assert f"{path}: row 6, field 'predecessors': unknown task id in '9FS+1d' (got '9FS+1d')" in message
    assert f"{path}: row 7, field 'parent_id': unknown parent task id (got '77')" in message
    assert "row 9, field 'duration_days': elapsed unit 'ed' is not supported" in message


def test_file_level_errors(tmp_path):
    with pytest.raises(WbsError, match="missing.csv: file not found"):
        read_wbs(tmp_path / "missing.csv")
    (tmp_path / "plan.ods").write_text("x")
    with pytest.raises(WbsError, match=r"plan.ods: unsupported file type \(use .csv or .xlsx\)"):
        read_wbs(tmp_path / "plan.ods")
    (tmp_path / "notes.csv").write_text("a,b\n1,2\n")
    with pytest.raises(WbsError, match="notes.csv: no header row found; expected columns like wbs"):
        read_wbs(tmp_path / "notes.csv")
    (tmp_path / "loop.csv").write_text("task_id,name,parent_id\n1,A,2\n2,B,1\n")
    with pytest.raises(WbsError, match="row 2, field 'parent_id': the parent chain loops back"):
        read_wbs(tmp_path / "loop.csv")
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip")
    with pytest.raises(WbsError, match="broken.xlsx: not a readable .xlsx workbook"):
        read_wbs(tmp_path / "broken.xlsx")


@pytest.mark.skipif(not (MSPDI_DIR / "sample1.xml").exists(), reason=f"sample1.xml not in {MSPDI_DIR}")
def test_ms_project_plan_to_sheet_and_back(tmp_path):
    plan = read_mspdi(MSPDI_DIR / "sample1.xml").plan
    path = tmp_path / "sample1.xlsx"
    write_wbs(plan, path, chinese=True)
    again = read_wbs(path)
    keys = ("task_id", "name", "parent_id", "duration_days", "start", "finish", "wbs", "estimate_hours",
            "is_summary", "is_milestone", "outline_level")
    assert [[getattr(t, k) for k in keys] for t in again.tasks] == [[getattr(t, k) for k in keys] for t in plan.tasks]
    assert again.links == plan.links
    assert [(a.task_id, a.resource_id, a.units) for a in again.assignments] == [
        ("2", "First Resource", 0.5), ("2", "Second Resource", 0.75),
        ("23", "First Resource", 1.0), ("24", "Second Resource", 1.0),
    ]
