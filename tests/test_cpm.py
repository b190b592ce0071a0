"""CPM on hand-checked networks over the 2024 National Day holiday on the Chinese calendar.

Working days from Monday 2024-09-23, by index relative to the project start:

    0 09-23   1 09-24   2 09-25   3 09-26   4 09-27   5 09-29 (Sun, 调休)   6 09-30
    7 10-08   8 10-09   9 10-10  10 10-11  11 10-12 (Sat, 调休)  12 10-14  13 10-15 …

(2024-09-28 is an ordinary Saturday; 10-01..10-07 is the National Day week.)
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from models.planning.calendar import WorkCalendar
from models.planning.cpm import schedule
from models.planning.model import Plan, PlanLink, PlanTask
from models.planning.network import CycleError, Network

D = date.fromisoformat
START = date(2024, 9, 23)


@pytest.fixture(scope="module")
def cn() -> WorkCalendar:
    return WorkCalendar("CN")


def rel(sched, task_id: str) -> tuple[float, float]:
    """Early start and exclusive early finish relative to the project start index."""
    origin = sched.calendar.index_of(START)
    i = sched.network.index[task_id]
    return sched.early_start[i] - origin, sched.early_finish[i] - origin


# Predecessor A: SNET 09-27 (index 4), 4 days → 09-27, 09-29, 09-30, 10-08 (indices 4..7, finish 8).
# Successor B: 3 days, no earlier than the project start (index 0).
@pytest.mark.parametrize(("kind", "lag", "first", "last"), [
    ("FS", 0, "2024-10-09", "2024-10-11"),   # S ≥ 8
    ("FS", 1, "2024-10-10", "2024-10-12"),   # S ≥ 9: ends on the make-up Saturday
    ("FS", 5, "2024-10-15", "2024-10-17"),   # S ≥ 13
    ("FS", -2, "2024-09-30", "2024-10-09"),  # S ≥ 6: straddles the holiday week
    ("SS", 2, "2024-09-30", "2024-10-09"),   # S ≥ 4 + 2
    ("SS", -1, "2024-09-26", "2024-09-29"),  # S ≥ 3: ends on the make-up Sunday
    ("FF", 0, "2024-09-29", "2024-10-08"),   # F ≥ 8 → S ≥ 5
    ("FF", 2, "2024-10-08", "2024-10-10"),   # F ≥ 10 → S ≥ 7
    ("FF", -1, "2024-09-27", "2024-09-30"),  # F ≥ 7 → S ≥ 4
    ("SF", 0, "2024-09-24", "2024-09-26"),   # F ≥ 4 → S ≥ 1
    ("SF", 3, "2024-09-27", "2024-09-30"),   # F ≥ 7 → S ≥ 4
    ("SF", -1, "2024-09-23", "2024-09-25"),  # F ≥ 3 → S ≥ 0
])
def test_link_types_and_lags_across_national_day(cn, kind, lag, first, last) -> None:
    plan = Plan(
        tasks=[PlanTask("A", duration_days=4, constraint_type="SNET", constraint_date=D("2024-09-27")),
               PlanTask("B", duration_days=3)],
        links=[PlanLink("A", "B", kind, lag)],
        start=START,
    )
    sched = schedule(plan, cn)
    assert (sched.start_date("A"), sched.finish_date("A")) == (D("2024-09-27"), D("2024-10-08"))
    assert (sched.start_date("B"), sched.finish_date("B")) == (D(first), D(last))


def textbook() -> Plan:
    """A(3) → B(2) → D(1) → E(3); A → C(4) → E; B → G(2). Critical A–C–E, end index 10.

    ES/EF: A 0/3, B 3/5, C 3/7, D 5/6, E 7/10, G 5/7.
    LS/LF: A 0/3, B 4/6, C 3/7, D 6/7, E 7/10, G 8/10.
    Total float: B 1, D 1, G 3; free float: B 0 (D and G start right after it), D 1, G 3.
    """
    durations = {"A": 3, "B": 2, "C": 4, "D": 1, "E": 3, "G": 2}
    links = [("A", "B"), ("A", "C"), ("B", "D"), ("C", "E"), ("D", "E"), ("B", "G")]
    return Plan(tasks=[PlanTask(t, duration_days=d) for t, d in durations.items()],
                links=[PlanLink(p, s) for p, s in links], start=START)


def test_textbook_float_and_critical_path(cn) -> None:
    sched = schedule(textbook(), cn)
    origin = cn.index_of(START)
    ids = sched.task_ids
    assert dict(zip(ids, (sched.early_start - origin).tolist())) == {"A": 0, "B": 3, "C": 3, "D": 5, "E": 7, "G": 5}
    assert dict(zip(ids, (sched.late_start - origin).tolist())) == {"A": 0, "B": 4, "C": 3, "D": 6, "E": 7, "G": 8}
    assert dict(zip(ids, sched.total_float.tolist())) == {"A": 0, "B": 1, "C": 0, "D": 1, "E": 0, "G": 3}
    assert dict(zip(ids, sched.free_float.tolist())) == {"A": 0, "B": 0, "C": 0, "D": 1, "E": 0, "G": 3}
    assert [t for t, c in zip(ids, sched.is_critical) if c] == ["A", "C", "E"]
    assert sched.critical_paths() == [["A", "C", "E"]]
    assert sched.project_finish - origin == 10
    assert sched.project_finish_date == D("2024-10-10")  # last day worked: index 9
    frame = sched.frame
    assert frame.columns == ["task_id", "early_start", "early_finish", "late_start", "late_finish",
                             "total_float_days", "free_float_days", "is_critical"]
    assert frame.schema["early_start"] == pl.Date
    row = frame.filter(pl.col("task_id") == "G").row(0, named=True)
    assert (row["early_start"], row["late_finish"]) == (D("2024-09-29"), D("2024-10-10"))


def test_two_equal_paths_are_both_critical(cn) -> None:
    plan = Plan([PlanTask(t, duration_days=d) for t, d in [("S", 1), ("P", 3), ("Q", 3), ("E", 1)]],
                [PlanLink("S", "P"), PlanLink("S", "Q"), PlanLink("P", "E"), PlanLink("Q", "E")], start=START)
    sched = schedule(plan, cn)
    assert sched.is_critical.all()
    assert sorted(sched.critical_paths()) == [["S", "P", "E"], ["S", "Q", "E"]]


def test_milestone_finishes_on_its_start(cn) -> None:
    plan = Plan([PlanTask("A", duration_days=5), PlanTask("M", is_milestone=True)], [PlanLink("A", "M")],
                start=START)
    sched = schedule(plan, cn)
    assert sched.finish_date("A") == D("2024-09-27")
    assert sched.start_date("M") == sched.finish_date("M") == D("2024-09-29")
    assert rel(sched, "M") == (5, 5)


def test_cycle_error_names_the_tasks() -> None:
    plan = Plan([PlanTask(t, duration_days=1) for t in "SABCX"],
                [PlanLink("S", "A"), PlanLink("A", "B"), PlanLink("B", "C"), PlanLink("C", "A"), PlanLink("C", "X")],
                start=START)
    with pytest.raises(CycleError) as caught:
        Network.from_plan(plan)
    assert sorted(caught.value.task_ids) == ["A", "B", "C"]
    assert all(t in str(caught.value) for t in "ABC") and "S" not in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_self_link_is_a_cycle() -> None:
    with pytest.raises(CycleError) as caught:
        Network.from_plan(Plan([PlanTask("A")], [PlanLink("A", "A")], start=START))
    assert caught.value.task_ids == ["A"]


def test_progress_done_and_in_progress(cn) -> None:
    status = D("2024-09-30")  # index 6
    plan = Plan(
        tasks=[
            PlanTask("A", duration_days=5, actual_start=D("2024-09-23"), actual_finish=D("2024-09-26"),
                     percent_complete=100),
            PlanTask("B", duration_days=3),                     # after A, not started: from the status date
            PlanTask("C", duration_days=6, actual_start=D("2024-09-25"), percent_complete=50),
            PlanTask("D", duration_days=10, actual_start=D("2024-09-24"), remaining_days=1, percent_complete=90),
            PlanTask("E", duration_days=2, actual_start=D("2024-09-23"), actual_finish=D("2024-09-24")),
            PlanTask("F", duration_days=1),                     # after C: after C's remaining work
        ],
        links=[PlanLink("A", "B"), PlanLink("B", "E"), PlanLink("C", "F")],
        start=START,
        status_date=status,
    )
    sched = schedule(plan, cn)
    assert rel(sched, "A") == (0, 4)                      # actual dates kept (4 days, not the planned 5)
    assert (sched.start_date("A"), sched.finish_date("A")) == (D("2024-09-23"), D("2024-09-26"))
    assert rel(sched, "B") == (6, 9)                      # status date, not A's finish
    assert (sched.start_date("C"), sched.finish_date("C")) == (D("2024-09-25"), D("2024-10-09"))  # 3 days left
    assert (sched.start_date("D"), sched.finish_date("D")) == (D("2024-09-24"), D("2024-09-30"))  # 1 day left
    # done: keeps its actual dates although B, its unfinished predecessor, comes later
    assert (sched.start_date("E"), sched.finish_date("E")) == (D("2024-09-23"), D("2024-09-24"))
    assert rel(sched, "F") == (9, 10)
    done = [sched.network.index[t] for t in "AE"]
    assert not sched.is_critical[done].any()
    assert (sched.total_float[done] == 0).all()


def test_in_progress_without_status_date_resumes_after_work_done(cn) -> None:
    plan = Plan([PlanTask("C", duration_days=6, actual_start=D("2024-09-24"), percent_complete=50)], start=START)
    sched = schedule(plan, cn)
    assert rel(sched, "C") == (1, 7)  # 3 days done from index 1, 3 more: finish index 7
    assert sched.finish_date("C") == D("2024-09-30")


def test_early_date_constraints_push(cn) -> None:
    plan = Plan(
        tasks=[PlanTask("SNET", duration_days=2, constraint_type="SNET", constraint_date=D("2024-10-03")),
               PlanTask("FNET", duration_days=2, constraint_type="FNET", constraint_date=D("2024-10-09")),
               PlanTask("MFO", duration_days=3, constraint_type="MFO", constraint_date=D("2024-10-12"))],
        start=START,
    )
    sched = schedule(plan, cn)
    assert sched.start_date("SNET") == D("2024-10-08")    # holiday rolls forward
    assert (sched.start_date("FNET"), sched.finish_date("FNET")) == (D("2024-10-08"), D("2024-10-09"))
    assert (sched.start_date("MFO"), sched.finish_date("MFO")) == (D("2024-10-10"), D("2024-10-12"))
    assert sched.violations == []


def test_late_constraints_and_deadlines_give_negative_float_and_violations(cn) -> None:
    # A(5) 09-23..09-27 (indices 0..4) → B(3) indices 5..7, finishing 10-08.
    plan = Plan(
        tasks=[PlanTask("A", duration_days=5),
               PlanTask("B", duration_days=3, constraint_type="FNLT", constraint_date=D("2024-09-30")),
               PlanTask("C", duration_days=1, constraint_type="SNLT", constraint_date=D("2024-10-03")),
               PlanTask("M", is_milestone=True, constraint_type="MSO", constraint_date=D("2024-10-08"),
                        deadline=D("2024-10-09"))],
        links=[PlanLink("A", "B"), PlanLink("B", "C"), PlanLink("C", "M")],
        start=START,
    )
    sched = schedule(plan, cn)
    # FNLT 09-30: latest exclusive finish index 7; B finishes at 8 → 1 day late; float −1 back to A
    # SNLT 10-03 rolls back to 09-30 (index 6); C starts at 8 → 2 days late
    # MSO 10-08 (index 7) for M at 9 → 2 days; deadline 10-09 (index 8) → 1 day
    assert sorted(sched.violations) == sorted([
        ("B", "FNLT", D("2024-09-30"), 1.0), ("C", "SNLT", D("2024-10-03"), 2.0),
        ("M", "MSO", D("2024-10-08"), 2.0), ("M", "deadline", D("2024-10-09"), 1.0),
    ])
    assert sched.float_days("A") == -2.0   # the tightest bound (SNLT on C) reaches back to A
    assert sched.is_critical.all()


def test_mso_pushes_early_dates(cn) -> None:
    plan = Plan([PlanTask("A", duration_days=1), PlanTask("B", duration_days=1, constraint_type="MSO",
                                                          constraint_date=D("2024-10-08"))],
                [PlanLink("A", "B")], start=START)
    sched = schedule(plan, cn)
    assert sched.start_date("B") == D("2024-10-08")
    assert sched.violations == []
    assert sched.float_days("A") == 6.0  # A could slip until B's fixed start


def test_summary_tasks_are_not_scheduled_and_their_links_reach_the_children(cn) -> None:
    plan = Plan(
        tasks=[PlanTask("P", is_summary=True), PlanTask("P1", parent_id="P", duration_days=2),
               PlanTask("P2", parent_id="P", duration_days=4), PlanTask("Z", duration_days=1)],
        links=[PlanLink("P", "Z")],
        start=START,
    )
    sched = schedule(plan, cn)
    assert sched.task_ids == ["P1", "P2", "Z"]
    assert rel(sched, "Z") == (4, 5)  # after the summary's last child


def test_fractional_durations_and_lags(cn) -> None:
    plan = Plan([PlanTask("A", duration_days=1.5), PlanTask("B", duration_days=0.5)],
                [PlanLink("A", "B", "FS", 0.5)], start=START)
    sched = schedule(plan, cn)
    assert rel(sched, "B") == (2.0, 2.5)
    assert sched.finish_date("A") == D("2024-09-24")
    assert sched.start_date("B") == sched.finish_date("B") == D("2024-09-25")


def test_unknown_link_end_is_reported() -> None:
    with pytest.raises(ValueError, match="unknown task 'nope'"):
        Network.from_plan(Plan([PlanTask("A")], [PlanLink("A", "nope")], start=START))


def test_large_random_network_matches_a_plain_python_cpm(cn) -> None:
    rng = np.random.default_rng(3)
    n = 300
    tasks = [PlanTask(f"T{i}", duration_days=float(rng.integers(0, 6))) for i in range(n)]
    links = []
    for _ in range(900):
        p, s = sorted(rng.choice(n, 2, replace=False))
        links.append(PlanLink(f"T{p}", f"T{s}", ["FS", "SS", "FF", "SF"][rng.integers(4)], float(rng.integers(-2, 3))))
    sched = schedule(Plan(tasks, links, start=START), cn)
    origin = cn.index_of(START)
    es = {t.task_id: 0.0 for t in tasks}
    for i in range(n):  # ids are already in topological order: every link goes from lower to higher
        tid = f"T{i}"
        for link in links:
            if link.successor_id != tid:
                continue
            p, d = link.predecessor_id, tasks[i].duration_days
            pd = tasks[int(p[1:])].duration_days
            bound = {"FS": es[p] + pd, "SS": es[p], "FF": es[p] + pd - d, "SF": es[p] - d}[link.type] + link.lag_days
            es[tid] = max(es[tid], bound)
    assert np.allclose(sched.early_start - origin, [es[t.task_id] for t in tasks])
    assert (sched.total_float >= -1e-9).all() and sched.is_critical.any()
    assert (sched.free_float <= sched.total_float + 1e-9).all()
