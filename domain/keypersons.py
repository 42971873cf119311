"""重点人员: the petitioners an office names for close attention, each held by four people
under 四包一 (a leader, a unit head, a responder, and a family or community contact who is
a name and a phone, not a user), with a stability state, the contacts made (约访、下访),
the over-the-head petitions reported of them (越级上访) and their bringing back (劝返),
and the settling (息访) with its signed undertaking.

Who sees a key person (``key_person_sight``):
- the petition office (staff and head) and the supervisors see every key person;
- the three holders who are people of the org chart see the one they hold;
- nobody in the accused set of an accusation among the person's matters sees the key
  person at all — not in the list, not by id, not a count — even if named a holder: the
  register would tell them who accused them (第三十条第三款). Such a person may not be
  named a holder either (``check_holders``).

Naming holders must not tell who names them whom the person accused. A chosen holder
barred by a matter whose material the adder may see in full is refused, with the
reason: the adder reads that accusation anyway. A holder barred by a matter the adder may
NOT see in full is recorded as chosen, exactly as an unbarred one (the same answer, the
same record, the same page): refusing, or leaving that one holder blank, would name the
accused to who may read the accusation's outline only. The barred holder still sees
nothing of the key person (``may_see``), and the office is alerted at once
(``services.keyperson_alerts``) to have the holders reassigned by someone who may see
all the person's matters. (Refusing every holder choice for a person with any matter the
adder may not see in full was the other way; it would leave such a person unnameable, as
the office head reads an accusation's outline only as well.)

A holder who becomes barred later (the key person accuses them after being named) drops
silently out of their own view; the office is alerted the same way when a holder is
found barred: on naming, and whenever the petition office next loads the register
(``barred_holders``), once per holder and barring matters.
The matters of a key person are listed case by case as ``domain.permissions.sight``
allows each viewer; an accusation's matters show only to who may see it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from domain import labels
from domain.accused import accused_set
from domain.case import Case
from domain.errors import NotPermitted, RuleViolation
from domain.org import OrgChart
from domain.permissions import supervisors
from domain.persons import normal_phone
from domain.petition import Petitioner

_E = TypeVar("_E", bound=enum.Enum)


class Stability(enum.Enum):
    """How a key person stands (稳控状态), from settled to the most watched."""

    STABLE = "stable"        # 稳定
    WATCH = "watch"          # 关注
    UNSTABLE = "unstable"    # 不稳定
    SETTLED = "settled"      # 息访: set by ``settle`` only

    @property
    def label(self) -> str:
        return labels.KEY_PERSON_STATES[self.value]


class ContactKind(enum.Enum):
    INVITED = "invited"      # 约访: the person comes to a leader
    VISITED = "visited"      # 下访: a leader goes to the person

    @property
    def label(self) -> str:
        return labels.KEY_PERSON_CONTACTS[self.value]


@dataclass(frozen=True)
class Holders:
    """四包一: the three people of the org chart who hold the key person, and the family or
    community contact (a name and a phone, not a user)."""

    leader: str
    unit_head: str
    responder: str
    contact_name: str
    contact_phone: str

    @property
    def people(self) -> tuple[str, str, str]:
        return (self.leader, self.unit_head, self.responder)


@dataclass(frozen=True)
class KeyPerson:
    """One key person of the register. ``petitioner`` is the identity their matters are
    found by (``domain.persons``: ID number, else name and phone)."""

    id: str
    office: str
    petitioner: Petitioner
    holders: Holders
    state: Stability
    reason: str
    added_by: str
    added_at: dt.datetime
    settled_on: dt.date | None = None
    undertaking: str | None = None  # the file id of the signed undertaking (息访承诺书)
    version: int = 0


def _text(value: str | None, what: str, subject: str, limit: int = 200) -> str:
    text = (value or "").strip()
    if not text:
        raise RuleViolation(subject, f"{what} is required")
    if len(text) > limit:
        raise RuleViolation(subject, f"{what} is longer than {limit} characters")
    return text


def check_manager(org: OrgChart, person: str) -> None:
    """Only the petition office (its staff and head) names key persons and changes them."""
    if person not in org.office_staff and person != org.office_head:
        raise NotPermitted("重点人员", f"'{person}' may not manage key persons: it is the "
                           "petition office's")


def check_holders(org: OrgChart, holders: Holders, matters: Iterable[Case],
                  subject: str) -> Holders:
    """``holders`` cleaned, if each of the three is a person of the org chart and none is
    in the accused set of an accusation among ``matters`` (the person's matters whose
    material the adder may see in full: see the module); the contact's phone has 7 to 15
    digits."""
    for role, who in (("the leader", holders.leader), ("the unit head", holders.unit_head),
                      ("the responder", holders.responder)):
        if who not in org.people:
            raise RuleViolation(subject, f"{role} '{who}' is nobody in the org chart")
    barred = set().union(*(accused_set(org, c.petition).persons for c in matters))
    named = sorted(set(holders.people) & barred)
    if named:
        # Said no more precisely than the adder may read.
        raise RuleViolation(subject, f"'{named[0]}' may not hold this key person: name "
                            "someone else")
    name = _text(holders.contact_name, "the family or community contact's name", subject, 64)
    digits = normal_phone(holders.contact_phone)
    if not 7 <= len(digits) <= 15:
        raise RuleViolation(subject, f"the contact's phone '{holders.contact_phone}' is not "
                            "a phone number")
    return dataclasses.replace(holders, contact_name=name, contact_phone=digits)


def new_key_person(org: OrgChart, *, id: str, office: str, petitioner: Petitioner,
                   holders: Holders, state: Stability, reason: str, actor: str,
                   now: dt.datetime, matters: Iterable[Case]) -> KeyPerson:
    """A key person named by ``actor`` (the petition office) at ``now``."""
    check_manager(org, actor)
    subject = f"keyperson:{id}"
    name = _text(petitioner.name, "the person's name", subject, 64)
    if not (petitioner.id_number or petitioner.phone):
        raise RuleViolation(subject, "an ID number or a phone is required to find the "
                            "person's matters")
    if state is Stability.SETTLED:
        raise RuleViolation(subject, "a key person is settled (息访) by recording it, with "
                            "the signed undertaking")
    held = check_holders(org, holders, matters, subject)
    return KeyPerson(id, office, dataclasses.replace(petitioner, name=name), held, state,
                     _text(reason, "the reason for naming them", subject, 500), actor, now)


def barred_holders(org: OrgChart, holders: Holders, matters: Iterable[Case]
                   ) -> dict[str, list[Case]]:
    """Each of the three holders in the accused set of an accusation among ``matters``,
    with the matters that bar them."""
    out: dict[str, list[Case]] = {}
    for c in matters:
        for who in accused_set(org, c.petition).persons & set(holders.people):
            out.setdefault(who, []).append(c)
    return out


def barred_from(org: OrgChart, matters: Iterable[Case], person: str) -> bool:
    """Whether ``person`` is in the accused set of an accusation among ``matters``."""
    return any(person in accused_set(org, c.petition) for c in matters)


def may_see(org: OrgChart, kp: KeyPerson, matters: Iterable[Case], person: str) -> bool:
    """Whether ``person`` sees the key person at all (see the module's rule)."""
    if person not in org.people or barred_from(org, matters, person):
        return False
    return (person in supervisors(org) or person == org.office_head
            or person in kp.holders.people)


def check_settle(kp: KeyPerson, on: dt.date, today: dt.date) -> None:
    """A settling (息访) is recorded once, on a day not after today."""
    subject = f"keyperson:{kp.id}"
    if kp.state is Stability.SETTLED:
        raise RuleViolation(subject, f"settled already, on {kp.settled_on}")
    if on > today:
        raise RuleViolation(subject, f"the settling date {on} is after today ({today})")


def check_state(kp: KeyPerson, state: Stability) -> None:
    subject = f"keyperson:{kp.id}"
    if state is Stability.SETTLED:
        raise RuleViolation(subject, "settling (息访) is recorded with its undertaking: "
                            "keyperson settle")
    if state is kp.state:
        raise RuleViolation(subject, f"the state is {state.label} already")


def parse_choice(kind: type[_E], value: str | None, subject: str, what: str) -> _E:
    """The member of ``kind`` named ``value`` (its id or its Chinese label)."""
    text = (value or "").strip()
    for m in kind:
        if text in (m.value, getattr(m, "label", None)):
            return m
    allowed = ", ".join(f"{m.value}" for m in kind)
    raise RuleViolation(subject, f"{what} '{text}' is not one of: {allowed}")
