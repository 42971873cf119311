"""What the register of key persons (重点人员) shows a viewer: the list (``key_person_states``,
also what the quarterly review reads) and one person's page — 四包一, the matters the viewer
may see (an accusation's only to who may see it), the journal in Chinese sentences, the
signed undertaking. Every count is over what the viewer may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain import labels as L
from domain.events import EventType as E
from domain.instants import format_local
from domain.keypersons import KeyPerson
from domain.narrative import actor as actor_name
from domain.narrative import describe
from domain.persons import mask_id, mask_phone
from domain.stages import Stage
from services.bootstrap import App
from services.history import visible_cases
from services.keyperson_alerts import alert_barred
from services.keypersons import get, subject_of, visible
from services.naming import OfficeNames
from services.search import Hit, hit_record
from storage.chain import AuditRow


@dataclass(frozen=True)
class KeyPersonRow:
    """One key person as a list shows them: names and labels, no internal id but ``id``
    (the page's address)."""

    id: str
    office: str
    name: str
    state: str
    state_label: str
    leader: str
    unit_head: str
    responder: str
    contact_name: str
    matters: int        # the matters the viewer may see
    open_matters: int   # of them, those not closed
    contacts: int       # 约访、下访 recorded
    last_contact: str   # its day, YYYY-MM-DD ("" when none)
    over_the_head: int  # 越级上访 reported
    brought_back: int   # 劝返 recorded
    settled_on: str     # 息访 day ("" when not settled)
    added: str          # when named (local time)


@dataclass(frozen=True)
class JournalLine:
    at: str
    by: str
    what: str
    text: str


@dataclass(frozen=True)
class KeyPersonPage:
    row: KeyPersonRow
    phone: str
    id_number: str
    contact_phone: str
    reason: str
    matters: list[dict[str, Any]]
    journal: list[JournalLine]
    undertaking: str  # the file's name ("" when none)
    manages: bool     # the viewer is the petition office (may change the record)
    holds: bool       # the viewer is one of the three holders


def _row(app: App, kp: KeyPerson, hits: list[Hit], journal: list[AuditRow]) -> KeyPersonRow:
    def name(pid: str) -> str:
        p = app.person(pid)
        return p.name if p else pid

    def count(t: E) -> int:
        return sum(1 for r in journal if r.type == t.value)

    contacts = [str(r.data.get("on", "")) for r in journal
                if r.type == E.KEY_PERSON_CONTACTED.value]
    h = kp.holders
    return KeyPersonRow(
        kp.id, kp.office, kp.petitioner.name, kp.state.value, kp.state.label,
        name(h.leader), name(h.unit_head), name(h.responder), h.contact_name, len(hits),
        sum(1 for x in hits if x.case.stage is not Stage.CLOSED), len(contacts),
        max(contacts, default=""), count(E.OVER_THE_HEAD), count(E.BROUGHT_BACK),
        kp.settled_on.isoformat() if kp.settled_on else "", format_local(kp.added_at))


def key_person_states(app: App, viewer: str) -> list[KeyPersonRow]:
    """The key persons ``viewer`` may see, the most watched first (不稳定, 关注, 稳定, 息访),
    each with the counts over what ``viewer`` may see. Loaded by the petition office, it
    alerts of holders barred since they were named (``services.keyperson_alerts``)."""
    order = {"unstable": 0, "watch": 1, "stable": 2, "settled": 3}
    org = app.office.org
    with app.uow() as uow:
        found = visible(app, viewer, uow)
        journals = {kp.id: uow.practices.events(subject_of(kp.id)) for kp, _ in found}
        if viewer in org.office_staff or viewer == org.office_head:
            # a holder the person accused since: the office is told to reassign (once)
            for kp, matters in found:
                alert_barred(app, uow, kp, matters, app.clock.now(), viewer)
            uow.commit()
    rows = [_row(app, kp, visible_cases(app, viewer, kp.petitioner), journals[kp.id])
            for kp, _ in found]
    return sorted(rows, key=lambda r: (order.get(r.state, 9), r.added))


def page(app: App, viewer: str, kp_id: str) -> KeyPersonPage:
    """Key person ``kp_id`` as ``viewer`` may see them (``KeyPersonNotFound`` otherwise)."""
    with app.uow() as uow:
        kp = get(app, viewer, kp_id, uow)
        journal = uow.practices.events(subject_of(kp.id))
        files = {a.id: a.name for a in uow.attachments.of_case(subject_of(kp.id))}
    hits = visible_cases(app, viewer, kp.petitioner)
    org = app.tree.org(kp.office)
    manages = viewer in org.office_staff or viewer == org.office_head
    holds = viewer in kp.holders.people
    full = manages or holds
    names = OfficeNames(app, viewer)
    p = kp.petitioner
    lines = [JournalLine(format_local(r.at), actor_name(names, r.actor),
                         L.label(L.EVENTS, r.type, ""), describe(r.type, r.data, names))
             for r in journal]
    return KeyPersonPage(
        _row(app, kp, hits, journal), (p.phone or "") if full else mask_phone(p.phone),
        (p.id_number or "") if full else mask_id(p.id_number),
        kp.holders.contact_phone if full else mask_phone(kp.holders.contact_phone),
        kp.reason, [hit_record(app, h) for h in hits], lines,
        files.get(kp.undertaking or "", ""), manages, holds)

