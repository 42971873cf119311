"""The case aggregate: one petition from registration to strike-off (销号).

Every public method validates first and changes nothing on error; on success it moves the
stage through ``stages.TRANSITIONS`` and appends the domain events that storage persists in
the same transaction. ``now`` is always an argument (a UTC instant). This module holds the
stage commands; the clocks, their ledger and rung firing are the layers below
(``case_state.py`` says how the aggregate is built).
"""

from __future__ import annotations

import datetime as dt
import re

from domain.case_state import CaseRules, required
from domain.clockbook import TIMED_CLOCK
from domain.deadlines import Closing, DeadlineState
from domain.errors import ConfidentialityViolation, ConfigError, RuleViolation
from domain.events import EventType
from domain.instants import as_utc
from domain.linking import Linked
from domain.listing import Listing
from domain.org import OrgChart
from domain.outcomes import CompletionReport, Outcome, Rating, Resolution
from domain.petition import Petition, check_received
from domain.policy import DeadlineKind, DeadlinePolicy
from domain.routing import RoutingDecision, barred_unit
from domain.stages import Action, Stage

__all__ = ["Case", "CaseRules"]

K = DeadlineKind
# A registration number (登记编号): it names files and addresses (/cases/<no>), so no
# separators, spaces or control characters.
REGISTRATION_NO = re.compile(r"[0-9A-Za-z\u4e00-\u9fff][0-9A-Za-z\u4e00-\u9fff〔〕()（）_.-]{0,63}")
_required = required


class Case(Linked, Listing):
    """One petition's case. Build with ``Case.register``; storage restores with ``Case(...)``."""

    # --- intake and routing -----------------------------------------------------------
    @classmethod
    def register(cls, *, case_id: str, registration_no: str, petition: Petition,
                 policy: DeadlinePolicy, actor: str, now: dt.datetime,
                 repeat_of: str | None = None, signal: str | None = None) -> Case:
        """Register (登记) a petition; the acceptance-notice clock runs from its receipt."""
        if not registration_no.strip():
            raise ConfigError("a registration number is required", field="registration_no")
        if not REGISTRATION_NO.fullmatch(registration_no.strip()):
            raise ConfigError(f"registration number {registration_no.strip()[:70]!r}: letters, "
                              "digits, 〔〕()-_. only, at most 64, starting with a letter or "
                              "digit", field="registration_no")
        check_received(petition, now)
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
        self.triage = None
        self._open(K.FIRST_RESPONSE, now)
        self._open(K.ROUTING_OBJECTION, now)
        self._record(target, EventType.CASE_ASSIGNED, actor, now, unit=decision.unit,
                     responder=decision.responder, rule=decision.rule, leader=decision.leader,
                     leader_reasons=list(decision.leader_reasons))
        for bar in decision.bars:
            self._record(target, EventType.PERSON_RECUSED, actor, now, person=bar.who,
                         reason=bar.reason, role="routing")

    def into_triage(self, reason: str, *, actor: str, now: dt.datetime) -> None:
        """No rule could route it (every unit or leader that could take it is barred, say):
        it waits, registered, in the triage queue (待分办) for the office to assign by hand.
        Its acceptance-notice clock keeps running. Recorded once."""
        self._target(Action.ASSIGN)  # only a registered case waits for routing
        if self.triage is None:
            self.triage = reason
            self._record(self._stage, EventType.ROUTING_FAILED, actor, now, reason=reason)

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

    def report_completion(self, *, summary: str, actor: str, now: dt.datetime,
                          rules: CaseRules) -> None:
        """完成任务报告制: the handler (first responder, owning leader or the unit's head)
        reports the task on the running clock done. A later report supersedes an earlier
        one; both stay in the timeline."""
        target = self._target(Action.REPORT_COMPLETION)
        text = _required(summary, self.ref, "the completion report's summary")
        c = self.clock(TIMED_CLOCK[self._stage])
        if c is None or not c.is_open:
            raise RuleViolation(self.ref, "no task is running to report on")
        handlers = self._handlers(rules.org)
        if actor not in handlers:
            raise RuleViolation(self.ref, f"a completion report is filed by the case's "
                                f"handler ({', '.join(sorted(handlers))}), not '{actor}'")
        self.reports.append(CompletionReport(c.key, actor, as_utc(now), text))
        asked = self.pending.pop("report", None)  # the report asked for: sent back to the asker
        back = asked["by"] if asked and asked["by"] != actor else None
        self._record(target, EventType.COMPLETION_REPORTED, actor, now, clock=c.key,
                     summary=text, **({"requested_by": back} if back else {}))

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
        self.deciders["decision"] = actor
        for kind in (K.REVIEW_DECISION, K.RE_REVIEW_DECISION):  # a review decided up here
            self._close(kind, now, Closing.DONE)
        self._finish_listing(now)
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
                       rules: CaseRules, referred: tuple[str, str] | None = None) -> None:
        """The petitioner asks for a review (复查, 第三十五条) within 30 days. ``referred``:
        the (office, case) a level up that decides it, on its own clocks (this case then
        runs none until the opinion comes back)."""
        target = self._target(Action.REQUEST_REVIEW)
        why = _required(reason, self.ref, "a reason for the review")
        if self.rating is not None and self.rating.content:
            raise RuleViolation(self.ref, f"the petitioner rated the handling "
                                f"'{self.rating.value}'; a review follows dissatisfaction")
        self._window_open(K.REVIEW_REQUEST, rules, now, "request a review")
        self._close(K.REVIEW_REQUEST, now, Closing.DONE)
        self._close(K.RATING, now, Closing.CANCELLED)
        if referred is None:
            self._open(K.REVIEW_DECISION, now)
            self._record(target, EventType.REVIEW_REQUESTED, actor, now, reason=why)
            return
        self.links["review_case"] = referred[1]
        self._record(target, EventType.REVIEW_REQUESTED, actor, now, reason=why,
                     decided_by_office=referred[0], review_case=referred[1])

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
                      now: dt.datetime, resolution: Resolution | None = None,
                      above: tuple[str, str] | None = None) -> None:
        """The review opinion (复查意见), after the completion report; it may class the
        outcome anew (三个到位). ``above``: the (office, case) a level up that decided it
        (its completion report is there)."""
        target = self._target(Action.DECIDE_REVIEW)
        text = _required(summary, self.ref, "the review opinion's summary")
        if above is None:
            self._require_report(K.REVIEW_DECISION)
        elif self.links.get("review_case") != above[1]:
            raise RuleViolation(self.ref, f"its review is not decided in case {above[1]}")
        self._check_class(outcome, resolution)
        self._finish_timed(K.REVIEW_DECISION, now)
        extra = self._reclass(resolution)
        self.deciders["review"] = actor
        self._open(K.RE_REVIEW_REQUEST, now)
        where = {"decided_by_office": above[0], "review_case": above[1]} if above else {}
        self._record(target, EventType.REVIEW_DECIDED, actor, now, outcome=outcome.value,
                     summary=text, **extra, **where)

    def request_re_review(self, *, reason: str, actor: str, now: dt.datetime,
                          rules: CaseRules, referred: tuple[str, str] | None = None) -> None:
        """Re-review (复核, 第三十六条) within 30 days of the review opinion; ``referred``:
        as for ``request_review``, two levels up."""
        target = self._target(Action.REQUEST_RE_REVIEW)
        why = _required(reason, self.ref, "a reason for the re-review")
        self._window_open(K.RE_REVIEW_REQUEST, rules, now, "request a re-review")
        self._close(K.RE_REVIEW_REQUEST, now, Closing.DONE)
        where: dict[str, str] = {}
        if referred is None:
            self._open(K.RE_REVIEW_DECISION, now)
        else:
            self.links["re_review_case"] = referred[1]
            where = {"decided_by_office": referred[0], "re_review_case": referred[1]}
        self._record(target, EventType.RE_REVIEW_REQUESTED, actor, now, reason=why, **where)

    def decide_re_review(self, outcome: Outcome, *, summary: str, actor: str,
                         now: dt.datetime, resolution: Resolution | None = None,
                         above: tuple[str, str] | None = None) -> None:
        """The re-review opinion is final: the same matter is not accepted again."""
        target = self._target(Action.DECIDE_RE_REVIEW)
        text = _required(summary, self.ref, "the re-review opinion's summary")
        if above is None:
            self._require_report(K.RE_REVIEW_DECISION)
        elif self.links.get("re_review_case") != above[1]:
            raise RuleViolation(self.ref, f"its re-review is not decided in case {above[1]}")
        self._check_class(outcome, resolution)
        self._finish_timed(K.RE_REVIEW_DECISION, now)
        extra = self._reclass(resolution)
        self.deciders["re_review"] = actor
        where = {"decided_by_office": above[0], "re_review_case": above[1]} if above else {}
        self._record(target, EventType.RE_REVIEW_DECIDED, actor, now, outcome=outcome.value,
                     summary=text, final=True, **extra, **where)

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

    def withdraw(self, *, reason: str, actor: str, now: dt.datetime) -> None:
        """The petitioner withdraws (撤回) the petition, or the review asked for; every
        running clock stops. Office staff enter it for the petitioner."""
        target = self._target(Action.WITHDRAW)
        why = _required(reason, self.ref, "the petitioner's reason for withdrawing")
        self._cancel_all(now)
        self._record(target, EventType.CASE_WITHDRAWN, actor, now, reason=why)

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
