"""Links to issues outside the synced projects are kept and counted; only real breaks fail the check."""

from __future__ import annotations

import pytest

from pipelines.checks import build_source_checks, integrity_check_name
from pipelines.resources import WarehouseResource
from tests.test_jira_connector import APACHE, _config, _projects, _sync, fake_jira, jira_fields  # noqa: F401
from warehouse.db import open_reader, open_writer
from warehouse.load import load_rows
from warehouse.settings import load_settings


def _integrity(settings):
    checks = build_source_checks("apache")
    check = next(c for c in checks if c.check_key.name == integrity_check_name("apache"))
    return check(warehouse=WarehouseResource.from_settings(settings))


@pytest.mark.slow
@pytest.mark.skipif(not APACHE.is_dir(), reason=f"shared data not found at {APACHE}")
def test_apache_links_outside_the_sample_are_kept_counted_and_pass(fake_jira, tmp_path):
    config = _config(tmp_path, fake_jira.url, _projects(fake_jira))
    output = _sync(config)
    settings = load_settings(config)
    with open_reader(settings) as con:
        tasks = {r[0] for r in con.execute("SELECT task_id FROM tasks").fetchall()}
        links = con.execute("SELECT from_task_id, to_task_id FROM task_links").fetchall()
    external = [link for link in links if (link[0] in tasks) != (link[1] in tasks)]
    assert all(link[0] in tasks or link[1] in tasks for link in links)
    assert len(external) > 0
    assert f"apache: {len(external)} links point to issues outside the synced projects" in output
    assert "referential_integrity" not in output

    key, other = next(
        (key, link["outwardIssue"]["key"]) for key, issue in sorted(fake_jira.issues.items())
        for link in issue["fields"].get("issuelinks", [])
        if "outwardIssue" in link and link["outwardIssue"]["key"] not in fake_jira.issues
    )
    assert (f"apache:{key}", f"apache:{other}") in links

    outcome = _integrity(settings)
    assert outcome.passed, outcome.metadata
    assert outcome.metadata["external_links"].value == len(external)
    assert outcome.metadata["broken_rows"].value == 0

    with open_writer(settings) as con:
        con.execute("""INSERT INTO worklogs (worklog_id, task_id, started_at, hours, source, origin)
                       VALUES ('apache:w-lost', 'apache:GONE-1', TIMESTAMP '2015-03-01', 2, 'apache', 'tool')""")
        con.execute("""INSERT INTO status_changes (change_id, task_id, changed_at, to_status, source)
                       VALUES ('apache:h-lost', 'apache:GONE-2', TIMESTAMP '2015-03-01', 'Done', 'apache')""")
        con.execute("""INSERT INTO task_links (from_task_id, to_task_id, link_type, source)
                       VALUES ('apache:GONE-3', 'apache:GONE-4', 'blocks', 'apache')""")
    broken = _integrity(settings)
    assert not broken.passed
    meta = {name: value.value for name, value in broken.metadata.items()}
    assert meta["broken_rows"] == 3
    assert (meta["worklogs_without_task"], meta["status_changes_without_task"], meta["links_without_synced_task"]) \
        == (1, 1, 1)
    assert meta["examples"] == [
        "worklog apache:w-lost of missing task apache:GONE-1",
        "status change apache:h-lost of missing task apache:GONE-2",
        "link apache:GONE-3 blocks apache:GONE-4, neither task exists",
    ]
    assert broken.description.startswith("3 row(s) refer to a task or person that does not exist")
    assert meta["external_links"] == len(external)


def _task(key: str) -> dict:
    return {"task_id": f"s:{key}", "source": "s", "source_key": key, "project_key": "P", "title": key}


def _parent_link(parent: str, child: str) -> dict:
    return {"from_task_id": f"s:{parent}", "to_task_id": f"s:{child}", "link_type": "parent", "source": "s"}


def test_a_parent_drops_its_link_to_an_outside_child_its_payload_no_longer_lists(empty_settings):
    """A sub-task in a project that is not synced is only known from its parent's payload."""
    with open_writer(empty_settings) as con:
        load_rows(con, "s", {
            "tasks": [_task("P-1"), _task("P-2")],
            "task_links": [_parent_link("P-1", "X-9"), _parent_link("P-1", "P-2")],
        })
        assert con.execute("SELECT count(*) FROM task_links").fetchall() == [(2,)]
        report = load_rows(con, "s", {"tasks": [_task("P-1")], "task_links": []})
        assert report.tables["task_links"].deleted == 1
        kept = con.execute("SELECT from_task_id, to_task_id FROM task_links").fetchall()
    assert kept == [("s:P-1", "s:P-2")], "the synced child P-2 carries its own parent link"
