"""Work breakdown structure roll-up: every summary level of a plan with the numbers of its leaves.

A portfolio view needs the same figures at every level (epic → story → sub-task,
phase → task): when it starts and ends, how far along it is, what it costs. Summary
rows in ticket systems rarely carry trustworthy values of their own, so each level
is computed from its leaves (tasks with no children in the plan). The hierarchy is
flattened once into an ancestor table — one row per (task, ancestor) pair, self
included — and every figure is one polars join and group-by over it, so the cost
grows with tasks × depth, not with repeated tree walks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from models.planning.model import Plan

__all__ = ["Hierarchy", "ancestors", "hierarchy", "rollup"]


@dataclass(frozen=True)
class Hierarchy:
    """A plan's parent tree as integer arrays, in the order of `plan.tasks`.

    `pair_task`/`pair_ancestor` list every (descendant, proper ancestor) pair; the
    self pairs are left out so callers choose whether a task counts as its own
    ancestor.
    """

    task_ids: list[str]
    parent: np.ndarray
    """Index of the parent task; -1 for a root (no parent, or a parent not in the plan)."""
    depth: np.ndarray
    """0 for roots."""
    is_leaf: np.ndarray
    pair_task: np.ndarray
    pair_ancestor: np.ndarray
    pair_distance: np.ndarray
    """1 for the parent, 2 for the grandparent, …"""


def _cycles(parent: np.ndarray, affected: np.ndarray, task_ids: list[str]) -> list[list[str]]:
    """The parent cycles among tasks that never reach a root, each as task ids in parent order.

    Only runs when the plan is already known to be broken, so a plain walk is fine.
    """
    walk_of = np.full(parent.size, -1, dtype=np.int64)
    cycles: list[list[str]] = []
    for walk, node in enumerate(affected.tolist()):
        path: list[int] = []
        while node >= 0 and walk_of[node] == -1:
            walk_of[node] = walk
            path.append(node)
            node = int(parent[node])
        if node >= 0 and walk_of[node] == walk:
            cycle = path[path.index(node):]
            cycles.append([task_ids[i] for i in cycle])
    return cycles


def hierarchy(plan: Plan) -> Hierarchy:
    """Index the plan's parent tree; raise ValueError on duplicate task ids or a parent cycle.

    A `parent_id` that names no task in the plan makes the task a root: plans are
    often cut out of a larger tracker (one project, one sprint), and the missing
    parent belongs to the part left out.
    """
    task_ids = [t.task_id for t in plan.tasks]
    index = {task_id: i for i, task_id in enumerate(task_ids)}
    if len(index) != len(task_ids):
        seen: set[str] = set()
        duplicates = sorted({t for t in task_ids if t in seen or seen.add(t)})
        raise ValueError(f"duplicate task ids: {', '.join(duplicates[:20])}")
    n = len(task_ids)
    parent = np.fromiter(
        (index.get(t.parent_id, -1) if t.parent_id is not None else -1 for t in plan.tasks),
        dtype=np.int64,
        count=n,
    )

    # Pointer doubling: after ⌈log2 n⌉ + 1 squarings every acyclic chain has reached
    # the sentinel n; whatever has not is on, or hangs below, a cycle.
    jump = np.where(parent >= 0, parent, n)
    jump = np.append(jump, n)
    for _ in range(max(1, math.ceil(math.log2(n + 1))) + 1):
        jump = jump[jump]
    affected = np.nonzero(jump[:n] != n)[0]
    if affected.size:
        cycles = _cycles(parent, affected, task_ids)
        described = "; ".join(" → ".join(c + [c[0]]) for c in cycles[:10])
        raise ValueError(f"parent cycle among tasks: {described}")

    tasks_parts: list[np.ndarray] = []
    ancestor_parts: list[np.ndarray] = []
    distance_parts: list[np.ndarray] = []
    alive = np.nonzero(parent >= 0)[0]
    above = parent[alive]
    distance = 1
    while alive.size:
        tasks_parts.append(alive)
        ancestor_parts.append(above)
        distance_parts.append(np.full(alive.size, distance, dtype=np.int64))
        higher = parent[above]
        keep = higher >= 0
        alive, above = alive[keep], higher[keep]
        distance += 1
    empty = np.empty(0, dtype=np.int64)
    pair_task = np.concatenate(tasks_parts) if tasks_parts else empty
    pair_ancestor = np.concatenate(ancestor_parts) if ancestor_parts else empty
    pair_distance = np.concatenate(distance_parts) if distance_parts else empty
    depth = np.bincount(pair_task, minlength=n).astype(np.int64)
    has_child = np.bincount(parent[parent >= 0], minlength=n) > 0
    return Hierarchy(task_ids, parent, depth, ~has_child, pair_task, pair_ancestor, pair_distance)


def ancestors(plan: Plan) -> pl.DataFrame:
    """The ancestor table (task_id, ancestor_id, distance), self pairs excluded.

    Exposed so views that filter or colour by any level (e.g. every task under an
    epic) can join on it instead of walking the tree again.
    """
    h = hierarchy(plan)
    ids = pl.Series("id", h.task_ids, dtype=pl.String)
    return pl.DataFrame(
        {
            "task_id": ids.gather(h.pair_task),
            "ancestor_id": ids.gather(h.pair_ancestor),
            "distance": h.pair_distance,
        }
    )


def _task_frame(plan: Plan) -> pl.DataFrame:
    tasks = plan.tasks
    return pl.DataFrame(
        {
            "task_id": [t.task_id for t in tasks],
            "name": [t.name for t in tasks],
            "project_key": [t.project_key for t in tasks],
            "own_wbs": [t.wbs for t in tasks],
            "start": [t.start for t in tasks],
            "finish": [t.finish for t in tasks],
            "actual_start": [t.actual_start for t in tasks],
            "actual_finish": [t.actual_finish for t in tasks],
            "percent_complete": [t.percent_complete for t in tasks],
            "estimate_hours": [t.estimate_hours for t in tasks],
            "actual_hours": [t.actual_hours for t in tasks],
        },
        schema={
            "task_id": pl.String,
            "name": pl.String,
            "project_key": pl.String,
            "own_wbs": pl.String,
            "start": pl.Date,
            "finish": pl.Date,
            "actual_start": pl.Date,
            "actual_finish": pl.Date,
            "percent_complete": pl.Float64,
            "estimate_hours": pl.Float64,
            "actual_hours": pl.Float64,
        },
    )


def _sum_or_null(column: str) -> pl.Expr:
    """Sum that stays null when no leaf has a value, so 'unknown' is not reported as 0."""
    return pl.when(pl.col(column).count() > 0).then(pl.col(column).sum()).otherwise(None)


def _wbs_codes(frame: pl.DataFrame, parent: np.ndarray, depth: np.ndarray) -> tuple[pl.Series, pl.Series]:
    """WBS codes (explicit ones kept, missing ones generated) and a pre-order sort key.

    Siblings are numbered by rolled-up planned start, then task id; roots are
    numbered within their project, since a WBS is a per-project outline. A child of
    a task with an explicit code extends that code, so hand-made outlines stay
    consistent. The sort key concatenates zero-padded sibling ranks, which sorts as
    a depth-first walk (string-sorting the codes would put 1.10 before 1.2).
    """
    ranked = (
        frame.select(
            "idx",
            "task_id",
            "planned_start",
            pl.when(pl.col("parent_idx") < 0).then(pl.col("project_key")).alias("root_project"),
            "parent_idx",
        )
        .sort(["parent_idx", "root_project", "planned_start", "task_id"], nulls_last=True)
        .with_columns(rank=pl.int_range(1, pl.len() + 1).over(["parent_idx", "root_project"]))
        .sort("idx")
    )
    rank = ranked["rank"].cast(pl.String)
    width = len(str(int(ranked["rank"].max() or 1)))
    padded = rank.str.zfill(width)
    own = frame["own_wbs"]
    n = frame.height
    codes = pl.Series("wbs", [None] * n, dtype=pl.String)
    keys = pl.Series("order_key", [None] * n, dtype=pl.String)
    by_depth = np.argsort(depth, kind="stable")
    bounds = np.searchsorted(depth[by_depth], np.arange(int(depth.max(initial=0)) + 2))
    for level in range(bounds.size - 1):
        idx = by_depth[bounds[level]:bounds[level + 1]]
        if not idx.size:
            continue
        level_rank = rank.gather(idx)
        level_own = own.gather(idx)
        level_padded = padded.gather(idx)
        if level == 0:
            new_codes = pl.select(pl.coalesce(pl.lit(level_own), pl.lit(level_rank))).to_series()
            new_keys = level_padded
        else:
            parents = parent[idx]
            generated = pl.select(
                pl.concat_str([pl.lit(codes.gather(parents)), pl.lit("."), pl.lit(level_rank)])
            ).to_series()
            new_codes = pl.select(pl.coalesce(pl.lit(level_own), pl.lit(generated))).to_series()
            new_keys = pl.select(
                pl.concat_str([pl.lit(keys.gather(parents)), pl.lit("."), pl.lit(level_padded)])
            ).to_series()
        codes.scatter(idx, new_codes)
        keys.scatter(idx, new_keys)
    return codes, keys


def rollup(
    plan: Plan,
    budget_by_task: dict[str, float] | None = None,
    hourly_rate: float | None = None,
) -> pl.DataFrame:
    """One row per task — leaves and every summary level — with figures rolled up from its leaves.

    Columns: task_id, parent_id, name, project_key, wbs, depth (0 = root), is_leaf,
    descendants (all levels), leaves, done_leaves, planned_start (earliest),
    planned_finish (latest), actual_start (earliest), actual_finish (latest, only once
    every leaf has one — a summary is not finished while any part is open),
    estimate_hours, actual_hours, progress_hours (actual ÷ estimate hours, capped at 1,
    null without estimates), progress_count (done leaves ÷ leaves; a leaf is done with
    an actual finish or 100 % complete), budget. Rows come in outline order
    (depth-first, siblings by start then task id).

    Leaf budget is `budget_by_task[task_id]` when given, else estimate_hours ×
    hourly_rate. A summary whose leaves have no value for a figure (dates, hours,
    budget) falls back to its own value, so an epic budgeted or dated only at the
    top still shows it. Hours come from leaves only, because tools that roll hours up
    themselves (MS Project) would otherwise be counted twice; time booked directly on
    a summary whose leaves also have hours is therefore not in its total. A `parent_id` not in the plan makes the task a root (and its
    parent_id is reported as null so the rows form one consistent tree). Raises
    ValueError naming the tasks of any parent cycle.
    """
    h = hierarchy(plan)
    n = len(h.task_ids)
    frame = _task_frame(plan).with_columns(
        idx=pl.Series(np.arange(n, dtype=np.int64)),
        parent_idx=pl.Series(h.parent),
        depth=pl.Series(h.depth),
        is_leaf=pl.Series(h.is_leaf),
    )
    own_budget = pl.lit(None, dtype=pl.Float64)
    if hourly_rate is not None:
        own_budget = pl.col("estimate_hours") * float(hourly_rate)
    if budget_by_task:
        given = pl.DataFrame(
            {"task_id": list(budget_by_task), "given_budget": list(budget_by_task.values())},
            schema={"task_id": pl.String, "given_budget": pl.Float64},
        )
        frame = frame.join(given, on="task_id", how="left", maintain_order="left")
        own_budget = pl.coalesce(pl.col("given_budget"), own_budget)
    frame = frame.with_columns(
        own_budget=own_budget,
        done=pl.col("actual_finish").is_not_null() | (pl.col("percent_complete") >= 100.0),
    )

    self_leaves = np.nonzero(h.is_leaf)[0]
    leaf_pair = h.is_leaf[h.pair_task]
    pairs = pl.DataFrame(
        {
            "idx": np.concatenate([self_leaves, h.pair_task[leaf_pair]]),
            "anc": np.concatenate([self_leaves, h.pair_ancestor[leaf_pair]]),
        }
    )
    leaf_values = frame.filter(pl.col("is_leaf")).select(
        "idx", "start", "finish", "actual_start", "actual_finish", "estimate_hours", "actual_hours",
        "own_budget", "done",
    )
    rolled = (
        pairs.join(leaf_values, on="idx")
        .group_by("anc")
        .agg(
            leaves=pl.len(),
            done_leaves=pl.col("done").sum(),
            leaf_start=pl.col("start").min(),
            leaf_finish=pl.col("finish").max(),
            leaf_actual_start=pl.col("actual_start").min(),
            leaf_actual_finish=pl.when(pl.col("actual_finish").null_count() == 0)
            .then(pl.col("actual_finish").max())
            .otherwise(None),
            leaf_estimate=_sum_or_null("estimate_hours"),
            leaf_actual=_sum_or_null("actual_hours"),
            leaf_budget=_sum_or_null("own_budget"),
        )
        .rename({"anc": "idx"})
    )
    descendants = np.bincount(h.pair_ancestor, minlength=n)
    out = (
        frame.join(rolled, on="idx", how="left", maintain_order="left")
        .with_columns(
            descendants=pl.Series(descendants.astype(np.int64)),
            planned_start=pl.coalesce("leaf_start", "start"),
            planned_finish=pl.coalesce("leaf_finish", "finish"),
            actual_start=pl.coalesce("leaf_actual_start", "actual_start"),
            actual_finish=pl.when(pl.col("is_leaf"))
            .then(pl.col("actual_finish"))
            .otherwise(pl.col("leaf_actual_finish")),
            estimate_hours=pl.coalesce("leaf_estimate", "estimate_hours"),
            actual_hours=pl.coalesce("leaf_actual", "actual_hours"),
            budget=pl.coalesce("leaf_budget", "own_budget"),
        )
        .with_columns(
            progress_hours=pl.when(pl.col("estimate_hours") > 0)
            .then(pl.min_horizontal(pl.col("actual_hours").fill_null(0.0) / pl.col("estimate_hours"), 1.0))
            .otherwise(None),
            progress_count=pl.col("done_leaves") / pl.col("leaves"),
        )
    )
    codes, keys = _wbs_codes(out, h.parent, h.depth)
    parent_ids = pl.Series(
        "parent_id", [h.task_ids[p] if p >= 0 else None for p in h.parent.tolist()], dtype=pl.String
    )
    return (
        out.with_columns(wbs=codes, order_key=keys, parent_id=parent_ids)
        .sort(["project_key", "order_key"], nulls_last=True)
        .select(
            "task_id",
            "parent_id",
            "name",
            "project_key",
            "wbs",
            pl.col("depth").cast(pl.Int32),
            "is_leaf",
            pl.col("descendants").cast(pl.Int64),
            pl.col("leaves").cast(pl.Int64),
            pl.col("done_leaves").cast(pl.Int64),
            "planned_start",
            "planned_finish",
            "actual_start",
            "actual_finish",
            "estimate_hours",
            "actual_hours",
            "progress_hours",
            "progress_count",
            "budget",
        )
    )
