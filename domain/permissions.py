"""Who may do what to a case (petition-rules.md, "Who may do what"): one table of each act
against the relations to the case that permit it, and one function that says whether a
person may take an act on a case now, with the reason when not. Every entrance (the CLI,
the lifecycle's forms, the web workplace, the API) reaches it through the use case, before
anything changes.

Refused, whatever the table says: an unknown person; anyone in the accusation's accused set
(told that there is no such case: they do not learn it exists); a recused person, or one with
a declared interest. Nobody reviews their own decision.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from domain import labels
from domain.accused import accused_set
from domain.acts import PETITIONERS_ACTS, Act, FileAct
from domain.case import Case
from domain.errors import CaseNotFound, NotPermitted
from domain.org import OrgChart
from domain.petition import Petition
from domain.routing import barred_person


class Relation(enum.Enum):
    OFFICE_STAFF = "office_staff"    # 信访工作机构: the petition office's people
    OFFICE_HEAD = "office_head"      # its head
    RESPONDER = "responder"          # 首问责任人
    UNIT_HEAD = "unit_head"          # the handling unit's head (本单位负责人)
    UNIT_LEADER = "unit_leader"      # the handling unit's leader in charge (分管领导)
    OWNING_LEADER = "owning_leader"  # 包案领导
    REVIEWER = "reviewer"            # the level above the handling unit (复查)
    RE_REVIEWER = "re_reviewer"      # the level above that (复核)
    TOP = "top"                      # the mine head or party secretary an escalation reached
    # Whom a handler's extension request (申请延期) waits for: the unit's head or those
    # above, as the policy says, named when it was asked.
    APPROVER = "approver"
    # The petitioner themself, signed in at the public door with the mobile number the case
    # holds (``domain.door``): never a person of the org chart.
    PETITIONER = "petitioner"

    @property
    def label(self) -> str:
        return labels.RELATIONS[self.value]


R = Relation
# The handling chain (who sees all of a case: ``sight``).
_CHAIN_RELATIONS = frozenset({R.RESPONDER, R.UNIT_HEAD, R.UNIT_LEADER, R.OWNING_LEADER,
                              R.REVIEWER, R.RE_REVIEWER, R.TOP})
_HANDLERS = frozenset({R.RESPONDER, R.UNIT_HEAD, R.OWNING_LEADER, R.TOP})
_BEHALF = frozenset({R.OFFICE_STAFF})
# The petitioner's own acts: entered by the office for them, or by them online.
_OWN = _BEHALF | {R.PETITIONER}
# The public door's system actor (网上信访): it may register, nothing else (it is nobody in
# the org chart, so ``check`` refuses it every act).
ONLINE_REGISTRAR = "online"

# Each act, and the relations that permit it.
PERMITTED: dict[Act | FileAct, frozenset[Relation]] = {
    Act.ACK: frozenset({R.RESPONDER}),
    Act.ACCEPT: _HANDLERS,
    Act.DECLINE: _HANDLERS,
    Act.ASSIGN_LEADER: frozenset({R.OFFICE_HEAD, R.UNIT_HEAD, R.UNIT_LEADER, R.TOP}),
    Act.LEADER_ACCEPT: frozenset({R.OWNING_LEADER}),
    Act.PAUSE: _HANDLERS | {R.REVIEWER, R.RE_REVIEWER},
    Act.RESUME: _HANDLERS | {R.REVIEWER, R.RE_REVIEWER},
    # The approver extends directly (the domain checks who approves: ``Case.extend``).
    Act.EXTEND: frozenset({R.UNIT_HEAD, R.UNIT_LEADER, R.OWNING_LEADER, R.TOP}),
    Act.REQUEST_EXTENSION: frozenset({R.RESPONDER, R.OWNING_LEADER}),
    Act.APPROVE_EXTENSION: frozenset({R.APPROVER}),
    Act.REFUSE_EXTENSION: frozenset({R.APPROVER}),
    Act.REQUEST_REPORT: frozenset({R.UNIT_HEAD, R.UNIT_LEADER, R.OWNING_LEADER, R.TOP,
                                   R.OFFICE_HEAD}),
    Act.LIST_CASE: frozenset({R.OFFICE_HEAD, R.OFFICE_STAFF}),
    Act.REPORT_TO_LISTER: _HANDLERS,
    Act.REPORT: frozenset({R.RESPONDER, R.UNIT_HEAD, R.OWNING_LEADER}),
    Act.CLOSE: _HANDLERS,
    Act.RATE: _OWN,
    Act.REQUEST_REVIEW: _OWN,
    Act.REQUEST_RE_REVIEW: _OWN,
    Act.WITHDRAW: _BEHALF,
    Act.DECIDE_REVIEW: frozenset({R.REVIEWER}),
    Act.DECIDE_RE_REVIEW: frozenset({R.RE_REVIEWER}),
    Act.STRIKE_OFF: frozenset({R.OFFICE_STAFF}),
    Act.ASSIGN: frozenset({R.OFFICE_STAFF}),
    Act.HAND_DOWN: _HANDLERS | {R.OFFICE_HEAD},
    # Files (domain.attachments): the office scans the letters, the chain adds evidence
    # and the signed decision. A file is withdrawn by whoever attached it (the use case
    # lets them) or by the office's head. The petitioner attaches their own scans online.
    FileAct.ATTACH: _CHAIN_RELATIONS | {R.OFFICE_STAFF, R.PETITIONER},
    FileAct.WITHDRAW_FILE: frozenset({R.OFFICE_HEAD}),
}

# The acts that ask someone for something, and what waits once asked (``Case.pending``).
_WAITS: dict[Act | FileAct, str] = {Act.REQUEST_EXTENSION: "extension",
                                    Act.REQUEST_REPORT: "report"}


def reviewers(org: OrgChart, case: Case) -> frozenset[str]:
    """Who decides a review (复查): the level above the handling unit, its leader in charge
    (分管领导); if none may, the mine head and the party secretary. Never the one who
    decided the case, nor anyone barred."""
    barred = _barred(org, case)
    unit = org.units.get(case.unit or "")
    first = {unit.leader} if unit is not None and unit.leader else set()
    first -= barred | {case.deciders.get("decision", "")}
    return frozenset(first or ({org.mine_head, org.party_secretary} - barred
                               - {case.deciders.get("decision", "")}))


def re_reviewers(org: OrgChart, case: Case) -> frozenset[str]:
    """Who decides a re-review (复核): the level above the reviewers, the mine head and the
    party secretary; never one who decided the case or its review, nor anyone barred."""
    decided = {case.deciders.get("decision", ""), case.deciders.get("review", "")}
    return frozenset({org.mine_head, org.party_secretary} - _barred(org, case) - decided)


def _barred(org: OrgChart, case: Case) -> set[str]:
    return set(accused_set(org, case.petition).persons) | set(case.recused)


def relations(org: OrgChart, case: Case, person: str) -> frozenset[Relation]:
    """Every relation ``person`` holds to ``case`` (before any bar is applied)."""
    held: set[Relation] = set()
    unit = org.units.get(case.unit or "")
    if person in org.office_staff:
        held.add(R.OFFICE_STAFF)
    if person == org.office_head:
        held.add(R.OFFICE_HEAD)
    if person == case.responder:
        held.add(R.RESPONDER)
    if unit is not None and person == unit.head:
        held.add(R.UNIT_HEAD)
    if unit is not None and person == unit.leader:
        held.add(R.UNIT_LEADER)
    if person == case.leader:
        held.add(R.OWNING_LEADER)
    if person in case.escalated_to:
        held.add(R.TOP)
    if person in reviewers(org, case):
        held.add(R.REVIEWER)
    if person in re_reviewers(org, case):
        held.add(R.RE_REVIEWER)
    if person in case.extension_approvers(org):
        held.add(R.APPROVER)
    return frozenset(held)


@dataclass(frozen=True)
class Permission:
    """Why a person may take an act: the relation it is taken as, and whether it is the
    petitioner's own act entered for them."""

    relation: Relation
    on_behalf_of_petitioner: bool


def check(org: OrgChart, case: Case, person: str, act: Act | FileAct) -> Permission:
    """Whether ``person`` may take ``act`` on ``case`` now. Raises ``CaseNotFound`` for
    anyone in the accused set and ``NotPermitted`` (naming why) otherwise."""
    if person not in org.people:
        raise NotPermitted(case.ref, f"'{person}' is nobody in the org chart; act as "
                           "yourself, by your person id")
    if person in accused_set(org, case.petition):
        raise CaseNotFound(case.ref)
    bar = barred_person(org, case.petition, person, case.recused)
    if bar is not None:
        raise NotPermitted(case.ref, f"'{person}' may not act on it ({bar.reason})")
    asked = case.pending.get(_WAITS.get(act, ""))  # asked already: it waits for its answer
    if asked:
        raise NotPermitted(case.ref, f"'{asked['by']}' asked on {asked['at'][:10]}: it waits "
                           "for its answer")
    may = PERMITTED[act] & relations(org, case, person)
    if not may:
        raise NotPermitted(case.ref, f"'{person}' may not '{act.command}' it: only its "
                           f"{_who(PERMITTED[act])} may ({_holders(org, case, act)})")
    if act is Act.LIST_CASE and case.listing:  # not offered twice, nor a report unlisted
        raise NotPermitted(case.ref, f"it is listed already, by {case.listing['body']}")
    if act is Act.REPORT_TO_LISTER and not case.listing:
        raise NotPermitted(case.ref, "it is not listed for supervision (挂牌督办)")
    relation = min(may, key=lambda r: list(Relation).index(r))
    return Permission(relation, act in PETITIONERS_ACTS)


def registrars(org: OrgChart, petition: Petition | None = None,
               accusation_unit: str | None = None) -> frozenset[str]:
    """Who may register (登记) ``petition``: the petition office's staff; for an accusation,
    also the staff of the unit that takes accusations (who register one against the petition
    office itself); never anyone in its accused set."""
    staff = set(org.office_staff)
    if petition is None or not petition.is_accusation:
        return frozenset(staff)
    if accusation_unit in org.units:
        unit = org.units[accusation_unit]  # type: ignore[index]
        staff |= {p.id for p in org.people.values() if org.is_within(p.unit, unit.id)}
        staff |= {unit.head} if unit.head else set()
    return frozenset(staff - accused_set(org, petition).persons)


def check_registrar(org: OrgChart, person: str, petition: Petition | None = None,
                    accusation_unit: str | None = None, ref: str = "intake") -> None:
    """``person`` may register ``petition`` (``registrars``, and the public door's
    ``ONLINE_REGISTRAR``) as ``ref``, or ``NotPermitted`` naming who may."""
    if person == ONLINE_REGISTRAR:
        return
    if person not in org.people:
        raise NotPermitted(ref, f"'{person}' is nobody in the org chart")
    may = registrars(org, petition, accusation_unit)
    if person not in may:
        raise NotPermitted(ref, f"'{person}' may not register this petition: that is "
                           f"for {', '.join(sorted(may)) or 'nobody here'}")


def holders(org: OrgChart, case: Case, act: Act | FileAct) -> list[str]:
    """Who may take ``act`` on ``case`` now (for the forms' hints and refusals)."""
    barred = _barred(org, case)
    return sorted(p for p in org.people if p not in barred
                  and PERMITTED[act] & relations(org, case, p))


def _who(allowed: Iterable[Relation]) -> str:
    names = [r.value.replace("_", " ") for r in Relation if r in set(allowed)]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _holders(org: OrgChart, case: Case, act: Act | FileAct) -> str:
    found = holders(org, case, act)
    return ", ".join(found) if found else "nobody may, now"


class Sight(enum.Enum):
    """How much of a case a person may see (the web workplace shows no more)."""

    NONE = 0      # not that it exists: the accused set, the recused, the unrelated
    OUTLINE = 1   # its number, stage, unit, holders and deadlines; no accuser, no material
    MATERIAL = 2  # and its subject, content and petitioner, personal data masked
    FULL = 3      # and the petitioner's phone, ID number and address: the handlers

    def __ge__(self, other: Sight) -> bool:
        return self.value >= other.value

    def __lt__(self, other: Sight) -> bool:
        return self.value < other.value


_CHAIN = _CHAIN_RELATIONS


def supervisors(org: OrgChart) -> frozenset[str]:
    """Who supervises the office's work (督查): the petition office and the mine's top team."""
    return frozenset(org.office_staff | {org.mine_head, org.party_secretary})


def sight(org: OrgChart, case: Case, person: str) -> Sight:
    """What of ``case`` ``person`` may see. The handling chain sees all of it; the petition
    office and the mine's top team (who supervise) see an accusation's outline only, and
    another petition without the petitioner's personal data; anyone else nothing."""
    if person not in org.people or barred_person(org, case.petition, person, case.recused):
        return Sight.NONE
    if relations(org, case, person) & _CHAIN:
        return Sight.FULL
    if person in supervisors(org):
        return Sight.OUTLINE if case.petition.is_accusation else Sight.MATERIAL
    return Sight.NONE
