"""重点人员 as use cases: name a key person (from one of their cases, or by hand), record
contacts (约访、下访), change the stability state, settle them (息访) with the signed
undertaking, and record an over-the-head petition a higher level reports (越级上访) and the
bringing back (劝返). Each change writes the register's row and its events (the journal
``keyperson:<id>``) in one transaction; every entrance (CLI, workplace) calls these.

A holder chosen who is barred by a matter the adder may not read in full is recorded as
chosen and the office alerted (``services.keyperson_alerts``): see ``domain.keypersons``.

Who may: the petition office (staff and head) manages; the three holders record contacts
and bringing back; who sees a key person is ``domain.keypersons.may_see`` (the accused of
an accusation among their matters see nothing, not even that the person is on the
register: ``KeyPersonNotFound`` as for an id that does not exist).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import uuid
from collections.abc import Callable
from typing import Any, BinaryIO

import pendulum

from domain.attachments import Attachment, FileKind, display_name
from domain.case import Case
from domain.errors import CaseNotFound, KeyPersonNotFound, NotPermitted, RuleViolation
from domain.events import DomainEvent
from domain.events import EventType as E
from domain.instants import local_date
from domain.keypersons import (
    ContactKind,
    Holders,
    KeyPerson,
    Stability,
    check_holders,
    check_manager,
    check_settle,
    check_state,
    may_see,
    new_key_person,
)
from domain.offices import sight_in
from domain.permissions import Sight
from domain.persons import keys_of, same_person
from domain.petition import Petitioner
from services.attachments import judge, key_of
from services.bootstrap import App
from services.keyperson_alerts import alert_barred
from storage.ports import UnitOfWork

KIND = "keyperson"


def subject_of(kp_id: str) -> str:
    return f"{KIND}:{kp_id}"


def _event(type_: E, kp: KeyPerson, actor: str, now: dt.datetime, **data: Any) -> DomainEvent:
    return DomainEvent(type_, subject_of(kp.id), actor, pendulum.instance(now).in_timezone("UTC"),
                       KIND, data)


def all_matters(uow: UnitOfWork, kp: KeyPerson) -> list[Case]:
    """Every case of the key person's identity (``domain.persons``), whoever may see it:
    what the accused rule is judged on, never shown as such."""
    return uow.person_cases(keys_of(kp.petitioner), None)


def _org(app: App, person: str) -> Any:
    home = app.tree.home(person)
    if home is None:
        raise NotPermitted(KIND, f"'{person}' is nobody of this installation")
    return app.tree.org(home)


def add(app: App, actor: str, *, holders: Holders, reason: str,
        state: Stability = Stability.WATCH, from_case: str | None = None,
        petitioner: Petitioner | None = None) -> KeyPerson:
    """Name a key person: the petitioner of case ``from_case`` (which ``actor`` must see
    the material of), or ``petitioner`` as typed."""
    org = app.office.org
    check_manager(org, actor)
    now = app.clock.now()
    with app.uow() as uow:
        if from_case:
            case = uow.cases.get(from_case, lock=False)
            if sight_in(app.tree, case, actor) < Sight.MATERIAL:
                raise CaseNotFound(from_case)
            petitioner = case.petition.petitioner
        if petitioner is None:
            raise RuleViolation(KIND, "name the person: a case of theirs, or name and phone")
        matters = uow.person_cases(keys_of(petitioner), None)
        # holders are refused only for what the adder may read (domain.keypersons)
        seen = [c for c in matters if sight_in(app.tree, c, actor) >= Sight.MATERIAL]
        kp = new_key_person(org, id=uuid.uuid4().hex, office=app.office.id,
                            petitioner=petitioner, holders=holders, state=state,
                            reason=reason, actor=actor, now=now, matters=seen)
        known = [k for k in uow.keypersons.of_offices([app.office.id])
                 if same_person(k.petitioner, kp.petitioner)]
        if known:
            raise RuleViolation(KIND, f"{kp.petitioner.name} is a key person already")
        uow.keypersons.add(kp)
        h = kp.holders
        uow.practices.append(subject_of(kp.id), KIND, [_event(
            E.KEY_PERSON_ADDED, kp, actor, now, reason=kp.reason, state=kp.state.value,
            leader=h.leader, unit_head=h.unit_head, responder=h.responder,
            contact_name=h.contact_name, from_case=from_case or None)])
        alert_barred(app, uow, kp, matters, now, actor)
        uow.commit()
    return kp


def get(app: App, viewer: str, kp_id: str, uow: UnitOfWork) -> KeyPerson:
    """Key person ``kp_id`` if ``viewer`` may see them; else ``KeyPersonNotFound``."""
    kp = uow.keypersons.get(kp_id)
    if kp.office not in app.tree.offices_seen_by(viewer) or not may_see(
            app.tree.org(kp.office), kp, all_matters(uow, kp), viewer):
        raise KeyPersonNotFound(kp_id)
    return kp


def visible(app: App, viewer: str, uow: UnitOfWork) -> list[tuple[KeyPerson, list[Case]]]:
    """The key persons ``viewer`` may see, each with every one of their matters."""
    out = []
    for kp in uow.keypersons.of_offices(app.tree.offices_seen_by(viewer)):
        matters = all_matters(uow, kp)
        if may_see(app.tree.org(kp.office), kp, matters, viewer):
            out.append((kp, matters))
    return out


Changed = tuple[KeyPerson, list[DomainEvent]]  # the key person after, the events to append
Change = Callable[[UnitOfWork, KeyPerson, dt.datetime], Changed]


def _change(app: App, actor: str, kp_id: str, *, holders_may: bool,
            apply: Change) -> KeyPerson:
    """Read the key person ``actor`` may see, check ``actor`` may do this (the office; and
    the holders where ``holders_may``), apply ``apply(uow, kp, now) -> (kp, events)``."""
    now = app.clock.now()
    with app.uow() as uow:
        kp = get(app, actor, kp_id, uow)
        org = app.tree.org(kp.office)
        if not (holders_may and actor in kp.holders.people):
            check_manager(org, actor)
        kp2, events = apply(uow, kp, now)
        if kp2 is not kp:
            uow.keypersons.save(kp2)
        uow.practices.append(subject_of(kp.id), KIND, events)
        uow.commit()
    return kp2


def _day(value: str | dt.date | None, kp_id: str, what: str, today: dt.date) -> dt.date:
    if isinstance(value, dt.date):
        return value
    if not value:
        return today
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise RuleViolation(subject_of(kp_id), f"{what} '{value}' is not a date "
                            "(YYYY-MM-DD)") from None


def _need(value: str | None, kp_id: str, what: str, limit: int = 500) -> str:
    text = (value or "").strip()
    if not text:
        raise RuleViolation(subject_of(kp_id), f"{what} is required")
    if len(text) > limit:
        raise RuleViolation(subject_of(kp_id), f"{what} is longer than {limit} characters")
    return text


def contact(app: App, actor: str, kp_id: str, *, kind: ContactKind, place: str,
            agreed: str, on: str | dt.date | None = None, by: str | None = None) -> KeyPerson:
    """约访 or 下访: who (``by``, default the actor), when (a day, default today), where,
    and what was agreed."""
    who = by or actor

    def apply(uow: UnitOfWork, kp: KeyPerson, now: dt.datetime) -> Changed:
        day = _day(on, kp_id, "the contact's date", local_date(now))
        if day > local_date(now):
            raise RuleViolation(subject_of(kp_id), f"the contact's date {day} is after today")
        if who not in _org(app, who).people:
            raise RuleViolation(subject_of(kp_id), f"'{who}' is nobody in the org chart")
        return kp, [_event(E.KEY_PERSON_CONTACTED, kp, actor, now, kind=kind.value, by=who,
                           on=day.isoformat(), place=_need(place, kp_id, "the place", 200),
                           agreed=_need(agreed, kp_id, "what was agreed"))]
    return _change(app, actor, kp_id, holders_may=True, apply=apply)


def change_state(app: App, actor: str, kp_id: str, state: Stability,
                 reason: str) -> KeyPerson:
    """The stability state (稳定/关注/不稳定), with why."""
    def apply(uow: UnitOfWork, kp: KeyPerson, now: dt.datetime) -> Changed:
        check_state(kp, state)
        return dataclasses.replace(kp, state=state), [_event(
            E.KEY_PERSON_STATE_CHANGED, kp, actor, now, state=state.value,
            **{"from": kp.state.value}, reason=_need(reason, kp_id, "the reason"))]
    return _change(app, actor, kp_id, holders_may=False, apply=apply)


def reassign(app: App, actor: str, kp_id: str, holders: Holders, reason: str) -> KeyPerson:
    """四包一 changed by the office, with why. As at naming: a holder barred by a matter
    ``actor`` may read in full is refused; one barred by a matter ``actor`` may not is
    recorded as chosen and alerted (``domain.keypersons``)."""
    def apply(uow: UnitOfWork, kp: KeyPerson, now: dt.datetime) -> Changed:
        matters = all_matters(uow, kp)
        seen = [c for c in matters if sight_in(app.tree, c, actor) >= Sight.MATERIAL]
        held = check_holders(app.tree.org(kp.office), holders, seen, subject_of(kp_id))
        if held == kp.holders:
            raise RuleViolation(subject_of(kp_id), "the holders are these already")
        kp2 = dataclasses.replace(kp, holders=held)
        alert_barred(app, uow, kp2, matters, now, actor)
        return kp2, [_event(E.KEY_PERSON_HOLDERS_CHANGED, kp, actor, now, leader=held.leader,
                            unit_head=held.unit_head, responder=held.responder,
                            contact_name=held.contact_name,
                            reason=_need(reason, kp_id, "the reason"))]
    return _change(app, actor, kp_id, holders_may=False, apply=apply)


def over_the_head(app: App, actor: str, kp_id: str, *, reported_by: str, place: str,
                  on: str | dt.date | None, note: str = "") -> KeyPerson:
    """越级上访 a higher level reports (``reported_by``: 省信访局...): where and when."""
    def apply(uow: UnitOfWork, kp: KeyPerson, now: dt.datetime) -> Changed:
        day = _day(on, kp_id, "the date", local_date(now))
        if day > local_date(now):
            raise RuleViolation(subject_of(kp_id), f"the date {day} is after today")
        return kp, [_event(E.OVER_THE_HEAD, kp, actor, now, on=day.isoformat(),
                           reported_by=_need(reported_by, kp_id, "who reported it", 100),
                           place=_need(place, kp_id, "the place", 200), note=note.strip())]
    return _change(app, actor, kp_id, holders_may=False, apply=apply)


def brought_back(app: App, actor: str, kp_id: str, *, by: str | None = None,
                 on: str | dt.date | None = None, note: str = "") -> KeyPerson:
    """劝返: who brought the person back from an over-the-head petition, and when."""
    who = by or actor

    def apply(uow: UnitOfWork, kp: KeyPerson, now: dt.datetime) -> Changed:
        if not uow.practices.has_event(subject_of(kp_id), E.OVER_THE_HEAD.value):
            raise RuleViolation(subject_of(kp_id), "no over-the-head petition (越级上访) is "
                                "recorded to bring them back from")
        if who not in _org(app, who).people:
            raise RuleViolation(subject_of(kp_id), f"'{who}' is nobody in the org chart")
        day = _day(on, kp_id, "the date", local_date(now))
        return kp, [_event(E.BROUGHT_BACK, kp, actor, now, by=who, on=day.isoformat(),
                           note=note.strip())]
    return _change(app, actor, kp_id, holders_may=True, apply=apply)


def settle(app: App, actor: str, kp_id: str, *, undertaking: BinaryIO, name: str,
           on: str | dt.date | None = None, note: str = "") -> KeyPerson:
    """息访: the day, and the signed undertaking (息访承诺书) kept as a file of the key
    person (``case_files`` under the subject ``keyperson:<id>``, its bytes in the file
    store like any attachment; its SHA-256 on the journal)."""
    policy = app.office.files
    data, found = judge(policy, undertaking, subject_of(kp_id))
    sha = hashlib.sha256(data).hexdigest()
    with app.uow() as uow:  # refused before any byte is stored
        kp = get(app, actor, kp_id, uow)
        check_manager(app.tree.org(kp.office), actor)
        check_settle(kp, _day(on, kp_id, "the settling date", local_date(app.clock.now())),
                     local_date(app.clock.now()))
    app.files.put(key_of(sha), data)

    def apply(uow: UnitOfWork, kp: KeyPerson, now: dt.datetime) -> Changed:
        day = _day(on, kp_id, "the settling date", local_date(now))
        check_settle(kp, day, local_date(now))
        held = uow.attachments.of_case(subject_of(kp.id))
        file = Attachment(uuid.uuid4().hex, subject_of(kp.id), sha, len(data),
                          found.media_type, display_name(name), FileKind.UNDERTAKING, actor,
                          now, n=len(held) + 1)
        uow.attachments.add(file)
        return dataclasses.replace(kp, state=Stability.SETTLED, settled_on=day,
                                   undertaking=file.id), [
            _event(E.FILE_ATTACHED, kp, actor, now, file=file.id, sha256=sha,
                   size=file.size, media_type=file.media_type, kind=file.kind.value),
            _event(E.KEY_PERSON_SETTLED, kp, actor, now, on=day.isoformat(),
                   **{"from": kp.state.value}, file=file.id, file_name=file.name,
                   note=note.strip())]
    return _change(app, actor, kp_id, holders_may=False, apply=apply)


def undertaking(app: App, viewer: str, kp_id: str) -> tuple[KeyPerson, Attachment, bytes]:
    """The signed undertaking of a settled key person ``viewer`` may see: the person, the
    file and its bytes."""
    with app.uow() as uow:
        kp = get(app, viewer, kp_id, uow)
        files = [a for a in uow.attachments.of_case(subject_of(kp.id))
                 if a.id == kp.undertaking]
    if not files:
        raise RuleViolation(subject_of(kp_id), "no signed undertaking is kept: not settled")
    return kp, files[0], app.files.get(key_of(files[0].sha256))

