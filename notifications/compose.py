"""What a message says, before any template: the facts for one recipient.

Pure: a queued message, its case and the org chart in; the template context out. This is
where confidentiality is enforced, so no template can leak what it is never given:
- an accusation's accuser and material (subject, content) reach the handling chain only;
- a petitioner's phone and ID number are masked in every internal message; the address is
  never sent;
- the petitioner is told about their own case, with no internal names beyond the unit.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pendulum

from domain.case import Case
from domain.deadlines import Standing, due_text
from domain.instants import format_duration, format_local
from domain.labels import duration
from domain.org import OrgChart
from domain.outcomes import Outcome, Rating, Resolution
from domain.policy import DeadlineKind
from domain.reception import ReceptionDay
from domain.signals import Signal, Week
from notifications.plan import PETITIONER
from notifications.privacy import first_allowed, handling_chain, mask_id, mask_phone

WEEKDAYS = {"zh": ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"),
            "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
                   "Sunday")}
EN_DEADLINES = {
    "acceptance_notice": "acceptance notice", "first_response": "first response",
    "routing_objection": "routing objection window", "leader_acceptance": "leader acceptance",
    "handling": "handling (time-limited closure)", "rating": "rating window",
    "review_request": "review request window", "review_decision": "review decision",
    "re_review_request": "re-review request window", "re_review_decision": "re-review decision",
    "listed": "date required by the listing body", "listing_report": "report to the listing body",
}


@dataclass(frozen=True)
class Address:
    """Where a message goes. ``letter``: the petitioner has no e-mail address, so the notice
    goes to the office to print and post."""

    email: str | None
    name: str
    letter: bool = False


def local_text(at: dt.datetime | str | None) -> str:
    if at is None or at == "":
        return ""
    instant = pendulum.parse(at) if isinstance(at, str) else pendulum.instance(at)
    assert isinstance(instant, pendulum.DateTime)
    return format_local(instant)


class Barred(Exception):
    """The message would reach someone in its accusation's accused set: it is not sent."""


def letters_desk(case: Case, org: OrgChart, letters_to: str | None,
                 confidential_letters_to: str | None,
                 accusation_unit: str | None) -> str | None:
    """Who prints and posts the petitioner's notices: ``letters_to``; for an accusation the
    confidential desk (``confidential_letters_to``, else the head of the unit that takes
    accusations), never anyone in the accused set. None when nobody may."""
    if not case.petition.is_accusation:
        return first_allowed(case, org, [letters_to])
    unit = org.units.get(accusation_unit or "")
    head = unit.head if unit is not None else None
    return first_allowed(case, org, [confidential_letters_to, head])


def address_of(recipient: str, case: Case | None, org: OrgChart, desk: str | None = None
               ) -> Address:
    """The recipient's address: a person's from the org chart; the petitioner's own, or the
    letters ``desk``'s (a person id, ``letters_desk``) when they gave none. Raises
    ``Barred`` for a person in the case's accused set: the last guard before sending."""
    if recipient == PETITIONER and case is not None:
        p = case.petition.petitioner
        if p.email:
            return Address(p.email, p.name)
        person = org.people.get(desk) if desk else None
        return Address(person.email if person else None, p.name, letter=True)
    if case is not None and first_allowed(case, org, [recipient]) is None \
            and recipient in org.people:
        raise Barred(f"'{recipient}' is in the accused set of {case.ref}; not sent")
    person = org.people.get(recipient)
    return Address(person.email if person else None, person.name if person else recipient)


def person_name(org: OrgChart, pid: object) -> str:
    """A person's name from the org chart (the id itself if unknown; "" for none)."""
    if not pid:
        return ""
    person = org.people.get(str(pid))
    return person.name if person else str(pid)


def unit_name(org: OrgChart, unit: str) -> str:
    u = org.units.get(unit)
    return u.name if u else unit


def _deadline_name(kind: str | None, language: str) -> str:
    if not kind:
        return ""
    if language == "en":
        return EN_DEADLINES.get(kind, kind)
    try:
        return DeadlineKind(kind).label
    except ValueError:
        return kind


def case_facts(case: Case, org: OrgChart, recipient: str, language: str) -> dict[str, Any]:
    """The case as this recipient may see it."""
    p = case.petition
    to_petitioner = recipient == PETITIONER
    restricted = p.is_accusation and not to_petitioner and \
        recipient not in handling_chain(case, org)
    unit = org.units.get(case.unit) if case.unit else None
    facts: dict[str, Any] = {
        "ref": case.ref, "restricted": restricted,
        "category": p.category.label if language == "zh" else p.category.value,
        "channel": p.channel.label if language == "zh" else p.channel.value,
        "received": local_text(p.received_at),
        "unit": unit.name if unit else (case.unit or ""),
        "stage": case.stage.label if language == "zh" else case.stage.value,
        "responder": "" if to_petitioner else person_name(org, case.responder),
        "leader": "" if to_petitioner else person_name(org, case.leader),
        "headcount": p.headcount, "representatives": p.representatives,
    }
    if restricted:  # the accuser and the material stay with the handling chain
        facts.update(subject="", content="", petitioner=None)
    elif to_petitioner:
        facts.update(subject=p.subject, content="", petitioner={
            "name": p.petitioner.name, "phone": "", "id_number": ""})
    else:
        facts.update(subject=p.subject, content=p.content, petitioner={
            "name": p.petitioner.name, "phone": mask_phone(p.petitioner.phone),
            "id_number": mask_id(p.petitioner.id_number)})
    return facts


def context(kind: str, recipient: str, payload: Mapping[str, Any], case: Case | None,
            org: OrgChart, *, office: str, language: str, to_name: str,
            deadlines: Mapping[str, str] | None = None,
            notes: Mapping[str, str] | None = None, web: str = "") -> dict[str, Any]:
    """Everything a template may use for one message. ``deadlines``: each deadline kind's
    due date as people read it; ``notes``: the warning of those counted across a year whose
    holiday schedule is only estimated; ``web``: the workplace's address
    (``PETITIONS_WEB_BASE_URL``), for a staff message's link to its case page (``link``)."""
    d = dict(payload)
    deadlines = dict(deadlines or {})
    notes = dict(notes or {})
    clock_kind = str(d.get("kind") or d.get("clock") or "").split("@")[0]
    staff = recipient != PETITIONER and bool(web)  # a petitioner never gets a staff page
    ctx: dict[str, Any] = {
        "web": web.rstrip("/") if staff else "",
        "link": case_link(web, case.ref) if staff and case is not None else "",
        "office": office, "kind": kind, "to": {"name": to_name,
                                               "petitioner": recipient == PETITIONER},
        "at": local_text(d.get("at")), "actor": person_name(org, d.get("actor")),
        "case": case_facts(case, org, recipient, language) if case is not None else None,
        "deadline": {"name": _deadline_name(clock_kind or None, language),
                     "rung": d.get("rung") or "", "due": deadlines.get(clock_kind, ""),
                     "overdue": _overdue(str(d.get("overdue") or ""), language),
                     "warning": notes.get(clock_kind, "")},
        "extension": {"by": d.get("by") or "", "new_due": d.get("new_due") or "",
                      "reason": d.get("reason") or "",
                      "approver": person_name(org, d.get("approver")),
                      "requested_by": person_name(org, d.get("requested_by")),
                      "due": d.get("due") or "", "warning": notes.get("handling", "")},
        "listing": {k: str(d.get(k) or "") for k in
                    ("body", "reference", "required", "every", "report_due")},
        "revised": {"old": d.get("old_due") or "", "new": d.get("new_due") or ""},
        "decision": {"outcome": _label(Outcome, d.get("outcome"), language),
                     "resolution": _label(Resolution, d.get("resolution"), language),
                     "summary": d.get("summary") or ""},
        "rating": _label(Rating, d.get("rating"), language),
        "windows": {k: deadlines.get(k, "") for k in
                    ("rating", "review_request", "re_review_request")},
        "reason": d.get("reason") or "",
        "rows": d.get("rows") or [],
        # a practice's message (reception, zero report, signal digest): names resolved
        "practice": dict(d.get("practice") or {}),
        "failed": {"kind": "", "recipient": "", "ref": "", "error": "",
                   **(d.get("failed") or {})},
        # an alarm to the office (services.alerts): what the engine could not do alone
        "alert": {"code": "", "ref": "", "reason": "", "clock": "", "rung": "",
                  "retry_at": "", "stage": "", **(d.get("alert") or {})},
    }
    return ctx


def case_link(web: str, ref: str) -> str:
    """The address of case ``ref``'s page in the workplace at ``web``."""
    return f"{web.rstrip('/')}/cases/{urllib.parse.quote(ref, safe='')}"


def _label(kind: type[Outcome] | type[Rating] | type[Resolution], value: object,
           language: str) -> str:
    if not value:
        return ""
    try:
        member = kind(value)
    except ValueError:
        return str(value)
    return member.label if language == "zh" else member.value.replace("_", " ")


# --- the facts of the leaders' and the practices' messages ----------------------------------

def digest_row(case: Case, standing: Standing, language: str) -> dict[str, str]:
    """One open case in an owning leader's daily digest: its next (or worst overdue)
    deadline. Digests go to owning leaders, in the handling chain; an accusation stays
    unnamed in them anyway."""
    zh = language == "zh"
    nxt = standing.next
    subject = ("检举控告件" if zh else "an accusation") if case.petition.is_accusation \
        else case.petition.subject
    return {"ref": case.ref, "subject": subject,
            "stage": case.stage.label if zh else case.stage.value,
            "deadline": nxt.kind.label if nxt else "", "due": due_text(nxt) if nxt else "",
            "overdue": _overdue(format_duration(standing.overdue_by), language)
            if standing.overdue else ""}


def _overdue(text: str, language: str) -> str:
    """``3d 9h`` as a Chinese reader reads it (3天9小时); English keeps the short form."""
    return duration(text) if language == "zh" else text


def reception_facts(d: ReceptionDay, org: OrgChart, language: str) -> dict[str, Any]:
    """What a reception notice or reminder says: the day, the leader on duty, the place,
    and why the day moved."""
    assert d.day is not None
    return {"rule": d.rule, "day": d.day.isoformat(), "nominal": d.nominal.isoformat(),
            "weekday": WEEKDAYS.get(language, WEEKDAYS["en"])[d.day.weekday()],
            "leader": person_name(org, d.leader),
            "leader_id": d.leader, "place": d.place, "moved": d.moved}


def zero_report_facts(unit: str, day: dt.date, due: dt.datetime, org: OrgChart
                      ) -> dict[str, Any]:
    """What a missing-zero-report alert says."""
    head = org.unit(unit).head
    return {"unit": unit_name(org, unit), "unit_id": unit, "day": day.isoformat(),
            "due": format_local(due), "head": person_name(org, head)}


def signal_digest(week: Week, found: Iterable[Signal], refs: Mapping[str, str],
                  org: OrgChart, language: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The weekly 《信访信息参考》: its issue and dates, and a row per signal (with the case
    it was promoted to)."""
    zh = language == "zh"
    rows = [{"id": s.id, "unit": unit_name(org, s.unit), "officer": person_name(org, s.officer),
             "risk": s.risk.label if zh else s.risk.value, "summary": s.summary,
             "at": format_local(s.at), "case": refs.get(s.case_id or "", "")}
            for s in found]
    facts = {"issue": week.issue, "first": week.monday.isoformat(),
             "last": week.sunday.isoformat()}
    return facts, rows
