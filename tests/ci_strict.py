"""In CI a test that cannot find its data fails; on a developer's machine it skips with the reason.

The connector tests download recorded payloads from package registries and
the MS Project, PSPLIB and evaluation tests read `../shared`. Were a missing
fixture a skip in CI too, a broken download or an absent `../shared` would
turn the suite green with the connectors untested. `.ci/run` sets
`LODESTAR_REQUIRE_FIXTURES=1`, and this plugin then reports every skip as a
failure that keeps the skip's reason. Expected failures (xfail) are left alone.
"""

from __future__ import annotations

import os

import pytest

REQUIRE_ENV = "LODESTAR_REQUIRE_FIXTURES"


def fixtures_required() -> bool:
    return os.environ.get(REQUIRE_ENV) == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if not (report.skipped and fixtures_required()) or hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = f"{item.nodeid}: skipped with {REQUIRE_ENV}=1, which makes a skip a failure: {reason}"


def pytest_report_header(config: pytest.Config) -> str:
    if fixtures_required():
        return f"{REQUIRE_ENV}=1: a test that skips (missing fixture, registry or ../shared) fails"
    return f"{REQUIRE_ENV} unset: tests without their fixtures skip with the reason (CI sets it to 1)"
