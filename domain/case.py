"""The case aggregate: one petition from registration to strike-off (销号).

Every public method validates first and changes nothing on error; on success it moves the
stage through ``stages.TRANSITIONS`` and appends the domain events that storage persists in
the same transaction. ``now`` is always an argument (a UTC instant).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import pendulum

from domain.calendar import WorkingCalendar
from domain.deadlines import (
    Clock,
    Closing,
    DeadlineState,
    DeadlineView,
    EntryKind,
    LedgerEntry,
    PauseReason,
    evaluate,
)
from domain.errors import (
    ClockError,
    ConfidentialityViolation,
    ConfigError,
    ExtensionRefused,
    IllegalTransition,
    RuleViolation,
)
from domain.escalation import DueRung, Holders, holder_of, pending_rungs, resolve
from domain.events import DomainEvent, EventType
from domain.instants import as_utc, format_duration
from domain.key_periods import KeyPeriods
from domain.org import OrgChart
from domain.outcomes import CompletionReport, Outcome, Rating, Resolution
from domain.periods import Period
from domain.petition import Petition
from domain.policy import DeadlineKind, DeadlinePolicy, Role, Rung, RungLevel
from domain.routing import RoutingDecision, barred_person, barred_unit
from domain.stages import TRANSITIONS, Action, Stage, allowed_actions

K = DeadlineKind
_TIMED_CLOCK = {Stage.LEADER_PENDING: K.HANDLING, Stage.HANDLING: K.HANDLING,
                Stage.UNDER_REVIEW: K.REVIEW_DECISION,
                Stage.UNDER_RE_REVIEW: K.RE_REVIEW_DECISION}
_LEVEL_EVENT = {RungLevel.REMINDER: EventType.DEADLINE_REMINDER,
                RungLevel.WARNING: EventType.DEADLINE_WARNING,
                RungLevel.BREACH: EventType.DEADLINE_BREACHED,
                RungLevel.ESCALATION: EventType.ESCALATED}


@dataclass(frozen=True)
class CaseRules:
    """What a case needs to derive its deadlines and resolve people."""

    policy: DeadlinePolicy
    calendar: WorkingCalendar
    org: OrgChart
    key_periods: KeyPeriods = dataclasses.field(default_factory=KeyPeriods)


def _required(text: str | None, case_ref: str, what: str) -> str:
    if text is None or not text.strip():
        raise RuleViolation(case_ref, f"{what} is required")
    return text.strip()


class Case:
    """One petition's case. Build with ``Case.register``; storage restores with ``Case(...)``."""

    def __init__(self, *, id: str, registration_no: str, petition: Petition, policy_id: str,
                 stage: Stage, registered_at: dt.datetime, unit: str | None = None,
                 responder: str | None = None, leader: str | None = None,
                 leader_reasons: tuple[str, ...] = (), repeat_of: str | None = None,
                 outcome: Outcome | None = None, rating: Rating | None = None,
                 recused: dict[str, str] | None = None, clocks: list[Clock] | None = None,
                 ledger: list[LedgerEntry] | None = None,
                 fired: set[tuple[str, str]] | None = None, version: int = 0,
                 resolution: Resolution | None = None,
                 reports: list[CompletionReport] | None = None,
                 signal: str | None = None) -> None:
        self.id = id
        self.registration_no = registration_no
        self.petition = petition
        self.policy_id = policy_id
        self._stage = stage
        self.registered_at = as_utc(registered_at)
        self.unit = unit
        self.responder = responder
        self.leader = leader
        self.leader_reasons = leader_reasons
        self.repeat_of = repeat_of
        self.outcome = outcome
        self.rating = rating
        self.recused = dict(recused or {})
        self.clocks = {c.key: c for c in clocks or []}
        self.ledger = list(ledger or [])
        self.fired = set(fired or set())
        self.version = version
        self.resolution = resolution
        self.reports = list(reports or [])
        self.signal = signal  # the information officer's signal it was promoted from
        self.events: list[DomainEvent] = []

    # --- identity and stage -----------------------------------------------------------
    @property
    def stage(self) -> Stage:
        return self._stage

    @property
    def ref(self) -> str:
        return self.registration_no or self.id

    def __repr__(self) -> str:
        return f"<Case {self.ref} {self._stage.value}>"

    def _target(self, action: Action) -> Stage:
        """The stage ``action`` leads to from here; raises ``IllegalTransition``."""
        try:
            return TRANSITIONS[(self._stage, action)]
        except KeyError:
            raise IllegalTransition(self.ref, self._stage.value, action.value,
                                    [a.value for a in allowed_actions(self._stage)]) from None

    def _record(self, target: Stage, type: EventType, actor: str, now: dt.datetime,
                **data: object) -> None:
        self._stage = target  # the one place a stage is set; ``target`` came from the table
        self.events.append(DomainEvent(type, self.id, actor, as_utc(now), target.value, data))

    def _check_rules(self, rules: CaseRules) -> None:
        if rules.policy.id != self.policy_id:
            raise ConfigError(f"case {self.ref} is under policy '{self.policy_id}', "
                              f"not '{rules.policy.id}'")

    # --- clocks -----------------------------------------------------------------------
    def clock(self, kind: DeadlineKind) -> Clock | None:
        """The newest clock of ``kind``, open or not."""
        mine = [c for c in self.clocks.values() if c.kind is kind]
        return max(mine, key=lambda c: c.started_at) if mine else None

    def _open(self, kind: DeadlineKind, now: dt.datetime) -> None:
        n = sum(1 for c in self.clocks.values() if c.kind is kind)
        key = kind.value if n == 0 else f"{kind.value}@{n + 1}"
        self.clocks[key] = Clock(key, kind, as_utc(now))

    def _close(self, kind: DeadlineKind, now: dt.datetime, closing: Closing) -> None:
        c = self.clock(kind)
        if c is not None and c.is_open:
            self.clocks[c.key] = dataclasses.replace(c, closed_at=as_utc(now), closing=closing)

    def _cancel_all(self, now: dt.datetime) -> None:
        for c in list(self.clocks.values()):
            if c.is_open:
                self.clocks[c.key] = dataclasses.replace(c, closed_at=as_utc(now),
                                                         closing=Closing.CANCELLED)

    def view(self, kind: DeadlineKind, rules: CaseRules, now: dt.datetime) -> DeadlineView | None:
        c = self.clock(kind)
        return evaluate(c, self.ledger, rules.policy, rules.calendar, now) if c else None

    def deadlines(self, rules: CaseRules, now: dt.datetime) -> list[DeadlineView]:
        """Every deadline the case has run against, oldest first, with its state at ``now``."""
        self._check_rules(rules)
        return [evaluate(c, self.ledger, rules.policy, rules.calendar, now)
                for c in sorted(self.clocks.values(), key=lambda c: (c.started_at, c.key))]

    def _window_open(self, kind: DeadlineKind, rules: CaseRules, now: dt.datetime,
                     what: str) -> DeadlineView:
        v = self.view(kind, rules, now)
        if v is None or v.state is not DeadlineState.OPEN:
            when = f" ended on {v.due_date}" if v else " was never opened"
            raise RuleViolation(self.ref, f"the window to {what}{when}")
        return v

    def _bar(self, org: OrgChart, person: str) -> str | None:
        bar = barred_person(org, self.petition, person, self.recused)
        return bar.reason if bar else None

    # --- intake and routing -----------------------------------------------------------
    @classmethod
    def register(cls, *, case_id: str, registration_no: str, petition: Petition,
                 policy: DeadlinePolicy, actor: str, now: dt.datetime,
                 repeat_of: str | None = None, signal: str | None = None) -> Case:
        """Register (登记) a petition; the acceptance-notice clock runs from its receipt."""
        if not registration_no.strip():
            raise ConfigError("a registration number is required", field="registration_no")
        if petition.received_at > as_utc(now):
            raise ConfigError(f"received_at {petition.received_at.isoformat()} is in the future",
                              field="received_at")
        link = repeat_of or petition.repeat_of
        case = cls(id=case_id, registration_no=registration_no.strip(), petition=petition,
                   policy_id=policy.id, stage=Stage.REGISTERED, registered_at=now,
                   repeat_of=link, signal=signal)
        case._open(K.ACCEPTANCE_NOTICE, petition.received_at)
        case._record(Stage.REGISTERED, EventType.CASE_REGISTERED, actor, now,
                     registration_no=case.registration_no, channel=petition.channel.value,
                     category=petition.category.value, subject=petition.subject,
                     headcount=petition.headcount, representatives=petition.representatives,
                     key_person=petition.key_person, policy=policy.id,
                     received_at=petition.received_at.isoformat(), signal=signal)
        if link:
            case._record(Stage.REGISTERED, EventType.REPEAT_LINKED, actor, now, earlier=link)
        return case

    def _check_decision(self, decision: RoutingDecision, org: OrgChart) -> None:
        if barred_unit(org, self.petition, decision.unit):
            raise ConfidentialityViolation(self.ref, f"unit '{decision.unit}' is the accused "
                                           "unit; an accusation never goes to it")
        org.unit(decision.unit)
        for who in filter(None, (decision.responder, decision.leader)):
            why = self._bar(org, who)
            if why:
                raise ConfidentialityViolation(self.ref, f"'{who}' may not handle this case "
                                               f"({why})")

    def assign(self, decision: RoutingDecision, *, actor: str, now: dt.datetime,
               rules: CaseRules) -> None:
        """Hand the case to its unit and first responder (首问负责)."""
        target = self._target(Action.ASSIGN)
        self._check_decision(decision, rules.org)
        self.unit, self.responder = decision.unit, decision.responder
        self.leader, self.leader_reasons = decision.leader, decision.leader_reasons
        self._open(K.FIRST_RESPONSE, now)
        self._open(K.ROUTING_OBJECTION, now)
        self._record(target, EventType.CASE_ASSIGNED, actor, now, unit=decision.unit,
                     responder=decision.responder, rule=decision.rule, leader=decision.leader,
                     leader_reasons=list(decision.leader_reasons))
        for bar in decision.bars:
            self._record(target, EventType.PERSON_RECUSED, actor, now, person=bar.who,
                         reason=bar.reason, role="routing")

    def object_to_routing(self, decision: RoutingDecision, *, reason: str, actor: str,
                          now: dt.datetime, rules: CaseRules) -> None:
        """The unit objects that the case is not its own (第二十三条, 5 working days)."""
        target = self._target(Action.OBJECT_ROUTING)
        why = _required(reason, self.ref, "a reason for the objection")
        self._window_open(K.ROUTING_OBJECTION, rules, now, "object to the routing")
        if decision.unit == self.unit:
            raise RuleViolation(self.ref, f"the case is already with unit '{self.unit}'")
        self._check_decision(decision, rules.org)
        previous = self.unit
        self._close(K.ROUTING_OBJECTION, now, Closing.DONE)
        self._close(K.FIRST_RESPONSE, now, Closing.CANCELLED)
        self.unit, self.responder = decision.unit, decision.responder
        self._open(K.FIRST_RESPONSE, now)
        self._record(target, EventType.ROUTING_OBJECTED, actor, now, from_unit=previous,
                     to_unit=decision.unit, responder=decision.responder, reason=why)

    def acknowledge(self, *, actor: str, now: dt.datetime) -> None:
        """The first responder's reply (首问复命): the matter is theirs to answer."""
        target = self._target(Action.ACKNOWLEDGE)
        if actor != self.responder:
            raise RuleViolation(self.ref, f"only the first responder '{self.responder}' "
                                f"acknowledges, not '{actor}'")
        self._close(K.FIRST_RESPONSE, now, Closing.DONE)
        self._record(target, EventType.RESPONSE_ACKNOWLEDGED, actor, now)

    @property
    def leader_required(self) -> bool:
        return bool(self.leader_reasons)

    def accept(self, *, actor: str, now: dt.datetime, notice: str = "") -> None:
        """Accept (受理) and tell the petitioner in writing; the 60-day clock starts."""
        action = Action.ACCEPT_FOR_LEADER if self.leader_required else Action.ACCEPT
        target = self._target(action)
        if self.leader_required and self.leader is None:
            raise RuleViolation(self.ref, "this case needs an owning leader "
                                f"({'、'.join(self.leader_reasons)}); name one first")
        self._close(K.ACCEPTANCE_NOTICE, now, Closing.DONE)
        self._close(K.ROUTING_OBJECTION, now, Closing.CANCELLED)
        self._open(K.HANDLING, now)
        if self.leader_required:
            self._open(K.LEADER_ACCEPTANCE, now)
        self._record(target, EventType.CASE_ACCEPTED, actor, now, notice=notice,
                     leader=self.leader, leader_reasons=list(self.leader_reasons))

    def decline(self, *, reason: str, actor: str, now: dt.datetime) -> None:
        """Not accepted (不予受理) or referred elsewhere; the petitioner is told why."""
        target = self._target(Action.DECLINE)
        why = _required(reason, self.ref, "a reason for not accepting")
        self._close(K.ACCEPTANCE_NOTICE, now, Closing.DONE)
        self._cancel_all(now)
        self._record(target, EventType.CASE_DECLINED, actor, now, reason=why)

    # --- leader ownership ---------------------------------------------------------------
    def name_leader(self, leader: str, *, reason: str, actor: str, now: dt.datetime,
                    rules: CaseRules) -> None:
        """Name the leader who owns the case until it is settled (领导包案)."""
        target = self._target(Action.NAME_LEADER)
        why = _required(reason, self.ref, "a reason for naming a leader")
        rules.org.person(leader)
        barred = self._bar(rules.org, leader)
        if barred:
            raise ConfidentialityViolation(self.ref, f"'{leader}' may not own this case "
                                           f"({barred})")
        self.leader = leader
        if not self.leader_reasons:
            self.leader_reasons = (why,)
        if target is Stage.LEADER_PENDING:
            self._close(K.LEADER_ACCEPTANCE, now, Closing.CANCELLED)
            self._open(K.LEADER_ACCEPTANCE, now)
        self._record(target, EventType.LEADER_NAMED, actor, now, leader=leader, reason=why)

    def leader_accept(self, *, actor: str, now: dt.datetime) -> None:
        """The named leader accepts ownership."""
        target = self._target(Action.LEADER_ACCEPT)
        if actor != self.leader:
            raise RuleViolation(self.ref, f"only the named leader '{self.leader}' accepts "
                                f"ownership, not '{actor}'")
        self._close(K.LEADER_ACCEPTANCE, now, Closing.DONE)
        self._record(target, EventType.LEADER_ACCEPTED, actor, now)

    # --- the clock ledger -----------------------------------------------------------------
    def _running(self) -> Clock:
        c = self.clock(_TIMED_CLOCK[self._stage])
        if c is None or not c.is_open:
            raise ClockError(self.ref, "no running clock to pause or resume")
        return c

    def _paused(self, c: Clock) -> bool:
        mine = [e for e in self.ledger if e.clock == c.key and e.kind is not EntryKind.EXTEND]
        return bool(mine) and mine[-1].kind is EntryKind.PAUSE

    def pause_clock(self, *, reason: PauseReason | None, basis: str, actor: str,
                    now: dt.datetime) -> None:
        """Stop the running clock (a hearing, missing material); the time does not count."""
        target = self._target(Action.PAUSE_CLOCK)
        if reason is None:
            raise ClockError(self.ref, "a pause needs a reason: "
                             + ", ".join(r.value for r in PauseReason))
        why = basis.strip() if basis else ""
        if not why:
            raise ClockError(self.ref, "a pause needs its basis (the hearing notice, the "
                             "request for material)")
        c = self._running()
        if self._paused(c):
            raise ClockError(self.ref, f"the {c.kind.value} clock is already paused")
        self.ledger.append(LedgerEntry(EntryKind.PAUSE, c.key, as_utc(now), actor,
                                       reason.value, why, pause_reason=reason))
        self._record(target, EventType.CLOCK_PAUSED, actor, now, clock=c.key,
                     reason=reason.value, basis=why)

    def resume_clock(self, *, actor: str, now: dt.datetime, basis: str = "") -> None:
        """Restart a paused clock."""
        target = self._target(Action.RESUME_CLOCK)
        c = self._running()
        if not self._paused(c):
            raise ClockError(self.ref, f"the {c.kind.value} clock is not paused")
        since = next(e.at for e in reversed(self.ledger)
                     if e.clock == c.key and e.kind is EntryKind.PAUSE)
        self.ledger.append(LedgerEntry(EntryKind.RESUME, c.key, as_utc(now), actor, "resume",
                                       basis.strip()))
        self._record(target, EventType.CLOCK_RESUMED, actor, now, clock=c.key,
                     paused_for=format_duration(as_utc(now) - as_utc(since)))

    def extend(self, period: Period, *, reason: str, approver: str, actor: str,
               now: dt.datetime, rules: CaseRules) -> None:
        """Extend the handling limit once, within the policy's maximum, approved by the head
        of the unit or someone above (第三十四条); the petitioner is told why."""
        target = self._target(Action.EXTEND)
        rule = rules.policy.extension
        c = self.clock(K.HANDLING)
        if c is None or not c.is_open or K.HANDLING not in rule.applies_to:
            raise ExtensionRefused(self.ref, "only a running handling limit can be extended")
        if not reason or not reason.strip():
            raise ExtensionRefused(self.ref, "an extension needs a reason; the petitioner "
                                   "is told it")
        view = evaluate(c, self.ledger, rules.policy, rules.calendar, now)
        if len(view.extensions) >= rule.max_count:
            first = view.extensions[0]
            raise ExtensionRefused(
                self.ref, f"the handling limit was already extended on {first.at:%Y-%m-%d} by "
                f"{first.extension} ({first.approver}); at most {rule.max_count} extension")
        if period.unit is not rule.max_period.unit or period.amount > rule.max_period.amount:
            raise ExtensionRefused(self.ref, f"an extension of {period} is over the limit of "
                                   f"{rule.max_period} ({rule.basis})")
        allowed = self._approvers(rule.approver_role, rules.org)
        if approver not in allowed:
            raise ExtensionRefused(self.ref, f"'{approver}' may not approve: an extension is "
                                   f"approved by the {rule.approver_role.value} or above "
                                   f"({', '.join(sorted(allowed))})")
        if view.state is DeadlineState.BREACHED:
            raise ExtensionRefused(self.ref, f"the handling limit passed on {view.due_date}; "
                                   "an extension is approved before it")
        self.ledger.append(LedgerEntry(EntryKind.EXTEND, c.key, as_utc(now), actor,
                                       reason.strip(), rule.basis, extension=period,
                                       approver=approver))
        new = evaluate(c, self.ledger, rules.policy, rules.calendar, now)
        self._record(target, EventType.DEADLINE_EXTENDED, actor, now, clock=c.key,
                     by=str(period), amount=period.amount, unit=period.unit.value,
                     reason=reason.strip(), approver=approver,
                     old_due=view.due_date.isoformat(), new_due=new.due_date.isoformat())

    def _approvers(self, lowest: Role, org: OrgChart) -> set[str]:
        holders = self.holders()
        out: set[str] = set()
        role: Role | None = lowest
        while role is not None:
            who = holder_of(role, holders, org)
            if who:
                out.add(who)
            role = role.above()
        return out

    def holders(self) -> Holders:
        return Holders(self.unit, self.responder, self.leader)

    # --- decision, rating, review -----------------------------------------------------
    def _finish_timed(self, kind: DeadlineKind, now: dt.datetime) -> None:
        c = self.clock(kind)
        if c is not None and self._paused(c):
            raise ClockError(self.ref, f"the {kind.value} clock is paused; resume it first")
        self._close(kind, now, Closing.DONE)

    def report_completion(self, *, summary: str, actor: str, now: dt.datetime,
                          rules: CaseRules) -> None:
        """完成任务报告制: the handler (first responder, owning leader or the unit's head)
        reports the task on the running clock done. A later report supersedes an earlier
        one; both stay in the timeline."""
        target = self._target(Action.REPORT_COMPLETION)
        text = _required(summary, self.ref, "the completion report's summary")
        c = self.clock(_TIMED_CLOCK[self._stage])
        if c is None or not c.is_open:
            raise RuleViolation(self.ref, "no task is running to report on")
        handlers = self._handlers(rules.org)
        if actor not in handlers:
            raise RuleViolation(self.ref, f"a completion report is filed by the case's "
                                f"handler ({', '.join(sorted(handlers))}), not '{actor}'")
        self.reports.append(CompletionReport(c.key, actor, as_utc(now), text))
        self._record(target, EventType.COMPLETION_REPORTED, actor, now, clock=c.key,
                     summary=text)

    def _handlers(self, org: OrgChart) -> set[str]:
        head = org.units[self.unit].head if self.unit and self.unit in org.units else None
        return {p for p in (self.responder, self.leader, head) if p}

    def completion_report(self, clock: str) -> CompletionReport | None:
        """The latest completion report on ``clock``, if one was filed."""
        return next((r for r in reversed(self.reports) if r.clock == clock), None)

    def _require_report(self, kind: DeadlineKind) -> None:
        c = self.clock(kind)
        if c is not None and self.completion_report(c.key) is None:
            raise RuleViolation(self.ref, f"the handler has not filed a completion report "
                                f"(完成任务报告) for {kind.label}; a task is not closed "
                                "before it")

    def decide(self, outcome: Outcome, *, summary: str, actor: str, now: dt.datetime,
               resolution: Resolution | None = None) -> None:
        """Issue the written decision (信访处理意见书, 第三十二条), classed under "three in
        place" (三个到位), once the handler has filed a completion report."""
        target = self._target(Action.DECIDE)
        text = _required(summary, self.ref, "the written decision's summary")
        if resolution is None:
            raise RuleViolation(self.ref, "class the outcome (三个到位): resolved, explained "
                                "or assisted")
        self._check_class(outcome, resolution)
        self._require_report(K.HANDLING)
        self._finish_timed(K.HANDLING, now)
        self.outcome, self.resolution = outcome, resolution
        self._open(K.RATING, now)
        self._open(K.REVIEW_REQUEST, now)
        self._record(target, EventType.DECISION_ISSUED, actor, now, outcome=outcome.value,
                     summary=text, resolution=resolution.value)

    def rate(self, rating: Rating, *, actor: str, now: dt.datetime, rules: CaseRules) -> None:
        """The petitioner's rating of the handling."""
        target = self._target(Action.RATE)
        if rating is Rating.EXPIRED_UNRATED:
            raise RuleViolation(self.ref, "'expired_unrated' is set when the window ends, "
                                "not given")
        self._window_open(K.RATING, rules, now, "rate the handling")
        self._close(K.RATING, now, Closing.DONE)
        self.rating = rating
        self._record(target, EventType.CASE_RATED, actor, now, rating=rating.value)

    def request_review(self, *, reason: str, actor: str, now: dt.datetime,
                       rules: CaseRules) -> None:
        """The petitioner asks for a review (复查, 第三十五条) within 30 days."""
        target = self._target(Action.REQUEST_REVIEW)
        why = _required(reason, self.ref, "a reason for the review")
        if self.rating is not None and self.rating.content:
            raise RuleViolation(self.ref, f"the petitioner rated the handling "
                                f"'{self.rating.value}'; a review follows dissatisfaction")
        self._window_open(K.REVIEW_REQUEST, rules, now, "request a review")
        self._close(K.REVIEW_REQUEST, now, Closing.DONE)
        self._close(K.RATING, now, Closing.CANCELLED)
        self._open(K.REVIEW_DECISION, now)
        self._record(target, EventType.REVIEW_REQUESTED, actor, now, reason=why)

    def _check_class(self, outcome: Outcome, resolution: Resolution | None) -> None:
        if resolution is not None and not resolution.fits(outcome):
            raise RuleViolation(self.ref, f"a decision '{outcome.value}' cannot be classed "
                                f"'{resolution.value}' ({resolution.label})")

    def _reclass(self, resolution: Resolution | None) -> dict[str, str]:
        if resolution is None:
            return {}
        self.resolution = resolution
        return {"resolution": resolution.value}

    def decide_review(self, outcome: Outcome, *, summary: str, actor: str,
                      now: dt.datetime, resolution: Resolution | None = None) -> None:
        """The review opinion (复查意见), after the completion report; it may class the
        outcome anew (三个到位)."""
        target = self._target(Action.DECIDE_REVIEW)
        text = _required(summary, self.ref, "the review opinion's summary")
        self._require_report(K.REVIEW_DECISION)
        self._check_class(outcome, resolution)
        self._finish_timed(K.REVIEW_DECISION, now)
        extra = self._reclass(resolution)
        self._open(K.RE_REVIEW_REQUEST, now)
        self._record(target, EventType.REVIEW_DECIDED, actor, now, outcome=outcome.value,
                     summary=text, **extra)

    def request_re_review(self, *, reason: str, actor: str, now: dt.datetime,
                          rules: CaseRules) -> None:
        """Re-review (复核, 第三十六条) within 30 days of the review opinion."""
        target = self._target(Action.REQUEST_RE_REVIEW)
        why = _required(reason, self.ref, "a reason for the re-review")
        self._window_open(K.RE_REVIEW_REQUEST, rules, now, "request a re-review")
        self._close(K.RE_REVIEW_REQUEST, now, Closing.DONE)
        self._open(K.RE_REVIEW_DECISION, now)
        self._record(target, EventType.RE_REVIEW_REQUESTED, actor, now, reason=why)

    def decide_re_review(self, outcome: Outcome, *, summary: str, actor: str,
                         now: dt.datetime, resolution: Resolution | None = None) -> None:
        """The re-review opinion is final: the same matter is not accepted again."""
        target = self._target(Action.DECIDE_RE_REVIEW)
        text = _required(summary, self.ref, "the re-review opinion's summary")
        self._require_report(K.RE_REVIEW_DECISION)
        self._check_class(outcome, resolution)
        self._finish_timed(K.RE_REVIEW_DECISION, now)
        extra = self._reclass(resolution)
        self._record(target, EventType.RE_REVIEW_DECIDED, actor, now, outcome=outcome.value,
                     summary=text, final=True, **extra)

    def strike_off(self, *, actor: str, now: dt.datetime, rules: CaseRules,
                   note: str = "") -> None:
        """Strike the case off the ledger (销号) once the matter is settled."""
        target = self._target(Action.STRIKE_OFF)
        waiting = {Stage.RATED: (K.REVIEW_REQUEST, "request a review"),
                   Stage.REVIEWED: (K.RE_REVIEW_REQUEST, "request a re-review")}
        if self._stage in waiting and not (self._stage is Stage.RATED and self.rating
                                           and self.rating.content):
            kind, what = waiting[self._stage]
            v = self.view(kind, rules, now)
            if v is not None and v.state is DeadlineState.OPEN:
                raise RuleViolation(self.ref, f"the petitioner may still {what} until "
                                    f"{v.due_date}; strike off after that")
        self._cancel_all(now)
        self._record(target, EventType.CASE_STRUCK_OFF, actor, now, note=note.strip())

    def recuse(self, person: str, *, reason: str, actor: str, now: dt.datetime,
               rules: CaseRules, replacement: str | None = None) -> None:
        """Record a recusal (回避); a responder or leader who recuses is replaced."""
        target = self._target(Action.RECUSE)
        why = _required(reason, self.ref, "a reason for the recusal")
        rules.org.person(person)
        role = ("responder" if person == self.responder
                else "leader" if person == self.leader else "none")
        if role != "none":
            if not replacement:
                raise RuleViolation(self.ref, f"'{person}' is the case's {role}; name a "
                                    "replacement")
            rules.org.person(replacement)
            barred = (replacement == person or self._bar(rules.org, replacement)
                      or (role == "responder"
                          and rules.org.person(replacement).unit != self.unit))
            if barred:
                raise RuleViolation(self.ref, f"'{replacement}' cannot replace '{person}' "
                                    f"as {role}")
        self.recused[person] = why
        if role == "responder":
            self.responder = replacement
        elif role == "leader":
            self.leader = replacement
        self._record(target, EventType.PERSON_RECUSED, actor, now, person=person, reason=why,
                     role=role, replacement=replacement)

    # --- escalation ---------------------------------------------------------------------
    def schedule(self, rules: CaseRules, now: dt.datetime) -> list[DueRung]:
        """Every rung not yet fired on a running (not paused) clock, soonest first."""
        return pending_rungs(self.deadlines(rules, now), rules.policy, self.fired,
                             rules.key_periods)

    def due_rungs(self, rules: CaseRules, now: dt.datetime) -> list[DueRung]:
        """The rungs whose time has come at ``now``."""
        return [d for d in self.schedule(rules, now) if d.fire_at <= as_utc(now)]

    def next_firing_at(self, rules: CaseRules, now: dt.datetime) -> pendulum.DateTime | None:
        """When the next rung fires (what storage indexes), or None."""
        pending = self.schedule(rules, now)
        return pending[0].fire_at if pending else None

    def fire_rung(self, clock: str, name: str, *, actor: str, now: dt.datetime,
                  rules: CaseRules) -> None:
        """Fire one due rung, at most once: record who was told, and every role skipped."""
        target = self._target(Action.FIRE_RUNG)
        due = next((d for d in self.schedule(rules, now)
                    if d.clock == clock and d.name == name), None)
        if due is None:
            fired = (clock, name) in self.fired
            raise RuleViolation(self.ref, f"rung '{name}' of '{clock}' "
                                + ("has already fired" if fired else "is not pending"))
        if due.fire_at > as_utc(now):
            raise RuleViolation(self.ref, f"rung '{name}' of '{clock}' is not due until "
                                f"{due.fire_at.isoformat()}")
        view = evaluate(self.clocks[clock], self.ledger, rules.policy, rules.calendar, now)
        if due.rung is None:
            self._lapse(view, actor, now)
        else:
            self._escalate(due.rung, view, actor, now, rules, target, due.key_period)
        self.fired.add((clock, name))

    def _lapse(self, view: DeadlineView, actor: str, now: dt.datetime) -> None:
        self._close(view.kind, view.due_at, Closing.LAPSED)
        if view.kind is K.RATING:
            target = self._target(Action.EXPIRE_RATING)
            self.rating = Rating.EXPIRED_UNRATED
            self._record(target, EventType.RATING_EXPIRED, actor, now, clock=view.key,
                         ended=view.due_date.isoformat())
        else:
            self._record(self._stage, EventType.WINDOW_LAPSED, actor, now, clock=view.key,
                         kind=view.kind.value, ended=view.due_date.isoformat())

    def _escalate(self, rung: Rung, view: DeadlineView, actor: str, now: dt.datetime,
                  rules: CaseRules, target: Stage, key_period: str | None) -> None:
        person, reached, skips = resolve(rung.role, self.holders(), rules.org,
                                         lambda p: self._bar(rules.org, p))
        for skip in skips:
            self._record(target, EventType.ESCALATION_ROLE_UNRESOLVED, actor, now,
                         clock=view.key, rung=rung.name, role=skip.role.value,
                         reason=skip.reason, went_to=reached.value)
        overdue = as_utc(now) - view.due_at
        self._record(target, _LEVEL_EVENT[rung.level], actor, now, clock=view.key,
                     kind=view.kind.value, rung=rung.name, level=rung.level.value,
                     role=rung.role.value, reached_as=reached.value, recipient=person,
                     due=view.due_at.isoformat(), due_date=view.due_date.isoformat(),
                     overdue=format_duration(overdue) if overdue.total_seconds() > 0 else None,
                     holder=self.responder, leader=self.leader,
                     warnings=list(view.warnings), key_period=key_period)
