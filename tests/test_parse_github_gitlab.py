"""GitHub and GitLab parsers, on payloads shaped like the examples in the vendors' REST docs."""

from __future__ import annotations

import copy
from datetime import date, datetime

from pipelines.github import parse as github
from pipelines.gitlab import parse as gitlab


def _gh_user(login: str) -> dict:
    return {"login": login, "id": 1, "node_id": "MDQ6VXNlcjE=", "avatar_url": "https://github.com/images/error/octocat_happy.gif",
            "url": f"https://api.github.com/users/{login}", "html_url": f"https://github.com/{login}",
            "type": "User", "site_admin": False}


GH_ISSUE = {
    "id": 1,
    "node_id": "MDU6SXNzdWUx",
    "url": "https://api.github.com/repos/octocat/Hello-World/issues/1347",
    "repository_url": "https://api.github.com/repos/octocat/Hello-World",
    "html_url": "https://github.com/octocat/Hello-World/issues/1347",
    "number": 1347,
    "state": "open",
    "title": "Found a bug",
    "body": "I'm having a problem with this.",
    "user": _gh_user("octocat"),
    "labels": [{"id": 208045946, "node_id": "MDU6TGFiZWwyMDgwNDU5NDY=", "name": "bug",
                "description": "Something isn't working", "color": "f29513", "default": True}],
    "assignee": _gh_user("hubot"),
    "assignees": [_gh_user("hubot"), _gh_user("monalisa")],
    "milestone": {"id": 1002604, "number": 1, "state": "open", "title": "v1.0",
                  "description": "Tracking milestone for version 1.0", "creator": _gh_user("octocat"),
                  "open_issues": 4, "closed_issues": 8, "created_at": "2011-04-10T20:09:31Z",
                  "updated_at": "2014-03-03T18:58:10Z", "closed_at": None, "due_on": "2012-10-09T23:39:01Z"},
    "locked": False,
    "comments": 0,
    "closed_at": None,
    "created_at": "2011-04-22T13:33:48Z",
    "updated_at": "2011-04-22T13:33:48Z",
    "closed_by": None,
    "author_association": "COLLABORATOR",
    "state_reason": None,
}

GH_PULL = {
    "url": "https://api.github.com/repos/octocat/Hello-World/pulls/1347",
    "id": 1,
    "html_url": "https://github.com/octocat/Hello-World/pull/1347",
    "number": 1347,
    "state": "closed",
    "locked": False,
    "title": "ERP-12 Amazing new feature",
    "user": _gh_user("octocat"),
    "body": "Please pull these awesome changes in! Fixes #1346, relates to octocat/Spoon-Knife#3",
    "labels": [],
    "created_at": "2011-01-26T19:01:12Z",
    "updated_at": "2011-01-26T19:01:12Z",
    "closed_at": "2011-01-26T19:01:12Z",
    "merged_at": "2011-01-26T19:01:12Z",
    "merge_commit_sha": "e5bd3914e2e596debea16f433f57875b5b90bcd6",
    "head": {"label": "octocat:feature/ops-7-login", "ref": "feature/ops-7-login",
             "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e", "user": _gh_user("octocat"),
             "repo": {"id": 1296269, "name": "Hello-World", "full_name": "octocat/Hello-World"}},
    "base": {"label": "octocat:master", "ref": "master", "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
             "user": _gh_user("octocat"), "repo": {"id": 1296269, "name": "Hello-World", "full_name": "octocat/Hello-World"}},
    "merged": True,
}

GH_COMMIT = {
    "url": "https://api.github.com/repos/octocat/Hello-World/commits/6dcb09b5b57875f334f61aebed695e2e4193db5e",
    "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
    "node_id": "MDY6Q29tbWl0NmRjYjA5YjViNTc4NzVmMzM0ZjYxYWViZWQ2OTVlMmU0MTkzZGI1ZQ==",
    "html_url": "https://github.com/octocat/Hello-World/commit/6dcb09b5b57875f334f61aebed695e2e4193db5e",
    "commit": {
        "url": "https://api.github.com/repos/octocat/Hello-World/git/commits/6dcb09b5b57875f334f61aebed695e2e4193db5e",
        "author": {"name": "Monalisa Octocat", "email": "support@github.com", "date": "2011-04-14T16:00:49Z"},
        "committer": {"name": "Monalisa Octocat", "email": "support@github.com", "date": "2011-04-14T16:00:49Z"},
        "message": "Fix all the bugs (ERP-7, #12)\n\nAlso UTF-8 handling.",
        "comment_count": 0,
    },
    "author": _gh_user("octocat"),
    "committer": _gh_user("octocat"),
    "parents": [{"url": "https://api.github.com/repos/octocat/Hello-World/commits/6dcb09b", "sha": "6dcb09b"}],
    "stats": {"additions": 104, "deletions": 4, "total": 108},
    "files": [],
}


def test_github_issue_row():
    rows = github.parse_issue(copy.deepcopy(GH_ISSUE), "gh")
    (task,) = rows["tasks"]
    assert task["task_id"] == "gh:octocat/Hello-World#1347"
    assert task["source_key"] == "octocat/Hello-World#1347"
    assert task["project_key"] == "octocat/Hello-World"
    assert task["type_category"] == "bug"
    assert task["status"] == "open" and task["status_category"] == "todo"
    assert task["assignee_id"] == "gh:hubot" and task["reporter_id"] == "gh:octocat"
    assert task["created_at"] == datetime(2011, 4, 22, 13, 33, 48)
    assert task["due_date"] == date(2012, 10, 9)
    assert task["labels"] == ["bug"]
    assert task["url"] == "https://github.com/octocat/Hello-World/issues/1347"
    assert [i["identity_id"] for i in rows["identities"]] == ["gh:hubot", "gh:monalisa", "gh:octocat"]


def test_github_issue_in_progress_needs_assignee_and_label():
    labelled = copy.deepcopy(GH_ISSUE)
    labelled["labels"] = [{"name": "In Progress"}]
    task = github.parse_issue(labelled, "gh")["tasks"][0]
    assert task["status_category"] == "in_progress" and task["type_category"] == "task"
    labelled["assignee"], labelled["assignees"] = None, []
    assert github.parse_issue(labelled, "gh")["tasks"][0]["status_category"] == "todo"


def test_github_closed_issue_is_done():
    closed = copy.deepcopy(GH_ISSUE)
    closed.update(state="closed", closed_at="2011-05-01T10:00:00Z", state_reason="not_planned", closed_by=_gh_user("octocat"))
    task = github.parse_issue(closed, "gh")["tasks"][0]
    assert task["status_category"] == "done"
    assert task["resolved_at"] == datetime(2011, 5, 1, 10, 0)
    assert task["resolution"] == "not_planned"


def test_github_issues_endpoint_pull_requests_are_skipped():
    pull_as_issue = copy.deepcopy(GH_ISSUE)
    pull_as_issue["pull_request"] = {"url": "https://api.github.com/repos/octocat/Hello-World/pulls/1347",
                                     "html_url": "https://github.com/octocat/Hello-World/pull/1347"}
    rows = github.parse_issue(pull_as_issue, "gh")
    assert rows["tasks"] == [] and rows["identities"] == []


def test_github_pull_row():
    rows = github.parse_pull(copy.deepcopy(GH_PULL), "gh", jira_project_keys=["ERP", "OPS"], jira_source="jira")
    (pull,) = rows["pull_requests"]
    assert pull["repo"] == "octocat/Hello-World" and pull["number"] == 1347
    assert pull["state"] == "merged"
    assert pull["author_id"] == "gh:octocat"
    assert pull["merged_at"] == datetime(2011, 1, 26, 19, 1, 12)
    assert pull["source_branch"] == "feature/ops-7-login"
    assert pull["task_ids"] == ["jira:ERP-12", "gh:octocat/Hello-World#1346", "gh:octocat/Spoon-Knife#3", "jira:OPS-7"]
    assert rows["identities"][0]["identity_id"] == "gh:octocat"


def test_github_pull_closed_without_merge():
    pull = copy.deepcopy(GH_PULL)
    pull.update(merged_at=None, merged=False)
    assert github.parse_pull(pull, "gh")["pull_requests"][0]["state"] == "closed"


def test_github_commit_row():
    rows = github.parse_commit(copy.deepcopy(GH_COMMIT), "gh", "octocat/Hello-World")
    (commit,) = rows["commits"]
    assert commit["sha"] == "6dcb09b5b57875f334f61aebed695e2e4193db5e"
    assert commit["author_id"] == "gh:octocat"
    assert commit["authored_at"] == datetime(2011, 4, 14, 16, 0, 49)
    assert (commit["additions"], commit["deletions"]) == (104, 4)
    assert commit["task_ids"] == ["gh:ERP-7", "gh:octocat/Hello-World#12"]
    assert rows["identities"] == [{"identity_id": "gh:octocat", "source": "gh", "account": "octocat",
                                   "display_name": "Monalisa Octocat", "email": "support@github.com"}]


def test_github_commit_without_linked_account_uses_email():
    unlinked = copy.deepcopy(GH_COMMIT)
    unlinked["author"] = None
    rows = github.parse_commit(unlinked, "gh", "octocat/Hello-World")
    assert rows["commits"][0]["author_id"] == "gh:support@github.com"
    assert rows["identities"][0]["email"] == "support@github.com"


def _gl_user(username: str, name: str) -> dict:
    return {"state": "active", "id": 18, "web_url": f"https://gitlab.example.com/{username}",
            "name": name, "avatar_url": None, "username": username}


GL_ISSUE = {
    "state": "opened",
    "description": "Ratione dolores corrupti mollitia soluta quia.",
    "author": _gl_user("eileen.lowe", "Alexandra Bashirian"),
    "milestone": {"project_id": 1, "description": "Ducimus nam enim ex consequatur cumque ratione.", "state": "active",
                  "due_date": "2016-02-01", "iid": 2, "created_at": "2016-01-04T15:31:39.996Z", "title": "v4.0",
                  "id": 17, "updated_at": "2016-01-04T15:31:39.996Z"},
    "project_id": 1,
    "assignees": [_gl_user("user1", "John Doe")],
    "assignee": _gl_user("user1", "John Doe"),
    "type": "ISSUE",
    "updated_at": "2016-01-04T15:31:51.081Z",
    "closed_at": None,
    "closed_by": None,
    "id": 76,
    "title": "Consequatur vero maxime deserunt laboriosam est voluptas dolorem.",
    "created_at": "2016-01-04T15:31:51.081+08:00",
    "iid": 12,
    "labels": ["foo", "workflow::In Progress"],
    "user_notes_count": 1,
    "due_date": None,
    "web_url": "http://gitlab.example.com/group/app/-/issues/12",
    "references": {"short": "#12", "relative": "#12", "full": "group/app#12"},
    "time_stats": {"time_estimate": 7200, "total_time_spent": 5400,
                   "human_time_estimate": "2h", "human_total_time_spent": "1h 30m"},
    "confidential": False,
    "issue_type": "issue",
    "severity": "UNKNOWN",
    "weight": 3,
}


def test_gitlab_issue_row():
    rows = gitlab.parse_issue(copy.deepcopy(GL_ISSUE), "gl")
    (task,) = rows["tasks"]
    assert task["task_id"] == "gl:group/app#12" and task["project_key"] == "group/app"
    assert task["status_category"] == "in_progress" and task["type_category"] == "task"
    assert (task["estimate_hours"], task["spent_hours"]) == (2.0, 1.5)
    assert task["due_date"] == date(2016, 2, 1)
    assert task["created_at"] == datetime(2016, 1, 4, 7, 31, 51, 81000)
    assert task["assignee_id"] == "gl:user1" and task["reporter_id"] == "gl:eileen.lowe"
    assert task["story_points"] == 3.0
    assert {i["identity_id"]: i["display_name"] for i in rows["identities"]} == {
        "gl:user1": "John Doe", "gl:eileen.lowe": "Alexandra Bashirian"}


def test_gitlab_issue_states_types_and_key_from_web_url():
    issue = copy.deepcopy(GL_ISSUE)
    del issue["references"]
    issue.update(labels=["Doing"], issue_type="incident", due_date="2016-01-20",
                 time_stats={"time_estimate": 0, "total_time_spent": 0})
    task = gitlab.parse_issue(issue, "gl")["tasks"][0]
    assert task["task_id"] == "gl:group/app#12"
    assert task["status_category"] == "in_progress" and task["type_category"] == "bug"
    assert task["due_date"] == date(2016, 1, 20)
    assert task["estimate_hours"] is None and task["spent_hours"] == 0.0
    issue.update(state="closed", labels=["bug"], issue_type="issue")
    task = gitlab.parse_issue(issue, "gl")["tasks"][0]
    assert task["status_category"] == "done" and task["type_category"] == "bug"
    issue.update(state="opened", labels=[])
    assert gitlab.parse_issue(issue, "gl")["tasks"][0]["status_category"] == "todo"


GL_MR = {
    "id": 1, "iid": 5, "project_id": 3, "title": "Resolve ERP-3 \"login fails\"",
    "description": "Closes #12 and group/lib#4", "state": "merged",
    "merged_by": _gl_user("admin", "Administrator"), "merged_at": "2018-09-07T11:16:17.520Z",
    "closed_by": None, "closed_at": None, "created_at": "2017-04-29T08:46:00Z", "updated_at": "2017-04-29T08:46:00Z",
    "target_branch": "master", "source_branch": "12-login-fails", "author": _gl_user("admin", "Administrator"),
    "references": {"short": "!5", "relative": "!5", "full": "group/app!5"},
    "web_url": "http://gitlab.example.com/group/app/-/merge_requests/5",
}


def test_gitlab_merge_request_row():
    (pull,) = gitlab.parse_merge_request(copy.deepcopy(GL_MR), "gl", jira_source="jira")["pull_requests"]
    assert (pull["repo"], pull["number"], pull["state"]) == ("group/app", 5, "merged")
    assert pull["merged_at"] == datetime(2018, 9, 7, 11, 16, 17, 520000)
    assert pull["author_id"] == "gl:admin" and pull["source_branch"] == "12-login-fails"
    assert pull["task_ids"] == ["jira:ERP-3", "gl:group/app#12", "gl:group/lib#4"]
    opened = copy.deepcopy(GL_MR)
    opened.update(state="opened", merged_at=None, references={})
    (pull,) = gitlab.parse_merge_request(opened, "gl")["pull_requests"]
    assert (pull["repo"], pull["state"]) == ("group/app", "open")


def test_gitlab_commit_row():
    payload = {
        "id": "ed899a2f4b50b4370feeea94676502b42383c746", "short_id": "ed899a2f4b5",
        "title": "Replace sanitize with escape once", "author_name": "Example User",
        "author_email": "User@Example.com", "authored_date": "2021-09-20T11:50:22.001+00:00",
        "committer_name": "Administrator", "committer_email": "admin@example.com",
        "committed_date": "2021-09-20T11:50:22.001+00:00", "created_at": "2021-09-20T11:50:22.001+00:00",
        "message": "Replace sanitize with escape once\n\nRefs #12", "parent_ids": ["6104942438c14ec7bd21c6cd5bd995272b3faff6"],
        "web_url": "https://gitlab.example.com/group/app/-/commit/ed899a2f4b50b4370feeea94676502b42383c746",
        "stats": {"additions": 15, "deletions": 10, "total": 25},
    }
    rows = gitlab.parse_commit(payload, "gl", "group/app")
    (commit,) = rows["commits"]
    assert commit["author_id"] == "gl:user@example.com"
    assert commit["authored_at"] == datetime(2021, 9, 20, 11, 50, 22, 1000)
    assert (commit["additions"], commit["deletions"]) == (15, 10)
    assert commit["task_ids"] == ["gl:group/app#12"]
    assert rows["identities"][0]["display_name"] == "Example User"
    assert rows["identities"][0]["email"] == "User@Example.com"


def _gl_link(iid: int, link_type: str, path: str = "group/app") -> dict:
    return {"id": 84 + iid, "iid": iid, "issue_link_id": iid, "project_id": 4, "title": "Issues with auth",
            "state": "opened", "created_at": "2016-01-07T12:44:33.959Z", "labels": [],
            "web_url": f"http://gitlab.example.com/{path}/-/issues/{iid}",
            "link_type": link_type, "link_created_at": "2016-01-07T12:44:33.959Z"}


def test_gitlab_issue_links_direction():
    links = gitlab.parse_issue_links(
        [_gl_link(14, "blocks"), _gl_link(15, "is_blocked_by"), _gl_link(3, "relates_to", "other/lib")],
        "gl", "group/app#12",
    )["task_links"]
    assert {(r["from_task_id"], r["to_task_id"], r["link_type"]) for r in links} == {
        ("gl:group/app#12", "gl:group/app#14", "blocks"),
        ("gl:group/app#15", "gl:group/app#12", "blocks"),
        ("gl:group/app#12", "gl:other/lib#3", "relates"),
    }


def test_gitlab_relates_link_is_the_same_row_from_both_sides():
    one_side = gitlab.parse_issue_links([_gl_link(14, "relates_to")], "gl", "group/app#12")["task_links"]
    other_side = gitlab.parse_issue_links([_gl_link(12, "relates_to")], "gl", "group/app#14")["task_links"]
    assert one_side == other_side


def test_gitlab_time_spent_notes_become_worklogs():
    from pipelines.gitlab.parse import parse_extra

    note = {"id": 7, "system": True, "author": {"username": "jliu", "name": "Jason Liu"},
            "created_at": "2024-01-05T09:00:00.000Z", "updated_at": "2024-01-05T09:00:00.000Z"}
    rows = parse_extra("gitlab_issue_notes", {"issue": "acme/app#3", "notes": [
        dict(note, id=7, body="added 1h 30m of time spent at 2024-01-03"),
        dict(note, id=8, body="added 1d of time spent"),
        dict(note, id=9, body="changed the description"),
    ]}, "gl")
    worklogs = {w["worklog_id"]: w for w in rows["worklogs"]}
    assert worklogs["gl:acme/app#3:note:7"]["hours"] == 1.5
    assert worklogs["gl:acme/app#3:note:7"]["started_at"].isoformat() == "2024-01-03T00:00:00"
    assert worklogs["gl:acme/app#3:note:8"]["hours"] == 8.0
    assert worklogs["gl:acme/app#3:note:8"]["origin"] == "gitlab"
    assert worklogs["gl:acme/app#3:note:8"]["person_id"] == "gl:jliu"
    assert len(worklogs) == 2 and rows["comments"] == []


def test_closed_issue_outcomes_from_state_reason_and_labels():
    closed = copy.deepcopy(GH_ISSUE)
    closed.update(state="closed", closed_at="2011-05-01T10:00:00Z", state_reason="not_planned")
    assert github.parse_issue(closed, "gh")["tasks"][0]["outcome"] == "dropped"
    closed.update(state_reason="completed", labels=[{"name": "wontfix"}])
    assert github.parse_issue(closed, "gh")["tasks"][0]["outcome"] == "delivered"  # the source's reason wins
    closed.update(state_reason=None)
    assert github.parse_issue(closed, "gh")["tasks"][0]["outcome"] == "dropped"
    assert github.parse_issue(GH_ISSUE, "gh")["tasks"][0]["outcome"] is None

    issue = copy.deepcopy(GL_ISSUE)
    issue.update(state="closed", closed_at="2016-01-05T15:31:51.081Z", labels=["resolution::Duplicate"])
    assert gitlab.parse_issue(issue, "gl")["tasks"][0]["outcome"] == "dropped"
    issue.update(labels=["不修复"])
    assert gitlab.parse_issue(issue, "gl")["tasks"][0]["outcome"] == "dropped"
    issue.update(labels=["bug"])
    assert gitlab.parse_issue(issue, "gl")["tasks"][0]["outcome"] == "delivered"
    assert gitlab.parse_issue(GL_ISSUE, "gl")["tasks"][0]["outcome"] is None
