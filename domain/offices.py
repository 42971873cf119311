"""Offices as a tree: one installation holds a group's petition office and each mine's
(a city bureau's and each district's), each with its own org chart, and a parent.

Every case belongs to one office. A person belongs to exactly one office (person and unit
ids are unique across the installation), so "whose case is it" and "whose person is it"
decide what a person may see or do across offices, on top of the one office's rules
(``domain.permissions``):

- within the case's own office, the office's rules, unchanged;
- the supervisors (``permissions.supervisors``) of an office above it see it as they see
  their own office's cases (an accusation's outline, else no personal data), and act on
  nothing of it: the office below handles its own cases;
- anyone else, and anyone the accusation names, learns nothing: not even that it exists.

A review (复查) of an office's decision is decided by its parent office, a re-review (复核)
by the parent's parent; the root is the last internal level.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from domain.acts import Act, FileAct
from domain.case import Case
from domain.errors import CaseNotFound, ConfigError, NotPermitted, RuleViolation
from domain.org import OrgChart
from domain.permissions import Permission, Sight, check, sight, supervisors

SINGLE = "main"  # the id of the one office of a single-office configuration


@dataclass(frozen=True)
class OfficeNode:
    id: str
    name: str
    org: OrgChart
    parent: str | None = None


@dataclass(frozen=True)
class OfficeTree:
    """The offices by id, each with its parent; exactly one root."""

    nodes: Mapping[str, OfficeNode]
    _home: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        roots = [n.id for n in self.nodes.values() if n.parent is None]
        if len(roots) != 1:
            raise ConfigError(f"the offices need exactly one root (an office without a "
                              f"parent); found {len(roots)}: {', '.join(roots) or 'none'}")
        for node in self.nodes.values():
            if node.parent is not None and node.parent not in self.nodes:
                raise ConfigError(f"unknown parent office '{node.parent}'; offices: "
                                  f"{', '.join(self.nodes)}", source=node.id)
        for node in self.nodes.values():
            list(self.ancestors(node.id))  # raises on a cycle
        for kind in ("people", "units"):
            owner: dict[str, str] = {}
            for node in self.nodes.values():
                for key in getattr(node.org, kind):
                    if key in owner:
                        raise ConfigError(
                            f"{kind[:-1] if kind == 'units' else 'person'} '{key}' is in "
                            f"offices '{owner[key]}' and '{node.id}'; ids are unique across "
                            "the installation", source=node.id)
                    owner[key] = node.id
        object.__setattr__(self, "_home", {p: n.id for n in self.nodes.values()
                                           for p in n.org.people})

    @property
    def root(self) -> str:
        return next(n.id for n in self.nodes.values() if n.parent is None)

    def node(self, office: str) -> OfficeNode:
        try:
            return self.nodes[office]
        except KeyError:
            raise ConfigError(f"unknown office '{office}'; offices: "
                              f"{', '.join(self.nodes)}") from None

    def org(self, office: str) -> OrgChart:
        return self.node(office).org

    def home(self, person: str) -> str | None:
        """The office ``person`` belongs to, or None for nobody of the installation."""
        home: dict[str, str] = self._home
        return home.get(person)

    def ancestors(self, office: str) -> Iterator[str]:
        """The offices above ``office``, nearest first."""
        current = self.node(office).parent
        for _ in range(len(self.nodes)):
            if current is None:
                return
            yield current
            current = self.nodes[current].parent
        raise ConfigError("the offices' parents form a cycle", source=office)

    def subtree(self, office: str) -> list[str]:
        """``office`` and every office below it."""
        return [n for n in self.nodes if n == office or office in self.ancestors(n)]

    def above(self, office: str, levels: int = 1) -> str | None:
        """The office ``levels`` above ``office``, or None past the root."""
        chain = list(self.ancestors(office))
        return chain[levels - 1] if len(chain) >= levels else None

    def supervises(self, person: str, office: str) -> bool:
        """Whether ``person`` supervises ``office``'s work: a supervisor of it or of an
        office above it (the group's office sees every mine)."""
        home = self.home(person)
        return home is not None and (home == office or home in self.ancestors(office)) \
            and person in supervisors(self.org(home))

    def offices_seen_by(self, person: str) -> list[str]:
        """The offices whose cases ``person`` may find: their own, and those below it if
        they supervise."""
        home = self.home(person)
        if home is None:
            return []
        return self.subtree(home) if person in supervisors(self.org(home)) else [home]


def escalating_above(org: OrgChart, parent: OrgChart, person: str) -> OrgChart:
    """``org`` whose escalations past its top (after its own ``beyond_top``) reach
    ``person`` of the office above (``parent``): they join the chart as a member of their
    own unit, without its head or leader, so that the rung's bars and the message's
    address apply to them like anyone."""
    who = parent.person(person)
    unit = dataclasses.replace(parent.unit(who.unit), head=None, leader=None, parent=None)
    if person in org.people or unit.id in org.units:
        return org
    return dataclasses.replace(org, units={**org.units, unit.id: unit},
                               people={**org.people, person: who},
                               beyond_top=(*org.beyond_top, person))


def _named(tree: OfficeTree, case: Case, person: str) -> bool:
    """Whether the accusation names ``person`` (by id or name): someone of another office
    is not in the case's org chart, so the accused set does not resolve them."""
    if not case.petition.is_accusation:
        return False
    home = tree.home(person)
    name = tree.org(home).people[person].name if home is not None else person
    return bool({person, name} & set(case.petition.accused_persons))


def sight_in(tree: OfficeTree, case: Case, person: str) -> Sight:
    """What of ``case`` ``person`` may see, across the offices (see the module)."""
    home = tree.home(person)
    if home is None or case.office not in tree.nodes:
        return Sight.NONE
    if home == case.office:
        return sight(tree.org(home), case, person)
    if _named(tree, case, person) or not tree.supervises(person, case.office):
        return Sight.NONE
    return Sight.OUTLINE if case.petition.is_accusation else Sight.MATERIAL


_DECIDED_ABOVE = {Act.DECIDE_REVIEW: "review_case", Act.DECIDE_RE_REVIEW: "re_review_case"}


def check_in(tree: OfficeTree, case: Case, person: str, act: Act | FileAct
             ) -> Permission:
    """Whether ``person`` may take ``act`` on ``case`` now, across the offices: only the
    case's own office acts on it, under its own rules; a review referred up is decided in
    the case a level up, not here. ``CaseNotFound`` for whoever may not see it."""
    home = tree.home(person)
    if home is None:
        raise NotPermitted(case.ref, f"'{person}' is nobody in the org chart; act as "
                           "yourself, by your person id")
    if home != case.office:
        if sight_in(tree, case, person) is Sight.NONE:
            raise CaseNotFound(case.ref)
        raise NotPermitted(case.ref, f"'{person}' is of office '{home}'; the case is office "
                           f"'{case.office}''s, and only its people act on it")
    permission = check(tree.org(home), case, person, act)
    if act is Act.HAND_DOWN and len(tree.subtree(case.office)) == 1:
        raise NotPermitted(case.ref, f"office '{case.office}' has no office below it to "
                           "hand the case down to")
    origin = case.links.get("review_of") or case.links.get("re_review_of")
    if origin and act in (Act.REQUEST_REVIEW, Act.REQUEST_RE_REVIEW):
        raise RuleViolation(case.ref, f"it is the review of case {origin}: a re-review "
                            "(复核) is asked on that case")
    link = _DECIDED_ABOVE.get(act) if isinstance(act, Act) else None
    if link is not None and case.links.get(link):
        raise RuleViolation(case.ref, f"it is decided a level up, in case "
                            f"{case.links[link]}: its decision comes back here")
    return permission


def review_office(tree: OfficeTree, case: Case, act: Act) -> str | None:
    """The office a level up that decides ``act`` (a review request: the parent; a
    re-review request: the parent's parent) for ``case``, or None to decide it inside the
    office (a single-office installation, or an office without a parent). Raises
    ``RuleViolation`` when the level it needs is past the root: the last internal level."""
    if case.office not in tree.nodes or tree.node(case.office).parent is None:
        return None
    levels = 1 if act is Act.REQUEST_REVIEW else 2
    office = tree.above(case.office, levels)
    if office is None:
        raise RuleViolation(case.ref, f"office '{tree.above(case.office, levels - 1)}' "
                            "decided its review and is the last internal level: a re-review "
                            "(复核) goes to the government's petition office above it")
    return office
