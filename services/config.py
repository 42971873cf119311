"""The office's configuration files, read once into typed objects.

This is the composition root's reading side: YAML files into domain objects (the settings
from the environment are ``settings.py``). A malformed file raises ``ConfigError`` naming the
file, the line and the field.
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


# libyaml's loader when the C extension is there (ten times the pure-Python one's speed).
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read: {e.strerror}", source=str(path)) from None


def _parse_yaml(text: str, path: Path) -> Any:
    try:
        return yaml.load(text, Loader=_LOADER)  # a safe loader (C or Python)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        raise ConfigError(f"not valid YAML: {e.problem or e}", source=str(path),
                          line=mark.line + 1 if mark else None) from None


def read_data(path: Path) -> Any:
    """The parsed content of a YAML (or JSON) file."""
    return _parse_yaml(_read(path), path)


def load_file(path: Path, parse: Callable[[Any], T]) -> T:
    """Parse a YAML (or JSON) file with ``parse``; errors name file, line and field. The
    node tree that locates a bad field is built only when a field is bad."""
    text = _read(path)
    data = _parse_yaml(text, path)
    try:
        return parse(data)
    except ConfigError as e:
        root = yaml.compose(text, Loader=_LOADER)
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
