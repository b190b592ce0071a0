"""Which client resource serves each kind of configured source."""

from __future__ import annotations

import dagster as dg

from warehouse.settings import ConfigError


def _secret(env_name: str | None):
    """Credentials stay in the environment: the resource holds a reference, resolved at run time."""
    return dg.EnvVar(env_name) if env_name else None


def client_for(source) -> dg.ConfigurableResource:
    if source.kind == "demo":
        from pipelines.demo.resources import DemoClient

        return DemoClient(seed=source.seed, as_of=source.as_of)
    if source.kind == "jira":
        from pipelines.jira.resources import JiraClient

        return JiraClient(
            url=source.url, projects=list(source.projects),
            user=_secret(source.user_env), token=_secret(source.token_env), timeout_seconds=source.timeout_seconds,
        )
    if source.kind == "github":
        from pipelines.github.resources import GitHubClient

        return GitHubClient(base_url=source.url, repos=list(source.repos), token=_secret(source.token_env),
                            timeout_seconds=source.timeout_seconds)
    if source.kind == "gitlab":
        from pipelines.gitlab.resources import GitLabClient

        return GitLabClient(base_url=source.url, projects=list(source.projects), token=_secret(source.token_env),
                            timeout_seconds=source.timeout_seconds)
    if source.kind == "timesheet":
        from pipelines.timesheets.resources import TimesheetFolder

        return TimesheetFolder(paths=[str(p) for p in source.paths], max_file_mb=source.max_file_mb)
    raise ConfigError(f"source {source.name!r}: unknown kind {source.kind!r}")
