"""挂牌督办: a case a higher body (国家信访局, 省信访局, 集团公司...) lists for supervision,
with its reference (文号), the date it requires the case done by, and a report due to it
every N calendar days.

A layer of the case aggregate (see ``case_state.py``). Both dates are clocks with a fixed
due instant (``Clock.due``): the sweeper fires their rungs like any deadline's. The
required date closes when the case is decided; each report filed opens the next report's
clock, N days on from the day it was filed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from domain.clockbook import ClockBook
from domain.deadlines import Clock, Closing
from domain.errors import RuleViolation
from domain.events import EventType
from domain.instants import as_utc, end_of_local_day, local_date
from domain.policy import DeadlineKind as K
from domain.stages import Action

MAX_EVERY = 90  # days between reports: past a quarter a cadence is no cadence


class Listing(ClockBook):
    def list_case(self, *, body: str, reference: str, required: dt.date, every: int,
                  actor: str, now: dt.datetime) -> None:
        """List the case for supervision by ``body`` under ``reference``, to be done by
        ``required`` (a local date, its end of day), reporting to the body every ``every``
        calendar days from today."""
        target = self._target(Action.LIST_CASE)
        if self.listing:
            raise RuleViolation(self.ref, f"it is listed already, by {self.listing['body']} "
                                f"({self.listing['reference']})")
        body, reference = (body or "").strip(), (reference or "").strip()
        if not body:
            raise RuleViolation(self.ref, "the listing body (挂牌督办机关) is required")
        if not reference:
            raise RuleViolation(self.ref, "the listing's reference (文号) is required")
        today = local_date(now)
        if required < today:
            raise RuleViolation(self.ref, f"the required date {required.isoformat()} is "
                                f"before today ({today.isoformat()})")
        if not 1 <= every <= MAX_EVERY:
            raise RuleViolation(self.ref, f"reports are due every 1 to {MAX_EVERY} days, "
                                f"not {every}")
        basis = f"{body}挂牌督办（{reference}）"
        self.listing = {"body": body, "reference": reference, "required": required.isoformat(),
                        "every": every, "by": actor, "at": as_utc(now).isoformat(),
                        "reports": []}
        self._open_fixed(K.LISTED, required, basis, now)
        report_due = self._open_fixed(K.LISTING_REPORT, _next_report(now, every), basis, now)
        to = sorted({p for p in (self.responder, self.leader) if p})
        self._record(target, EventType.CASE_LISTED, actor, now, body=body, to=to,
                     reference=reference, required=required.isoformat(), every=every,
                     report_due=report_due.isoformat())

    def report_to_lister(self, *, summary: str, actor: str, now: dt.datetime) -> None:
        """File the periodic report to the listing body: the running report clock is met
        (or late) and the next is due ``every`` days from today."""
        target = self._target(Action.REPORT_TO_LISTER)
        if not self.listing:
            raise RuleViolation(self.ref, "it is not listed for supervision (挂牌督办)")
        text = (summary or "").strip()
        if not text:
            raise RuleViolation(self.ref, "the report's summary is required")
        c = self.clock(K.LISTING_REPORT)
        if c is None or not c.is_open:
            raise RuleViolation(self.ref, "no report to the listing body is due")
        self._close(K.LISTING_REPORT, now, Closing.DONE)
        nxt = self._open_fixed(K.LISTING_REPORT, _next_report(now, int(self.listing["every"])),
                               c.basis, now)
        reports: list[dict[str, Any]] = list(self.listing.get("reports") or [])
        reports.append({"by": actor, "at": as_utc(now).isoformat(), "summary": text})
        self.listing = {**self.listing, "reports": reports}
        self._record(target, EventType.LISTER_REPORTED, actor, now, clock=c.key,
                     body=self.listing["body"], summary=text,
                     next_due=nxt.isoformat())

    def _finish_listing(self, now: dt.datetime) -> None:
        """The case is decided: the required date is met (or late), reports stop."""
        self._close(K.LISTED, now, Closing.DONE)
        self._close(K.LISTING_REPORT, now, Closing.DONE)

    def _open_fixed(self, kind: K, due: dt.date, basis: str, now: dt.datetime) -> dt.date:
        """A clock of ``kind`` due at the end of local day ``due``."""
        n = sum(1 for c in self.clocks.values() if c.kind is kind)
        key = kind.value if n == 0 else f"{kind.value}@{n + 1}"
        self.clocks[key] = Clock(key, kind, as_utc(now), due=end_of_local_day(due), basis=basis)
        return due


def _next_report(now: dt.datetime, every: int) -> dt.date:
    """The local date ``every`` calendar days after ``now``'s."""
    d: dt.date = local_date(now).add(days=every)
    return d
