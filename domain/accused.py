"""The accused set of an accusation (检举控告): everyone who must never act on it, see it or be
told of it (第三十条第三款, 第四十六条(五)). Defined once, here; routing, assignment, recusal,
the owning leader, escalation, the letters desk, digests, alerts and the practices' messages
all consult it.

The set is:
- the accused persons;
- the accused unit and its sub-units, every member of them, and their heads;
- each accused person's own unit, and every unit the person heads (负责人) or is in charge
  of (分管), with their sub-units, members and heads: the accused's subordinates would
  otherwise receive the accuser's name. The top team (the unit of the mine head and the
  party secretary) is the exception: an accused leader's fellow leaders are not the
  accused's subordinates, so only the accused leader is barred, and the units they lead.

A petition that is not an accusation has an empty set.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.org import OrgChart
from domain.petition import Petition


@dataclass(frozen=True)
class AccusedSet:
    """The barred people and units of one accusation."""

    persons: frozenset[str]
    units: frozenset[str]

    def __contains__(self, person_id: object) -> bool:
        return person_id in self.persons

    def bars_unit(self, unit_id: str) -> bool:
        return unit_id in self.units

    def __bool__(self) -> bool:
        return bool(self.persons or self.units)


NOBODY = AccusedSet(frozenset(), frozenset())


def accused_set(org: OrgChart, petition: Petition) -> AccusedSet:
    """The accused set of ``petition`` in ``org`` (empty unless it is an accusation). An
    accused name that is nobody in the org chart (an outsider) is kept as given; an
    accused person may be named by id or by name."""
    if not petition.is_accusation:
        return NOBODY
    by_name = {p.name: p.id for p in org.people.values()}
    persons = {by_name.get(who, who) for who in petition.accused_persons}
    top = {org.people[p].unit for p in (org.mine_head, org.party_secretary)}
    roots = {org.people[p].unit for p in persons if p in org.people} - top
    roots |= {u.id for u in org.units.values() if u.head in persons or u.leader in persons}
    if petition.concerns_unit is not None and petition.concerns_unit in org.units:
        roots.add(petition.concerns_unit)
    units = {u for u in org.units for root in roots if org.is_within(u, root)}
    persons |= {p.id for p in org.people.values() if p.unit in units}
    persons |= {org.units[u].head for u in units if org.units[u].head}  # type: ignore[misc]
    return AccusedSet(frozenset(persons), frozenset(units))


@dataclass(frozen=True)
class Exposure:
    """What an accusation must name for ``person`` to be in its accused set: one of
    ``names`` among its accused persons (ids or names, as given), or one of ``units`` as
    its accused unit. The converse of ``accused_set``, for finding, among many stored
    accusations, the few that may bar one person (the rest cannot); ``accused_set`` stays
    the judge of each one found."""

    person: str
    names: frozenset[str]
    units: frozenset[str]


def exposure(org: OrgChart, person: str) -> Exposure:
    """Every accused person or unit that would put ``person`` in an accusation's accused
    set in ``org`` (``accused_set``, read backwards): the person themself; any unit
    ``person`` is in or heads, and the units above those; whoever is a member (outside the
    top team) or the head or the leader in charge of one of those units."""
    me = org.people.get(person)
    names = {person} | ({me.name} if me is not None else set())
    if me is None:
        return Exposure(person, frozenset(names), frozenset())
    mine = {me.unit} | {u.id for u in org.units.values() if u.head == person}
    above = {r for r in org.units for u in mine if org.is_within(u, r)}
    top = {org.people[p].unit for p in (org.mine_head, org.party_secretary)}
    for p in org.people.values():
        if (p.unit in above and p.unit not in top) or any(
                org.units[u].head == p.id or org.units[u].leader == p.id for u in above):
            names |= {p.id, p.name}
    return Exposure(person, frozenset(names), frozenset(above))
