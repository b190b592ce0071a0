"""WBS roll-up: hand-computed figures on a small three-level plan, generated codes, broken trees."""

from __future__ import annotations

import random
import time
from datetime import date, timedelta

import pytest

from models.planning.model import Plan, PlanTask
from models.planning.wbs import ancestors, hierarchy, rollup

D = date(2026, 3, 2)


def day(n: int) -> date:
    return D + timedelta(days=n)


def three_levels() -> Plan:
    """Epic E → stories S1 (sub-tasks A, B) and S2 (a leaf); a second epic F with no children.

    A: 10 h estimated, 12 h spent, finished — done.
    B: 20 h estimated, 5 h spent, 50 % — open.
    S2: 10 h estimated, 3 h spent, 100 % without a finish date — done.
    """
    return Plan(
        [
            PlanTask("E", name="Epic"),
            PlanTask("S1", parent_id="E"),
            PlanTask("A", parent_id="S1", start=day(0), finish=day(4), estimate_hours=10, actual_hours=12,
                     actual_start=day(0), actual_finish=day(5)),
            PlanTask("B", parent_id="S1", start=day(5), finish=day(9), estimate_hours=20, actual_hours=5,
                     actual_start=day(6), percent_complete=50),
            PlanTask("S2", parent_id="E", start=day(-3), finish=day(1), estimate_hours=10, actual_hours=3,
                     percent_complete=100),
            PlanTask("F", start=day(30), finish=day(40)),
        ]
    )


def rows_by_id(frame) -> dict[str, dict]:
    return {row["task_id"]: row for row in frame.iter_rows(named=True)}


def test_rollup_figures_on_three_levels() -> None:
    rows = rows_by_id(rollup(three_levels(), hourly_rate=100.0))
    epic, story, a, b, s2 = rows["E"], rows["S1"], rows["A"], rows["B"], rows["S2"]

    assert (epic["depth"], story["depth"], a["depth"]) == (0, 1, 2)
    assert (epic["descendants"], epic["leaves"], story["descendants"], a["descendants"]) == (4, 3, 2, 0)
    assert not epic["is_leaf"] and a["is_leaf"]

    assert story["planned_start"] == day(0) and story["planned_finish"] == day(9)
    assert epic["planned_start"] == day(-3) and epic["planned_finish"] == day(9)
    assert story["actual_start"] == day(0)
    assert story["actual_finish"] is None, "B is still open, so S1 is not finished"

    assert epic["estimate_hours"] == 40 and epic["actual_hours"] == 20
    assert epic["progress_hours"] == pytest.approx(20 / 40)
    assert story["progress_hours"] == pytest.approx(17 / 30)
    assert a["progress_hours"] == 1.0, "12 h spent on 10 h estimated is capped at 1"

    assert epic["done_leaves"] == 2 and epic["progress_count"] == pytest.approx(2 / 3)
    assert story["progress_count"] == pytest.approx(1 / 2)
    assert s2["progress_count"] == 1.0 and b["progress_count"] == 0.0

    assert epic["budget"] == 4000 and story["budget"] == 3000 and a["budget"] == 1000
    assert rows["F"]["budget"] is None and rows["F"]["progress_hours"] is None


def test_summary_finishes_when_every_leaf_has() -> None:
    plan = three_levels()
    plan.task("B").actual_finish = day(11)
    rows = rows_by_id(rollup(plan))
    assert rows["S1"]["actual_finish"] == day(11)
    assert rows["E"]["actual_finish"] is None, "S2 is 100 % but has no finish date"


def test_budget_by_task_and_fallback_to_own_values() -> None:
    plan = three_levels()
    rows = rows_by_id(rollup(plan, budget_by_task={"A": 500.0, "F": 7000.0}, hourly_rate=10.0))
    assert rows["A"]["budget"] == 500.0
    assert rows["B"]["budget"] == 200.0, "no given budget: estimate × rate"
    assert rows["S1"]["budget"] == 700.0
    assert rows["E"]["budget"] == 800.0
    assert rows["F"]["budget"] == 7000.0

    epic_only = Plan([PlanTask("E", estimate_hours=80), PlanTask("S", parent_id="E")])
    rows = rows_by_id(rollup(epic_only, budget_by_task={"E": 9000.0}))
    assert rows["E"]["estimate_hours"] == 80 and rows["E"]["budget"] == 9000.0


def test_generated_wbs_codes_follow_start_then_task_id() -> None:
    frame = rollup(three_levels())
    codes = dict(zip(frame["task_id"], frame["wbs"]))
    # E starts (via S2) on day -3, before F; S2 starts before S1; A before B.
    assert codes == {"E": "1", "S2": "1.1", "S1": "1.2", "A": "1.2.1", "B": "1.2.2", "F": "2"}
    assert frame["task_id"].to_list() == ["E", "S2", "S1", "A", "B", "F"], "rows in outline order"

    same_start = Plan([PlanTask("R")] + [PlanTask(f"c{k}", parent_id="R", start=D) for k in (2, 1, 3)])
    codes = dict(zip(*rollup(same_start).select("task_id", "wbs")))
    assert codes == {"R": "1", "c1": "1.1", "c2": "1.2", "c3": "1.3"}


def test_explicit_codes_are_kept_and_extended() -> None:
    plan = Plan(
        [
            PlanTask("P", wbs="7"),
            PlanTask("P.a", parent_id="P", start=day(2)),
            PlanTask("P.b", parent_id="P", start=day(1), wbs="7.9"),
            PlanTask("P.b.x", parent_id="P.b"),
        ]
    )
    codes = dict(zip(*rollup(plan).select("task_id", "wbs")))
    assert codes == {"P": "7", "P.b": "7.9", "P.a": "7.2", "P.b.x": "7.9.1"}


def test_outline_order_is_numeric_not_lexicographic() -> None:
    plan = Plan([PlanTask("R")] + [PlanTask(f"c{k:02d}", parent_id="R", start=day(k)) for k in range(1, 12)])
    frame = rollup(plan)
    assert frame["wbs"].to_list()[:4] == ["1", "1.1", "1.2", "1.3"]
    assert frame["wbs"].to_list()[-2:] == ["1.10", "1.11"]


def test_roots_are_numbered_per_project() -> None:
    plan = Plan(
        [
            PlanTask("A1", project_key="A", start=day(0)),
            PlanTask("A2", project_key="A", start=day(1)),
            PlanTask("B1", project_key="B", start=day(0)),
        ]
    )
    codes = dict(zip(*rollup(plan).select("task_id", "wbs")))
    assert codes == {"A1": "1", "A2": "2", "B1": "1"}


def test_parent_cycle_raises_naming_the_tasks() -> None:
    plan = Plan(
        [
            PlanTask("ok"),
            PlanTask("x", parent_id="z"),
            PlanTask("y", parent_id="x"),
            PlanTask("z", parent_id="y"),
            PlanTask("below", parent_id="x"),
            PlanTask("self", parent_id="self"),
        ]
    )
    with pytest.raises(ValueError, match="parent cycle") as error:
        rollup(plan)
    message = str(error.value)
    for task_id in ("x", "y", "z", "self"):
        assert task_id in message
    assert "ok" not in message and "below" not in message


def test_missing_parent_makes_a_root_and_duplicates_are_rejected() -> None:
    rows = rows_by_id(rollup(Plan([PlanTask("orphan", parent_id="elsewhere"), PlanTask("kid", parent_id="orphan")])))
    assert rows["orphan"]["depth"] == 0 and rows["orphan"]["parent_id"] is None
    assert rows["kid"]["parent_id"] == "orphan" and rows["kid"]["wbs"] == "1.1"

    with pytest.raises(ValueError, match="duplicate task ids: a"):
        rollup(Plan([PlanTask("a"), PlanTask("a")]))


def test_empty_plan() -> None:
    frame = rollup(Plan([]))
    assert frame.height == 0 and "wbs" in frame.columns


def test_ancestor_table() -> None:
    table = ancestors(three_levels())
    pairs = set(zip(table["task_id"], table["ancestor_id"], table["distance"]))
    assert pairs == {("S1", "E", 1), ("S2", "E", 1), ("A", "S1", 1), ("B", "S1", 1), ("A", "E", 2), ("B", "E", 2)}
    assert hierarchy(three_levels()).depth.tolist() == [0, 1, 2, 2, 1, 0]


def test_hundred_thousand_tasks_roll_up_quickly() -> None:
    rng = random.Random(3)
    tasks: list[PlanTask] = []
    for e in range(400):
        tasks.append(PlanTask(f"E{e}"))
        for s in range(25):
            story = f"E{e}S{s}"
            tasks.append(PlanTask(story, parent_id=f"E{e}"))
            for k in range(9):
                start = D + timedelta(days=rng.randint(0, 300))
                tasks.append(PlanTask(f"{story}T{k}", parent_id=story, start=start, finish=start + timedelta(days=4),
                                      estimate_hours=8.0, actual_hours=4.0, percent_complete=100 * (k % 2)))
    plan = Plan(tasks)
    started = time.perf_counter()
    frame = rollup(plan, hourly_rate=90.0)
    elapsed = time.perf_counter() - started
    assert frame.height == len(tasks) == 100_400
    top = frame.filter(frame["depth"] == 0)
    assert top["leaves"].sum() == 400 * 25 * 9
    assert top["budget"].sum() == pytest.approx(400 * 25 * 9 * 8.0 * 90.0)
    assert elapsed < 3.0, f"roll-up of 100k tasks took {elapsed:.2f} s"
