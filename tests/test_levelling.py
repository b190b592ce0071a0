"""Resource levelling: PSPLIB parsing, CP-SAT and SGS schedules, the independent checker, real plans."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest

from models.planning.levelling import (
    LevelledPlan,
    critical_path_length,
    level_plan,
    psplib_level_json,
    serial_sgs,
    solve_rcpsp,
    verify,
)
from models.planning.calendar import WorkCalendar
from models.planning.model import Assignment, Plan, PlanLink, PlanTask, Resource
from models.planning.psplib import PsplibFormatError, PsplibInstance, load_optimum, parse_sm

PSPLIB = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "psplib"
J30 = PSPLIB / "j30"
needs_j30 = pytest.mark.skipif(
    not (J30 / "j301_1.sm").exists(), reason=f"PSPLIB j30 not found at {J30} (the shared data folder is absent)"
)

# Instances from several parameter groups that CP-SAT proves optimal in well under a second.
QUICK_INSTANCES = ["j301_1", "j3010_5", "j3021_3", "j3037_7", "j3048_10"]


def tiny_instance() -> PsplibInstance:
    """Four real jobs on one resource of capacity 2, between the dummy source 1 and sink 6.

    Jobs 2 and 3 need the whole resource and 5 follows 2, so the optimum is
    3 + 2 + 4 = 9, with 4 running beside 5.
    """
    return PsplibInstance(
        name="tiny",
        jobs=(1, 2, 3, 4, 5, 6),
        durations={1: 0, 2: 3, 3: 2, 4: 2, 5: 4, 6: 0},
        successors={1: (2, 3, 4), 2: (5,), 3: (6,), 4: (6,), 5: (6,), 6: ()},
        requests={1: (0,), 2: (2,), 3: (2,), 4: (1,), 5: (1,), 6: (0,)},
        capacities=(2,),
    )


# --- parsing -----------------------------------------------------------------------------


@needs_j30
def test_parser_reads_a_real_j30_file() -> None:
    instance = parse_sm(J30 / "j301_1.sm")
    assert instance.name == "j301_1"
    assert instance.jobs == tuple(range(1, 33))
    assert instance.capacities == (12, 13, 4, 12)
    assert instance.successors[1] == (2, 3, 4)
    assert instance.durations[2] == 8 and instance.requests[2] == (4, 0, 0, 0)
    assert instance.mpm_time == 38
    assert critical_path_length(instance) == instance.mpm_time


@needs_j30
def test_mpm_time_matches_our_critical_path_on_every_j30_instance() -> None:
    files = sorted(J30.glob("*.sm"))
    assert len(files) == 480
    mismatched = [f.name for f in files if (i := parse_sm(f)).mpm_time != critical_path_length(i)]
    assert mismatched == []


def test_parser_names_file_and_line_of_a_malformed_request(tmp_path: Path) -> None:
    text = (
        "jobs (incl. supersource/sink ):  3\n"
        "  - renewable                 :  1   R\n"
        "PRECEDENCE RELATIONS:\n"
        "jobnr.    #modes  #successors   successors\n"
        "   1        1          1           2\n"
        "   2        1          1           3\n"
        "   3        1          0\n"
        "REQUESTS/DURATIONS:\n"
        "jobnr. mode duration  R 1\n"
        "  1      1     0       0\n"
        "  2      1     x       1\n"
    )
    path = tmp_path / "broken.sm"
    path.write_text(text)
    with pytest.raises(PsplibFormatError) as error:
        parse_sm(path)
    assert str(error.value).startswith(f"{path}:11:")
    assert error.value.line == 11


def test_parser_rejects_a_successor_count_that_disagrees(tmp_path: Path) -> None:
    path = tmp_path / "count.sm"
    path.write_text(
        "jobs (incl. supersource/sink ):  2\n  - renewable : 1 R\nPRECEDENCE RELATIONS:\n   1   1   2   2\n"
    )
    with pytest.raises(PsplibFormatError, match=r"count\.sm:4: job 1 declares 2 successors but lists 1"):
        parse_sm(path)


@needs_j30
def test_optimum_lists_agree_and_cover_all_instances() -> None:
    from_csv = load_optimum(PSPLIB / "j30_optimum.csv")
    from_hrs = load_optimum(PSPLIB / "j30hrs.sm")
    assert len(from_csv) == 480
    assert from_csv == from_hrs
    assert from_csv["j301_1"] == 43


# --- the independent checker ---------------------------------------------------------------


def test_verify_accepts_a_feasible_schedule() -> None:
    instance = tiny_instance()
    start = {1: 0, 2: 0, 3: 3, 4: 5, 5: 5, 6: 9}
    assert verify(instance, start) == []


def test_verify_reports_a_precedence_violation() -> None:
    instance = tiny_instance()
    start = {1: 0, 2: 0, 3: 3, 4: 5, 5: 2, 6: 9}
    problems = verify(instance, start)
    assert any(p.startswith("precedence 2->5") for p in problems)


def test_verify_reports_a_capacity_violation() -> None:
    instance = tiny_instance()
    start = {1: 0, 2: 0, 3: 1, 4: 5, 5: 5, 6: 9}
    problems = verify(instance, start)
    assert "resource 1 in period 1: 4 used > capacity 2" in problems
    assert not any(p.startswith("precedence") for p in problems)


def test_verify_reports_missing_jobs() -> None:
    assert verify(tiny_instance(), {1: 0}) != []


# --- solvers -------------------------------------------------------------------------------


def test_cpsat_and_sgs_on_a_hand_made_instance() -> None:
    instance = tiny_instance()
    exact = solve_rcpsp(instance, time_limit_seconds=5)
    assert verify(instance, exact.start) == []
    assert exact.makespan == 9 and exact.optimal and exact.method == "cp-sat"
    heuristic = serial_sgs(instance)
    assert verify(instance, heuristic.start) == []
    assert heuristic.makespan >= exact.makespan and not heuristic.optimal


@needs_j30
@pytest.mark.parametrize("name", QUICK_INSTANCES)
def test_cpsat_reaches_the_known_optimum(name: str) -> None:
    instance = parse_sm(J30 / f"{name}.sm")
    optimum = load_optimum(PSPLIB / "j30_optimum.csv")[name]
    result = solve_rcpsp(instance, time_limit_seconds=5.0, workers=2)
    assert verify(instance, result.start) == []
    assert result.makespan == optimum
    assert result.optimal


@needs_j30
def test_sgs_schedules_are_feasible_and_not_below_the_optimum() -> None:
    optima = load_optimum(PSPLIB / "j30_optimum.csv")
    for path in sorted(J30.glob("*.sm"))[::12]:
        instance = parse_sm(path)
        for rule in ("LFT", "LST", "EST"):
            result = serial_sgs(instance, rule)
            assert verify(instance, result.start) == [], (path.name, rule)
            assert result.makespan >= optima[instance.name]


@needs_j30
def test_psplib_level_json_shape() -> None:
    payload = psplib_level_json(J30 / "j301_1.sm", time_limit_seconds=5)
    assert set(payload) == {"makespan", "start"}
    assert payload["makespan"] == 43
    assert list(payload["start"]) == [str(job) for job in range(1, 33)]
    assert all(type(v) is int for v in payload["start"].values())
    assert json.loads(json.dumps(payload)) == payload


# --- real plans ----------------------------------------------------------------------------

MONDAY = date(2026, 3, 2)
CN = WorkCalendar.from_settings()
"""The company calendar of the default settings (Chinese holidays and 调休), as the plan page passes it."""


def two_people_plan() -> Plan:
    """Ann has three tasks and Bob two at once; links of every type tie them together."""
    tasks = [
        PlanTask("A", duration_days=3),
        PlanTask("B", duration_days=2),
        PlanTask("C", duration_days=4, deadline=date(2026, 3, 13)),
        PlanTask("D", duration_days=2.5),
        PlanTask("E", duration_days=1),
        PlanTask("F", duration_days=2),
        PlanTask("M", is_milestone=True),
    ]
    links = [
        PlanLink("A", "D"),
        PlanLink("B", "E", "SS", 1),
        PlanLink("D", "M"),
        PlanLink("E", "M"),
        PlanLink("C", "M", "FF"),
        PlanLink("F", "D", "SF", 2),
    ]
    resources = [Resource("ann"), Resource("bob"), Resource("cy", capacity=0.5)]
    assignments = [
        Assignment("A", "ann"),
        Assignment("B", "ann"),
        Assignment("C", "ann"),
        Assignment("D", "bob"),
        Assignment("E", "bob", 0.5),
        Assignment("F", "bob"),
        Assignment("F", "cy", 0.5),
    ]
    return Plan(tasks, links, resources, assignments, start=MONDAY, status_date=MONDAY)


def check_levelled(plan: Plan, result: LevelledPlan) -> None:
    """Nobody above capacity on any day, every link honoured: checked here from the plan alone."""
    capacity = {r.resource_id: r.capacity for r in plan.resources}
    units = {(a.task_id, a.resource_id): a.units for a in plan.assignments}
    load: dict[tuple[str, int], float] = defaultdict(float)
    for task in result.tasks.values():
        if task.status == "done":
            continue
        for resource in task.resource_ids:
            for day in range(task.start, task.finish):
                load[(resource, day)] += units.get((task.task_id, resource), 1.0)
    over = {key: used for key, used in load.items() if used > capacity[key[0]] + 1e-9}
    assert over == {}
    for link in plan.links:
        pred, succ = result.tasks[link.predecessor_id], result.tasks[link.successor_id]
        before = pred.finish if link.type in ("FS", "FF") else pred.start
        after = succ.start if link.type in ("FS", "SS") else succ.finish
        assert after >= before + link.lag_days, link


@pytest.mark.parametrize("method", ["cp-sat", "sgs"])
def test_level_plan_resolves_over_allocation_and_keeps_links(method: str) -> None:
    plan = two_people_plan()
    result = level_plan(plan, CN, time_limit_seconds=5, method=method)
    check_levelled(plan, result)
    assert result.unlevelled_end < result.project_end
    assert result.moved, "somebody was over-allocated, so something has to move"
    assert all(result.tasks[t].delay > 0 for t in result.moved)
    assert result.objective == {"project_end": result.project_end, "total_lateness": result.total_lateness}
    assert result.tasks["A"].start_date is not None and result.tasks["A"].start_date.weekday() < 5
    assert result.warnings == []


def test_level_plan_cpsat_is_optimal_and_no_worse_than_sgs() -> None:
    plan = two_people_plan()
    exact = level_plan(plan, CN, time_limit_seconds=5, method="cp-sat")
    heuristic = level_plan(plan, CN, method="sgs")
    assert exact.method == "cp-sat" and exact.optimal
    assert heuristic.method == "serial-sgs/LFT"
    assert (exact.project_end, exact.total_lateness) <= (heuristic.project_end, heuristic.total_lateness)
    assert level_plan(plan, CN, time_limit_seconds=5, method="auto", cpsat_max_tasks=3).method == "serial-sgs/LFT"


def test_level_plan_moves_nothing_without_contention() -> None:
    tasks = [PlanTask("A", duration_days=2), PlanTask("B", duration_days=3), PlanTask("C", duration_days=1)]
    plan = Plan(
        tasks,
        [PlanLink("A", "C")],
        [Resource("ann"), Resource("bob")],
        [Assignment("A", "ann"), Assignment("B", "bob"), Assignment("C", "ann")],
        start=MONDAY,
    )
    result = level_plan(plan, CN, time_limit_seconds=5)
    assert result.moved == []
    assert result.project_end == result.unlevelled_end == 3


def test_level_plan_meets_a_deadline_when_the_end_allows_it() -> None:
    tasks = [PlanTask("X", duration_days=3), PlanTask("Y", duration_days=3, deadline=MONDAY + timedelta(days=2))]
    plan = Plan(tasks, [], [Resource("ann")], [Assignment("X", "ann"), Assignment("Y", "ann")], start=MONDAY)
    result = level_plan(plan, CN, time_limit_seconds=5)
    assert result.project_end == 6
    assert result.tasks["Y"].start == 0 and result.tasks["X"].start == 3
    assert result.total_lateness == 0


def test_level_plan_keeps_history_and_starts_remaining_work_at_the_status_date() -> None:
    status = MONDAY + timedelta(days=7)
    tasks = [
        PlanTask("done", duration_days=3, actual_start=MONDAY, actual_finish=MONDAY + timedelta(days=2)),
        PlanTask("doing", duration_days=4, percent_complete=50.0, actual_start=MONDAY + timedelta(days=3)),
        PlanTask("next", duration_days=2),
    ]
    plan = Plan(
        tasks,
        [PlanLink("done", "doing"), PlanLink("doing", "next")],
        [Resource("ann")],
        [Assignment("done", "ann"), Assignment("doing", "ann"), Assignment("next", "ann")],
        start=MONDAY,
        status_date=status,
    )
    result = level_plan(plan, CN, time_limit_seconds=5)
    done, doing, after = result.tasks["done"], result.tasks["doing"], result.tasks["next"]
    assert (done.status, done.start, done.finish) == ("done", 0, 3)
    assert doing.status == "in_progress" and doing.start == 5 and doing.finish == 7
    assert after.start == 7 and after.start_date == MONDAY + timedelta(days=9)


def test_level_plan_reassigns_by_skill_when_allowed() -> None:
    python = frozenset({"python"})
    tasks = [PlanTask("A", duration_days=5), PlanTask("B", duration_days=5)]
    resources = [Resource("ann", skills=python), Resource("bob", skills=python | {"sql"}), Resource("cy")]
    plan = Plan(tasks, [], resources, [Assignment("A", "ann"), Assignment("B", "ann")], start=MONDAY)
    fixed = level_plan(plan, CN, time_limit_seconds=5)
    assert fixed.project_end == 10 and fixed.reassignments == []
    flexible = level_plan(plan, CN, time_limit_seconds=5, allow_reassign=True)
    assert flexible.project_end == 5
    assert [(r.from_resource, r.to_resource) for r in flexible.reassignments] == [("ann", "bob")]
    check_levelled(plan, flexible)
    heuristic = level_plan(plan, CN, method="sgs", allow_reassign=True)
    assert heuristic.project_end == 5


def test_level_plan_respects_days_off_and_reports_unknown_resources() -> None:
    tasks = [PlanTask("A", duration_days=2, assignee_id="ann"), PlanTask("B", duration_days=1, assignee_id="zed")]
    plan = Plan(tasks, [], [Resource("ann", days_off=frozenset({MONDAY + timedelta(days=1)}))], start=MONDAY)
    result = level_plan(plan, CN, time_limit_seconds=5)
    assert result.tasks["A"].start == 2
    assert any("zed" in w for w in result.warnings)


def test_level_plan_rejects_a_cycle() -> None:
    tasks = [PlanTask("A", duration_days=1), PlanTask("B", duration_days=1)]
    plan = Plan(tasks, [PlanLink("A", "B"), PlanLink("B", "A")])
    with pytest.raises(ValueError, match="cycle"):
        level_plan(plan, CN)


def random_plan(seed: int, n: int = 25) -> Plan:
    """Links of every type with leads and lags, part-time units, a half-time person, days off, deadlines."""
    rnd = random.Random(seed)
    resources = [
        Resource("ann"),
        Resource("bob", capacity=0.5),
        Resource("cy", capacity=2.0, days_off=frozenset({MONDAY + timedelta(days=3), MONDAY + timedelta(days=8)})),
    ]
    tasks, assignments, links = [], [], []
    for i in range(n):
        deadline = MONDAY + timedelta(days=rnd.randint(5, 30)) if rnd.random() < 0.2 else None
        tasks.append(PlanTask(f"t{i}", duration_days=rnd.choice([0.5, 1, 2, 3, 5]), deadline=deadline))
        for resource in rnd.sample(resources, rnd.choice([1, 1, 2])):
            assignments.append(Assignment(f"t{i}", resource.resource_id, rnd.choice([0.5, 1.0])))
        for _ in range(rnd.choice([0, 1, 1, 2]) if i else 0):
            link_type = rnd.choice(["FS", "SS", "FF", "SF"])
            links.append(PlanLink(f"t{rnd.randrange(i)}", f"t{i}", link_type, rnd.choice([0, 1, -1])))
    return Plan(tasks, links, resources, assignments, start=MONDAY, status_date=MONDAY)


@pytest.mark.parametrize("seed", [1, 2])
def test_level_plan_random_plans_stay_within_capacity_and_links(seed: int) -> None:
    plan = random_plan(seed)
    bob = {a.task_id for a in plan.assignments if a.resource_id == "bob" and a.units > 0.5}
    exact = level_plan(plan, CN, time_limit_seconds=2, method="cp-sat")
    heuristic = level_plan(plan, CN, method="sgs")
    for result in (exact, heuristic):
        check_levelled(replace_units(plan, bob), result)
        days_off = {3, 6}
        for task in result.tasks.values():
            if "cy" in task.resource_ids:
                assert not days_off & set(range(task.start, task.finish)), task
    assert (exact.project_end, exact.total_lateness) <= (heuristic.project_end, heuristic.total_lateness)
    assert len(exact.warnings) == len(bob)


def replace_units(plan: Plan, clipped: set[str]) -> Plan:
    """Bob's full-time assignments are levelled at his half-time capacity, as the warnings say."""
    assignments = [
        Assignment(a.task_id, a.resource_id, 0.5) if a.resource_id == "bob" and a.task_id in clipped else a
        for a in plan.assignments
    ]
    return Plan(plan.tasks, plan.links, plan.resources, assignments, start=plan.start, status_date=plan.status_date)
