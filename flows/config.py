"""Settings and the office's configuration files, read once into typed objects.

This is the composition root's reading side: environment variables (``PETITIONS_*``) into
``Settings``, and YAML files into domain objects. A malformed file raises ``ConfigError``
naming the file, the line and the field.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.calendar import WorkingCalendar, calendar_from_mapping
from domain.errors import ConfigError, UnknownName
from domain.fields import Fields
from domain.key_periods import key_periods_from_list
from domain.org import OrgChart, org_from_mapping
from domain.policies import default_registry
from domain.policy import PolicyRegistry
from domain.practices import Practices
from domain.reception import reception_from_mapping
from domain.routing import RoutingRules, rules_from_mapping
from domain.signals import digest_from_mapping
from domain.zero_report import zero_report_from_mapping
from notifications.settings import NotifySettings, notify_from_mapping

T = TypeVar("T")


class Settings(BaseSettings):
    """Every setting, from the environment (``PETITIONS_HOME``, ``PETITIONS_CONFIG_DIR``...)."""

    model_config = SettingsConfigDict(env_prefix="PETITIONS_", extra="ignore")

    home: Path = Field(default_factory=lambda: Path.home() / ".petitions")
    config_dir: Path | None = None
    database_url: str | None = None
    # The embedded Prefect server of ``petitions serve`` (127.0.0.1 only).
    prefect_port: int = 4200
    # How often the deadline sweeper runs under ``petitions serve``.
    sweep_seconds: int = 60
    # The demo's and the flow tests' simulated clock (``HOME/clock``); never in production.
    simulated_clock: bool = False
    # Fault injection for the reliability tests: intake sleeps this long after registering.
    intake_pause_seconds: float = 0.0
    # E-mail. Without a key (here or in the named Prefect Secret block) messages are
    # written as .eml files under HOME/outbox.
    sendgrid_api_key: SecretStr | None = None
    sendgrid_secret_block: str | None = None
    sendgrid_host: str = "https://api.sendgrid.com"
    sendgrid_timeout: float = 10.0
    # How often the served engine delivers the outbox.
    send_seconds: int = 30
    # How often the served engine checks the practices (reception notices, zero reports,
    # the weekly digest); each is due at a configured local time.
    practices_seconds: int = 300

    @property
    def office_dir(self) -> Path:
        """Where the office's YAML files live: ``PETITIONS_CONFIG_DIR`` or ``HOME/config``."""
        return self.config_dir or self.home / "config"

    @property
    def db_url(self) -> str:
        """``PETITIONS_DATABASE_URL``, else an SQLite file under ``PETITIONS_HOME``."""
        if self.database_url:
            return self.database_url
        self.home.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.home / 'petitions.db'}"

    @property
    def prefect_home(self) -> Path:
        """The embedded Prefect server's own files (its SQLite database, results)."""
        return self.home / "prefect"


# --- YAML with line numbers ------------------------------------------------------------

_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _line_of(root: yaml.Node | None, field: str) -> int | None:
    """The 1-based line of the deepest node on the dotted ``field`` path."""
    node, line = root, (root.start_mark.line + 1 if root is not None else None)
    for name, index in _TOKEN.findall(field):
        child = None
        if isinstance(node, yaml.MappingNode) and name:
            child = next((v for k, v in node.value if str(k.value) == name), None)
            key = next((k for k, _ in node.value if str(k.value) == name), None)
            if child is None and key is None:
                break
            if child is not None and key is not None and not isinstance(
                    child, (yaml.MappingNode, yaml.SequenceNode)):
                child = key if child.start_mark.line == key.start_mark.line else child
        elif isinstance(node, yaml.SequenceNode) and index and int(index) < len(node.value):
            child = node.value[int(index)]
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line


def read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """Parsed data and the node tree (for line numbers) of a YAML file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read: {e.strerror}", source=str(path)) from None
    try:
        return yaml.safe_load(text), yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        raise ConfigError(f"not valid YAML: {e.problem or e}", source=str(path),
                          line=mark.line + 1 if mark else None) from None


def load_file(path: Path, parse: Callable[[Any], T]) -> T:
    """Parse a YAML (or JSON) file with ``parse``; errors name file, line and field."""
    data, root = read_yaml(path)
    try:
        return parse(data)
    except ConfigError as e:
        raise e.located(str(path), _line_of(root, e.field)) from None


def load_json(path: Path | None) -> Any:
    """A JSON document from a file, or from stdin when ``path`` is None or ``-``."""
    try:
        text = sys.stdin.read() if path is None or str(path) == "-" else \
            path.read_text(encoding="utf-8")
        return json.loads(text)
    except OSError as e:
        raise ConfigError(f"cannot read: {e.strerror}", source=str(path)) from None
    except json.JSONDecodeError as e:
        raise ConfigError(f"not valid JSON: {e.msg}", source=str(path or "<stdin>"),
                          line=e.lineno) from None


# --- the office --------------------------------------------------------------------------

@dataclass(frozen=True)
class Office:
    """Everything the domain needs from one office's configuration."""

    org: OrgChart
    routing: RoutingRules
    calendar: WorkingCalendar
    policies: PolicyRegistry
    name: str = "信访办公室"
    notify: NotifySettings = field(default_factory=NotifySettings)
    templates: Path | None = None  # the office's own templates (override the built-in)
    practices: Practices = field(default_factory=Practices)


def load_calendar(path: Path | None) -> WorkingCalendar:
    """The working calendar, with overrides from ``path`` when it exists."""
    if path is None:
        return WorkingCalendar()
    return load_file(path, calendar_from_mapping)


def load_policies(directory: Path | None) -> PolicyRegistry:
    """Built-in policies plus every ``*.yaml`` in ``directory`` (which may ``extends`` one)."""
    registry = default_registry()
    if directory is not None and directory.is_dir():
        for path in sorted(directory.glob("*.yaml")):
            registry = load_file(path, registry.with_policy)
    return registry


def load_office(directory: Path) -> Office:
    """Load ``org.yaml``, ``routing.yaml`` and the optional ``calendar.yaml``,
    ``office.yaml`` (``default_policy``) and ``policies/`` from ``directory``."""
    if not directory.is_dir():
        raise ConfigError("no such configuration folder; set PETITIONS_CONFIG_DIR or pass "
                          "--config (deploy/config holds a sample office)", source=str(directory))
    org = load_file(directory / "org.yaml", org_from_mapping)
    routing = load_file(directory / "routing.yaml", lambda d: rules_from_mapping(d, org))
    cal_path = directory / "calendar.yaml"
    calendar = load_calendar(cal_path if cal_path.exists() else None)
    policies = load_policies(directory / "policies")
    office_path = directory / "office.yaml"
    templates = directory / "templates"
    office = Office(org, routing, calendar, policies,
                    templates=templates if templates.is_dir() else None)
    if office_path.exists():
        office = load_file(office_path, lambda d: _with_office_file(office, d))
    return office


def _with_office_file(office: Office, data: Any) -> Office:
    """``office`` with its name, default policy and notification settings (``office.yaml``)."""
    f = Fields(data, "", ("name", "default_policy", "notifications", "reception",
                          "zero_report", "information", "key_periods"))
    policies = office.policies
    if f.has("default_policy"):
        try:
            policies = policies.select_default(f.text("default_policy"))
        except UnknownName as e:
            raise ConfigError(str(e), field="default_policy") from None
    notify = notify_from_mapping(f.raw("notifications")) if f.has("notifications") \
        else office.notify
    for name, person in (("alert_to", notify.alert_to), ("letters_to", notify.letters_to)):
        if person and person not in office.org.people:
            raise ConfigError(f"unknown person '{person}'", field=f"notifications.{name}")
    org = office.org
    alert = (notify.alert_to,) if notify.alert_to else ()
    p = Practices(
        reception=reception_from_mapping(f.raw("reception"), org) if f.has("reception")
        else Practices().reception,
        zero_report=zero_report_from_mapping(f.raw("zero_report"), org, alert)
        if f.has("zero_report") else Practices().zero_report,
        information=digest_from_mapping(f.raw("information"), org)
        if f.has("information") else Practices().information,
        key_periods=key_periods_from_list(f.raw("key_periods"))
        if f.has("key_periods") else Practices().key_periods)
    return dataclasses.replace(office, policies=policies, notify=notify,
                               name=f.text("name", office.name), practices=p)
