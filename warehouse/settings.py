"""Lodestar configuration: `lodestar.toml`, validated with pydantic.

Lookup order: an explicit path (``--config``), then ``LODESTAR_CONFIG``, then
``./lodestar.toml``; without any, the built-in demo configuration, so a fresh
clone runs with no setup. Credentials are never written in the file: a source
names the environment variables that hold them.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

CONFIG_ENV = "LODESTAR_CONFIG"
DEFAULT_CONFIG_NAME = "lodestar.toml"


class ConfigError(ValueError):
    """A configuration problem, worded for the person editing the file."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WarehouseSettings(_Strict):
    path: Path = Path("data/warehouse.duckdb")
    published_path: Path | None = Field(
        default=None,
        description="Read-only snapshot the dashboard and `lodestar query` open; "
        "defaults to <path stem>.published.duckdb beside the warehouse.",
    )
    edits_path: Path | None = Field(
        default=None,
        description="SQLite store for write-back edits; defaults to edits.sqlite beside the warehouse.",
    )

    def resolved(self, base: Path) -> "WarehouseSettings":
        path = self.path if self.path.is_absolute() else base / self.path
        published = self.published_path or path.with_name(path.stem + ".published.duckdb")
        edits = self.edits_path or path.with_name("edits.sqlite")
        if not published.is_absolute():
            published = base / published
        if not edits.is_absolute():
            edits = base / edits
        return WarehouseSettings(path=path, published_path=published, edits_path=edits)


class CalendarSettings(_Strict):
    country: str = "CN"
    timezone: str = "Asia/Shanghai"


class _SourceBase(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    enabled: bool = True
    overlap_minutes: int = Field(default=10, ge=0)
    max_staleness_hours: float = Field(default=26.0, gt=0, description="freshness check window")
    timeout_seconds: float = Field(default=30.0, gt=0, description="per-request timeout for API sources")


class JiraSource(_SourceBase):
    kind: Literal["jira"]
    url: str
    projects: list[str] = Field(min_length=1)
    user_env: str | None = None
    token_env: str | None = None
    custom_fields: dict[str, str] = Field(
        default_factory=lambda: {
            "story_points": "Story Points",
            "sprint": "Sprint",
            "epic_link": "Epic Link",
            "start_date": "Start date",
            "target_end": "Target end",
        }
    )
    status_categories: dict[str, Literal["todo", "in_progress", "done"]] = Field(default_factory=dict)


class GitHubSource(_SourceBase):
    kind: Literal["github"]
    url: str = "https://api.github.com"
    repos: list[str] = Field(min_length=1)
    token_env: str | None = None


class GitLabSource(_SourceBase):
    kind: Literal["gitlab"]
    url: str = "https://gitlab.com"
    projects: list[str] = Field(min_length=1)
    token_env: str | None = None


class TimesheetSource(_SourceBase):
    kind: Literal["timesheet"]
    paths: list[Path] = Field(default_factory=list, description="files or folders; empty for import-only")
    columns: dict[str, str] = Field(default_factory=dict)


class DemoSource(_SourceBase):
    kind: Literal["demo"]
    seed: int = 42
    as_of: str | None = Field(default=None, description="YYYY-MM-DD; default today (UTC)")


Source = Annotated[
    Union[JiraSource, GitHubSource, GitLabSource, TimesheetSource, DemoSource],
    Field(discriminator="kind"),
]


class ProjectSettings(_Strict):
    """PMO facts the tools do not hold: budget, rate, committed dates."""

    key: str
    name: str | None = None
    budget: float | None = Field(default=None, ge=0)
    currency: str = "CNY"
    hourly_rate: float | None = Field(default=None, ge=0)
    start_date: str | None = None
    due_date: str | None = None
    timezone: str | None = Field(
        default=None, description="IANA zone of the team, for the alert digest; default [calendar] timezone"
    )
    source_projects: list[str] = Field(
        default_factory=list,
        description='project keys in the tools that belong to this project, e.g. a GitLab path "acme/mobile-app"',
    )


class PersonMapping(_Strict):
    """A manual identity mapping; wins over automatic matching."""

    person: str
    accounts: list[str] = Field(min_length=1, description='identity ids, "<source>:<account>"')


Severity = Literal["info", "warning", "critical"]
SEVERITY_ORDER: dict[str, int] = {"info": 0, "warning": 1, "critical": 2}
AlertRuleName = Literal[
    "overdue", "due_soon", "baseline_slip", "critical_late", "delay_risk", "cycle_time",
    "blocked", "budget_burn", "risk_overdue", "sync_health",
]


class AlertChannel(_Strict):
    """Where alerts go. URLs and secrets are named by environment variable, never written here."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    kind: Literal["slack", "dingtalk", "feishu", "email", "webhook"]
    url_env: str | None = Field(default=None, description="environment variable holding the webhook URL")
    secret_env: str | None = Field(default=None, description="environment variable holding the signing secret")
    projects: list[str] = Field(default_factory=lambda: ["*"], description='project keys, "*" for all')
    min_severity: Severity = "warning"
    language: Literal["zh", "en"] = "zh"
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, gt=0, lt=65536)
    sender: str | None = Field(default=None, alias="from")
    to: list[str] = Field(default_factory=list)
    user_env: str | None = None
    password_env: str | None = None
    starttls: bool = True
    timeout_seconds: float = Field(default=10.0, gt=0)
    retries: int = Field(default=3, ge=0, le=10, description="retries after the first attempt, with backoff")

    @field_validator("to")
    @classmethod
    def _addresses(cls, to: list[str]) -> list[str]:
        bad = [address for address in to if "@" not in address]
        if bad:
            raise ValueError(f"not e-mail addresses: {', '.join(bad)}")
        return to

    def model_post_init(self, context: object) -> None:
        if self.kind == "email":
            missing = [name for name, value in (("smtp_host", self.smtp_host), ("from", self.sender),
                                                ("to", self.to)) if not value]
            if missing:
                raise ValueError(f"email channel {self.name!r} needs {', '.join(missing)}")
        elif not self.url_env:
            raise ValueError(f"{self.kind} channel {self.name!r} needs url_env (the variable holding its URL)")

    def covers(self, project_key: str | None, severity: str) -> bool:
        """Routing: this channel takes alerts of this project at or above its minimum severity."""
        in_scope = "*" in self.projects or (project_key is not None and project_key in self.projects)
        return in_scope and SEVERITY_ORDER[severity] >= SEVERITY_ORDER[self.min_severity]


class AlertRuleSettings(_Strict):
    """Overrides for one rule; later entries win for the projects they name."""

    rule: AlertRuleName
    projects: list[str] = Field(default_factory=lambda: ["*"])
    enabled: bool | None = None
    severity: Severity | None = None
    threshold: float | None = Field(default=None, description="probability, ratio or score, by rule")
    days: float | None = Field(default=None, ge=0, description="working days or days, by rule")
    recipients: list[str] | None = None


class AlertSettings(_Strict):
    channels: list[AlertChannel] = Field(default_factory=list)
    rules: list[AlertRuleSettings] = Field(default_factory=list)
    quiet_hours: str | None = Field(
        default=None, pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}$",
        description="HH:MM-HH:MM in the calendar time zone; only critical alerts are sent then",
    )
    escalate_after_hours: float = Field(default=24.0, gt=0)
    dashboard_url: str = "http://localhost:8501"
    digest_hour: int = Field(default=9, ge=0, le=23, description="local hour of the daily digest")

    @field_validator("channels")
    @classmethod
    def _unique_channel_names(cls, channels: list[AlertChannel]) -> list[AlertChannel]:
        names = [c.name for c in channels]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate channel names: {', '.join(duplicates)}")
        return channels


class Settings(_Strict):
    warehouse: WarehouseSettings = WarehouseSettings()
    calendar: CalendarSettings = CalendarSettings()
    sources: list[Source] = Field(default_factory=list)
    projects: list[ProjectSettings] = Field(default_factory=list)
    people: list[PersonMapping] = Field(default_factory=list)
    alerts: AlertSettings = AlertSettings()
    config_path: Path | None = Field(default=None, exclude=True)

    @field_validator("sources")
    @classmethod
    def _unique_source_names(cls, sources: list) -> list:
        names = [s.name for s in sources]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"source names must be unique; repeated: {', '.join(duplicates)}")
        return sources

    def source(self, name: str):
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none"
        raise ConfigError(f"no source named {name!r} in the configuration (known: {known})")


def _format_error(error: ValidationError, origin: str) -> str:
    lines = [f"{origin}: invalid configuration"]
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"])
        lines.append(f"  {key}: {item['msg']} (got {item.get('input')!r})")
    return "\n".join(lines)


def parse_settings(data: dict, origin: str, base: Path) -> Settings:
    try:
        settings = Settings.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_format_error(error, origin)) from None
    settings.warehouse = settings.warehouse.resolved(base)
    for source in settings.sources:
        if isinstance(source, TimesheetSource):
            source.paths = [p if p.is_absolute() else base / p for p in source.paths]
    return settings


def find_config(explicit: str | os.PathLike | None = None) -> Path | None:
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"{path}: configuration file not found")
        return path
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        path = Path(from_env)
        if not path.is_file():
            raise ConfigError(f"{path}: configuration file named by ${CONFIG_ENV} not found")
        return path
    local = Path.cwd() / DEFAULT_CONFIG_NAME
    return local if local.is_file() else None


def load_settings(explicit: str | os.PathLike | None = None) -> Settings:
    path = find_config(explicit)
    if path is None:
        return default_demo_settings(Path.cwd())
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    settings = parse_settings(data, str(path), path.resolve().parent)
    settings.config_path = path.resolve()
    return settings


def default_demo_settings(base: Path, seed: int = 42) -> Settings:
    """The demo company, so a fresh clone works with no configuration at all."""
    data = {
        "warehouse": {"path": "data/warehouse.duckdb"},
        "calendar": {"country": "CN"},
        "sources": [{"kind": "demo", "name": "demo", "seed": seed}],
        "projects": DEMO_PROJECT_SETTINGS,
    }
    return parse_settings(data, "built-in demo configuration", base)


# Budgets and cost rates of the demo company (pipelines/demo/generate.py plans the
# same numbers; tests/test_demo_generate.py keeps the two in step).
DEMO_PROJECT_SETTINGS: list[dict] = [
    {"key": "ERP", "name": "ERP 系统实施 ERP roll-out", "budget": 3_900_000, "hourly_rate": 450},
    {"key": "DP", "name": "数据平台迁移 Data-platform migration", "budget": 5_200_000, "hourly_rate": 480},
    {"key": "MOB", "name": "移动办公 App Mobile app", "budget": 2_900_000, "hourly_rate": 400,
     "source_projects": ["acme/mobile-app"]},
    {"key": "OPS", "name": "IT 运维支持 Maintenance stream", "budget": 550_000, "hourly_rate": 300},
]
