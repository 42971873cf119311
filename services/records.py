"""A case as structured data: the shapes of the JSON API (``/api/v1``) and of the CLI's
``--json`` outputs. ISO 8601 instants in UTC, state names, seconds overdue, warnings as
sentences — no display strings to parse. What a record holds follows the reader's
``Sight``: an accusation's subject and material only for its handling chain, the
petitioner's personal data only for the handlers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from domain.case import Case
from domain.deadlines import DeadlineView, estimate_note, standing, urgency
from domain.instants import as_utc
from domain.labels import EVENTS, STAGES, label
from domain.narrative import Names, actor, describe
from domain.permissions import Sight
from services.bootstrap import App
from services.naming import OfficeNames
from services.timeline import MATERIAL_KEYS, OUTLINE_KEYS, breach_holders
from storage.chain import AuditRow

OUTLINE_SUBJECT = "检举控告件（内容仅承办人可见）"


def iso(value: dt.datetime | None) -> str | None:
    return as_utc(value).isoformat().replace("+00:00", "Z") if value is not None else None


def deadline_record(v: DeadlineView, now: dt.datetime,
                    held: dict[str, str] | None = None, *, reasons: bool = True
                    ) -> dict[str, Any]:
    """One deadline: its kind, limit, due instant (and local due date), state, how far past
    due, its extensions (their reasons with ``reasons``: who sees the case's material in
    full) and pauses, and who held the case when it was breached."""
    running = v.closed_at is None and not v.kind.is_window
    return {
        "deadline": v.kind.value, "label": v.kind.label, "limit": str(v.period),
        "state_label": v.state.label,
        "started_at": iso(v.started_at), "due_at": iso(v.due_at),
        "due_date": v.due_date.isoformat(), "state": v.state.value,
        "urgency": urgency(v, now) if running else None,
        "overdue_seconds": int(v.overdue.total_seconds()) if v.overdue else 0,
        "closed_at": iso(v.closed_at), "paused_since": iso(v.paused_since),
        "extensions": [{"by": str(e.extension), "reason": e.reason if reasons else None,
                        "approver": e.approver,
                        "at": iso(e.at)} for e in v.extensions if e.extension],
        "estimated_years": list(v.estimated),
        "warning": estimate_note(v) if v.closed_at is None else "",
        "breached_while_held_by": ({k: held[k] or None for k in ("unit", "responder",
                                                                 "leader")} if held else None)}


def event_record(r: AuditRow, seen: Sight, names: Names | None = None) -> dict[str, Any]:
    """One audit event as ``seen`` allows: all of it to the handlers; without summaries and
    reasons to those who see the material; of an outline, only ``OUTLINE_KEYS`` (no
    subject, petitioner, summary or reason)."""
    data = {k: v for k, v in dict(r.data).items()
            if seen >= Sight.FULL or (k in OUTLINE_KEYS if seen < Sight.MATERIAL
                                      else k not in MATERIAL_KEYS)}
    record = {"seq": r.seq, "at": iso(r.at), "stage": r.stage,
              "stage_label": label(STAGES, r.stage), "event": r.type,
              "event_label": label(EVENTS, r.type), "actor": r.actor, "data": data}
    if names is not None:  # the sentence people read, from what this reader may see
        record.update(actor_name=actor(names, r.actor),
                      detail=describe(r.type, data, names, restricted=seen < Sight.FULL))
    return record


def case_record(app: App, case: Case, seen: Sight, now: dt.datetime,
                audit: list[AuditRow] | None = None) -> dict[str, Any]:
    """A case as ``seen`` allows: where it is, who holds it, its next deadline and every
    deadline; with ``audit``, its events too (and who held it at each breach)."""
    views = case.deadlines(app.rules_for(case), now)
    s = standing(views)
    holders = breach_holders(audit) if audit is not None else {}
    names = OfficeNames(app)
    p = case.petition
    material = seen >= Sight.MATERIAL
    petition: dict[str, Any] = {
        "channel": p.channel.value, "channel_label": p.channel.label,
        "category": p.category.value, "category_label": p.category.label,
        "received_at": iso(p.received_at), "headcount": p.headcount,
        "subject": p.subject if material else OUTLINE_SUBJECT,
        "content": p.content if material else None,
        "petitioner": p.petitioner.name if material else None}
    if seen >= Sight.FULL:
        petition.update(phone=p.petitioner.phone, id_number=p.petitioner.id_number,
                        address=p.petitioner.address, email=p.petitioner.email,
                        accused_persons=list(p.accused_persons))
    nxt = s.next
    record: dict[str, Any] = {
        "id": case.id, "ref": case.ref, "registration_no": case.registration_no,
        "stage": case.stage.value, "stage_label": case.stage.label, "unit": case.unit,
        "unit_name": names.unit(case.unit) if case.unit else None,
        "responder": case.responder,
        "responder_name": names.person(case.responder) if case.responder else None,
        "leader": case.leader,
        "leader_name": names.person(case.leader) if case.leader else None,
        "policy": case.policy_id,
        "repeat_of": case.repeat_of if material else None, "triage": case.triage,
        "registered_at": iso(case.registered_at), "subject": petition["subject"],
        "restricted": not material, "petition": petition,
        "next_deadline": deadline_record(nxt, now, reasons=seen is Sight.FULL) if nxt else None,
        "overdue_seconds": int(s.overdue_by.total_seconds()) if s.overdue else 0,
        "warnings": sorted({estimate_note(v) for v in views
                            if v.closed_at is None and v.estimated}),
        "deadlines": [deadline_record(v, now, holders.get(v.key), reasons=seen is Sight.FULL)
                      for v in views]}
    if audit is not None:
        record["events"] = [event_record(r, seen, names) for r in audit]
    return record
