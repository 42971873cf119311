"""The use cases: what intake, the CLI, the lifecycle and the sweeper do to a case.

Each loads, calls the domain, queues the messages the new events cause and commits, in one
transaction. No Prefect here: the flows wrap these in tasks, and the CLI's read commands and
the tests call them directly.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.case import Case
from domain.deadlines import PauseReason
from domain.errors import CaseNotFound, DuplicateRegistration, RuleViolation
from domain.instants import local_date
from domain.outcomes import Outcome, Rating, Resolution
from domain.periods import Period, Unit
from domain.petition import Channel, Petition, petition_from_mapping
from domain.reception import at_reception
from domain.routing import find_repeat, route
from domain.stages import Stage
from flows.bootstrap import App
from notifications.plan import plan
from storage.repository import SqlUnitOfWork


class Act(enum.Enum):
    """What a person can do to a case (the CLI's verbs and the lifecycle forms' choices)."""

    ACK = "ack"                              # 首问复命
    ACCEPT = "accept"                        # 受理
    DECLINE = "decline"                      # 不予受理
    ASSIGN_LEADER = "assign_leader"          # 领导包案
    LEADER_ACCEPT = "leader_accept"
    PAUSE = "pause"
    RESUME = "resume"
    EXTEND = "extend"
    CLOSE = "close"                          # 书面答复
    RATE = "rate"
    REQUEST_REVIEW = "request_review"        # 复查
    DECIDE_REVIEW = "decide_review"
    REQUEST_RE_REVIEW = "request_re_review"  # 复核
    DECIDE_RE_REVIEW = "decide_re_review"
    STRIKE_OFF = "strike_off"                # 销号
    REPORT = "report"                        # 完成任务报告


@dataclass(frozen=True)
class ActRequest:
    """One person's action on a case, with whatever that action needs."""

    act: Act
    actor: str
    reason: str = ""
    leader: str | None = None
    outcome: str | None = None
    summary: str = ""
    rating: str | None = None
    days: int | None = None
    approver: str | None = None
    pause_reason: str | None = None
    resolution: str | None = None  # 三个到位: resolved | explained | assisted
    # Names the request so it is applied once however often it arrives (the CLI commits it
    # and then hands the same request to the case's run). Empty: no such guard.
    request_id: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"act": self.act.value, "actor": self.actor, "reason": self.reason,
                "leader": self.leader, "outcome": self.outcome, "summary": self.summary,
                "rating": self.rating, "days": self.days, "approver": self.approver,
                "pause_reason": self.pause_reason, "resolution": self.resolution,
                "request_id": self.request_id}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ActRequest:
        """The inverse of ``as_dict``."""
        return cls(Act(data["act"]), **{k: v for k, v in data.items() if k != "act"})


@dataclass(frozen=True)
class ActResult:
    case_id: str
    ref: str
    stage: Stage
    version: int
    status: str = "applied"  # or "duplicate" (applied before), "superseded" (moved on)

    @property
    def applied(self) -> bool:
        return self.status == "applied"


def commit(uow: SqlUnitOfWork) -> None:
    """Queue the messages of every changed case's new events, then commit it all."""
    messages = plan(e for case in uow.cases.seen.values() for e in case.events)
    uow.queue([{"key": m.key, "case_id": m.case_id, "kind": m.kind, "recipient": m.recipient,
                "urgent": int(m.urgent), "payload": dict(m.payload), "queued_at": m.queued_at}
               for m in messages])
    uow.commit()


def new_registration_no(app: App) -> str:
    return f"XF-{app.clock.now().in_timezone('Asia/Shanghai').format('YYYYMMDD')}-" \
           f"{uuid.uuid4().hex[:6].upper()}"


def check_petition(app: App, data: Mapping[str, Any]) -> Petition:
    """The petition in ``data``, validated as intake will (before anything is submitted):
    its fields, and a reception day on its day if it was taken at one."""
    petition = petition_from_mapping(data, received_at=app.clock.now())
    if petition.channel is Channel.RECEPTION:
        app.office.practices.reception.require_held_on(local_date(petition.received_at),
                                                       app.office.calendar)
    return petition


def register(app: App, data: Mapping[str, Any], *, registration_no: str,
             actor: str, signal: str | None = None) -> Case:
    """Register (登记) a petition; persisted when this returns. Registering the same number
    with the same petitioner again returns the case already there (a retried intake).
    A petition taken at a leader reception day needs one held on its day; ``signal``
    promotes an information officer's signal, in the same transaction."""
    now = app.clock.now()
    petition = check_petition(app, data)
    with app.uow() as uow:
        try:
            existing = uow.cases.get(registration_no, lock=False)
        except CaseNotFound:
            existing = None
        if existing is not None:
            if existing.petition.petitioner.identity() != petition.petitioner.identity():
                raise DuplicateRegistration(registration_no)
            return existing
        repeat = find_repeat(petition, uow.cases.prior_cases(petition.petitioner.identity()),
                             app.office.routing.repeat_similarity)
        case = Case.register(case_id=f"p-{uuid.uuid4().hex[:12]}",
                             registration_no=registration_no, petition=petition,
                             policy=app.office.policies.in_force(petition.received_at.date()),
                             actor=actor, now=now, repeat_of=repeat, signal=signal)
        uow.cases.add(case)
        if signal:
            from flows.practices import promote_in

            promote_in(uow, signal, case.id, case.registration_no, actor, now)
        commit(uow)
        return case


def route_and_assign(app: App, case_id: str, *, actor: str) -> Case:
    """Route a registered case and hand it to its first responder (and owning leader when
    the rules require one). A case already assigned is returned as it is."""
    now = app.clock.now()
    with app.uow() as uow:
        case = uow.cases.get(case_id)
        if case.stage is not Stage.REGISTERED:
            return case
        rules = app.rules_for(case)
        decision = route(case.petition, app.office.routing, app.office.org,
                         uow.cases.workload(), is_repeat=case.repeat_of is not None)
        if case.petition.channel is Channel.RECEPTION:
            day = app.office.practices.reception.require_held_on(
                local_date(case.petition.received_at), app.office.calendar)
            decision = at_reception(decision, day, case.petition, app.office.org)
        case.assign(decision, actor=actor, now=now, rules=rules)
        commit(uow)
        return case


def act(app: App, ref: str, req: ActRequest, *, in_stage: Stage | None = None) -> ActResult:
    """Apply one action, validated by the domain, once per ``req.request_id``. With
    ``in_stage`` (a form answered while the case waited there), an action that arrives after
    the case left that stage is skipped as superseded: something else came first."""
    now = app.clock.now()
    with app.uow() as uow:
        case = uow.cases.get(ref)
        if req.request_id and uow.applied(req.request_id) is not None:
            return ActResult(case.id, case.ref, case.stage, case.version, "duplicate")
        if in_stage is not None and case.stage is not in_stage:
            return ActResult(case.id, case.ref, case.stage, case.version, "superseded")
        _apply(app, case, req, now)
        if req.request_id:
            uow.record_request(req.request_id, case.id, req.act.value, case.version + 1, now)
        commit(uow)
        return ActResult(case.id, case.ref, case.stage, case.version)


def _need(value: str | int | None, case: Case, what: str) -> Any:
    if value is None or value == "":
        raise RuleViolation(case.ref, f"{what} is required")
    return value


def _enum(kind: type[enum.Enum], value: str | None, case: Case, what: str) -> Any:
    text = _need(value, case, what)
    try:
        return kind(text)
    except ValueError:
        allowed = ", ".join(str(m.value) for m in kind)
        raise RuleViolation(case.ref, f"{what} '{text}' is not one of: {allowed}") from None


def _apply(app: App, case: Case, r: ActRequest, now: Any) -> None:
    rules = app.rules_for(case)
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
        case.extend(Period(days, Unit.DAYS), reason=r.reason,
                    approver=_need(r.approver, case, "the approver"), actor=who, now=now,
                    rules=rules)
    elif a in (Act.CLOSE, Act.DECIDE_REVIEW, Act.DECIDE_RE_REVIEW):
        outcome = _enum(Outcome, r.outcome, case, "the outcome")
        resolution = _enum(Resolution, r.resolution, case, "the class (三个到位)") \
            if r.resolution or a is Act.CLOSE else None
        decide = {Act.CLOSE: case.decide, Act.DECIDE_REVIEW: case.decide_review,
                  Act.DECIDE_RE_REVIEW: case.decide_re_review}[a]
        decide(outcome, summary=r.summary, actor=who, now=now, resolution=resolution)
    elif a is Act.REPORT:
        case.report_completion(summary=r.summary or r.reason, actor=who, now=now,
                               rules=rules)
    elif a is Act.RATE:
        case.rate(_enum(Rating, r.rating, case, "the rating"), actor=who, now=now, rules=rules)
    elif a is Act.REQUEST_REVIEW:
        case.request_review(reason=r.reason, actor=who, now=now, rules=rules)
    elif a is Act.REQUEST_RE_REVIEW:
        case.request_re_review(reason=r.reason, actor=who, now=now, rules=rules)
    elif a is Act.STRIKE_OFF:
        case.strike_off(actor=who, now=now, rules=rules, note=r.reason)


@dataclass(frozen=True)
class Fired:
    """One rung fired by the sweeper, for the Prefect event and the logs."""

    case_id: str
    ref: str
    clock: str
    rung: str
    event: str
    recipient: str | None
    stage: str


def sweep(app: App, *, sweeper: str, limit: int = 500) -> list[Fired]:
    """Claim the due rungs and fire each exactly once, in one transaction with its audit
    events and queued messages. A rung that is no longer pending (the case moved on since it
    was scheduled) is claimed and dropped."""
    now = app.clock.now()
    fired: list[Fired] = []
    with app.uow() as uow:
        uow.one_sweep_at_a_time()  # two sweepers at once deadlocked without it (200 cases)
        for rung in uow.claim_due(now, sweeper, limit):
            case = uow.cases.get(rung.case_id)
            rules = app.rules_for(case)
            if not any(d.clock == rung.clock and d.name == rung.rung
                       for d in case.due_rungs(rules, now)):
                continue
            before = len(case.events)
            case.fire_rung(rung.clock, rung.rung, actor=sweeper, now=now, rules=rules)
            for e in case.events[before:]:
                fired.append(Fired(case.id, case.ref, rung.clock, rung.rung, e.type.value,
                                   e.data.get("recipient"), e.stage))
        commit(uow)
    return fired
