"""Which client resource serves each kind of configured source."""

from __future__ import annotations

import dagster as dg

from pipelines.demo.resources import DemoClient
from warehouse.settings import ConfigError


def client_for(source) -> dg.ConfigurableResource:
    if source.kind == "demo":
        return DemoClient(seed=source.seed, as_of=source.as_of)
    raise ConfigError(
        f"source {source.name!r}: kind {source.kind!r} has no connector in this version of Lodestar "
        "(Jira, GitHub, GitLab and timesheet connectors are tracked in issue #3)"
    )
