"""Synthetic "Acme" IT department emitted as vendor-shaped payloads.

This module plans and simulates the work; the company's static tables live in
company.py and the vendor shaping (Jira / GitHub / GitLab / timesheets, and why
it mimics the vendors exactly) in payloads.py.

Why a simulation instead of random rows: the delay model needs real signal.
Work is planned from estimates (due dates), then actual durations are inflated
by assignee overload, blockers, scope churn, task size and bug type, and slips
propagate along dependency chains and sub-task sequences.  Everything derives
from one ``numpy.random.default_rng(seed)`` and dates relative to ``as_of``;
the clock is read only for the default ``as_of`` at the call boundary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

import numpy as np

from pipelines.demo.company import (
    CODE_STEPS, DOC_STEPS, MOB_PATH, PEOPLE, PRIORITIES, SENSITIVE_TASKS, SLA_DAYS, SPECS, TEAMS, Phase, Spec)
from models.planning.calendar import WorkCalendar
from pipelines.demo.payloads import (
    DemoPayload, github_payloads, gitlab_payloads, jira_payloads, timesheet_payloads)

__all__ = ["DemoPayload", "demo_projects", "generate_demo"]


@dataclass(slots=True)
class Item:
    """One simulated work item; every day is a working-day index into _Days."""

    proj: str
    kind: str  # epic | story | task | subtask | bug
    summary: str
    slug: str
    phase: int
    assignee: int
    reporter: int
    ps: int  # planned start
    due: int
    pdays: int  # planned working days
    est_h: float
    created: int
    topic: str = ""
    component: str = ""
    parent: int | None = None
    epic: int | None = None
    subs: list[int] = field(default_factory=list)
    blockers: list[int] = field(default_factory=list)
    relates: int | None = None
    duplicate_of: int | None = None
    priority: str = "Medium"
    churn: int = 0
    code: bool = False
    review: bool = True
    jit: float = 0.0  # per-item minutes offset, so timestamps are not all on the hour
    start: int = 0
    finish: int = 0
    review_day: int = 0
    first_done: int | None = None  # first "done" of an item that was reopened
    factor: float = 1.0
    hide_assignee: bool = False
    key: str = ""
    num: int = 0
    sensitive: bool = False  # labelled confidential (SENSITIVE_TASKS)

    def transitions(self) -> list[tuple[int, float, str]]:
        """Status path (day, hour, state); hours keep created < start < review < done on one day."""
        if self.kind == "epic":
            return [(self.start, 9.55, "doing"), (self.finish, 18.6, "done")]
        out = [(self.start, 9.6 + self.jit, "doing")]
        if self.first_done is not None:
            if self.review:
                out.append((max(self.start, self.first_done - 1), 14.0 + self.jit, "review"))
            out += [(self.first_done, 16.2 + self.jit, "done"), (self.first_done + 1, 10.7 + self.jit, "doing")]
        if self.review:
            out.append((max(out[-1][0], self.review_day), 14.0 + self.jit, "review"))
        return out + [(self.finish, 16.2 + self.jit * 1.5, "done")]

    def state(self, cut: int) -> str:
        return ([s for d, _, s in self.transitions() if d < cut] or ["todo"])[-1]

    def active_days(self, cut: int) -> list[int]:
        return list(range(self.start, min(self.finish, cut - 1) + 1)) if self.start < cut else []


class _Days:
    """The working days of ``calendar`` from ``first`` to ``last`` indexed 0..n, so plans are integer maths.

    The calendar is the company's ``WorkCalendar`` (Chinese public holidays, Spring Festival
    and 调休 make-up Saturdays included), the one CPM and levelling schedule the plans on.
    """

    def __init__(self, calendar: WorkCalendar, first: date, last: date) -> None:
        self._calendar = calendar
        self._zero = int(calendar.index_of(first, "forward"))
        end = int(calendar.index_of(last, "backward")) + 1
        self._dates: list[date] = calendar.date_of(np.arange(self._zero, end)).astype(object).tolist()

    def index(self, d: date) -> int:
        """Index of ``d`` (the next working day's when ``d`` is a day off), clipped to 0..n."""
        return min(max(int(self._calendar.index_of(d, "forward")) - self._zero, 0), len(self._dates))

    def date(self, i: int) -> date:
        return self._dates[min(i, len(self._dates) - 1)]

    def at(self, i: int, hour: float) -> datetime:
        """Naive Asia/Shanghai wall time of business day i."""
        return datetime.combine(self.date(i), time()) + timedelta(seconds=int(hour * 3600))


class Ctx:
    """Shared state of one generate_demo call (rng, calendar, items, people)."""

    def __init__(self, seed: int, as_of: date, calendar: WorkCalendar) -> None:
        self.seed, self.as_of, self.rng = seed, as_of, np.random.default_rng(seed)
        self.cal = _Days(calendar, as_of - timedelta(days=400), as_of + timedelta(days=900))
        self.cut = self.cal.index(as_of)  # events happen strictly before this business day
        self.items: list[Item] = []
        self.pidx = {p[1]: i for i, p in enumerate(PEOPLE)}
        self.speed = self.rng.lognormal(0.0, 0.12, len(PEOPLE))
        self.logs: dict[int, list[tuple[int, float]]] = {}  # item -> worklog (day, hours)

    def add(self, item: Item) -> int:
        self.items.append(item)
        return len(self.items) - 1

    def team(self, key: str, role: str) -> list[int]:
        return [self.pidx[a] for a in TEAMS[key][role]]

    def pick(self, seq: list | tuple) -> int:
        return seq[int(self.rng.integers(len(seq)))]

    def bounds(self, spec: Spec) -> tuple[int, int]:
        return (self.cal.index(self.as_of + timedelta(days=spec.start)),
                self.cal.index(self.as_of + timedelta(days=spec.due)))

    def created(self, it: Item) -> datetime:
        return self.cal.at(it.created, 8.5 + it.jit)

    def closed_at(self, it: Item) -> datetime | None:
        """When the item was (last) closed as seen on as_of; a reopen after as_of has not happened yet."""
        past = [(d, h, s) for d, h, s in it.transitions() if d < self.cut]
        return self.cal.at(past[-1][0], past[-1][1]) if past and past[-1][2] == "done" else None

    def review_opened(self, it: Item) -> datetime:
        """A PR/MR opens when the item goes to review (or is closed without one), before any first close."""
        day = it.review_day if it.review else it.finish
        return self.cal.at(day if it.first_done is None else min(day, it.first_done), 13.0 + it.jit)


def demo_projects(as_of: date) -> list[dict]:
    """Project master data (budget, rate, dates) the demo config loads alongside the payloads."""
    return [{"key": s.key, "name": s.name, "budget": float(s.budget), "currency": "CNY",
             "hourly_rate": float(s.hourly_rate), "start_date": as_of + timedelta(days=s.start),
             "due_date": as_of + timedelta(days=s.due), "tool": "gitlab" if s.key == "MOB" else "jira",
             "source_project": MOB_PATH if s.key == "MOB" else s.key, "repo": s.repo,
             "lead_email": TEAMS[s.key]["pm"][0] + "@acme.cn"} for s in SPECS]


def generate_demo(seed: int = 42, as_of: date | None = None,
                  calendar: WorkCalendar | None = None) -> list[DemoPayload]:
    """All payloads of the demo company as seen on ``as_of`` (nothing dated on or after it).

    Work happens on ``calendar``'s working days (default: the default settings' calendar,
    the Chinese one of the demo configuration).
    """
    if as_of is None:
        as_of = datetime.now(timezone.utc).date()
    elif isinstance(as_of, datetime):
        as_of = as_of.date()
    ctx = Ctx(seed, as_of, calendar or WorkCalendar.from_settings())
    for spec in SPECS:
        (_plan_stream if spec.key == "OPS" else _plan_phased)(spec, ctx)
    _simulate(ctx)
    _assign_keys(ctx)
    _mark_sensitive(ctx)
    ctx.logs = _worklogs(ctx)
    return [*jira_payloads(ctx), *github_payloads(ctx), *gitlab_payloads(ctx), *timesheet_payloads(ctx)]


# --- planning -------------------------------------------------------------------

def _combos(spec: Spec, ph: Phase, n: int, rng: np.random.Generator) -> list[tuple[tuple, tuple]]:
    """Distinct object x action pairs for a phase, cycling with a suffix only if they run out."""
    base = [(o, a) for o in spec.objects for a in ph.actions]
    order = rng.permutation(len(base))
    out = []
    for k in range(n):
        (zh, slug, comp), act = base[int(order[k % len(base)])]
        out.append(((zh if k < len(base) else f"{zh}（二期）", slug, comp), act))
    return out


def _add_subtasks(ctx: Ctx, u: int, k: int, people: list[int], steps: tuple) -> None:
    """Split a story's estimate into k sequential sub-tasks (design, build, test ...)."""
    rng, story = ctx.rng, ctx.items[u]
    hours = np.maximum(2.0, np.rint(story.est_h * rng.dirichlet(np.full(k, 3.0))))
    day = story.ps
    for h, (zh, slug) in zip(hours.tolist(), steps[:k]):
        who = story.assignee if rng.random() < 0.6 else ctx.pick(people)
        pdays = math.ceil(h / 6)
        story.subs.append(ctx.add(Item(
            story.proj, "subtask", f"{story.summary} - {zh}", f"{story.slug}-{slug}", story.phase, who,
            story.assignee, day, day + pdays - 1, pdays, h, story.created, topic=story.topic,
            component=story.component, parent=u, code=story.code, review=story.review, jit=float(rng.random()),
            priority=story.priority)))
        day += pdays
    story.est_h, story.due, story.pdays = float(hours.sum()), day - 1, day - story.ps


def _plan_phased(spec: Spec, ctx: Ctx) -> None:
    """Phases as epics chained in time; lanes of items per phase; bugs raised against code work."""
    rng, items = ctx.rng, ctx.items
    origin, end = ctx.bounds(spec)
    lead, qa = ctx.team(spec.key, "pm")[0], ctx.team(spec.key, "qa")
    prev_epic, prev_units, code_units = None, [], []
    for ph_i, ph in enumerate(spec.phases):
        b, e = origin + int((end - origin) * ph.begin), origin + int((end - origin) * ph.end)
        epic = ctx.add(Item(spec.key, "epic", ph.name, ph.slug, ph_i, lead, lead, b, e, e - b + 1, 0.0,
                             origin + ph_i, review=False))
        if prev_epic is not None:
            items[epic].blockers.append(prev_epic)
        prev_epic, units = epic, []
        people = list(dict.fromkeys(p for r in ph.roles for p in ctx.team(spec.key, r)))
        lanes = max(2, round(1.5 * len(people)))  # about 1.5 items in flight per person, as planners aim for
        per_lane = math.ceil(spec.items / lanes)
        names, slot = _combos(spec, ph, lanes * per_lane, rng), (e - b + 1) / per_lane
        for lane in range(lanes):
            owner, day, pred = people[(lane + ph_i) % len(people)], b + int(rng.integers(0, 4)), None
            if prev_units and rng.random() < spec.cross:
                cands = [u for u in prev_units if items[u].due < day]
                pred = ctx.pick(cands) if cands else None
            for j in range(per_lane):
                (obj, oslug, comp), (act, aslug) = names[lane * per_lane + j]
                hours = float(max(4, round(slot * 6 * rng.uniform(0.5, 0.9))))
                subs, pdays = hours >= 16 and rng.random() < spec.sub_share, math.ceil(hours / 6)
                u = ctx.add(Item(
                    spec.key, "story" if subs else "task", f"{obj}{act}", f"{oslug}-{aslug}", ph_i, owner, lead, day,
                    day + pdays - 1, pdays, hours, origin + int((day - origin) * rng.uniform(0.0, 0.5)), topic=obj,
                    component=comp, epic=epic, churn=int(rng.poisson(spec.churn)), code=ph.code,
                    review=ph.code or rng.random() < 0.4, jit=float(rng.random()),
                    priority=PRIORITIES[int(rng.choice(4, p=[0.05, 0.25, 0.6, 0.1]))]))
                if subs:
                    _add_subtasks(ctx, u, int(rng.integers(2, 6)), people, CODE_STEPS if ph.code else DOC_STEPS)
                if pred is not None and (j == 0 or rng.random() < spec.chain):
                    items[u].blockers.append(pred)
                pred, day = u, items[u].due + 1 + int(rng.integers(0, 2))
                units.append(u)
                if ph.code:
                    code_units.append(u)
        prev_units = units
    bugs: list[int] = []
    for _ in range(spec.bugs):
        rel = ctx.pick(code_units)
        r = items[rel]
        ps = max(r.ps + 1, r.due + int(rng.integers(-3, 45)))  # found during development or later testing
        prio = PRIORITIES[int(rng.choice(4, p=[0.08, 0.3, 0.5, 0.12]))]
        sym = spec.symptoms[int(rng.integers(len(spec.symptoms)))]
        earlier = [b for b in bugs if items[b].ps <= ps]
        dup = earlier[-1] if earlier and rng.random() < 0.06 else None
        est = 1.0 if dup is not None else float(np.clip(round(rng.lognormal(np.log(4), 0.6)), 1, 16))
        pdays = math.ceil(est / 6)
        bugs.append(ctx.add(Item(
            spec.key, "bug", items[dup].summary if dup is not None else f"【{r.component}】{r.topic}{sym[0]}",
            f"{r.slug}-{sym[1]}", r.phase, r.assignee, ctx.pick(qa), ps, ps + pdays - 1 + SLA_DAYS[prio], pdays,
            est, ps, topic=r.topic, component=r.component, epic=r.epic, relates=rel, duplicate_of=dup,
            priority=prio, code=True, review=dup is None and rng.random() < 0.5, jit=float(rng.random()))))


def _plan_stream(spec: Spec, ctx: Ctx) -> None:
    """Maintenance: a continuous stream of small tasks and bugs with priority-based SLAs."""
    rng, items = ctx.rng, ctx.items
    origin, end = ctx.bounds(spec)
    lead, people, reporters = ctx.team(spec.key, "pm")[0], ctx.team(spec.key, "ops"), ctx.team(spec.key, "qa")
    epics = [ctx.add(Item(spec.key, "epic", ph.name, ph.slug, i, lead, lead, origin, end, end - origin + 1, 0.0,
                           origin, review=False)) for i, ph in enumerate(spec.phases)]
    tasks: list[int] = []
    for c in np.sort(rng.integers(origin, end, spec.items)).tolist():
        is_bug = rng.random() < 0.55
        prio = PRIORITIES[int(rng.choice(4, p=[0.05, 0.2, 0.5, 0.25]))]
        est = float(np.clip(round(rng.lognormal(np.log(3 if is_bug else 5), 0.7)), 1, 40))
        sysz, sslug, comp = spec.objects[int(rng.integers(len(spec.objects)))]
        act, aslug = ctx.pick(spec.symptoms if is_bug else spec.phases[0].actions)
        # bugs queue by priority; tasks are requested ahead of a planned maintenance day
        wait = int(rng.integers(0, {"Highest": 1, "High": 2, "Medium": 4, "Low": 12}[prio]))
        ps, pdays = c + (wait if is_bug else 0), math.ceil(est / 2)  # tickets also wait on users and vendors
        created = c if is_bug else max(origin, c - int(rng.integers(0, 25)))
        epic = epics[int(rng.choice(4, p=[0.5, 0.2, 0.2, 0.1]))]
        u = ctx.add(Item(spec.key, "bug" if is_bug else "task", f"{sysz}{act}", f"{sslug}-{aslug}",
                          items[epic].phase, ctx.pick(people), ctx.pick(reporters), ps, c + max(SLA_DAYS[prio], pdays),
                          pdays, est, created, topic=sysz, component=comp, epic=epic, priority=prio,
                          churn=int(rng.poisson(spec.churn)), review=rng.random() < 0.2, jit=float(rng.random())))
        recent = [t for t in tasks[-25:] if items[t].due < ps]
        if not is_bug and recent and rng.random() < spec.chain:
            items[u].blockers.append(ctx.pick(recent))
        elif is_bug and tasks and rng.random() < 0.35:
            items[u].relates = ctx.pick(tasks[-40:])
        if not is_bug:
            tasks.append(u)
            if est >= 12 and rng.random() < spec.sub_share:
                _add_subtasks(ctx, u, int(rng.integers(2, 4)), people, CODE_STEPS)


# --- simulation -----------------------------------------------------------------

def _simulate(ctx: Ctx) -> None:
    """Turn the plan into actual start/finish days with slips that have causes.

    Size, bug type, churn, blockers and personal speed are known up front (vectorised);
    overload is the assignee's work actually in flight when an item starts, so it is
    recoverable from the payloads' status histories, as a model would measure it.
    """
    rng, items, n = ctx.rng, ctx.items, len(ctx.items)
    roots = [it.parent if it.parent is not None else i for i, it in enumerate(items)]
    est = np.array([max(it.est_h, 1.0) for it in items])
    base = (rng.lognormal(-0.2, 0.2, n) * ctx.speed[[it.assignee for it in items]]
            * (1 + 0.12 * np.array([len(items[r].blockers) for r in roots]))
            * (1 + 0.15 * np.array([items[r].churn for r in roots]))
            * np.clip(1 + 0.12 * np.log2(est / 8), 0.85, 1.5) * np.where([it.kind == "bug" for it in items], 1.25, 1.0))
    jitter, gap = rng.integers(-1, 3, n), rng.random(n) < 0.3
    reopen, extra, rdays = rng.random(n) < 0.07, rng.integers(2, 5, n), rng.integers(0, 3, n)
    hide = rng.random(n) < 0.15
    busy: dict[int, list[tuple[int, int]]] = {}
    units = sorted((i for i, it in enumerate(items) if it.kind != "epic" and it.parent is None),
                   key=lambda i: (items[i].ps, i))  # blockers are always planned earlier, so already simulated
    for u in units:
        it = items[u]
        day = max([it.ps + int(jitter[u]), it.created] + [items[b].finish + 1 for b in it.blockers])
        for leaf in it.subs or [u]:
            lf, spans = items[leaf], busy.setdefault(items[leaf].assignee, [])
            wip = sum(1 for s, f in spans if s <= day <= f)
            lf.factor = float(base[leaf]) * (1 + 0.2 * min(wip, 4))
            lf.start, lf.finish = day, day + max(1, round(lf.pdays * lf.factor)) - 1
            if reopen[leaf] and lf.duplicate_of is None:
                lf.first_done, lf.finish = lf.finish, lf.finish + int(extra[leaf])
            spans.append((lf.start, lf.finish))
            day = lf.finish + int(gap[leaf])
        if it.subs:
            it.start, it.finish = items[it.subs[0]].start, items[it.subs[-1]].finish + int(gap[u])
    for i, it in enumerate(items):
        if it.kind == "epic":
            kids = [items[u] for u in units if items[u].epic == i]
            it.start, it.finish = min((k.start for k in kids), default=it.ps), max((k.finish for k in kids), default=it.due)
        it.review_day = max(it.start, it.finish - int(rdays[i]))
        it.hide_assignee = bool(hide[i]) and it.start >= ctx.cut and it.kind != "epic"


def _assign_keys(ctx: Ctx) -> None:
    """Keys follow creation order, as trackers assign them; items created after as_of do not exist yet."""
    counters: dict[str, int] = {}
    for i in sorted((i for i, it in enumerate(ctx.items) if it.created < ctx.cut),
                    key=lambda i: (ctx.items[i].created, ctx.items[i].parent is not None, i)):
        it = ctx.items[i]
        it.num = counters[it.proj] = counters.get(it.proj, 0) + 1
        it.key = f"{MOB_PATH}#{it.num}" if it.proj == "MOB" else f"{it.proj}-{it.num}"


def _mark_sensitive(ctx: Ctx) -> None:
    """A few plain tasks become the confidential work of SENSITIVE_TASKS (no draws, so the rest stays put)."""
    for proj, titles in SENSITIVE_TASKS.items():
        plain = sorted((it for it in ctx.items if it.proj == proj and it.key and it.kind == "task" and not it.subs),
                       key=lambda it: it.num)
        titles = titles[:len(plain)]  # an early as_of may not have that many tasks yet
        for k, title in enumerate(titles):
            it = plain[(k + 1) * len(plain) // (len(titles) + 1)]
            it.summary, it.sensitive = title, True


def _worklogs(ctx: Ctx) -> dict[int, list[tuple[int, float]]]:
    """Daily hours on each leaf while in progress, scaled so nobody books more than 10 h a day overall."""
    rng, rows, means = ctx.rng, [], []
    for i, it in enumerate(ctx.items):
        if it.key and not it.subs and it.kind != "epic":
            days = it.active_days(ctx.cut)
            rows += [(i, it.assignee, d) for d in days]
            # effort grows slower than duration (waiting is not work); 0.85 offsets the days nobody logs
            means += [min(7.5, max(0.5, it.est_h * it.factor ** 0.7 / (it.finish - it.start + 1) / 0.85))] * len(days)
    item, person, day = np.array(rows, dtype=np.int64).reshape(-1, 3).T
    hours = np.clip(np.rint(rng.normal(np.array(means), 1.0) * 2) / 2, 0.5, 8.0)
    keep = (rng.random(len(hours)) < 0.85) | np.r_[True, item[1:] != item[:-1]]  # always log the first day
    item, person, day, hours = item[keep], person[keep], day[keep], hours[keep]
    _, inv = np.unique(person * 100_000 + day, return_inverse=True)
    total = np.bincount(inv, weights=hours)
    hours = np.maximum(0.5, np.floor(hours * np.minimum(1.0, 10.0 / total)[inv] * 2) / 2)
    out: dict[int, list[tuple[int, float]]] = {}
    for i, d, h in zip(item.tolist(), day.tolist(), hours.tolist()):
        out.setdefault(i, []).append((d, h))
    return out
