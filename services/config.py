"""The office's configuration files, read once into typed objects.

This is the composition root's reading side: YAML files into domain objects (the settings
from the environment are ``settings.py``). A malformed file raises ``ConfigError`` naming the
file, the line and the field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from domain.attachments import FilePolicy, policy_from_mapping
from domain.calendar import PackageCalendar, WorkingCalendar
from domain.errors import ConfigError, UnknownName
from domain.fields import Fields
from domain.key_periods import key_periods_from_list
from domain.offices import SINGLE, OfficeNode, OfficeTree
from domain.org import OrgChart, org_from_mapping
from domain.policies import default_registry
from domain.policy import PolicyRegistry
from domain.practices import Practices
from domain.reception import reception_from_mapping
from domain.routing import RoutingRules, rules_from_mapping
from domain.signals import digest_from_mapping
from domain.targets import letters_from_list
from domain.zero_report import zero_report_from_mapping
from notifications.settings import (
    STAFF_KINDS,
    NotifySettings,
    notify_from_mapping,
    refuse_robot_for,
)
from services.door_config import OnlineSettings, online_from_mapping, with_registered_template
from services.files import load_calendar, load_file

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
    id: str = SINGLE
    parent: str | None = None  # the office above it in the installation's tree
    # Who of the office above receives an escalation past this office's top (default:
    # that office's petition office head).
    escalate_to: str | None = None
    # The attachments it takes (office.yaml ``files``): types, size cap, count per case.
    files: FilePolicy = field(default_factory=FilePolicy)
    # The public door (网上信访, office.yaml ``online``): closed unless configured.
    online: OnlineSettings = field(default_factory=OnlineSettings)


@dataclass(frozen=True)
class Installation:
    """The offices of one installation, by id, and their tree (one office: ``main``)."""

    offices: Mapping[str, Office]
    tree: OfficeTree

    @classmethod
    def of(cls, *offices: Office) -> Installation:
        return cls({o.id: o for o in offices},
                   OfficeTree({o.id: OfficeNode(o.id, o.name, o.org, o.parent)
                               for o in offices}))

    def office(self, office_id: str | None) -> Office:
        """The office ``office_id`` (None: the root), or a ``ConfigError`` naming them."""
        office_id = office_id or self.tree.root
        if office_id not in self.offices:
            raise ConfigError(f"unknown office '{office_id}'; offices: "
                              f"{', '.join(self.offices)}", source="--office")
        return self.offices[office_id]


OFFICES = "offices.yaml"  # a tree of offices: each one's id, folder and parent


def load_installation(directory: Path, package: PackageCalendar | None = None
                      ) -> Installation:
    """The installation configured in ``directory``: one office (its files right there, id
    ``main``), or a tree (``offices.yaml``: each office's ``id``, its configuration folder
    ``path``, relative to ``directory``, and its ``parent``; one root)."""
    tree_file = directory / OFFICES
    if not tree_file.exists():
        return Installation.of(load_office(directory, package))
    return Installation.of(*load_file(tree_file, lambda d: _offices(directory, d, package)))


def _offices(directory: Path, data: Any, package: PackageCalendar | None) -> list[Office]:
    f = Fields(data, "", ("offices",))
    offices: list[Office] = []
    for path, item in f.items("offices"):
        o = Fields(item, path, ("id", "path", "parent", "escalate_to"))
        office_id = o.text("id")
        if any(x.id == office_id for x in offices):
            raise ConfigError(f"office '{office_id}' is defined twice", field=o.at("id"))
        office = load_office((directory / o.text("path")).resolve(), package)
        offices.append(dataclasses.replace(
            office, id=office_id, parent=o.text("parent") if o.has("parent") else None,
            escalate_to=o.text("escalate_to") if o.has("escalate_to") else None))
    if not offices:
        raise ConfigError("an installation needs at least one office", field="offices")
    by_id = {o.id: o for o in offices}
    for i, office in enumerate(offices):
        parent = by_id.get(office.parent or "")
        if parent is None:
            continue
        to = office.escalate_to or parent.org.office_head
        if to is not None and to not in parent.org.people:
            raise ConfigError(f"unknown person '{to}' of office '{parent.id}'",
                              field=f"offices[{i}].escalate_to")
        offices[i] = dataclasses.replace(office, escalate_to=to)
    return offices


def load_policies(directory: Path | None) -> PolicyRegistry:
    """Built-in policies plus every ``*.yaml`` in ``directory`` (which may ``extends`` one)."""
    registry = default_registry()
    if directory is not None and directory.is_dir():
        for path in sorted(directory.glob("*.yaml")):
            registry = load_file(path, registry.with_policy)
    return registry


def load_office(directory: Path, package: PackageCalendar | None = None) -> Office:
    """Load ``org.yaml``, ``routing.yaml`` and the optional ``calendar.yaml``,
    ``office.yaml`` (``default_policy``) and ``policies/`` from ``directory``; ``package``:
    the ``holidays`` package's data read ahead."""
    if not directory.is_dir():
        raise ConfigError("no such configuration folder; set PETITIONS_CONFIG_DIR or pass "
                          "--config (deploy/config holds a sample office)", source=str(directory))
    org = load_file(directory / "org.yaml", org_from_mapping)
    routing = load_file(directory / "routing.yaml", lambda d: rules_from_mapping(d, org))
    cal_path = directory / "calendar.yaml"
    calendar = load_calendar(cal_path if cal_path.exists() else None, package)
    policies = load_policies(directory / "policies")
    office_path = directory / "office.yaml"
    templates = directory / "templates"
    office = Office(org, routing, calendar, policies,
                    templates=templates if templates.is_dir() else None)
    if office_path.exists():
        office = load_file(office_path, lambda d: _with_office_file(office, d))
    return office


def _check_channels(org: OrgChart, notify: NotifySettings) -> None:
    """Every robot's members and the message kinds people chose channels for are known. A
    channel naming a robot this office does not have is not an error: such messages go by
    e-mail, and the outbox says why (a chart shared by offices with different robots)."""
    for robot in notify.robots.values():
        for i, member in enumerate(robot.members):
            if member not in org.people:
                raise ConfigError(f"unknown person '{member}'",
                                  field=f"notifications.robots.{robot.id}.members[{i}]")
    for person in org.people.values():
        for kind, channel in person.channels:
            if kind not in STAFF_KINDS:
                raise ConfigError(f"unknown message kind '{kind}' (org.yaml, person "
                                  f"{person.id}); one of {', '.join(STAFF_KINDS)}",
                                  field="notifications.channels")
            refuse_robot_for(kind, channel, f"org.yaml: {person.id}.channels.{kind}")



def _with_office_file(office: Office, data: Any) -> Office:
    """``office`` with its name, default policy and notification settings (``office.yaml``)."""
    f = Fields(data, "", ("name", "default_policy", "notifications", "reception",
                          "zero_report", "information", "key_periods", "files", "online",
                          "responsibility"))
    policies = office.policies
    if f.has("default_policy"):
        try:
            policies = policies.select_default(f.text("default_policy"))
        except UnknownName as e:
            raise ConfigError(str(e), field="default_policy") from None
    notify = notify_from_mapping(f.raw("notifications")) if f.has("notifications") \
        else office.notify
    for name, person in (("alert_to", notify.alert_to), ("letters_to", notify.letters_to),
                         ("confidential_letters_to", notify.confidential_letters_to)):
        if person and person not in office.org.people:
            raise ConfigError(f"unknown person '{person}'", field=f"notifications.{name}")
    org = office.org
    _check_channels(org, notify)
    alert = (notify.alert_to,) if notify.alert_to else ()
    p = Practices(
        reception=reception_from_mapping(f.raw("reception"), org) if f.has("reception")
        else Practices().reception,
        zero_report=zero_report_from_mapping(f.raw("zero_report"), org, alert)
        if f.has("zero_report") else Practices().zero_report,
        information=digest_from_mapping(f.raw("information"), org)
        if f.has("information") else Practices().information,
        key_periods=key_periods_from_list(f.raw("key_periods"))
        if f.has("key_periods") else Practices().key_periods,
        responsibility=letters_from_list(f.raw("responsibility"), org)
        if f.has("responsibility") else Practices().responsibility)
    files = policy_from_mapping(f.raw("files")) if f.has("files") else office.files
    online = online_from_mapping(f.raw("online"), notify) if f.has("online") \
        else office.online
    return dataclasses.replace(office, policies=policies,
                               notify=with_registered_template(notify, online),
                               name=f.text("name", office.name), practices=p, files=files,
                               online=online)
