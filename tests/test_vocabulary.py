"""The one status vocabulary (warehouse/vocabulary.py): categories, outcomes and their precedence."""

import pytest

from models.prediction import features
from pipelines import common_parse
from warehouse.vocabulary import outcome_for, resolution_outcome, status_category_for

DROPPED = ["Won't Do", "Won't Fix", "WONT_FIX", "Duplicate", "Rejected", "Declined", "Cannot Reproduce",
           "Invalid", "Obsolete", "Cancelled", "not_planned", "duplicate", "Incomplete", "Later",
           "不修复", "重复", "已拒绝", "无效", "无法重现", "已取消"]
DELIVERED = ["Fixed", "Done", "Resolved", "Completed", "Implemented", "completed", "已修复", "已完成", "已解决"]


@pytest.mark.parametrize("name", DROPPED)
def test_dropped_names_are_done_and_dropped(name):
    assert resolution_outcome(name) == "dropped"
    assert status_category_for(name) == "done"
    assert outcome_for("done", name) == "dropped"


@pytest.mark.parametrize("name", DELIVERED)
def test_delivered_names(name):
    assert resolution_outcome(name) == "delivered"
    assert outcome_for("done", name) == "delivered"


@pytest.mark.parametrize("name, category", [
    ("Open", "todo"), ("Reopened", "todo"), ("重新打开", "todo"), ("Selected for Development", "todo"),
    ("Backlog", "todo"), ("In Progress", "in_progress"), ("Code Review", "in_progress"), ("开发中", "in_progress"),
    ("Done", "done"), ("Closed", "done"), ("已关闭", "done"), ("QA", None), ("", None), (None, None),
])
def test_status_categories(name, category):
    assert status_category_for(name) == category


def test_precedence_resolution_then_status_then_delivered():
    assert outcome_for("done", "Fixed", "Won't Do") == "delivered"      # the source's resolution wins
    assert outcome_for("done", "Won't Fix", "Done") == "dropped"
    assert outcome_for("done", None, "Rejected") == "dropped"           # else the status name
    assert outcome_for("done", "Some Custom Resolution", "Closed") == "delivered"  # else delivered
    assert outcome_for("done", None, None) == "delivered"
    assert outcome_for("in_progress", "Won't Fix", "Rejected") is None  # only done work has an outcome
    assert outcome_for(None, "Duplicate") is None


def test_labels_are_the_fallback_for_open_closed_trackers():
    assert common_parse.labelled_outcome("done", None, ["bug", "wontfix"]) == "dropped"
    assert common_parse.labelled_outcome("done", None, ["resolution::duplicate"]) == "dropped"
    assert common_parse.labelled_outcome("done", "completed", ["wontfix"]) == "delivered"
    assert common_parse.labelled_outcome("done", "not_planned", []) == "dropped"
    assert common_parse.labelled_outcome("done", None, ["bug"]) == "delivered"
    assert common_parse.labelled_outcome("todo", None, ["wontfix"]) is None


def test_parsers_and_features_share_the_classifier():
    for name in DROPPED + DELIVERED + ["Open", "Reopened", "In Review", "待办"]:
        assert common_parse.status_category_for(name) == status_category_for(name)
        assert features._keyword_category(name) == (status_category_for(name) or "in_progress")
    assert features._keyword_category("代码评审") == "in_progress"
