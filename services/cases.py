"""The use cases of a case: register (登记), route and assign (首问负责), act on it, and
commit. Each loads, calls the domain, queues the messages the new events cause and commits,
in one transaction. The flows wrap these in tasks; the CLI and the web call them directly.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from domain.accused import accused_set
from domain.acts import Act
from domain.case import Case
from domain.deadlines import PauseReason
from domain.door import PETITIONER_ACTOR, check_petitioner
from domain.errors import (
    CaseNotFound,
    ConfidentialityViolation,
    DuplicateRegistration,
    RoutingError,
    RuleViolation,
)
from domain.escalation import DueRung
from domain.instants import local, local_date
from domain.measures import facts_of
from domain.offices import check_in, sight_in
from domain.outcomes import Outcome, Rating, Resolution
from domain.periods import Period, Unit
from domain.permissions import Sight, check_registrar
from domain.petition import Channel, Petition, check_received, petition_from_mapping
from domain.reception import at_reception
from domain.routing import assign_by_hand, find_repeat, route
from domain.stages import Stage
from domain.text import check_text
from notifications.plan import PETITIONER_SMS, plan
from services.alerts import raise_alarm
from services.bootstrap import App
from services.ports import Runs
from services.practices import promote_in
from services.referrals import decided_up, hand_down, refer_up
from services.requests import ActRequest, ActResult
from storage.ports import UnitOfWork

__all__ = [
    "Act",
    "ActRequest",
    "ActResult",
    "act",
    "act_and_wake",
    "check_intake",
    "check_number",
    "check_petition",
    "commit",
    "new_registration_no",
    "register",
    "route_and_assign",
]


def _texted(app: App, case: Case | None, kind: str) -> bool:
    """Whether the petitioner of ``case`` gets an SMS of ``kind``: their office has an
    approved template for it and they gave a mobile number."""
    if case is None:
        return False
    sms = app.office_of(case).notify.sms
    return sms is not None and kind in sms.templates and bool(case.petition.petitioner.phone)


def queue_events(app: App, uow: UnitOfWork, cases: Sequence[Case]) -> None:
    """Queue the messages the new events of ``cases`` cause. A message for anyone in the
    case's accused set is refused (the domain never plans one): nothing is written."""
    by_id = {c.id: c for c in cases}
    messages = [m for m in plan(e for case in cases for e in case.events)
                if m.recipient != PETITIONER_SMS or _texted(app, by_id.get(m.case_id), m.kind)]
    for m in messages:
        case = by_id.get(m.case_id)
        if case is not None and m.recipient in accused_set(app.office_of(case).org,
                                                           case.petition):
            raise ConfidentialityViolation(case.ref, f"a {m.kind} message would reach "
                                           "someone in the accused set; nothing was done")
    uow.queue([{"key": m.key, "case_id": m.case_id, "kind": m.kind, "recipient": m.recipient,
                "urgent": int(m.urgent), "payload": dict(m.payload), "queued_at": m.queued_at}
               for m in messages])


def commit(app: App, uow: UnitOfWork, now: dt.datetime,
           schedules: Mapping[str, Sequence[DueRung]] | None = None,
           dues: Mapping[str, dt.datetime | None] | None = None) -> None:
    """Queue every changed case's messages, derive its rung schedule and next due instant
    (unless given; ``dues`` may hold unchanged cases' too) and commit it all."""
    changed = uow.cases.changed()
    queue_events(app, uow, changed)
    given, due = dict(schedules or {}), dict(dues or {})
    for case in changed:
        if case.id not in given:
            given[case.id] = case.schedule(app.rules_for(case), now)
        if case.id not in due:
            due[case.id] = case.next_due(app.rules_for(case), now)
        case.measured = facts_of(case, app.rules_for(case))  # summed by the measures
    uow.commit(given, due)


def new_registration_no(app: App) -> str:
    return f"XF-{local(app.clock.now()).format('YYYYMMDD')}-{uuid.uuid4().hex[:6].upper()}"


def check_petition(app: App, data: Mapping[str, Any], now: dt.datetime | None = None
                   ) -> Petition:
    """The petition in ``data``, validated as registering it at ``now`` (default: the
    clock's) will: its fields, its receipt not in the future (a missing ``received_at`` is
    ``now``), and a reception day on its day if it was taken at one."""
    now = now or app.clock.now()
    petition = petition_from_mapping(data, received_at=now)
    check_received(petition, now)
    if petition.concerns_unit is not None:
        app.office.org.unit(petition.concerns_unit)  # an unknown unit is bad input
    if petition.channel is Channel.RECEPTION:
        app.office.practices.reception.require_held_on(local_date(petition.received_at),
                                                       app.office.calendar)
    return petition


def check_number(app: App, registration_no: str, petition: Petition) -> None:
    """A registration number may be registered again only by the same petitioner (a
    retried intake, answered with the case already there)."""
    with app.uow() as uow:
        try:
            existing = uow.cases.get(registration_no, lock=False)
        except CaseNotFound:
            return
    if existing.petition.petitioner.identity() != petition.petitioner.identity():
        raise DuplicateRegistration(registration_no)


def check_intake(app: App, data: Mapping[str, Any], registration_no: str, actor: str,
                 now: dt.datetime) -> Petition:
    """Everything registering ``data`` under ``registration_no`` by ``actor`` at ``now``
    checks before anything is stored (or submitted to the intake run): the petition, its
    number, and that ``actor`` may register it."""
    check_text(registration_no, "registration_no")
    petition = check_petition(app, data, now)
    check_registrar(app.office.org, actor, petition, app.office.routing.accusation_unit,
                    ref=registration_no)
    return petition


def register(app: App, data: Mapping[str, Any], *, registration_no: str,
             actor: str, signal: str | None = None, via: str = "") -> Case:
    """Register (登记) a petition; persisted when this returns. Registering the same number
    with the same petitioner again returns the case already there (a retried intake).
    Only the petition office's staff register. A petition taken at a leader reception day
    needs one held on its day; ``signal`` promotes an information officer's signal, in the
    same transaction. ``via``: the channel it came through, on its audit events."""
    now = app.clock.now()
    petition = check_intake(app, data, registration_no, actor, now)
    with app.uow() as uow:
        try:
            existing = uow.cases.get(registration_no, lock=False)
        except CaseNotFound:
            existing = None
        if existing is not None:
            # A retried intake gets its case back, but only its own registrar or one who may
            # see it: to anyone else (the accused, posing as a retry) a number taken.
            if existing.petition.petitioner.identity() != petition.petitioner.identity() \
                    or (sight_in(app.tree, existing, actor) is Sight.NONE
                        and uow.events_of(existing.id)[0].actor != actor):
                raise DuplicateRegistration(registration_no)
            return existing
        if petition.repeat_of is not None:  # named by the registrar: one they may read
            _check_named_repeat(app, uow, petition.repeat_of, registration_no, actor)
        repeat = find_repeat(petition, uow.cases.prior_cases(petition.petitioner),
                             app.office.routing.repeat_similarity)
        case = Case.register(case_id=f"p-{uuid.uuid4().hex[:12]}",
                             registration_no=registration_no, petition=petition,
                             policy=app.office.policies.in_force(petition.received_at.date()),
                             actor=actor, now=now, repeat_of=repeat, signal=signal)
        case.office = app.office.id
        if via:
            case.attribute(0, via=via)
        uow.cases.add(case)
        if signal:
            promote_in(uow, signal, case.id, case.registration_no, actor, now)
        commit(app, uow, now)
        return case


def _check_named_repeat(app: App, uow: UnitOfWork, ref: str, registration_no: str,
                        actor: str) -> None:
    """A petition said to repeat ``ref`` must name a case whose material its registrar may
    read: the same one line whether it does not exist or may not be read (else the field
    would tell who petitioned in an accusation, or that a number exists)."""
    try:
        earlier = uow.cases.get(ref, lock=False)
        readable = sight_in(app.tree, earlier, actor) >= Sight.MATERIAL
    except CaseNotFound:
        readable = False
    if not readable:
        raise RuleViolation(registration_no, f"repeat_of: no case {ref!r} you may read")


def route_and_assign(app: App, case_id: str, *, actor: str) -> Case:
    """Route a registered case and hand it to its first responder (and owning leader when
    the rules require one). A case already assigned is returned as it is. A case no rule
    can route waits in the triage queue (待分办), the office alarmed once; it is tried
    again each time (a configuration put right routes it)."""
    now = app.clock.now()
    with app.uow() as uow:
        case = uow.cases.get(case_id)
        if case.stage is not Stage.REGISTERED:
            return case
        rules, office = app.rules_for(case), app.office_of(case)
        try:
            decision = route(case.petition, office.routing, office.org,
                             uow.cases.workload(list(office.org.people)),
                             is_repeat=case.repeat_of is not None)
        except RoutingError as e:
            if case.triage is None:  # once: the office is told, and assigns it by hand
                case.into_triage(str(e), actor=actor, now=now)
                raise_alarm(app, uow, case, "triage", "triage", now, reason=str(e))
                commit(app, uow, now)
            return case
        if case.petition.channel is Channel.RECEPTION:
            day = office.practices.reception.require_held_on(
                local_date(case.petition.received_at), office.calendar)
            decision = at_reception(decision, day, case.petition, office.org)
        case.assign(decision, actor=actor, now=now, rules=rules)
        commit(app, uow, now)
        return case


def act(app: App, ref: str, req: ActRequest, *, in_stage: Stage | None = None) -> ActResult:
    """Apply one action once per ``req.request_id``: its texts checked, the person's
    permission checked (``domain.permissions``: anyone in an accusation's accused set is
    told there is no such case), then the domain's own rules. With ``in_stage`` (a form
    answered while the case waited there), an action that arrives after the case left that
    stage is skipped as superseded: something else came first. The audit events record the
    channel (``req.via``) and, for the petitioner's own acts, that staff entered them."""
    now = app.clock.now()
    req.check_texts()
    with app.uow() as uow:
        case = uow.cases.get(ref)
        if req.request_id and uow.applied(req.request_id) is not None:
            return ActResult(case.id, case.ref, case.stage, case.version, "duplicate")
        permission = check_petitioner(case, req.petitioner_phone, req.act) \
            if req.actor == PETITIONER_ACTOR else check_in(app.tree, case, req.actor, req.act)
        if in_stage is not None and case.stage is not in_stage:
            return ActResult(case.id, case.ref, case.stage, case.version, "superseded")
        since = len(case.events)
        linked = _apply(app, uow, case, req, now)
        facts = {"via": req.via} if req.via else {}
        if permission.on_behalf_of_petitioner:
            facts["on_behalf_of"] = "petitioner"
        case.attribute(since, **facts)
        for other in uow.cases.changed():  # a case of another office this act changed
            if other.id != case.id and req.via:
                other.attribute(0, via=req.via)
        if req.request_id:
            uow.record_request(req.request_id, case.id, req.act.value, case.version + 1, now)
        commit(app, uow, now)
        return ActResult(case.id, case.ref, case.stage, case.version, linked=linked)


@dataclass(frozen=True)
class Acted:
    """An action committed, and why the case's run was not woken now (None: it was)."""

    result: ActResult
    request: ActRequest
    not_woken: str | None


def act_and_wake(app: App, ref: str, req: ActRequest, runs: Runs) -> Acted:
    """What every entrance does for a person's action: commit it (named by a fresh request
    id), then resume the case's suspended lifecycle run with the same request, which the
    run then skips as applied. A run that cannot be woken now loses nothing."""
    req = dataclasses.replace(req, request_id=req.request_id or f"req:{uuid.uuid4().hex}")
    result = act(app, ref, req)
    with app.uow() as uow:
        run_id = uow.run_of(result.case_id)
    why = runs.wake(run_id, req.as_dict()) if run_id is not None else None
    if why is not None:  # a run left behind is brought back in step at once
        healed = runs.heal(app, result.case_id)
        if healed:
            why += "; " + "; ".join(healed)
    for other in result.linked:  # the case a level up opened, or the one below decided
        with app.uow() as uow:
            known = uow.run_of(other)
        if known is None:
            runs.start(app, other)
        else:
            runs.heal(app, other)
    return Acted(result, req, why)


def _need(value: str | int | None, case: Case, what: str) -> Any:
    if value is None or value == "":
        raise RuleViolation(case.ref, f"{what} is required")
    return value


def _date(value: str | None, case: Case, what: str) -> dt.date:
    text = str(_need(value, case, what)).strip()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise RuleViolation(case.ref, f"{what} '{text}' is not a date (YYYY-MM-DD)") from None


def _enum(kind: type[enum.Enum], value: str | None, case: Case, what: str) -> Any:
    text = _need(value, case, what)
    try:
        return kind(text)
    except ValueError:
        allowed = ", ".join(str(m.value) for m in kind)
        raise RuleViolation(case.ref, f"{what} '{text}' is not one of: {allowed}") from None


def _apply(app: App, uow: UnitOfWork, case: Case, r: ActRequest,
           now: dt.datetime) -> tuple[str, ...]:
    """Apply ``r`` to ``case``; the ids of the cases of other offices it opened or changed."""
    rules, office = app.rules_for(case), app.office_of(case)
    a, who = r.act, r.actor
    if a is Act.ACK:
        case.acknowledge(actor=who, now=now)
    elif a is Act.ACCEPT:
        case.accept(actor=who, now=now, notice=r.reason)
    elif a is Act.DECLINE:
        case.decline(reason=r.reason, actor=who, now=now)
    elif a is Act.ASSIGN_LEADER:
        case.name_leader(_need(r.leader, case, "the leader"), reason=r.reason, actor=who,
                         now=now, rules=rules)
    elif a is Act.LEADER_ACCEPT:
        case.leader_accept(actor=who, now=now)
    elif a is Act.PAUSE:
        reason = _enum(PauseReason, r.pause_reason, case, "the pause reason")
        case.pause_clock(reason=reason, basis=r.reason, actor=who, now=now)
    elif a is Act.RESUME:
        case.resume_clock(actor=who, now=now, basis=r.reason)
    elif a is Act.EXTEND:
        days = int(_need(r.days, case, "the extension in days"))
        case.extend(Period(days, Unit.DAYS), reason=r.reason, approver=r.approver or who,
                    actor=who, now=now, rules=rules)
    elif a is Act.REQUEST_EXTENSION:
        days = int(_need(r.days, case, "the extension in days"))
        case.request_extension(Period(days, Unit.DAYS), reason=r.reason, actor=who, now=now,
                               rules=rules)
    elif a in (Act.APPROVE_EXTENSION, Act.REFUSE_EXTENSION):
        case.answer_extension(a is Act.APPROVE_EXTENSION, actor=who, now=now, rules=rules,
                              reason=r.reason)
    elif a is Act.REQUEST_REPORT:
        case.request_report(actor=who, now=now, rules=rules, note=r.reason)
    elif a is Act.LIST_CASE:
        case.list_case(body=r.body or "", reference=r.reference or "",
                       required=_date(r.required, case, "the required date"),
                       every=int(_need(r.days, case, "the report interval in days")),
                       actor=who, now=now)
    elif a is Act.REPORT_TO_LISTER:
        case.report_to_lister(summary=r.summary or r.reason, actor=who, now=now)
    elif a in (Act.CLOSE, Act.DECIDE_REVIEW, Act.DECIDE_RE_REVIEW):
        outcome = _enum(Outcome, r.outcome, case, "the outcome")
        resolution = _enum(Resolution, r.resolution, case, "the class (三个到位)") \
            if r.resolution or a is Act.CLOSE else None
        decide = {Act.CLOSE: case.decide, Act.DECIDE_REVIEW: case.decide_review,
                  Act.DECIDE_RE_REVIEW: case.decide_re_review}[a]
        decide(outcome, summary=r.summary, actor=who, now=now, resolution=resolution)
        if a is Act.CLOSE:
            origin = decided_up(uow, case, outcome, r.summary, resolution, who, now)
            return (origin,) if origin else ()
    elif a is Act.REPORT:
        case.report_completion(summary=r.summary or r.reason, actor=who, now=now,
                               rules=rules)
    elif a is Act.RATE:
        case.rate(_enum(Rating, r.rating, case, "the rating"), actor=who, now=now, rules=rules)
    elif a in (Act.REQUEST_REVIEW, Act.REQUEST_RE_REVIEW):
        request = case.request_review if a is Act.REQUEST_REVIEW else case.request_re_review
        referred = refer_up(app, uow, case, a, who, now)
        request(reason=r.reason, actor=who, now=now, rules=rules, referred=referred)
        return (referred[1],) if referred else ()
    elif a is Act.STRIKE_OFF:
        case.strike_off(actor=who, now=now, rules=rules, note=r.reason)
    elif a is Act.WITHDRAW:
        case.withdraw(reason=r.reason, actor=who, now=now)
    elif a is Act.HAND_DOWN:
        return (hand_down(app, uow, case, _need(r.office, case, "the office below"), who,
                          now),)
    elif a is Act.ASSIGN:
        decision = assign_by_hand(case.petition, _need(r.unit, case, "the unit"),
                                  r.responder or None, office.routing, office.org,
                                  uow.cases.workload(list(office.org.people)),
                                  is_repeat=case.repeat_of is not None)
        case.assign(decision, actor=who, now=now, rules=rules)
    return ()
