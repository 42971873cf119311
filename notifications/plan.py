"""Which domain events tell whom: the messages a change queues in the outbox.

Pure: events in, messages out. The unit of work writes them in the same transaction as the
change; a sender delivers them (issue "Notifications"). Each message has an idempotency key
per (case, event, rung, recipient), so planning the same event twice queues it once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.events import DomainEvent
from domain.events import EventType as E
from domain.permissions import ONLINE_REGISTRAR

PETITIONER = "petitioner"  # the case's petitioner, at the address in the petition
# The petitioner's mobile: a short text of the office's approved SMS template for the
# notice, beside the written notice itself (queued only where the office has one).
PETITIONER_SMS = "petitioner:sms"
# The SMS that brings a petition submitted at the public door its number and query code.
ONLINE_REGISTERED = "online_registered"

_RUNG_KIND = {E.DEADLINE_REMINDER: "reminder", E.DEADLINE_WARNING: "warning",
              E.DEADLINE_BREACHED: "breach", E.ESCALATED: "escalation"}


@dataclass(frozen=True)
class Message:
    """One message to one recipient (a person id, or ``petitioner``)."""

    key: str
    case_id: str
    kind: str
    recipient: str
    urgent: bool
    queued_at: dt.datetime  # the instant of the event that caused it (UTC)
    payload: Mapping[str, Any] = field(default_factory=dict)


def _key(event: DomainEvent, recipient: str, occurrence: str) -> str:
    return f"{event.case_id}:{event.type.value}:{occurrence}:{recipient}"


def messages_for(event: DomainEvent) -> list[Message]:
    """The messages ``event`` causes (often none)."""
    d = event.data
    payload = {"event": event.type.value, "stage": event.stage, "at": event.at.isoformat(),
               **d}
    once = event.at.isoformat()

    def msg(kind: str, to: str | None, urgent: bool = False,
            occurrence: str = once) -> list[Message]:
        if not to:
            return []
        return [Message(_key(event, to, occurrence), event.case_id, kind, to, urgent, event.at,
                        payload)]

    t = event.type
    if t is E.CASE_REGISTERED and event.actor == ONLINE_REGISTRAR:  # 网上信访 (``door``)
        return msg(ONLINE_REGISTERED, PETITIONER_SMS)
    if t is E.CASE_ASSIGNED:
        return msg("assignment", d.get("responder")) + msg("leader_request", d.get("leader"))
    if t is E.ROUTING_OBJECTED:
        return msg("assignment", d.get("responder"))
    if t is E.LEADER_NAMED:
        return msg("leader_request", d.get("leader"))
    def notice(kind: str) -> list[Message]:
        return msg(kind, PETITIONER) + msg(kind, PETITIONER_SMS)

    if t is E.CASE_ACCEPTED:
        return notice("acceptance_notice")
    if t is E.CASE_DECLINED:
        return notice("decline_notice")
    if t is E.DEADLINE_EXTENDED:
        return (notice("extension_notice") + msg("extension", event.actor)
                + msg("extension", d.get("approver")) + msg("extension", d.get("requested_by")))
    if t is E.EXTENSION_REQUESTED:  # the lowest approver, with the case page's two taps
        return [m for p in d.get("notify") or () for m in msg("extension_request", p)]
    if t is E.EXTENSION_REFUSED:
        return msg("extension_refused", d.get("requested_by"))
    if t is E.CASE_LISTED:  # 挂牌督办: the handlers learn the body, the date, the cadence
        return [m for p in d.get("to") or () for m in msg("case_listed", p)]
    if t is E.REPORT_REQUESTED:
        return [m for p in d.get("to") or () for m in msg("report_request", p)]
    if t is E.COMPLETION_REPORTED:  # back to the leader who asked for it
        return msg("report_filed", d.get("requested_by"))
    if t in (E.DECISION_ISSUED, E.REVIEW_DECIDED, E.RE_REVIEW_DECIDED):
        return notice("decision_notice") + msg("rating_request", PETITIONER)
    if t is E.DUE_DATE_REVISED:
        revised = f"{d.get('clock')}/{d.get('new_due')}"
        return (msg("due_revised", d.get("responder_now"), occurrence=revised)
                + msg("due_revised", d.get("leader_now"), occurrence=revised))
    if t in _RUNG_KIND:
        rung = f"{d.get('clock')}/{d.get('rung')}"  # a rung fires once: its key is stable
        return msg(_RUNG_KIND[t], d.get("recipient"),
                   urgent=t in (E.DEADLINE_BREACHED, E.ESCALATED), occurrence=rung)
    return []


def plan(events: Iterable[DomainEvent]) -> list[Message]:
    """Every message the events cause, each key once."""
    seen: dict[str, Message] = {}
    for event in events:
        for m in messages_for(event):
            seen.setdefault(m.key, m)
    return list(seen.values())
