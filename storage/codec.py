"""Case ↔ row: the aggregate's value objects to and from JSON-ready data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from domain.accused import Exposure
from domain.case import Case
from domain.deadlines import Clock, Closing, EntryKind, LedgerEntry, PauseReason
from domain.measures import Facts
from domain.outcomes import CompletionReport, Outcome, Rating, Resolution
from domain.periods import Period, Unit
from domain.petition import Category, Channel, Petition, Petitioner
from domain.policy import DeadlineKind
from domain.stages import Stage


def _t(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _dt(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value is not None else None


def _petition(p: Petition) -> dict[str, Any]:
    return {"petitioner": {"name": p.petitioner.name, "id_number": p.petitioner.id_number,
                           "phone": p.petitioner.phone, "address": p.petitioner.address,
                           "email": p.petitioner.email},
            "channel": p.channel.value, "category": p.category.value, "subject": p.subject,
            "content": p.content, "received_at": _t(p.received_at),
            "concerns_unit": p.concerns_unit, "accused_persons": list(p.accused_persons),
            "headcount": p.headcount, "representatives": p.representatives,
            "key_person": p.key_person, "repeat_of": p.repeat_of}


def _petition_back(d: dict[str, Any]) -> Petition:
    received = _dt(d["received_at"])
    assert received is not None
    return Petition(Petitioner(**d["petitioner"]), Channel(d["channel"]),
                    Category(d["category"]), d["subject"], d["content"], received,
                    d["concerns_unit"], tuple(d["accused_persons"]), d["headcount"],
                    d["representatives"], d["key_person"], d["repeat_of"])


def _entry(e: LedgerEntry) -> dict[str, Any]:
    return {"kind": e.kind.value, "clock": e.clock, "at": _t(e.at), "actor": e.actor,
            "reason": e.reason, "basis": e.basis,
            "pause_reason": e.pause_reason.value if e.pause_reason else None,
            "extension": [e.extension.amount, e.extension.unit.value] if e.extension else None,
            "approver": e.approver}


def _entry_back(d: dict[str, Any]) -> LedgerEntry:
    at = _dt(d["at"])
    assert at is not None
    ext = Period(d["extension"][0], Unit(d["extension"][1])) if d["extension"] else None
    return LedgerEntry(EntryKind(d["kind"]), d["clock"], at, d["actor"], d["reason"],
                       d["basis"], PauseReason(d["pause_reason"]) if d["pause_reason"] else None,
                       ext, d["approver"])


def to_row(case: Case) -> dict[str, Any]:
    """The ``cases`` row of an aggregate (without ``version``, which the repository sets)."""
    body = {
        "petition": _petition(case.petition),
        "leader_reasons": list(case.leader_reasons), "repeat_of": case.repeat_of,
        "outcome": case.outcome.value if case.outcome else None,
        "rating": case.rating.value if case.rating else None,
        "recused": case.recused,
        "clocks": [{"key": c.key, "kind": c.kind.value, "started_at": _t(c.started_at),
                    "closed_at": _t(c.closed_at),
                    "closing": c.closing.value if c.closing else None,
                    **({"due": _t(c.due), "basis": c.basis} if c.due else {})}
                   for c in case.clocks.values()],
        "ledger": [_entry(e) for e in case.ledger],
        "fired": sorted([list(f) for f in case.fired]),
        "resolution": case.resolution.value if case.resolution else None,
        "reports": [{"clock": r.clock, "actor": r.actor, "at": _t(r.at), "summary": r.summary}
                    for r in case.reports],
        "signal": case.signal,
        "deciders": case.deciders,
        "escalated_to": sorted(case.escalated_to),
        "rung_failures": {k: [n, _t(at)] for k, (n, at) in case.rung_failures.items()},
        "known_due": case.known_due,
        "triage": case.triage,
        "links": case.links,
        "pending": case.pending,
        "listing": case.listing,
    }
    row: dict[str, Any] = {
        "id": case.id, "registration_no": case.registration_no, "stage": case.stage.value,
        "policy_id": case.policy_id, "unit": case.unit, "responder": case.responder,
        "leader": case.leader, "category": case.petition.category.value,
        "petitioner_identity": case.petition.petitioner.identity(),
        "registered_at": case.registered_at, "office": case.office, "body": body,
        "accused_marks": accused_marks(case.petition.accused_persons if
                                       case.petition.is_accusation else None,
                                       case.petition.concerns_unit, case.recused)}
    f = case.measured
    if isinstance(f, Facts):  # given by the use case at commit (else kept as stored)
        row.update(received_on=f.received_on.isoformat(), repeat_of=f.repeat_of,
                   m_closed=f.closed, m_on_time=f.on_time, m_accepted=f.accepted_in_time,
                   m_reviewed=f.review_requested,
                   m_class=f.resolution.value if f.resolution else None,
                   m_rating=f.rating.value if f.rating else None)
    return row


def accused_marks(accused: Sequence[str] | None, unit: str | None,
                  recused: Iterable[str]) -> str:
    """An accusation's ``cases.accused_marks`` (``""`` for another petition; NULL: a row
    stored before migration 0013): ``|p:<accused as given>|…|u:<accused unit>|r:<recused>|``,
    so that the accusations that may bar one person (``domain.accused.exposure``) are found
    in the database without reading the others."""
    if accused is None:
        return ""
    marks = sorted({f"p:{a}" for a in accused} | ({f"u:{unit}"} if unit else set())
                   | {f"r:{r}" for r in recused})
    return "|" + "|".join(marks) + "|"


def marks_of(exposed: Exposure) -> list[str]:
    """The marks any of which an accusation barring ``exposed.person`` holds (see
    ``accused_marks``): their exposure's names and units, and their recusal."""
    return [*(f"|p:{n}|" for n in sorted(exposed.names)),
            *(f"|u:{u}|" for u in sorted(exposed.units)), f"|r:{exposed.person}|"]


def from_row(row: Any) -> Case:
    """The aggregate from its ``cases`` row."""
    b = row.body
    clocks = []
    for c in b["clocks"]:
        started = _dt(c["started_at"])
        assert started is not None
        clocks.append(Clock(c["key"], DeadlineKind(c["kind"]), started, _dt(c["closed_at"]),
                            Closing(c["closing"]) if c["closing"] else None,
                            _dt(c.get("due")), c.get("basis", "")))
    return Case(id=row.id, registration_no=row.registration_no,
                petition=_petition_back(b["petition"]), policy_id=row.policy_id,
                stage=Stage(row.stage), registered_at=row.registered_at, unit=row.unit,
                responder=row.responder, leader=row.leader,
                leader_reasons=tuple(b["leader_reasons"]), repeat_of=b["repeat_of"],
                outcome=Outcome(b["outcome"]) if b["outcome"] else None,
                rating=Rating(b["rating"]) if b["rating"] else None, recused=b["recused"],
                clocks=clocks, ledger=[_entry_back(e) for e in b["ledger"]],
                fired={(f[0], f[1]) for f in b["fired"]}, version=row.version,
                # cases stored before "three in place" and completion reports have neither
                resolution=Resolution(b["resolution"]) if b.get("resolution") else None,
                reports=[CompletionReport(r["clock"], r["actor"], _at(r["at"]), r["summary"])
                         for r in b.get("reports", [])],
                signal=b.get("signal"), deciders=b.get("deciders") or {},
                escalated_to=set(b.get("escalated_to") or ()),
                rung_failures={k: (int(n), _at(at))
                               for k, (n, at) in (b.get("rung_failures") or {}).items()},
                known_due=b.get("known_due") or {}, triage=b.get("triage"),
                office=row.office, links=b.get("links") or {},
                pending=b.get("pending") or {}, listing=b.get("listing"))


def _at(value: str) -> dt.datetime:
    at = _dt(value)
    assert at is not None
    return at
