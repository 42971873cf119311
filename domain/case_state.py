"""What a case is: its identity, its stage and holders, and the one way its stage moves.

The aggregate is built in layers, one idea each: ``CaseState`` (this module: identity, the
transition table, the audit events), ``ClockBook`` (``clockbook.py``: the deadline clocks and
their ledger), ``RungFiring`` (``firing.py``: reminders, warnings, breaches, escalations) and
``Case`` (``case.py``: the stage commands). ``Case`` is the only class anything outside the
domain builds or changes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from domain.calendar import WorkingCalendar
from domain.deadlines import Clock, LedgerEntry
from domain.errors import ConfigError, IllegalTransition, RuleViolation
from domain.escalation import Holders
from domain.events import DomainEvent, EventType
from domain.instants import as_utc
from domain.key_periods import KeyPeriods
from domain.org import OrgChart
from domain.outcomes import CompletionReport, Outcome, Rating, Resolution
from domain.petition import Petition
from domain.policy import DeadlinePolicy
from domain.routing import barred_person
from domain.stages import TRANSITIONS, Action, Stage, allowed_actions


@dataclass(frozen=True)
class CaseRules:
    """What a case needs to derive its deadlines and resolve people."""

    policy: DeadlinePolicy
    calendar: WorkingCalendar
    org: OrgChart
    key_periods: KeyPeriods = dataclasses.field(default_factory=KeyPeriods)


def required(text: str | None, case_ref: str, what: str) -> str:
    """``text`` stripped, or a ``RuleViolation`` saying ``what`` is required."""
    if text is None or not text.strip():
        raise RuleViolation(case_ref, f"{what} is required")
    return text.strip()


class CaseState:
    """A case's data and the one place its stage changes. Storage restores a case with
    ``Case(...)``; new cases come from ``Case.register``."""

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
                 signal: str | None = None, deciders: dict[str, str] | None = None,
                 escalated_to: set[str] | None = None,
                 rung_failures: dict[str, tuple[int, dt.datetime]] | None = None,
                 known_due: dict[str, str] | None = None, triage: str | None = None,
                 office: str = "main", links: dict[str, str] | None = None,
                 pending: dict[str, dict[str, str]] | None = None,
                 listing: dict[str, Any] | None = None) -> None:
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
        # Who issued each decision: "decision", "review", "re_review" (nobody reviews their
        # own decision).
        self.deciders = dict(deciders or {})
        # The top of the chain (mine head, party secretary) an escalation reached.
        self.escalated_to = set(escalated_to or set())
        # "clock/rung" → (failed attempts, not before): a rung that could not fire waits.
        self.rung_failures = dict(rung_failures or {})
        # clock → the due date people were last told (ISO), to tell them if it moves.
        self.known_due = dict(known_due or {})
        # Why no rule could route it: it waits in the triage queue (待分办) for the office.
        self.triage = triage
        # The office (of the installation's tree) the case belongs to, and its links to
        # cases of other offices: "review_of"/"review_case" (复查 decided a level up),
        # "re_review_of"/"re_review_case", "handed_down_from"/"handed_down_to" (交办).
        self.office = office
        self.links = dict(links or {})
        # What a person asked of another and waits for: "extension" (申请延期: by, at,
        # days, reason) until approved or refused; "report" (要求报告: by, at, note) until
        # the handler reports.
        self.pending = {k: dict(v) for k, v in (pending or {}).items()}
        # 挂牌督办 (``domain.listing``): the listing body, its reference, the required date,
        # the report cadence and the reports filed to it; None when not listed.
        self.listing: dict[str, Any] | None = dict(listing) if listing else None
        # The measures' facts (``domain.measures.Facts``) as the use cases derived them at
        # the last commit, stored beside the case: a period's measures are sums of them.
        self.measured: object | None = None
        self.events: list[DomainEvent] = []

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
        self._settle_pending(type, data)

    def _settle_pending(self, type: EventType, data: dict[str, object]) -> None:
        """Drop what was asked and can no longer be answered: an extension once the case
        left the stages it is asked in, its limit passed, or its asker no longer handles
        the case; a report once its task's clock stopped or its asker was recused."""
        ext = self.pending.get("extension")
        if ext and (self._stage not in (Stage.LEADER_PENDING, Stage.HANDLING)
                    or ext["by"] not in (self.responder, self.leader)
                    or ext["by"] in self.recused
                    or (type is EventType.DEADLINE_BREACHED
                        and data.get("clock") == ext.get("clock"))):
            del self.pending["extension"]
        rep = self.pending.get("report")
        if rep:
            c = self.clocks.get(rep.get("clock", ""))
            if c is None or not c.is_open or rep["by"] in self.recused:
                del self.pending["report"]

    def attribute(self, since: int, **facts: str) -> None:
        """Add how a change came to the events it recorded (those from index ``since``):
        the channel it came through (``via``), and for whom (``on_behalf_of``)."""
        self.events[since:] = [dataclasses.replace(e, data={**e.data, **facts})
                               for e in self.events[since:]]

    def _check_rules(self, rules: CaseRules) -> None:
        if rules.policy.id != self.policy_id:
            raise ConfigError(f"case {self.ref} is under policy '{self.policy_id}', "
                              f"not '{rules.policy.id}'")

    def _bar(self, org: OrgChart, person: str) -> str | None:
        bar = barred_person(org, self.petition, person, self.recused)
        return bar.reason if bar else None

    def holders(self) -> Holders:
        return Holders(self.unit, self.responder, self.leader)
