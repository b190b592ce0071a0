"""Properties of the synthetic demo company that the rest of Lodestar relies on.

The demo feeds the same parsers as real sources, so these tests pin vendor-shape
invariants (links mirrored on both issues, parents listing their sub-tasks,
nothing dated after ``as_of``) as well as the size and the delay signal the
forecasting model is demonstrated on.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections import Counter, defaultdict
from datetime import date, datetime, timezone

import pytest

from pipelines.demo.generate import DemoPayload, demo_projects, generate_demo

AS_OF = date(2026, 11, 26)
CUTOFF = datetime(2026, 11, 26)  # naive UTC midnight of as_of
KINDS = {"jira_issue", "jira_fields", "jira_project", "jira_sprint", "github_pull", "github_commit",
         "gitlab_issue", "gitlab_merge_request", "gitlab_commit", "timesheet_file"}
ERP_PHASES = ["需求调研", "原型设计", "前端开发", "后端开发", "测试验证", "部署上线"]


@pytest.fixture(scope="module")
def payloads() -> list[DemoPayload]:
    return generate_demo(seed=42, as_of=AS_OF)


@pytest.fixture(scope="module")
def issues(payloads: list[DemoPayload]) -> dict[str, dict]:
    return {p.item_key: p.body for p in payloads if p.kind == "jira_issue"}


def _of(payloads: list[DemoPayload], kind: str) -> list:
    return [p.body for p in payloads if p.kind == kind]


def _utc(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone(timezone.utc).replace(tzinfo=None)


def _dump(body: dict | list | bytes) -> bytes:
    return body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False, sort_keys=True).encode()


def _timesheet_rows(payloads: list[DemoPayload]) -> list[dict[str, str]]:
    return [row for body in _of(payloads, "timesheet_file")
            for row in csv.DictReader(io.StringIO(body.decode("utf-8")))]


def test_same_seed_and_as_of_give_identical_payloads_fast(payloads: list[DemoPayload]) -> None:
    started = time.perf_counter()
    again = generate_demo(seed=42, as_of=AS_OF)
    assert time.perf_counter() - started < 3.0
    assert [(p.kind, p.item_key, p.updated_at) for p in again] == [(p.kind, p.item_key, p.updated_at) for p in payloads]
    assert [_dump(p.body) for p in again] == [_dump(p.body) for p in payloads]
    other = generate_demo(seed=7, as_of=AS_OF)
    assert [_dump(p.body) for p in other] != [_dump(p.body) for p in payloads]


def test_payloads_are_plain_json_with_unique_keys(payloads: list[DemoPayload]) -> None:
    assert set(Counter(p.kind for p in payloads)) == KINDS
    assert len({(p.kind, p.item_key) for p in payloads}) == len(payloads)
    for p in payloads:
        assert isinstance(p.updated_at, datetime) and p.updated_at.tzinfo is None
        if p.kind == "timesheet_file":
            assert p.body.decode("utf-8").splitlines()[0] == "姓名,日期,工时,任务,备注"
        else:
            assert json.loads(json.dumps(p.body)) == p.body  # fails on numpy scalars, tuples, datetimes


def test_nothing_is_dated_on_or_after_as_of(payloads: list[DemoPayload], issues: dict[str, dict]) -> None:
    assert max(p.updated_at for p in payloads) < CUTOFF
    for issue in issues.values():
        f = issue["fields"]
        events = [f["created"], f["updated"]] + [h["created"] for h in issue["changelog"]["histories"]]
        events += [w["started"] for w in f["worklog"]["worklogs"]] + [c["created"] for c in f["comment"]["comments"]]
        assert all(_utc(t) < CUTOFF for t in events), issue["key"]
        assert all(_utc(f["created"]) <= _utc(t) <= _utc(f["updated"]) for t in events), issue["key"]
    assert all(date.fromisoformat(r["日期"]) < AS_OF for r in _timesheet_rows(payloads))


def test_size_projects_and_people(payloads: list[DemoPayload], issues: dict[str, dict]) -> None:
    gitlab = _of(payloads, "gitlab_issue")
    assert len(issues) + len(gitlab) >= 1500
    projects = {i["fields"]["project"]["key"] for i in issues.values()}
    projects |= {g["references"]["full"].split("#")[0] for g in gitlab}
    assert projects == {"ERP", "DP", "OPS", "acme/mobile-app"}
    names = {u["displayName"] for i in issues.values() for u in (i["fields"]["assignee"], i["fields"]["reporter"]) if u}
    names |= {c["commit"]["author"]["name"] for c in _of(payloads, "github_commit")}
    names |= {g["author"]["name"] for g in gitlab} | {r["姓名"] for r in _timesheet_rows(payloads)}
    assert len(names) >= 25
    assert any(re.fullmatch(r"[\u4e00-\u9fff]{2,3}", n) for n in names) and any(" " in n for n in names)


def test_identities_share_emails_across_tools(payloads: list[DemoPayload], issues: dict[str, dict]) -> None:
    jira = {}
    for issue in issues.values():
        for w in issue["fields"]["worklog"]["worklogs"]:
            jira[w["author"]["name"]] = w["author"]
    by_email = {u["emailAddress"]: u["displayName"] for u in jira.values() if "emailAddress" in u}
    git = {c["commit"]["author"]["email"]: c["commit"]["author"]["name"] for c in _of(payloads, "github_commit")}
    git |= {c["author_email"]: c["author_name"] for c in _of(payloads, "gitlab_commit")}
    shared = set(by_email) & set(git)
    assert len(shared) >= 10 and all(by_email[e] == git[e] for e in shared)
    assert all(e.endswith("@acme.cn") for e in git)
    hidden = [u for u in jira.values() if "emailAddress" not in u]
    assert hidden and all(u["displayName"] in set(git.values()) for u in hidden)  # matchable by name only


def test_erp_wbs_has_chained_phase_epics_stories_and_subtasks(issues: dict[str, dict]) -> None:
    erp = {k: i for k, i in issues.items() if k.startswith("ERP-")}
    epics = sorted((i for i in erp.values() if i["fields"]["issuetype"]["name"] == "Epic"),
                   key=lambda i: int(i["key"].split("-")[1]))
    assert [e["fields"]["summary"] for e in epics] == ERP_PHASES
    for before, after in zip(epics, epics[1:]):
        blocks = [link for link in after["fields"]["issuelinks"] if link["type"]["name"] == "Blocks"]
        assert [link["inwardIssue"]["key"] for link in blocks if "inwardIssue" in link] == [before["key"]]
        assert before["fields"]["customfield_10015"] <= after["fields"]["customfield_10015"]
    epic_keys = {e["key"] for e in epics}
    depth3 = [s for s in erp.values() if s["fields"]["issuetype"]["subtask"]
              and (parent := erp[s["fields"]["parent"]["key"]])["fields"]["customfield_10014"] in epic_keys
              and s["key"] in [x["key"] for x in parent["fields"]["subtasks"]]]
    assert len(depth3) > 100
    for issue in issues.values():
        for sub in issue["fields"]["subtasks"]:
            assert issues[sub["key"]]["fields"]["parent"]["key"] == issue["key"]


def test_issue_links_resolve_and_are_mirrored(issues: dict[str, dict]) -> None:
    kinds = Counter()
    for issue in issues.values():
        for link in issue["fields"]["issuelinks"]:
            side, other = ("inwardIssue", "outwardIssue") if "inwardIssue" in link else ("outwardIssue", "inwardIssue")
            target = issues[link[side]["key"]]
            mirror = [m for m in target["fields"]["issuelinks"] if m["id"] == link["id"]]
            assert len(mirror) == 1 and mirror[0][other]["key"] == issue["key"]
            assert link[side]["fields"]["status"] == target["fields"]["status"]
            kinds[link["type"]["name"]] += 1
    assert set(kinds) == {"Blocks", "Relates", "Duplicate"}


def test_erp_has_long_dependency_chains(issues: dict[str, dict]) -> None:
    successors = defaultdict(list)
    for key, issue in issues.items():
        if key.startswith("ERP-") and issue["fields"]["issuetype"]["name"] != "Epic":
            successors[key] += [link["outwardIssue"]["key"] for link in issue["fields"]["issuelinks"]
                                if link["type"]["name"] == "Blocks" and "outwardIssue" in link]
    memo: dict[str, int] = {}

    def longest(key: str) -> int:
        if key not in memo:
            memo[key] = 1 + max((longest(s) for s in successors[key]), default=0)
        return memo[key]

    assert max(longest(k) for k in list(successors)) >= 8


def test_slips_exist_and_follow_blockers(issues: dict[str, dict]) -> None:
    slips: dict[bool, list[int]] = {True: [], False: []}
    overdue = 0
    for issue in issues.values():
        f = issue["fields"]
        if f["issuetype"]["name"] == "Epic":
            continue
        due, category = date.fromisoformat(f["duedate"]), f["status"]["statusCategory"]["key"]
        if category == "done":
            blocked = any(link["type"]["name"] == "Blocks" and "inwardIssue" in link for link in f["issuelinks"])
            slips[blocked].append((_utc(f["resolutiondate"]).date() - due).days)
        overdue += category == "indeterminate" and due < AS_OF
    late = sum(s > 0 for s in slips[True] + slips[False])
    assert 0.3 < late / len(slips[True] + slips[False]) < 0.9
    assert overdue >= 5
    assert sum(slips[True]) / len(slips[True]) > sum(slips[False]) / len(slips[False]) + 3


def test_status_history_replays_to_current_status(issues: dict[str, dict]) -> None:
    reopened = 0
    for issue in issues.values():
        f, moves = issue["fields"], []
        for h in issue["changelog"]["histories"]:
            moves += [(x["fromString"], x["toString"]) for x in h["items"] if x["field"] == "status"]
        start = "To Do" if f["project"]["key"] == "OPS" else "待办"
        assert [a for a, _ in moves] == ([start] + [b for _, b in moves])[:len(moves)]
        assert (moves[-1][1] if moves else start) == f["status"]["name"]
        assert (f["resolutiondate"] is None) == (f["status"]["statusCategory"]["key"] != "done")
        reopened += any(a in ("已完成", "Done") for a, _ in moves)
    assert reopened > 10


def test_sprints_exist_and_show_carry_over(payloads: list[DemoPayload], issues: dict[str, dict]) -> None:
    sprints = {s["id"]: s for s in _of(payloads, "jira_sprint")}
    assert {s["state"] for s in sprints.values()} == {"closed", "active", "future"}
    carried = 0
    for issue in issues.values():
        listed = issue["fields"]["customfield_10020"] or []
        assert all(s["id"] in sprints and s["name"] == sprints[s["id"]]["name"] for s in listed)
        carried += len(listed) > 1
    assert carried > 100


def test_code_references_point_at_existing_tasks(payloads: list[DemoPayload], issues: dict[str, dict]) -> None:
    commits = _of(payloads, "github_commit")
    keys = [k for c in commits for k in re.findall(r"\b(?:ERP|DP)-\d+\b", c["commit"]["message"])]
    assert len(keys) >= len(commits) and set(keys) <= set(issues)
    for pr in _of(payloads, "github_pull"):
        key = pr["title"].split()[0]
        assert key in issues and key in pr["head"]["ref"] and pr["base"]["repo"]["full_name"] in pr["html_url"]
        assert (pr["merged_at"] is None) or pr["state"] == "closed"
    iids = {g["iid"] for g in _of(payloads, "gitlab_issue")}
    for c in _of(payloads, "gitlab_commit"):
        assert int(re.search(r"#(\d+)", c["message"]).group(1)) in iids
    for mr in _of(payloads, "gitlab_merge_request"):
        assert int(mr["source_branch"].split("-")[0]) in iids


def test_timesheets_agree_with_gitlab_time_tracking(payloads: list[DemoPayload]) -> None:
    rows = _timesheet_rows(payloads)
    booked = Counter()
    for r in rows:
        booked[r["任务"]] += float(r["工时"])
    gitlab = {g["references"]["full"]: g["time_stats"]["total_time_spent"] for g in _of(payloads, "gitlab_issue")}
    assert {k for k in booked if k} <= set(gitlab)
    assert all(abs(booked.get(k, 0.0) * 3600 - spent) < 1e-6 for k, spent in gitlab.items())
    assert booked[""] > 0  # meetings carry no task
    per_day = Counter()
    for r in rows:
        per_day[(r["姓名"], r["日期"])] += float(r["工时"])
    assert max(per_day.values()) <= 12


def test_demo_projects_match_the_generated_timeline() -> None:
    projects = demo_projects(AS_OF)
    assert [p["key"] for p in projects] == ["ERP", "DP", "MOB", "OPS"]
    for p in projects:
        assert p["start_date"] < AS_OF < p["due_date"] and 270 <= (p["due_date"] - p["start_date"]).days <= 370
        assert p["budget"] > 0 and p["hourly_rate"] > 0 and p["currency"] == "CNY"


def test_demo_configuration_matches_the_generated_company() -> None:
    from warehouse.settings import DEMO_PROJECT_SETTINGS

    generated = {p["key"]: p for p in demo_projects(date(2026, 6, 15))}
    configured = {p["key"]: p for p in DEMO_PROJECT_SETTINGS}
    assert set(generated) == set(configured)
    for key, project in configured.items():
        assert project["budget"] == generated[key]["budget"]
        assert project["hourly_rate"] == generated[key]["hourly_rate"]
        if generated[key]["source_project"] != key:
            assert project["source_projects"] == [generated[key]["source_project"]]
