"""The org chart: units (区队, 科室), their heads and in-charge leaders, and the people who
may answer petitions; the top of the chain (mine head, party secretary)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from domain.errors import ConfigError, UnknownName
from domain.fields import Fields


@dataclass(frozen=True)
class Person:
    """Someone in the org chart. ``interests`` are declared interests (names, ID numbers,
    unit ids) that make them recuse themselves (回避, 第二十八条)."""

    id: str
    name: str
    unit: str
    email: str | None = None
    responder: bool = True
    interests: frozenset[str] = frozenset()
    mobile: str | None = None  # for a group robot's mention (@)
    # Message kind → channel (``email``, or a robot of office.yaml's notifications.robots),
    # over the office's own defaults.
    channels: tuple[tuple[str, str], ...] = ()

    def channel(self, kind: str) -> str | None:
        """The channel this person chose for ``kind`` (None: the office's default)."""
        return dict(self.channels).get(kind)


@dataclass(frozen=True)
class Unit:
    """A unit; ``head`` is its 负责人, ``leader`` the mine leader in charge of it (分管领导)."""

    id: str
    name: str
    head: str | None = None
    leader: str | None = None
    parent: str | None = None


@dataclass(frozen=True)
class OrgChart:
    """``office`` is the petition office's unit (信访工作机构): its members register,
    route, strike off and enter the petitioner's own acts; its head re-routes."""

    units: Mapping[str, Unit]
    people: Mapping[str, Person]
    mine_head: str
    party_secretary: str
    office: str | None = None
    # Who an escalation goes to when nobody up the chain may receive it, in order.
    beyond_top: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for unit in self.units.values():
            for role in ("head", "leader"):
                pid = getattr(unit, role)
                if pid is not None and pid not in self.people:
                    raise ConfigError(f"unknown person '{pid}'", field=f"units.{unit.id}.{role}")
            if unit.parent is not None and unit.parent not in self.units:
                raise ConfigError(f"unknown unit '{unit.parent}'",
                                  field=f"units.{unit.id}.parent")
        for person in self.people.values():
            if person.unit not in self.units:
                raise ConfigError(f"unknown unit '{person.unit}'",
                                  field=f"people.{person.id}.unit")
        for role in ("mine_head", "party_secretary"):
            if getattr(self, role) not in self.people:
                raise ConfigError(f"unknown person '{getattr(self, role)}'", field=role)
        if self.office is not None and self.office not in self.units:
            raise ConfigError(f"unknown unit '{self.office}'", field="petition_office")
        for i, pid in enumerate(self.beyond_top):
            if pid not in self.people:
                raise ConfigError(f"unknown person '{pid}'",
                                  field=f"escalation.beyond_top[{i}]")
        for unit in self.units.values():
            seen = {unit.id}
            for ancestor in self.ancestors(unit.id):
                if ancestor.id in seen:
                    raise ConfigError("units form a cycle", field=f"units.{unit.id}.parent")
                seen.add(ancestor.id)

    def unit(self, unit_id: str) -> Unit:
        try:
            return self.units[unit_id]
        except KeyError:
            raise UnknownName("unit", unit_id, list(self.units)) from None

    def person(self, person_id: str) -> Person:
        try:
            return self.people[person_id]
        except KeyError:
            raise UnknownName("person", person_id, list(self.people)) from None

    def ancestors(self, unit_id: str) -> Iterator[Unit]:
        """The unit's parents, nearest first (bounded, so a cycle cannot hang)."""
        current = self.unit(unit_id).parent
        for _ in range(len(self.units)):
            if current is None:
                return
            unit = self.units[current]
            yield unit
            current = unit.parent

    def is_within(self, unit_id: str, container: str) -> bool:
        """Whether ``unit_id`` is ``container`` or one of its sub-units."""
        return unit_id == container or any(u.id == container for u in self.ancestors(unit_id))

    @property
    def office_staff(self) -> frozenset[str]:
        """The petition office's people (members of its unit and its sub-units, and its
        head)."""
        if self.office is None:
            return frozenset()
        staff = {p.id for p in self.people.values() if self.is_within(p.unit, self.office)}
        head = self.units[self.office].head
        return frozenset(staff | ({head} if head else set()))

    @property
    def office_head(self) -> str | None:
        return self.units[self.office].head if self.office is not None else None

    def members(self, unit_id: str) -> list[Person]:
        """People whose unit is exactly ``unit_id``, by id."""
        self.unit(unit_id)
        return sorted((p for p in self.people.values() if p.unit == unit_id), key=lambda p: p.id)


def org_from_mapping(data: object) -> OrgChart:
    """An org chart from plain data (see deploy/config/org.yaml)."""
    f = Fields(data, "", ("units", "people", "mine_head", "party_secretary",
                          "petition_office", "escalation"))
    units: dict[str, Unit] = {}
    for path, item in f.items("units"):
        u = Fields(item, path, ("id", "name", "head", "leader", "parent"))
        uid = u.text("id")
        if uid in units:
            raise ConfigError(f"unit '{uid}' is defined twice", field=u.at("id"))
        units[uid] = Unit(uid, u.text("name"), u.text("head") if u.has("head") else None,
                          u.text("leader") if u.has("leader") else None,
                          u.text("parent") if u.has("parent") else None)
    people: dict[str, Person] = {}
    for path, item in f.items("people"):
        p = Fields(item, path, ("id", "name", "unit", "email", "responder", "interests",
                                "mobile", "channels"))
        pid = p.text("id")
        if pid in people:
            raise ConfigError(f"person '{pid}' is defined twice", field=p.at("id"))
        unit = p.text("unit")
        if unit not in units:
            raise ConfigError(f"unknown unit '{unit}'", field=p.at("unit"))
        channels = Fields(p.raw("channels"), p.at("channels"), tuple(
            p.raw("channels"))) if p.has("channels") else None
        people[pid] = Person(pid, p.text("name"), unit, p.text("email") if p.has("email") else None,
                             p.typed("responder", bool, True), frozenset(p.text_list("interests")),
                             p.text("mobile") if p.has("mobile") else None,
                             tuple((str(k), channels.text(k)) for k in channels.data)
                             if channels is not None else ())
    if not units:
        raise ConfigError("an org chart needs at least one unit", field="units")
    for (path, _), entry in zip(f.items("units"), units.values(), strict=True):
        for role in ("head", "leader"):
            pid = getattr(entry, role)
            if pid is not None and pid not in people:
                raise ConfigError(f"unknown person '{pid}'", field=f"{path}.{role}")
        if entry.parent is not None and entry.parent not in units:
            raise ConfigError(f"unknown unit '{entry.parent}'", field=f"{path}.parent")
    for role in ("mine_head", "party_secretary"):
        if f.text(role) not in people:
            raise ConfigError(f"unknown person '{f.text(role)}'", field=role)
    office = f.text("petition_office") if f.has("petition_office") else None
    if office is not None and office not in units:
        raise ConfigError(f"unknown unit '{office}'", field="petition_office")
    beyond: tuple[str, ...] = ()
    if f.has("escalation"):
        e = Fields(f.raw("escalation"), "escalation", ("beyond_top",))
        beyond = e.text_list("beyond_top")
        for i, pid in enumerate(beyond):
            if pid not in people:
                raise ConfigError(f"unknown person '{pid}'", field=f"escalation.beyond_top[{i}]")
    return OrgChart(units, people, f.text("mine_head"), f.text("party_secretary"), office,
                    beyond)
