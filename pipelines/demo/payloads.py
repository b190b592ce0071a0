"""Rendering of the simulated company as vendor REST payloads.

Why vendor shapes: the demo has to run through exactly the same parse code as
real Jira / GitHub / GitLab / timesheet sources (docs/payload-contract.md), so
every body is what the vendor REST API returns for that item.  generate.py
decides what happened; this module only shapes it.  Some shaping draws
from ``ctx.rng`` (comment times, scope edits, commit sizes), so the builders
must run in the order generate_demo calls them for a seed to stay reproducible.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Iterator

import numpy as np

from pipelines.demo.company import (
    BUG_COMMENTS, CHANGES, COMMENTS, CST, FIB, GITLAB_URL, ISSUE_TYPES, JIRA_CUSTOM_FIELDS, JIRA_SYSTEM_FIELDS,
    JIRA_URL, LINK_TYPES, MOB_ID, MOB_PATH, NO_EMAIL, PEOPLE, PRIORITIES, SPEC_BY_KEY, SPECS, STATUS, TEAMS,
    WORK_NOTES, Spec)

if TYPE_CHECKING:
    from pipelines.demo.generate import Ctx, Item


@dataclass(frozen=True)
class DemoPayload:
    """One raw vendor item, as a connector would have fetched and stored it."""

    kind: str
    item_key: str
    updated_at: datetime
    body: dict | list | bytes


# --- Jira -----------------------------------------------------------------------

def _ts(dt: datetime, style: str = "jira") -> str:
    """Shanghai wall time in each vendor's format: Jira +0800, Agile/GitLab commits +08:00, GitHub/GitLab UTC."""
    if style in ("jira", "agile"):
        return dt.strftime("%Y-%m-%dT%H:%M:%S.000" + ("+0800" if style == "jira" else "+08:00"))
    return (dt - CST).strftime("%Y-%m-%dT%H:%M:%S" + ("Z" if style == "github" else ".000Z"))


def _change(name: str, old: str | None, new: str | None, ids: tuple = (None, None), custom: str = "") -> dict:
    """One changelog item; custom fields also carry their field id."""
    return {"field": name, "fieldtype": "custom" if custom else "jira", **({"fieldId": custom} if custom else {}),
            "from": ids[0], "fromString": old, "to": ids[1], "toString": new}


def _jira_user(p: int | None) -> dict | None:
    if p is None:
        return None
    name, acct = PEOPLE[p][0], PEOPLE[p][1]
    user = {"self": f"{JIRA_URL}/rest/api/2/user?username={acct}", "name": acct, "key": acct,
            "emailAddress": f"{acct}@acme.cn", "displayName": name, "active": True, "timeZone": "Asia/Shanghai"}
    if acct in NO_EMAIL:
        del user["emailAddress"]
    return user


def _jira_status(proj: str, state: str) -> dict:
    sid, zh, en, cid, ckey, color, czh = STATUS[state]
    english = proj == "OPS"  # the OPS project still runs the default English workflow
    cname = {"new": "To Do", "indeterminate": "In Progress", "done": "Done"}[ckey] if english else czh
    return {"self": f"{JIRA_URL}/rest/api/2/status/{sid}", "id": sid, "name": en if english else zh, "description": "",
            "statusCategory": {"self": f"{JIRA_URL}/rest/api/2/statuscategory/{cid}", "id": cid, "key": ckey,
                               "colorName": color, "name": cname}}


def _jira_ref(ctx: Ctx, it: Item) -> dict:
    """The abbreviated issue Jira embeds in parent, subtasks and issuelinks."""
    tid, tname = ISSUE_TYPES[it.kind]
    num, prio = 10000 * _pnum(it.proj) + it.num, PRIORITIES.index(it.priority) + 1
    return {"id": str(num), "key": it.key, "self": f"{JIRA_URL}/rest/api/2/issue/{num}",
            "fields": {"summary": it.summary, "status": _jira_status(it.proj, it.state(ctx.cut)),
                       "priority": {"self": f"{JIRA_URL}/rest/api/2/priority/{prio}", "name": it.priority,
                                    "id": str(prio)},
                       "issuetype": {"self": f"{JIRA_URL}/rest/api/2/issuetype/{tid}", "id": tid, "name": tname,
                                     "subtask": it.kind == "subtask"}}}


def _pnum(proj: str) -> int:
    return [s.key for s in SPECS].index(proj) + 1


def _project_ref(spec: Spec) -> dict:
    pid = 10100 + _pnum(spec.key)
    return {"self": f"{JIRA_URL}/rest/api/2/project/{pid}", "id": str(pid), "key": spec.key, "name": spec.name,
            "projectTypeKey": "software"}


def _sprints(ctx: Ctx, spec: Spec, board: int, first_id: int) -> list[dict]:
    """Two-week sprints from the first Monday of the project until its due date."""
    start, due = ctx.as_of + timedelta(days=spec.start), ctx.as_of + timedelta(days=spec.due)
    monday, out = start + timedelta(days=(7 - start.weekday()) % 7), []
    origin, end = ctx.bounds(spec)
    while monday <= due:
        fri = monday + timedelta(days=11)
        s, e = ctx.cal.index(monday), ctx.cal.index(fri + timedelta(days=1)) - 1
        ph = [p for p in spec.phases if p.begin <= (s - origin) / (end - origin)][-1]
        state = "closed" if fri < ctx.as_of else "active" if monday < ctx.as_of else "future"
        begin, finish = datetime.combine(monday, time(9, 30)), datetime.combine(fri, time(18))
        out.append({"id": first_id + len(out), "name": f"{spec.key} Sprint {len(out) + 1}", "state": state,
                    "boardId": board, "goal": "SLA 达标，清理积压工单" if spec.key == "OPS" else f"{ph.name}：完成迭代承诺",
                    "startDate": _ts(begin, "agile"), "endDate": _ts(finish, "agile"),
                    "_s": s, "_e": e, "_start": begin})  # private keys: business-day span, dropped from payloads
        if state == "closed":
            out[-1]["completeDate"] = _ts(finish + timedelta(minutes=30), "agile")
        monday += timedelta(days=14)
    return out


def _issue_sprints(ctx: Ctx, it: Item, sprints: list[dict]) -> list[dict]:
    """Sprints an issue sat in: its planned sprint, then every sprint it was carried over into."""
    ref = ctx.items[it.parent] if it.parent is not None else it  # sub-tasks follow their parent, as in Jira
    if it.kind == "epic":
        return []
    if ref.start >= ctx.cut:
        return [s for s in sprints if s["_s"] <= ref.ps <= s["_e"] and s["_s"] < ctx.cut + 10]
    lo, hi = max(min(ref.ps, ref.start), ref.start - 10), min(ref.finish, ctx.cut - 1)
    return [s for s in sprints if s["_s"] <= hi and s["_e"] >= lo and s["_s"] < ctx.cut]


def _histories(ctx: Ctx, it: Item, sprints: list[dict], desc: list[str]) -> list[tuple]:
    """Changelog events (when, author, items): sprint moves, scope edits, status transitions."""
    rng, cal, cut, out = ctx.rng, ctx.cal, ctx.cut, []
    lead = ctx.pidx[TEAMS[it.proj]["pm"][0]]
    for k, s in enumerate(sprints):
        planned = s["_start"] if s["_s"] < cut else cal.at(cut - 1, 17.5)  # the next sprint is planned before it starts
        ids, names = [str(x["id"]) for x in sprints[:k + 1]], [x["name"] for x in sprints[:k + 1]]
        out.append((max(planned, ctx.created(it) + timedelta(minutes=5)), lead, [_change(
            "Sprint", ", ".join(names[:-1]) or None, ", ".join(names), (", ".join(ids[:-1]) or None, ", ".join(ids)),
            "customfield_10020")]))
    points = _story_points(it.est_h)
    for c in range(it.churn if it.kind != "subtask" else 0):
        day = it.created + 1 + int(rng.integers(0, max(1, it.finish - it.created)))
        if day >= cut:
            continue
        desc.append(desc[-1] + f"\n\n【变更{c + 1}】{CHANGES[int(rng.integers(len(CHANGES)))]}")
        items = [_change("description", desc[-2], desc[-1])]
        if it.kind == "story":  # scope growth re-estimates the story
            bigger = FIB[min(FIB.index(points) + 1, len(FIB) - 1)]
            items.append(_change("Story Points", f"{points:g}", f"{bigger:g}", custom="customfield_10002"))
            points = bigger
        out.append((cal.at(day, 11.0 + rng.random() * 5), it.reporter, items))
    prev, res = "todo", _resolution(it)
    for day, hour, state in it.transitions():
        if day >= cut:
            break
        a, b = _jira_status(it.proj, prev), _jira_status(it.proj, state)
        items = [_change("status", a["name"], b["name"], (a["id"], b["id"]))]
        if state == "done":  # resolution is set on close and cleared on reopen
            items.append(_change("resolution", None, res["name"], (None, res["id"])))
        elif prev == "done":
            items.append(_change("resolution", res["name"], None, (res["id"], None)))
        out.append((cal.at(day, hour), lead if it.kind == "epic" else it.assignee, items))
        prev = state
    return sorted(out, key=lambda e: e[0])


def _resolution(it: Item) -> dict:
    english, dup = it.proj == "OPS", it.duplicate_of is not None
    rid, name = ("10002", ("重复", "Duplicate")[english]) if dup else ("10000", ("完成", "Done")[english])
    return {"self": f"{JIRA_URL}/rest/api/2/resolution/{rid}", "id": rid, "name": name}


def _story_points(hours: float) -> float:
    return FIB[int(np.searchsorted((4, 8, 16, 28, 48, 80), hours))]


def _id(text: str) -> int:
    """Stable small integer derived from a name (Python's hash() is salted per process)."""
    return int(hashlib.sha1(text.encode()).hexdigest()[:8], 16) % 90000


def _component(name: str) -> dict:
    return {"self": f"{JIRA_URL}/rest/api/2/component/{_id(name)}", "id": str(_id(name)), "name": name}


def _jira_issue(ctx: Ctx, i: int, sprints: list[dict], links: dict[int, list[dict]]) -> dict:
    """One issue exactly as /rest/api/2/search?expand=changelog returns it."""
    it, cal, rng, cut = ctx.items[i], ctx.cal, ctx.rng, ctx.cut
    ref, spec = _jira_ref(ctx, it), SPEC_BY_KEY[it.proj]
    desc = [f"背景：{spec.name}（{spec.phases[it.phase].name}）。\n目标：{it.summary}。\n\n"
            f"验收标准：\n# 功能符合需求说明\n# 通过评审与测试"]
    in_sprints = _issue_sprints(ctx, it, sprints)
    hist, state, logs = _histories(ctx, it, in_sprints, desc), it.state(cut), ctx.logs.get(i, [])
    worklogs = [{"self": f"{ref['self']}/worklog/{i * 1000 + k}", "id": str(i * 1000 + k), "issueId": ref["id"],
                 "author": _jira_user(it.assignee), "updateAuthor": _jira_user(it.assignee),
                 "comment": WORK_NOTES[(i + k) % len(WORK_NOTES)], "started": _ts(cal.at(d, 9.7 + it.jit)),
                 "created": _ts(cal.at(d, 18.5 + it.jit)), "updated": _ts(cal.at(d, 18.5 + it.jit)),
                 "timeSpent": f"{h:g}h", "timeSpentSeconds": int(h * 3600)} for k, (d, h) in enumerate(logs)]
    span, pool = it.active_days(cut) or [it.created], BUG_COMMENTS if it.kind == "bug" else COMMENTS
    notes = sorted((cal.at(span[int(rng.integers(len(span)))], 11.0 + rng.random() * 7),
                    ctx.pick([it.assignee, it.reporter]), pool[int(rng.integers(len(pool)))])
                   for _ in range(int(rng.poisson(1.2)) if it.start < cut else int(rng.random() < 0.2)))
    comments = [{"self": f"{ref['self']}/comment/{i * 100 + k}", "id": str(i * 100 + k), "author": _jira_user(a),
                 "updateAuthor": _jira_user(a), "body": text, "created": _ts(w), "updated": _ts(w)}
                for k, (w, a, text) in enumerate(notes)]
    spent = sum(w["timeSpentSeconds"] for w in worklogs)
    est = None if it.subs or it.kind == "epic" else int(it.est_h * 3600)
    closed_at = ctx.closed_at(it)
    updated = max([ctx.created(it)] + [e[0] for e in hist] + [cal.at(d, 18.5 + it.jit) for d, _ in logs]
                  + [n[0] for n in notes])
    points = _story_points(it.est_h)
    for x in (x for e in hist for x in e[2] if x["field"] == "Story Points"):
        points = float(x["toString"])
    fields = {
        "summary": it.summary, "description": desc[-1], "issuetype": ref["fields"]["issuetype"],
        "status": ref["fields"]["status"], "priority": ref["fields"]["priority"],
        "assignee": None if it.hide_assignee else _jira_user(it.assignee), "reporter": _jira_user(it.reporter),
        "creator": _jira_user(it.reporter), "created": _ts(ctx.created(it)), "updated": _ts(updated),
        "resolutiondate": _ts(closed_at) if closed_at else None,
        "resolution": _resolution(it) if state == "done" else None,
        "duedate": cal.date(it.due).isoformat(), "timeoriginalestimate": est,
        "timeestimate": None if est is None else (0 if state == "done" else max(0, est - spent)),
        "timespent": spent or None,
        "aggregatetimeoriginalestimate": None if it.kind == "epic" else int(it.est_h * 3600),
        "aggregatetimespent": (spent + sum(int(h * 3600) for s in it.subs for _, h in ctx.logs.get(s, []))) or None,
        "labels": [name for name, on in (("需求变更", len(desc) > 1), ("regression", it.kind == "bug" and it.code),
                                         ("sla", it.proj == "OPS" and it.priority == "Highest"),
                                         ("confidential", it.sensitive)) if on],
        "components": [_component(it.component)] if it.component else [],
        "project": _project_ref(spec),
        "subtasks": [_jira_ref(ctx, ctx.items[s]) for s in it.subs if ctx.items[s].key],
        "issuelinks": links.get(i, []),
        "worklog": {"startAt": 0, "maxResults": max(20, len(worklogs)), "total": len(worklogs), "worklogs": worklogs},
        "comment": {"comments": comments, "maxResults": len(comments), "total": len(comments), "startAt": 0},
        "customfield_10002": points if it.kind in ("story", "task") else None,
        "customfield_10020": [{k: v for k, v in s.items() if not k.startswith("_")} for s in in_sprints] or None,
        "customfield_10014": ctx.items[it.epic].key if it.epic is not None else None,
        "customfield_10011": it.summary if it.kind == "epic" else None,
        "customfield_10015": cal.date(it.ps).isoformat(), "customfield_10016": cal.date(it.due).isoformat(),
        "fixVersions": [], "versions": [],
    }
    if it.parent is not None:
        fields["parent"] = _jira_ref(ctx, ctx.items[it.parent])
    histories = [{"id": str(i * 1000 + k), "author": _jira_user(a), "created": _ts(w), "items": x}
                 for k, (w, a, x) in enumerate(hist)]
    return {"expand": "operations,versionedRepresentations,editmeta,changelog,renderedFields", "id": ref["id"],
            "self": ref["self"], "key": it.key, "fields": fields,
            "changelog": {"startAt": 0, "maxResults": len(histories), "total": len(histories), "histories": histories}}


def _jira_links(ctx: Ctx) -> dict[int, list[dict]]:
    """Every link on both issues: outwardIssue on the source side, inwardIssue on the target side."""
    pairs, out = [], {}
    for i, it in enumerate(ctx.items):
        pairs += [("Blocks", b, i) for b in it.blockers]  # "b blocks i"
        pairs += [("Relates", i, it.relates)] if it.relates is not None else []
        pairs += [("Duplicate", i, it.duplicate_of)] if it.duplicate_of is not None else []  # "i duplicates ..."
    for n, (name, a, b) in enumerate(pairs):
        ia, ib = ctx.items[a], ctx.items[b]
        if ia.key and ib.key and ia.proj != "MOB":
            tid, inward, outward = LINK_TYPES[name]
            link = {"id": str(20000 + n), "self": f"{JIRA_URL}/rest/api/2/issueLink/{20000 + n}",
                    "type": {"id": tid, "name": name, "inward": inward, "outward": outward,
                             "self": f"{JIRA_URL}/rest/api/2/issueLinkType/{tid}"}}
            out.setdefault(a, []).append({**link, "outwardIssue": _jira_ref(ctx, ib)})
            out.setdefault(b, []).append({**link, "inwardIssue": _jira_ref(ctx, ia)})
    return out


def jira_payloads(ctx: Ctx) -> Iterator[DemoPayload]:
    """Field list, then per Jira project: the project, its sprints and its issues."""
    fields = [{"id": f, "key": f, "name": n, "custom": False, "orderable": True, "navigable": True, "searchable": True,
               "clauseNames": [f], "schema": {"type": t, "system": f}} for f, n, t in JIRA_SYSTEM_FIELDS]
    fields += [{"id": f, "key": f, "name": n, "custom": True, "orderable": True, "navigable": True, "searchable": True,
                "clauseNames": [f"cf[{f[12:]}]", n], "schema": {"type": t, "custom": c, "customId": int(f[12:]),
                                                                  **({"items": "string"} if t == "array" else {})}}
               for f, n, t, c in JIRA_CUSTOM_FIELDS]
    yield DemoPayload("jira_fields", "fields", ctx.cal.at(ctx.bounds(SPECS[-1])[0], 9.0) - CST, fields)
    links, sprint_id = _jira_links(ctx), 101
    for board, spec in enumerate((s for s in SPECS if s.key != "MOB"), start=1):
        kickoff = ctx.cal.at(ctx.bounds(spec)[0], 9.0) - CST
        yield DemoPayload("jira_project", spec.key, kickoff, {
            **_project_ref(spec), "expand": "description,lead,url,projectKeys", "description": spec.name,
            "url": f"{JIRA_URL}/browse/{spec.key}",
            "lead": _jira_user(ctx.pidx[TEAMS[spec.key]["pm"][0]]),
            "assigneeType": "UNASSIGNED", "components": [_component(c) for c in sorted({o[2] for o in spec.objects})],
            "issueTypes": [{"self": f"{JIRA_URL}/rest/api/2/issuetype/{t}", "id": t, "name": n, "subtask": n == "Sub-task"}
                           for t, n in ISSUE_TYPES.values()], "versions": [], "projectKeys": [spec.key]})
        sprints = _sprints(ctx, spec, board, sprint_id)
        sprint_id += len(sprints)
        for s in sprints:
            body = {"id": s["id"], "self": f"{JIRA_URL}/rest/agile/1.0/sprint/{s['id']}", "state": s["state"],
                    "name": s["name"], "startDate": s["startDate"], "endDate": s["endDate"],
                    **({"completeDate": s["completeDate"]} if "completeDate" in s else {}),
                    "originBoardId": s["boardId"], "goal": s["goal"]}
            touched = datetime.fromisoformat(s.get("completeDate", s["startDate"])).replace(tzinfo=None) - CST
            yield DemoPayload("jira_sprint", str(s["id"]), touched if s["state"] != "future" else kickoff, body)
        for i in sorted((i for i, it in enumerate(ctx.items) if it.proj == spec.key and it.key),
                        key=lambda i: ctx.items[i].num):
            body = _jira_issue(ctx, i, sprints, links)
            updated = datetime.strptime(body["fields"]["updated"][:19], "%Y-%m-%dT%H:%M:%S") - CST
            yield DemoPayload("jira_issue", body["key"], updated, body)


# --- GitHub ---------------------------------------------------------------------

def _sha(*parts: object) -> str:
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()


def _gh_user(p: int) -> dict:
    login = PEOPLE[p][2]
    return {"login": login, "id": 1_000_000 + p * 7919, "type": "User", "html_url": f"https://github.com/{login}"}


def _code_commits(ctx: Ctx, it: Item) -> list[tuple[datetime, int, int]]:
    """(local time, additions, deletions) of commits made while a code leaf was in progress."""
    days = it.active_days(ctx.cut)
    if not it.code or it.subs or not days:
        return []
    rng = ctx.rng
    n = 1 + min(int(rng.poisson(len(days) / 3)), 5)
    adds = np.rint(rng.lognormal(3.5, 1.0, n)).astype(int) + 1
    return [(ctx.cal.at(days[int(k)], 10.0 + rng.random() * 12.5), int(a), int(a * rng.random() * 0.6))
            for k, a in zip(np.sort(rng.integers(0, len(days), n)), adds)]


def github_payloads(ctx: Ctx) -> Iterator[DemoPayload]:
    """Per repository: one PR per code work item (opened at review) and commits mentioning Jira keys."""
    for spec in (s for s in SPECS if s.repo and s.key != "MOB"):
        repo, pulls, commits = spec.repo, [], []
        for i, it in enumerate(ctx.items):
            if it.proj != spec.key or not it.key:
                continue
            for k, (when, a, d) in enumerate(_code_commits(ctx, it)):
                msg = f"{it.key} add unit tests for {it.slug}" if k % 3 == 2 else \
                    f"{it.key} {'修复' if it.kind == 'bug' else ''}{it.summary}"
                commits.append((when, it.assignee, msg, a, d, _sha(repo, it.key, k, ctx.seed)))
            opened = ctx.review_opened(it)
            if it.code and it.parent is None and it.kind != "epic" and opened.date() < ctx.as_of:
                pulls.append((opened, i))
        for n, (opened, i) in enumerate(sorted(pulls), start=1):
            it = ctx.items[i]
            branch = f"{'bugfix' if it.kind == 'bug' else 'feature'}/{it.key}-{it.slug}"
            closed = ctx.closed_at(it)
            merged = None if closed is None or _id(it.key) % 20 == 0 else closed  # a few PRs are abandoned
            updated = closed or max(opened, ctx.cal.at(min(it.finish, ctx.cut - 1), 18.0))
            yield DemoPayload("github_pull", f"{repo}#{n}", updated - CST, {
                "url": f"https://api.github.com/repos/{repo}/pulls/{n}", "id": 900_000 + 1000 * len(repo) + n,
                "html_url": f"https://github.com/{repo}/pull/{n}", "number": n, "state": "closed" if closed else "open",
                "title": f"{it.key} {it.summary}", "user": _gh_user(it.assignee),
                "body": f"关联任务: {JIRA_URL}/browse/{it.key}\n\n{it.summary}\n\n- [x] 单元测试\n- [x] 自测通过",
                "created_at": _ts(opened, "github"), "updated_at": _ts(updated, "github"),
                "closed_at": _ts(closed, "github") if closed else None,
                "merged_at": _ts(merged, "github") if merged else None,
                "merge_commit_sha": _sha(repo, "merge", n, ctx.seed) if merged else None, "draft": False,
                "head": {"ref": branch, "sha": _sha(repo, branch), "repo": {"full_name": repo}},
                "base": {"ref": "main", "sha": _sha(repo, "main", n), "repo": {"full_name": repo}}})
        for when, who, msg, a, d, sha in sorted(commits, key=lambda c: (c[0], c[5])):
            git = {"name": PEOPLE[who][0], "email": f"{PEOPLE[who][1]}@acme.cn", "date": _ts(when, "github")}
            yield DemoPayload("github_commit", sha, when - CST, {
                "sha": sha, "node_id": f"C_{sha[:20]}", "url": f"https://api.github.com/repos/{repo}/commits/{sha}",
                "html_url": f"https://github.com/{repo}/commit/{sha}",
                "commit": {"author": git, "committer": dict(git), "message": msg, "comment_count": 0,
                           "tree": {"sha": _sha(sha, "tree")}},
                "author": _gh_user(who), "committer": _gh_user(who), "parents": [{"sha": _sha(sha, "parent")}],
                "stats": {"additions": a, "deletions": d, "total": a + d}})


# --- GitLab and timesheets ------------------------------------------------------

def _gl_user(p: int) -> dict:
    name, user = PEOPLE[p][0], PEOPLE[p][3]
    return {"id": 200 + p, "username": user, "name": name, "state": "active", "avatar_url": None,
            "web_url": f"{GITLAB_URL}/{user}"}


def _human(seconds: int) -> str | None:
    """GitLab's human duration (1w = 5d, 1d = 8h)."""
    parts, rest = [], seconds // 60
    for unit, size in (("w", 5 * 8 * 60), ("d", 8 * 60), ("h", 60), ("m", 1)):
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    return " ".join(parts) or None


def gitlab_payloads(ctx: Ctx) -> Iterator[DemoPayload]:
    """acme/mobile-app issues (time_stats agree with the timesheets), merge requests and commits."""
    spec, cal, cut, pm = SPEC_BY_KEY["MOB"], ctx.cal, ctx.cut, ctx.pidx["jason.liu"]
    idx = sorted((i for i, it in enumerate(ctx.items) if it.proj == "MOB" and it.key and it.kind != "epic"),
                 key=lambda i: ctx.items[i].num)
    epics = {it.phase: it for it in ctx.items if it.proj == "MOB" and it.kind == "epic"}
    opened = {i: ctx.review_opened(ctx.items[i]) for i in idx if ctx.items[i].code}
    mr_of = {i: n for n, i in enumerate(sorted((i for i in opened if opened[i].date() < ctx.as_of),
                                               key=lambda i: (opened[i], i)), start=1)}
    commits = []
    for i in idx:
        it, logs, e = ctx.items[i], ctx.logs.get(i, []), epics[ctx.items[i].phase]
        state, iid = it.state(cut), it.num
        closed = ctx.closed_at(it)
        updated = max([ctx.created(it)] + [cal.at(d, 18.5) for d, _ in logs] + [closed or ctx.created(it)])
        labels = sorted(["bug" if it.kind == "bug" else "feature", f"P{min(3, PRIORITIES.index(it.priority) + 1)}"]
                        + {"doing": ["status::doing"], "review": ["status::review"]}.get(state, []))
        incident = it.kind == "bug" and it.priority == "Highest" and it.phase == len(spec.phases) - 1
        est, spent = int(it.est_h * 3600), int(sum(h for _, h in logs) * 3600)
        milestone = {"id": 500 + it.phase, "iid": it.phase + 1, "project_id": MOB_ID, "title": e.summary,
                     "description": "", "state": "closed" if e.finish < cut else "active",
                     "due_date": cal.date(e.due).isoformat(), "start_date": cal.date(e.ps).isoformat(),
                     "web_url": f"{GITLAB_URL}/{MOB_PATH}/-/milestones/{it.phase + 1}"}
        user = None if it.hide_assignee else _gl_user(it.assignee)
        related = f"\n\n关联 #{ctx.items[it.relates].num}" if it.relates is not None else ""
        yield DemoPayload("gitlab_issue", it.key, updated - CST, {
            "id": 880_000 + iid, "iid": iid, "project_id": MOB_ID, "title": it.summary,
            "description": f"## 背景\n{spec.name}：{it.summary}\n\n## 验收标准\n- [ ] iOS / Android 双端通过{related}",
            "state": "closed" if closed else "opened", "created_at": _ts(ctx.created(it), "gitlab"),
            "updated_at": _ts(updated, "gitlab"), "closed_at": _ts(closed, "gitlab") if closed else None,
            "closed_by": _gl_user(it.assignee) if closed else None, "labels": labels, "milestone": milestone,
            "assignees": [user] if user else [], "assignee": user, "author": _gl_user(it.reporter),
            "type": "INCIDENT" if incident else "ISSUE", "issue_type": "incident" if incident else "issue",
            "user_notes_count": it.churn, "merge_requests_count": int(i in mr_of), "upvotes": 0, "downvotes": 0,
            "due_date": cal.date(it.due).isoformat(), "confidential": False,
            "web_url": f"{GITLAB_URL}/{MOB_PATH}/-/issues/{iid}", "severity": "CRITICAL" if incident else "UNKNOWN",
            "time_stats": {"time_estimate": est, "total_time_spent": spent,
                           "human_time_estimate": _human(est), "human_total_time_spent": _human(spent)},
            "references": {"short": f"#{iid}", "relative": f"#{iid}", "full": f"{MOB_PATH}#{iid}"}})
        for k, (when, a, d) in enumerate(_code_commits(ctx, it)):
            prefix = "fix" if it.kind == "bug" else ("test" if k % 4 == 3 else "feat")
            sha = _sha(MOB_PATH, iid, k, ctx.seed)
            commits.append((when, it.assignee, f"{prefix}: {it.summary} #{iid}", a, d, sha))
        if i in mr_of:
            n, branch = mr_of[i], f"{iid}-{it.slug}"
            merged = closed - timedelta(minutes=20) if closed else None
            yield DemoPayload("gitlab_merge_request", f"{MOB_PATH}!{n}", (merged or opened[i]) - CST, {
                "id": 990_000 + n, "iid": n, "project_id": MOB_ID, "title": f'Resolve "{it.summary}" #{iid}',
                "description": f"Closes #{iid}", "state": "merged" if merged else "opened",
                "created_at": _ts(opened[i], "gitlab"), "updated_at": _ts(merged or opened[i], "gitlab"),
                "merged_at": _ts(merged, "gitlab") if merged else None, "closed_at": None,
                "merged_by": _gl_user(pm) if merged else None, "author": _gl_user(it.assignee),
                "assignees": [_gl_user(it.assignee)], "reviewers": [_gl_user(pm)], "source_branch": branch,
                "target_branch": "main", "source_project_id": MOB_ID, "target_project_id": MOB_ID,
                "labels": list(labels), "milestone": dict(milestone), "draft": False, "merge_status": "can_be_merged",
                "sha": _sha(MOB_PATH, branch), "merge_commit_sha": _sha(MOB_PATH, "merge", n) if merged else None,
                "references": {"short": f"!{n}", "relative": f"!{n}", "full": f"{MOB_PATH}!{n}"},
                "web_url": f"{GITLAB_URL}/{MOB_PATH}/-/merge_requests/{n}"})
    for when, who, msg, a, d, sha in sorted(commits, key=lambda c: (c[0], c[5])):
        local, name, mail = _ts(when, "agile"), PEOPLE[who][0], f"{PEOPLE[who][1]}@acme.cn"
        yield DemoPayload("gitlab_commit", sha, when - CST, {
            "id": sha, "short_id": sha[:8], "created_at": local, "parent_ids": [_sha(sha, "parent")],
            "title": msg.split("\n")[0], "message": msg, "author_name": name, "author_email": mail,
            "authored_date": local, "committer_name": name, "committer_email": mail, "committed_date": local,
            "trailers": {}, "web_url": f"{GITLAB_URL}/{MOB_PATH}/-/commit/{sha}",
            "stats": {"additions": a, "deletions": d, "total": a + d}})


def timesheet_payloads(ctx: Ctx) -> Iterator[DemoPayload]:
    """Monthly CSV exports of the MOB team: issue hours plus meetings with an empty task."""
    cal, origin = ctx.cal, ctx.bounds(SPEC_BY_KEY["MOB"])[0]
    rows = [(cal.date(d), PEOPLE[ctx.items[i].assignee][0], h, ctx.items[i].key, WORK_NOTES[(d + i) % 4])
            for i, logs in ctx.logs.items() if ctx.items[i].proj == "MOB" for d, h in logs]
    team = sorted({ctx.pidx[a] for r in TEAMS["MOB"].values() for a in r})
    for d in range(origin, ctx.cut):
        day = cal.date(d)
        if day.weekday() == 0:
            rows += [(day, PEOPLE[p][0], 1.0, "", "周会") for p in team]
        if day.weekday() == 4 and (d - origin) // 5 % 2 == 1:
            rows += [(day, PEOPLE[p][0], 1.5, "", "迭代评审会") for p in team]
    months: dict[str, list] = {}
    for r in sorted(rows, key=lambda r: (r[0], r[1], r[3])):
        months.setdefault(r[0].strftime("%Y-%m"), []).append(r)
    for month, mrows in months.items():
        buf = io.StringIO()
        out = csv.writer(buf, lineterminator="\n")
        out.writerow(["姓名", "日期", "工时", "任务", "备注"])
        out.writerows([name, day.isoformat(), f"{h:g}", task, note] for day, name, h, task, note in mrows)
        yield DemoPayload("timesheet_file", f"timesheets/{month}.csv", datetime.combine(mrows[-1][0], time(10)),
                          buf.getvalue().encode("utf-8"))
