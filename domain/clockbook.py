"""The case's deadline clocks and their ledger: which clocks run, their views at an instant,
and the pauses and extensions people record (each with reason, person and basis); and what
people ask of each other about the running task (an extension, a report: ``Case.pending``).

A layer of the case aggregate (see ``case_state.py``); due dates are derived by
``deadlines.evaluate`` from the clock and the ledger, never stored.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from domain.case_state import CaseRules, CaseState, required
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
from domain.errors import ClockError, ExtensionRefused, RuleViolation
from domain.escalation import holder_of
from domain.events import EventType
from domain.instants import as_utc, format_duration
from domain.org import OrgChart
from domain.periods import Period
from domain.periods import Unit as PeriodUnit
from domain.policy import DeadlineKind, Role
from domain.stages import Action, Stage

K = DeadlineKind
# The clock a person's task runs on in each stage (what a pause stops, what a completion
# report reports on).
TIMED_CLOCK = {Stage.LEADER_PENDING: K.HANDLING, Stage.HANDLING: K.HANDLING,
               Stage.UNDER_REVIEW: K.REVIEW_DECISION,
               Stage.UNDER_RE_REVIEW: K.RE_REVIEW_DECISION}


class ClockBook(CaseState):
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

    # --- the clock ledger -----------------------------------------------------------------
    def _running(self) -> Clock:
        c = self.clock(TIMED_CLOCK[self._stage])
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
        self.known_due.pop(c.key, None)  # moved by this act, and said so: not revised
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
        self.known_due.pop(c.key, None)
        self.ledger.append(LedgerEntry(EntryKind.RESUME, c.key, as_utc(now), actor, "resume",
                                       basis.strip()))
        self._record(target, EventType.CLOCK_RESUMED, actor, now, clock=c.key,
                     paused_for=format_duration(as_utc(now) - as_utc(since)))

    def extend(self, period: Period, *, reason: str, approver: str, actor: str,
               now: dt.datetime, rules: CaseRules, requested_by: str = "") -> None:
        """Extend the handling limit once, within the policy's maximum, approved by the head
        of the unit or someone above (第三十四条); the petitioner is told why. The approver
        extends it (anyone else asks: ``request_extension``); a request waiting for approval
        is answered by it."""
        target = self._target(Action.EXTEND)
        c, view = self._extensible(period, reason, now, rules)
        if approver != actor:  # an approval only its approver records
            raise ExtensionRefused(self.ref, f"'{actor}' may not record an approval by "
                                   f"'{approver}': ask for it (申请延期, request-extension), "
                                   "or the approver extends it")
        allowed = self._approvers(rules.policy.extension.approver_role, rules.org)
        if approver not in allowed:
            raise ExtensionRefused(self.ref, f"'{approver}' may not approve: an extension is "
                                   f"approved by the {rules.policy.extension.approver_role.value}"
                                   f" or above ({', '.join(sorted(allowed))})")
        self.known_due.pop(c.key, None)
        self.pending.pop("extension", None)
        self.ledger.append(LedgerEntry(EntryKind.EXTEND, c.key, as_utc(now), actor,
                                       reason.strip(), rules.policy.extension.basis,
                                       extension=period, approver=approver))
        new = evaluate(c, self.ledger, rules.policy, rules.calendar, now)
        self._record(target, EventType.DEADLINE_EXTENDED, actor, now, clock=c.key,
                     by=str(period), amount=period.amount, unit=period.unit.value,
                     reason=reason.strip(), approver=approver,
                     old_due=view.due_date.isoformat(), new_due=new.due_date.isoformat(),
                     **({"requested_by": requested_by} if requested_by else {}))

    def _extensible(self, period: Period, reason: str, now: dt.datetime,
                    rules: CaseRules) -> tuple[Clock, DeadlineView]:
        """The running handling clock and its view, if it may be extended by ``period``."""
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
        if view.state is DeadlineState.BREACHED:
            raise ExtensionRefused(self.ref, f"the handling limit passed on {view.due_date}; "
                                   "an extension is approved before it")
        return c, view

    def request_extension(self, period: Period, *, reason: str, actor: str, now: dt.datetime,
                          rules: CaseRules) -> None:
        """申请延期: a handler asks for ``period`` more; the unit's head or someone above
        approves (``answer_extension``), in two taps from the message it brings them."""
        target = self._target(Action.REQUEST_EXTENSION)
        if actor not in (self.responder, self.leader):
            raise ExtensionRefused(self.ref, f"an extension is asked by the case's first "
                                   f"responder or owning leader, not '{actor}'")
        waiting = self.pending.get("extension")
        if waiting:
            raise ExtensionRefused(self.ref, f"an extension asked by '{waiting['by']}' on "
                                   f"{waiting['at'][:10]} waits for approval")
        c, view = self._extensible(period, reason, now, rules)
        role = rules.policy.extension.approver_role
        chain = [p for p in self._approver_chain(role, rules.org) if p != actor]
        if not chain:
            raise ExtensionRefused(self.ref, "nobody else may approve it: an approver extends "
                                   "the limit directly")
        # The lowest approver is asked; those above may answer too (from the case page).
        self.pending["extension"] = {"by": actor, "at": as_utc(now).isoformat(),
                                     "amount": str(period.amount), "unit": period.unit.value,
                                     "reason": reason.strip(), "role": role.value,
                                     "notify": chain[0], "clock": c.key}
        self._record(target, EventType.EXTENSION_REQUESTED, actor, now, clock=c.key,
                     by=str(period), amount=period.amount, unit=period.unit.value,
                     reason=reason.strip(), due=view.due_date.isoformat(),
                     notify=[chain[0]])

    def request_report(self, *, actor: str, now: dt.datetime, rules: CaseRules,
                       note: str = "") -> None:
        """要求报告: a leader over the case asks its handlers (the first responder and the
        owning leader) to report on the running task; their next completion report answers
        it and is sent back to the leader."""
        target = self._target(Action.REQUEST_REPORT)
        c = self.clock(TIMED_CLOCK[self._stage])
        if c is None or not c.is_open:
            raise RuleViolation(self.ref, "no task is running to report on")
        to = sorted(p for p in (self.responder, self.leader)
                    if p and p != actor and not self._bar(rules.org, p))
        if not to:
            raise RuleViolation(self.ref, "nobody but you handles it: there is no one to ask")
        if "report" in self.pending:
            raise RuleViolation(self.ref, f"a report asked by '{self.pending['report']['by']}' "
                                "waits for the handler")
        self.pending["report"] = {"by": actor, "at": as_utc(now).isoformat(),
                                  "note": (note or "").strip(), "clock": c.key}
        self._record(target, EventType.REPORT_REQUESTED, actor, now, clock=c.key, to=to,
                     **({"note": note.strip()} if note and note.strip() else {}))

    def extension_approvers(self, org: OrgChart) -> frozenset[str]:
        """Who may answer the extension request that waits, now (none if none waits): the
        policy's approver or those above as the org chart holds them today, never the asker,
        the accused or the recused."""
        asked = self.pending.get("extension")
        if not asked:
            return frozenset()
        return frozenset(self._approver_chain(Role(asked["role"]), org)) - {asked["by"]}

    def answer_extension(self, approve: bool, *, actor: str, now: dt.datetime,
                         rules: CaseRules, reason: str = "") -> None:
        """批准 / 不批准延期: an approver answers the request that waits; approving extends
        the limit by the period and for the reason asked (the petitioner is told them)."""
        target = self._target(Action.ANSWER_EXTENSION)
        asked = self.pending.get("extension")
        if not asked:
            raise RuleViolation(self.ref, "no extension request waits for an answer")
        if actor == asked["by"]:
            raise RuleViolation(self.ref, "one does not answer one's own extension request")
        if approve:
            period = Period(int(asked["amount"]), PeriodUnit(asked["unit"]))
            self.extend(period, reason=asked["reason"], approver=actor, actor=actor, now=now,
                        rules=rules, requested_by=asked["by"])
            return
        allowed = self._approvers(rules.policy.extension.approver_role, rules.org)
        if actor not in allowed:
            raise ExtensionRefused(self.ref, f"'{actor}' may not answer it: an extension is "
                                   f"approved by {', '.join(sorted(allowed))}")
        why = required(reason, self.ref, "the reason for refusing")
        del self.pending["extension"]
        c = self.clock(K.HANDLING)
        self._record(target, EventType.EXTENSION_REFUSED, actor, now,
                     clock=c.key if c else "", requested_by=asked["by"], reason=why,
                     by=str(Period(int(asked["amount"]), PeriodUnit(asked["unit"]))))

    def _approvers(self, lowest: Role, org: OrgChart) -> set[str]:
        return set(self._approver_chain(lowest, org))

    def _approver_chain(self, lowest: Role, org: OrgChart) -> list[str]:
        """The holders of ``lowest`` and each role above it, lowest first."""
        holders = self.holders()
        out: list[str] = []
        role: Role | None = lowest
        while role is not None:
            who = holder_of(role, holders, org)
            if who and not self._bar(org, who) and who not in out:  # never the accused,
                out.append(who)                                      # nor the recused
            role = role.above()
        return out

    def _finish_timed(self, kind: DeadlineKind, now: dt.datetime) -> None:
        c = self.clock(kind)
        if c is not None and self._paused(c):
            raise ClockError(self.ref, f"the {kind.value} clock is paused; resume it first")
        self._close(kind, now, Closing.DONE)

    def revise_due_dates(self, rules: CaseRules, now: dt.datetime, *, actor: str) -> bool:
        """Compare each running duty's due date with the one known before. A date first
        seen is noted; one that moved without anyone's act (the office loaded a year's
        official holiday schedule, the calendar file changed) is recorded with the old and
        the new date, so that the people holding the case are told. Returns whether what
        is known changed."""
        return self._revise_due_dates(self.deadlines(rules, now), now, actor)

    def _revise_due_dates(self, views: list[DeadlineView], now: dt.datetime,
                          actor: str) -> bool:
        changed = False
        for v in views:
            if v.kind.is_window or v.closed_at is not None or v.paused_since is not None:
                continue
            new = v.due_date.isoformat()
            old = self.known_due.get(v.key)
            if old == new:
                continue
            self.known_due[v.key] = new
            changed = True
            if old is not None:
                self._record(self._stage, EventType.DUE_DATE_REVISED, actor, now, clock=v.key,
                             kind=v.kind.value, old_due=old, new_due=new,
                             estimated=list(v.estimated), responder_now=self.responder,
                             leader_now=self.leader)
        return changed
