"""Lodestar configuration: `lodestar.toml`, validated with pydantic.

Lookup order: an explicit path (``--config``), then ``LODESTAR_CONFIG``, then
``./lodestar.toml``; without any, the built-in demo configuration, so a fresh
clone runs with no setup. Credentials are never written in the file: a source
names the environment variables that hold them.

Every value that would otherwise fail only once a sync or an alert run is under
way (a time zone, a country's holidays, a date, a quiet-hours window, a URL) is
checked here, so a typo is reported at load with its key instead of as a stack
trace minutes later. What depends on the machine rather than the file (that the
named environment variables are set, that the warehouse folder can be written)
is checked by `check_environment`, which commands that do work ask for with
``load_settings(..., environment=True)``; readers such as the dashboard do not
need the sources' secrets, so they do not ask.
"""

from __future__ import annotations

import os
import re
import tempfile
import tomllib
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Literal, Union
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

CONFIG_ENV = "LODESTAR_CONFIG"
DEFAULT_CONFIG_NAME = "lodestar.toml"


class ConfigError(ValueError):
    """A configuration problem, worded for the person editing the file."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("not an IANA time zone name, e.g. Asia/Shanghai, Europe/Berlin or UTC") from None
    return name


def _country(code: str) -> str:
    """An ISO country code the `holidays` package knows ("" for weekends only), so calendars can be built."""
    if not code:
        return code
    import holidays

    if code.upper() not in holidays.list_supported_countries():
        raise ValueError("not a country code the holiday calendar knows, e.g. CN, US, DE or GB")
    return code.upper()


CALENDAR_YEARS = (1900, 2200)
"""Years the planning calendar (models/planning/calendar.py) covers; a configured date outside them cannot be planned."""


def _iso_date(text: str) -> str:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError("not a date in the form YYYY-MM-DD, e.g. 2025-03-31")
    try:
        day = date.fromisoformat(text)
    except ValueError as error:
        raise ValueError(f"not a real date ({error}); use YYYY-MM-DD, e.g. 2025-03-31") from None
    if not CALENDAR_YEARS[0] <= day.year <= CALENDAR_YEARS[1]:
        raise ValueError(f"outside the years {CALENDAR_YEARS[0]}-{CALENDAR_YEARS[1]} the planning calendar covers")
    return text


def _http_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValueError("not an http:// or https:// URL, e.g. https://jira.example.com")
    return url


def _quiet_hours(window: str | None) -> str | None:
    if window is not None:
        for clock in window.split("-"):
            hour, minute = int(clock[:2]), int(clock[3:])
            if hour > 23 or minute > 59:
                raise ValueError(f"{clock} is not a time of day; use HH:MM-HH:MM with 00:00-23:59, e.g. 22:00-08:00")
    return window


TimeZoneName = Annotated[str, AfterValidator(_time_zone)]
CountryCode = Annotated[str, AfterValidator(_country)]
IsoDate = Annotated[str, AfterValidator(_iso_date)]
HttpUrl = Annotated[str, AfterValidator(_http_url)]


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
    reader_memory_limit: str | None = Field(
        default=None, pattern=r"^\s*\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$",
        description="Memory one reader connection (a dashboard query, `lodestar query`) may use, e.g. \"2GB\"; "
        "default a tenth of the machine's memory (at least 256MB), so one query cannot take the server.",
    )
    reader_threads: int = Field(default=2, ge=1, le=64, description="Threads one reader connection may use.")
    query_timeout_seconds: float = Field(default=30.0, gt=0, le=3600,
                                         description="Ad-hoc SQL (SQL page, `lodestar query`) is stopped after this.")
    query_max_rows: int = Field(default=100_000, ge=1, le=10_000_000,
                                description="Ad-hoc SQL returns at most this many rows (the rest is cut, and said so).")

    def resolved(self, base: Path) -> "WarehouseSettings":
        path = self.path if self.path.is_absolute() else base / self.path
        published = self.published_path or path.with_name(path.stem + ".published.duckdb")
        edits = self.edits_path or path.with_name("edits.sqlite")
        if not published.is_absolute():
            published = base / published
        if not edits.is_absolute():
            edits = base / edits
        return self.model_copy(update={"path": path, "published_path": published, "edits_path": edits})


class CalendarSettings(_Strict):
    country: CountryCode = "CN"
    timezone: TimeZoneName = "Asia/Shanghai"
    holidays: list[IsoDate] = Field(
        default_factory=list,
        description="Extra days off (YYYY-MM-DD): public holidays of a year chinesecalendar has no data for, "
        "company shutdowns. Days off win over everything else.",
    )
    workdays: list[IsoDate] = Field(
        default_factory=list,
        description="Extra working days (YYYY-MM-DD): 调休 make-up days of a year chinesecalendar has no data for, "
        "a Saturday release.",
    )


class _SourceBase(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    enabled: bool = True
    overlap_minutes: int = Field(default=10, ge=0)
    max_staleness_hours: float = Field(default=26.0, gt=0, description="freshness check window")
    timeout_seconds: float = Field(default=30.0, gt=0, description="per-request timeout for API sources")


class JiraSource(_SourceBase):
    kind: Literal["jira"]
    url: HttpUrl
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
    url: HttpUrl = "https://api.github.com"
    repos: list[str] = Field(min_length=1)
    token_env: str | None = None


class GitLabSource(_SourceBase):
    kind: Literal["gitlab"]
    url: HttpUrl = "https://gitlab.com"
    projects: list[str] = Field(min_length=1)
    token_env: str | None = None


TIMESHEET_MAX_FILE_MB = 50.0
TIMESHEET_MAX_UNZIPPED_MB = 200.0
TIMESHEET_MAX_HOURS_PER_DAY = 16.0


class TimesheetSource(_SourceBase):
    """Timesheet files, from folders (`paths`) or `lodestar import-timesheet`.

    The size limits keep one file from exhausting the machine: a file is read
    whole and an xlsx is a zip whose sheets may unzip to a thousand times its size.
    """

    kind: Literal["timesheet"]
    paths: list[Path] = Field(default_factory=list, description="files or folders; empty for import-only")
    columns: dict[str, str] = Field(default_factory=dict)
    max_file_mb: float = Field(default=TIMESHEET_MAX_FILE_MB, gt=0, description="largest file accepted, in MB")
    max_unzipped_mb: float = Field(
        default=TIMESHEET_MAX_UNZIPPED_MB, gt=0,
        description="largest total uncompressed size of an xlsx's parts, in MB, checked before it is opened",
    )
    max_hours_per_day: float = Field(
        default=TIMESHEET_MAX_HOURS_PER_DAY, gt=0,
        description="a person's day in one file adding up to more is reported row by row",
    )


class DemoSource(_SourceBase):
    kind: Literal["demo"]
    seed: int = 42
    as_of: IsoDate | None = Field(default=None, description="YYYY-MM-DD; default today (UTC)")


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
    start_date: IsoDate | None = None
    due_date: IsoDate | None = None
    timezone: TimeZoneName | None = Field(
        default=None, description="IANA zone of the team, for the alert digest; default [calendar] timezone"
    )
    source_projects: list[str] = Field(
        default_factory=list,
        description='project keys in the tools that belong to this project, e.g. a GitLab path "acme/mobile-app"',
    )

    @model_validator(mode="after")
    def _due_after_start(self) -> "ProjectSettings":
        if self.start_date and self.due_date and self.due_date < self.start_date:
            raise ValueError(f"due_date {self.due_date} is before start_date {self.start_date}")
        return self


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
    sensitive: bool = Field(default=False, description="may carry alerts about sensitive tasks (only such channels do)")

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
    quiet_hours: Annotated[str | None, AfterValidator(_quiet_hours)] = Field(
        default=None, pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}$",
        description="HH:MM-HH:MM in the calendar time zone; only critical alerts are sent then",
    )
    escalate_after_hours: float = Field(default=24.0, gt=0)
    dashboard_url: HttpUrl = "http://localhost:8501"
    digest_hour: int = Field(default=9, ge=0, le=23, description="local hour of the daily digest")

    @field_validator("channels")
    @classmethod
    def _unique_channel_names(cls, channels: list[AlertChannel]) -> list[AlertChannel]:
        names = [c.name for c in channels]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate channel names: {', '.join(duplicates)}")
        return channels


Role = Literal["admin", "pmo", "manager", "member", "viewer"]
ROLE_ORDER: dict[str, int] = {"viewer": 0, "member": 1, "manager": 2, "pmo": 3, "admin": 4}
"""Roles from least to most: where several rules name one person for one project, the strongest wins."""


class AuthSettings(_Strict):
    """How people sign in to the dashboard (`[auth]`)."""

    mode: Literal["local", "oidc"] = Field(
        default="local",
        description='"local": one person on their own machine, dashboard on 127.0.0.1 only, edits marked '
        'unverified; "oidc": sign-in through the OpenID Connect provider in .streamlit/secrets.toml [auth].',
    )
    groups_claim: str = Field(default="groups", min_length=1,
                              description="ID-token claim listing the person's groups (for group:NAME rules)")
    contact: str | None = Field(default=None,
                                description="whom someone without access should ask (shown to them), e.g. an e-mail")
    local_user: str = Field(default="operator@localhost",
                            description="the identity a local-mode session acts as before choosing 'view as'")


class AccessRule(_Strict):
    """One `[[access]]` entry: who gets which role on which projects."""

    who: str = Field(min_length=1, description='an e-mail, or group:NAME from the groups claim')
    role: Role
    projects: list[str] = Field(default_factory=lambda: ["*"], min_length=1, description='project keys; "*" = all')

    @field_validator("who")
    @classmethod
    def _who(cls, who: str) -> str:
        who = who.strip()
        if who.startswith("group:"):
            if not who[len("group:"):].strip():
                raise ValueError("group: needs a group name, e.g. group:pmo")
            return who
        if "@" not in who:
            raise ValueError(f"{who!r} is neither an e-mail nor group:NAME")
        return who.lower()


class SensitivitySettings(_Strict):
    """Which tasks are sensitive (`[sensitivity]`): only managers of the project, the PMO and admins see them."""

    labels: list[str] = Field(default_factory=lambda: ["confidential", "机密"],
                              description="a task with one of these labels (case-insensitive) is sensitive")
    jira_security_levels: bool = Field(default=True, description="a Jira issue with a security level is sensitive")


class BackupSettings(_Strict):
    """`[backup]`: where `lodestar backup` and the daily schedule write, and how many they keep."""

    dir: Path | None = Field(default=None, description="defaults to backups/ beside the warehouse")
    keep: int = Field(default=7, ge=1, le=3650, description="backups kept by the daily schedule; older ones go")
    max_age_hours: float = Field(default=26.0, gt=0,
                                 description="the freshness check fails when the newest backup is older")


class Settings(_Strict):
    warehouse: WarehouseSettings = WarehouseSettings()
    calendar: CalendarSettings = CalendarSettings()
    sources: list[Source] = Field(default_factory=list)
    projects: list[ProjectSettings] = Field(default_factory=list)
    people: list[PersonMapping] = Field(default_factory=list)
    alerts: AlertSettings = AlertSettings()
    auth: AuthSettings = AuthSettings()
    access: list[AccessRule] = Field(default_factory=list)
    sensitivity: SensitivitySettings = SensitivitySettings()
    backup: BackupSettings = BackupSettings()
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


def _problems_message(origin: str, problems: list[str]) -> str:
    """The one shape of every configuration error: the file, then one indented `key: what was expected` each."""
    return "\n".join([f"{origin}: invalid configuration", *(f"  {problem}" for problem in problems)])


def _format_error(error: ValidationError, origin: str) -> str:
    problems = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        problems.append(f"{key}: {message} (got {item.get('input')!r})")
    return _problems_message(origin, problems)


def parse_settings(data: dict, origin: str, base: Path) -> Settings:
    try:
        settings = Settings.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_format_error(error, origin)) from None
    settings.warehouse = settings.warehouse.resolved(base)
    backup_dir = settings.backup.dir or settings.warehouse.path.parent / "backups"
    settings.backup.dir = backup_dir if backup_dir.is_absolute() else base / backup_dir
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


def _read_text(path: Path) -> str:
    """The file as text; a byte that is not UTF-8 is reported by offset, because editors show none of it."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the configuration file ({error.strerror})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        offset = error.start + (3 if raw.startswith(b"\xef\xbb\xbf") else 0)
        raise ConfigError(
            f"{path}: not UTF-8 text: byte {offset} is 0x{raw[offset]:02x} ({error.reason}); save the file as UTF-8"
        ) from None


def load_settings(explicit: str | os.PathLike | None = None, *, environment: bool = False) -> Settings:
    """The configuration, validated; with `environment`, also what it needs of this machine (`check_environment`).

    Commands that fetch, write or send should pass `environment=True`, so that
    an unset secret or an unwritable warehouse folder stops them before any
    work starts, instead of deep inside a Dagster run.
    """
    path = find_config(explicit)
    if path is None:
        settings = default_demo_settings(Path.cwd())
    else:
        try:
            data = tomllib.loads(_read_text(path))
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{path}: not valid TOML: {error}") from None
        settings = parse_settings(data, str(path), path.resolve().parent)
        settings.config_path = path.resolve()
    if environment:
        check_environment(settings)
    return settings


SOURCE_SECRET_KEYS = ("user_env", "token_env")
CHANNEL_SECRET_KEYS = ("url_env", "secret_env", "user_env", "password_env")


def check_environment(settings: Settings, environ: Mapping[str, str] | None = None) -> None:
    """Raise ConfigError naming each key whose environment variable is unset and each unwritable warehouse folder.

    Only enabled sources are checked: a disabled one is never fetched. Every
    alert channel is checked, since any of them may be sent to. Folders are
    probed, not created: they are made by the writer when the first sync opens
    the warehouse.
    """
    environ = os.environ if environ is None else environ
    problems = []
    named = [(f"sources.{i}.{source.kind}", source, SOURCE_SECRET_KEYS)
             for i, source in enumerate(settings.sources) if source.enabled]
    named += [(f"alerts.channels.{i}", channel, CHANNEL_SECRET_KEYS)
              for i, channel in enumerate(settings.alerts.channels)]
    for prefix, item, keys in named:
        for key in keys:
            variable = getattr(item, key, None)
            if variable and not environ.get(variable):
                state = "is empty" if variable in environ else "is not set"
                problems.append(f"{prefix}.{key}: environment variable {variable} {state}")
    warehouse = settings.warehouse
    for key, path in (("path", warehouse.path), ("published_path", warehouse.published_path),
                      ("edits_path", warehouse.edits_path)):
        problem = _folder_problem(path.parent) if path is not None else None
        if problem:
            problems.append(f"warehouse.{key}: {path} cannot be written: {problem}")
    if problems:
        origin = str(settings.config_path) if settings.config_path else "built-in demo configuration"
        raise ConfigError(_problems_message(origin, problems))


def _folder_problem(folder: Path) -> str | None:
    """Why files cannot be created in `folder` (made first if missing), or None; probed with a temporary file."""
    existing = folder
    try:
        while not existing.exists():
            existing = existing.parent
    except OSError as error:
        return f"{existing} cannot be reached ({error.strerror})"
    if not existing.is_dir():
        return f"{existing} is a file, not a folder"
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        return f"the folder {existing} is not writable ({error.strerror})"
    return None


def default_demo_settings(base: Path, seed: int = 42) -> Settings:
    """The demo company, so a fresh clone works with no configuration at all."""
    data = {
        "warehouse": {"path": "data/warehouse.duckdb"},
        "calendar": {"country": "CN"},
        "sources": [{"kind": "demo", "name": "demo", "seed": seed}],
        "projects": DEMO_PROJECT_SETTINGS,
        "access": DEMO_ACCESS_RULES,
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

# Who sees what in the demo (issue #14): one person for each role. The @acme.cn addresses are
# demo people's own (pipelines/demo/company.py PEOPLE: 张伟 leads ERP, 杨磊 builds it, 李娜 reports OPS tickets).
DEMO_ACCESS_RULES: list[dict] = [
    {"who": "admin@acme.example", "role": "admin", "projects": ["*"]},
    {"who": "pmo@acme.example", "role": "pmo", "projects": ["*"]},
    {"who": "zhangwei@acme.cn", "role": "manager", "projects": ["ERP"]},
    {"who": "yanglei@acme.cn", "role": "member", "projects": ["ERP", "DP"]},
    {"who": "lina@acme.cn", "role": "viewer", "projects": ["OPS"]},
]
