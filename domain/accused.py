"""The accused set of an accusation (检举控告): everyone who must never act on it, see it or be
told of it (第三十条第三款, 第四十六条(五)). Defined once, here; routing, assignment, recusal,
the owning leader, escalation, the letters desk, digests, alerts and the practices' messages
all consult it.

The set is:
- the accused persons;
- the accused unit and its sub-units, every member of them, and their heads;
- each accused person's own unit, with its sub-units, members and heads (a unit head
  accused bars the unit: her subordinates would otherwise receive the accuser's name).

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
    roots = {petition.concerns_unit} if petition.concerns_unit in org.units else set()
    roots |= {org.people[p].unit for p in persons if p in org.people}
    units = {u for u in org.units for root in roots if org.is_within(u, root)}
    persons |= {p.id for p in org.people.values() if p.unit in units}
    persons |= {org.units[u].head for u in units if org.units[u].head}  # type: ignore[misc]
    return AccusedSet(frozenset(persons), frozenset(units))
