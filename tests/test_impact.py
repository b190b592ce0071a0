"""Slip impact and re-plan options on a small hand-checked network.

    A(2) ─┬─ B(4) ──────── D(2) ── M (milestone)
          └─ C(1) ─┬──────┘
                   └─ E(1)

Indices from the project start: A 0–2, B 2–6, C 2–3, D 6–8, E 3–4, M at 8 (exclusive finishes);
index 8 is 2024-10-09, the second working day after the National Day week.
Critical: A, B, D, M. C has 3 days of float, E has 4.
"""

from __future__ import annotations

from datetime import date

import pytest

from models.planning.calendar import WorkCalendar
from models.planning.cpm import schedule
from models.planning.impact import replan_options, slip_impact, slipped_plan
from models.planning.model import Assignment, Plan, PlanLink, PlanTask, Resource

START = date(2024, 9, 23)


@pytest.fixture(scope="module")
def cn() -> WorkCalendar:
    return WorkCalendar("CN")


def plan(**extra) -> Plan:
    tasks = [PlanTask("A", duration_days=2), PlanTask("B", duration_days=4), PlanTask("C", duration_days=1),
             PlanTask("D", duration_days=2), PlanTask("E", duration_days=1), PlanTask("M", is_milestone=True)]
    links = [PlanLink("A", "B"), PlanLink("A", "C"), PlanLink("B", "D"), PlanLink("C", "D"), PlanLink("C", "E"),
             PlanLink("D", "M")]
    return Plan(tasks, links, start=START, **extra)


def test_slip_on_the_critical_path_moves_the_end(cn) -> None:
    impact = slip_impact(plan(), cn, "B", 2)
    assert impact.project_delay_days == 2
    assert [(s.task_id, s.days) for s in impact.moved] == [("D", 2.0), ("M", 2.0)]
    assert [s.task_id for s in impact.milestones] == ["M"]
    # M: index 8 = 10-09 → index 10 = 10-11 (after the National Day week)
    assert (impact.milestones[0].old_finish, impact.milestones[0].new_finish) == (date(2024, 10, 9), date(2024, 10, 11))
    assert (impact.old_project_finish, impact.new_project_finish) == (date(2024, 10, 9), date(2024, 10, 11))
    assert impact.absorbed_days == 0
    assert impact.frame.height == 2


def test_slip_within_float_is_absorbed(cn) -> None:
    impact = slip_impact(plan(), cn, "C", 2)
    assert impact.project_delay_days == 0
    assert impact.absorbed_days == 2
    assert [(s.task_id, s.days) for s in impact.moved] == [("E", 2.0)]


def test_slip_breaks_a_deadline(cn) -> None:
    base = plan()
    base.tasks[-1].deadline = date(2024, 10, 9)  # met exactly before the slip
    impact = slip_impact(base, cn, "B", 1)
    assert [(v.task_id, v.constraint, v.days) for v in impact.new_violations] == [("M", "deadline", 1.0)]


def test_slip_of_in_progress_task_adds_to_remaining_work(cn) -> None:
    base = plan(status_date=date(2024, 9, 25))
    base.tasks[0] = PlanTask("A", duration_days=2, actual_start=START, actual_finish=date(2024, 9, 24))
    base.tasks[1] = PlanTask("B", duration_days=4, actual_start=date(2024, 9, 25), percent_complete=25)
    changed = slipped_plan(base, "B", 2).task("B")
    assert (changed.remaining_days, changed.duration_days) == (5.0, 6.0)
    assert slip_impact(base, cn, "B", 2).project_delay_days == 2
    with pytest.raises(ValueError, match="already finished"):
        slipped_plan(base, "A", 1)
    assert base.task("B").remaining_days is None  # the caller's plan is not touched


def test_replan_options_for_a_critical_slip(cn) -> None:
    base = plan(
        resources=[Resource("r1"), Resource("r2"), Resource("r3", capacity=0.5)],
        assignments=[Assignment("B", "r1"), Assignment("C", "r2")],
    )
    options = {o.kind: o for o in replan_options(base, cn, "B", 2)}
    assert set(options) == {"accept", "overlap", "reassign"}

    assert options["accept"].delay_days == 2 and options["accept"].recovered_days == 0

    # B is 6 days (2–8); D: SS+3 from B's start → ≥ 5, FF+0 → finish ≥ 8, so D 6–8 and M at 8 again
    overlap = options["overlap"]
    assert (overlap.delay_days, overlap.recovered_days) == (0, 2)
    assert [(c.task_id, c.old, c.new) for c in overlap.changes] == [("D", "FS+0", "SS+3 and FF+0")]
    assert {(l.type, l.lag_days) for l in overlap.plan.links if (l.predecessor_id, l.successor_id) == ("B", "D")} \
        == {("SS", 3.0), ("FF", 0.0)}
    assert schedule(overlap.plan, cn).project_finish_date == overlap.project_finish

    # r2 is busy on C while B runs, r3 has half a day free every day: 6 days × 1 / 1.5 = 4
    reassign = options["reassign"]
    assert (reassign.delay_days, reassign.recovered_days) == (0, 2)
    assert reassign.changes[0].new.startswith("r3")
    assert reassign.plan.task("B").duration_days == pytest.approx(4.0)
    assert base.task("B").duration_days == 4  # unchanged input


def test_replan_with_given_free_capacity_and_without_finish_link(cn) -> None:
    base = plan(resources=[Resource("r1"), Resource("r2")], assignments=[Assignment("B", "r1")])
    options = replan_options(base, cn, "B", 2, free_capacity={"r2": 1.0}, keep_finish_link=False)
    by_kind = {o.kind: o for o in options}
    # r2 full time halves the 6 remaining days: B 2–5, D 5–7, M at 7: one day earlier than planned
    assert by_kind["reassign"].delay_days == -1
    # SS+3 alone lets D (5–7) finish before B (2–8) does, which is why the FF link is kept by default
    overlap = schedule(by_kind["overlap"].plan, cn)
    assert overlap.finish_date("D") < overlap.finish_date("B")
    assert by_kind["overlap"].delay_days == 0


def test_replan_options_for_a_slip_within_float(cn) -> None:
    options = replan_options(plan(), cn, "C", 2)
    assert [o.kind for o in options] == ["accept", "shift_noncritical"]
    shift = options[1]
    assert shift.delay_days == 0 and shift.recovered_days == 0
    assert [c.task_id for c in shift.changes] == ["E"]
    # E moves from index 3 (09-26) to index 5 (09-29, the make-up Sunday)
    assert shift.plan.task("E").start == date(2024, 9, 29)
