"""The unit of work in memory: the fake beside ``SqlUnitOfWork`` (``ports.UnitOfWork``).

The use-case tests run on it in milliseconds. It keeps the SQL store's promises that the use
cases rely on: a unit of work is one transaction (a lock serialises them, as SQLite's
``BEGIN IMMEDIATE`` does, and leaving without commit restores what was there), a case is
written with its hash-chained events and the rung schedule it is given, each rung and each
message is claimed once, a message key is queued once and a request id applied once. The
storage suite itself runs on SQLite and PostgreSQL only.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from domain.attachments import Attachment
from domain.case import Case
from domain.errors import CaseNotFound, ConcurrentUpdate, DuplicateRegistration
from domain.escalation import DueRung
from domain.keypersons import KeyPerson
from domain.persons import same_person
from domain.petition import Category, Petitioner
from domain.review import Meeting, ReviewMeasure
from domain.routing import PriorCase
from domain.signals import Signal
from domain.zero_report import ZeroReport
from storage import codec
from storage.access import MemoryAccess, ThrottleRow, TokenRow, UserRow
from storage.attachments import MemoryAttachments
from storage.beats import Beat, MemoryBeats
from storage.chain import GENESIS, AuditRow, chain_rows
from storage.keypersons import MemoryKeyPersons
from storage.lookups import MemoryLookups
from storage.memory_reads import MemoryReads, _row
from storage.memory_search import MemorySearch
from storage.ports import (
    KEEP,
    STALE_CLAIM,
    ClaimedRung,
    OutboxRow,
    RunRow,
    SeenCases,
    UnitOfWork,
    Wait,
)
from storage.practices import MemoryPractices
from storage.reviews import MemoryReviews
from storage.rollup import MemoryMeasures


@dataclass
class _Rung:
    fire_at: dt.datetime
    claimed_at: dt.datetime | None = None
    claimed_by: str | None = None


@dataclass
class _Data:
    """Everything the store holds; copied whole at the start of each unit of work."""

    cases: dict[str, dict[str, Any]] = field(default_factory=dict)
    audit: list[AuditRow] = field(default_factory=list)
    heads: dict[str, tuple[int, str]] = field(default_factory=dict)  # journals' heads
    rungs: dict[tuple[str, str, str], _Rung] = field(default_factory=dict)
    outbox: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: dict[str, tuple[str, str, int, dt.datetime]] = field(default_factory=dict)
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    zero_reports: dict[tuple[str, dt.date], ZeroReport] = field(default_factory=dict)
    signals: dict[str, Signal] = field(default_factory=dict)
    last_id: int = 0
    users: dict[str, UserRow] = field(default_factory=dict)
    tokens: dict[str, TokenRow] = field(default_factory=dict)
    lookups: list[tuple[str, dt.datetime, bool]] = field(default_factory=list)
    beats: dict[str, Beat] = field(default_factory=dict)
    attachments: dict[str, Attachment] = field(default_factory=dict)
    throttle: dict[str, ThrottleRow] = field(default_factory=dict)
    keypersons: dict[str, tuple[KeyPerson, int]] = field(default_factory=dict)
    reviews: dict[str, Meeting] = field(default_factory=dict)
    review_measures: dict[str, tuple[str, ReviewMeasure]] = field(default_factory=dict)

    def snapshot(self) -> _Data:
        """A copy to restore on rollback. Case rows and audit rows are replaced, never
        changed in place, so only the containers and the rows that are changed in place
        (rungs, messages, runs) are copied."""
        return _Data(dict(self.cases), list(self.audit), dict(self.heads),
                     {k: copy.copy(r) for k, r in self.rungs.items()},
                     {k: dict(m) for k, m in self.outbox.items()}, dict(self.requests),
                     {k: dict(r) for k, r in self.runs.items()}, dict(self.zero_reports),
                     dict(self.signals), self.last_id, dict(self.users), dict(self.tokens),
                     list(self.lookups), dict(self.beats), dict(self.attachments),
                     dict(self.throttle), dict(self.keypersons), dict(self.reviews),
                     dict(self.review_measures))

    def next_id(self) -> int:
        self.last_id += 1
        return self.last_id


class MemoryStore:
    """The shared state: make one per test (or demo), then ``store.uow()`` per transaction."""

    def __init__(self) -> None:
        self.data = _Data()
        self.lock = threading.RLock()

    def uow(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self)


class MemoryCases(SeenCases):
    def __init__(self, data: _Data) -> None:
        super().__init__()
        self.data = data

    def get(self, ref: str, *, lock: bool = True) -> Case:
        if (case := self._already(ref)) is not None:
            return case
        row = self.data.cases.get(ref) or next(
            (r for r in self.data.cases.values() if r["registration_no"] == ref), None)
        if row is None:
            raise CaseNotFound(ref)
        return self._loaded(codec.from_row(_row(row)))

    def get_many(self, ids: Sequence[str], *, lock: bool = True) -> list[Case]:
        return [self.get(i) for i in ids if i in self.seen or i in self.data.cases]

    def prior_cases(self, petitioner: Petitioner) -> list[PriorCase]:
        out = []
        for r in self.data.cases.values():
            p = r["body"]["petition"]
            who = Petitioner(**p["petitioner"])
            if same_person(who, petitioner):
                out.append(PriorCase(r["id"], who.identity(), Category(r["category"]),
                                     p["concerns_unit"], p["subject"], p["content"], who))
        return out

    def workload(self, people: Sequence[str] | None = None) -> dict[str, int]:
        return dict(Counter(r["responder"] for r in self.data.cases.values()
                            if r["stage"] != "closed" and r["responder"] is not None
                            and (people is None or r["responder"] in people)))

    def save(self, case: Case, schedule: Sequence[DueRung],
             due: dt.datetime | object | None = KEEP) -> None:
        new = case.id in self._new
        stored = self.data.cases.get(case.id)
        if new and (stored is not None or any(
                r["registration_no"] == case.registration_no for r in self.data.cases.values())):
            raise DuplicateRegistration(case.registration_no)
        if not new and (stored is None or stored["version"] != case.version):
            raise ConcurrentUpdate(case.ref, case.version)
        last_seq, last_hash = (0, GENESIS) if new else (stored["audit_seq"],  # type: ignore[index]
                                                        stored["audit_head"])  # type: ignore[index]
        rows = chain_rows(case.id, case.events, last_seq, last_hash)
        for r in rows:
            self.data.audit.append(AuditRow(id=self.data.next_id(), **r))
        head = (rows[-1]["seq"], rows[-1]["hash"]) if rows else (last_seq, last_hash)
        kept = stored.get("next_due_at") if stored is not None else None
        self.data.cases[case.id] = {**(stored or {}), **codec.to_row(case),
                                    "version": case.version + 1,
                                    "audit_seq": head[0], "audit_head": head[1],
                                    "next_due_at": kept if due is KEEP else due}
        reschedule(self.data, case.id, schedule)
        case.version += 1
        case.events.clear()
        self._new.discard(case.id)
        self._touched.discard(case.id)


def reschedule(data: _Data, case_id: str, schedule: Sequence[DueRung]) -> None:
    for key in [k for k, r in data.rungs.items() if k[0] == case_id and r.claimed_at is None]:
        del data.rungs[key]
    for d in schedule:
        data.rungs.setdefault((case_id, d.clock, d.name), _Rung(d.fire_at))


class MemoryUnitOfWork(MemoryReads, MemoryMeasures, MemorySearch):
    """One transaction on a ``MemoryStore``."""

    practices: MemoryPractices

    def _rows(self) -> Mapping[str, dict[str, Any]]:
        return self.data.cases  # type: ignore[no-any-return]

    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    def __enter__(self) -> Self:
        self.store.lock.acquire()
        self._before = self.store.data.snapshot()
        self.data = self.store.data
        self.cases = MemoryCases(self.data)
        self.practices = MemoryPractices(self.data)
        self.access = MemoryAccess(self.data)
        self.lookups = MemoryLookups(self)
        self.beats = MemoryBeats(self)
        self.attachments = MemoryAttachments(self)
        self.keypersons = MemoryKeyPersons(self.data)
        self.reviews = MemoryReviews(self)
        self._done = False
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if not self._done:
                self.store.data = self._before  # roll back
        finally:
            self.store.lock.release()

    def commit(self, schedules: Mapping[str, Sequence[DueRung]] | None = None,
               dues: Mapping[str, dt.datetime | None] | None = None) -> None:
        dues = dict(dues or {})
        for case in self.cases.changed():
            if schedules is None or case.id not in schedules:
                raise ValueError(f"case {case.ref} changed but no rung schedule was given")
            self.cases.save(case, schedules[case.id], dues.pop(case.id, KEEP))
        for case_id, due in dues.items():
            if case_id in self.data.cases:
                self.data.cases[case_id]["next_due_at"] = due
        self._done = True
        # What follows in the same block is a new transaction, as with SQLAlchemy.
        self._before = self.data.snapshot()
        self._done = False
        self.store.data = self.data

    def one_sweep_at_a_time(self) -> None:
        """Units of work on this store already take turns."""

    @contextlib.contextmanager
    def savepoint(self) -> Iterator[object]:
        before = self.data.snapshot()
        try:
            yield self
        except BaseException:
            self.store.data = self.data = before
            self.cases.data = self.practices.data = self.access.data = before
            self.keypersons.data = before
            raise

    def unclaim(self, case_id: str, clock: str, rung: str) -> None:
        row = self.data.rungs.get((case_id, clock, rung))
        if row is not None:
            row.claimed_at = row.claimed_by = None

    def claim_due(self, now: dt.datetime, sweeper: str, limit: int) -> list[ClaimedRung]:
        due = sorted(((k, r) for k, r in self.data.rungs.items()
                      if r.claimed_at is None and r.fire_at <= now),
                     key=lambda kr: kr[1].fire_at)[:limit]
        for _, r in due:
            r.claimed_at, r.claimed_by = now, sweeper
        return [ClaimedRung(k[0], k[1], k[2], r.fire_at) for k, r in due]

    def reschedule(self, case_id: str, schedule: Sequence[DueRung]) -> None:
        reschedule(self.data, case_id, schedule)

    def reschedule_many(self, schedules: Mapping[str, Sequence[DueRung]]) -> None:
        for case_id, schedule in schedules.items():
            reschedule(self.data, case_id, schedule)

    def queue(self, messages: list[dict[str, Any]]) -> int:
        known = {m["key"] for m in self.data.outbox.values()}
        n = 0
        for m in messages:
            if m["key"] in known:
                continue
            known.add(m["key"])
            mid = self.data.next_id()
            self.data.outbox[mid] = {
                "id": mid, "status": "queued", "attempts": 0, "sent_at": None, "error": None,
                "next_attempt_at": m["queued_at"], "claimed_at": None, "ref": None,
                "note": None, "claim_token": None, "channel": None, **m}
            n += 1
        return n

    def claim_messages(self, now: dt.datetime, limit: int, token: str,
                       stale: dt.timedelta = STALE_CLAIM, keys: Sequence[str] | None = None
                       ) -> list[OutboxRow]:
        due = [m for m in self.data.outbox.values()
               if ((m["status"] == "queued" and m["next_attempt_at"] <= now)
                   or (m["status"] == "sending" and m["claimed_at"] <= now - stale))
               and (keys is None or m["key"] in keys)]
        due.sort(key=lambda m: (m["next_attempt_at"], m["id"]))
        claimed = []
        for m in due[:limit]:
            m.update(status="sending", claimed_at=now, claim_token=token)
            claimed.append(OutboxRow(**m))
        return claimed

    def renew_claim(self, message_id: int, token: str, now: dt.datetime) -> bool:
        m = self.data.outbox[message_id]
        if m.get("claim_token") != token or m["status"] != "sending":
            return False
        m["claimed_at"] = now
        return True

    def settle_message(self, message_id: int, token: str | None = None,
                       **values: Any) -> bool:
        m = self.data.outbox[message_id]
        if token is not None and m.get("claim_token") != token:
            return False
        m.update(values)
        return True

    def messages(self, status: str | None = None, limit: int = 200) -> list[OutboxRow]:
        rows = [m for m in self.data.outbox.values() if not status or m["status"] == status]
        return [OutboxRow(**m) for m in sorted(rows, key=lambda m: -m["id"])[:limit]]

    def has_message(self, key: str) -> bool:
        return any(m["key"] == key for m in self.data.outbox.values())

    def sent_via(self, channel: str, since: dt.datetime) -> list[dt.datetime]:
        return sorted(m["sent_at"] for m in self.data.outbox.values()
                      if m.get("channel") == channel and m["status"] == "sent"
                      and m["sent_at"] is not None and m["sent_at"] >= since)

    def outbox_counts(self) -> dict[str, int]:
        return dict(Counter(m["status"] for m in self.data.outbox.values()))

    def applied(self, request_id: str) -> int | None:
        found = self.data.requests.get(request_id)
        return found[2] if found else None

    def record_request(self, request_id: str, case_id: str, act: str, version: int,
                       at: dt.datetime) -> None:
        if request_id in self.data.requests:
            raise ValueError(f"request {request_id} was applied already")
        self.data.requests[request_id] = (case_id, act, version, at)

    def run_of(self, case_id: str) -> str | None:
        run = self.data.runs.get(case_id)
        return str(run["flow_run_id"]) if run else None

    def record_run(self, case_id: str, flow_run_id: str, at: dt.datetime) -> None:
        self.data.runs.setdefault(case_id, {"flow_run_id": flow_run_id, "started_at": at,
                                            "waits": 0, "wait_key": None, "wait_stage": None,
                                            "wait_open": False})

    def replace_run(self, case_id: str, flow_run_id: str, at: dt.datetime) -> None:
        self.data.runs[case_id] = {"flow_run_id": flow_run_id, "started_at": at, "waits": 0,
                                   "wait_key": None, "wait_stage": None, "wait_open": False}

    def runs(self) -> dict[str, str]:
        return {cid: str(r["flow_run_id"]) for cid, r in self.data.runs.items()}

    def wait_of(self, case_id: str) -> Wait | None:
        r = self.data.runs.get(case_id)
        return Wait(r["waits"], r["wait_key"], r["wait_stage"], r["wait_open"]) if r else None

    def open_wait(self, case_id: str, key: str, stage: str) -> None:
        r = self.data.runs.get(case_id)
        if r is not None:
            r.update(waits=r["waits"] + 1, wait_key=key, wait_stage=stage, wait_open=True)

    def close_wait(self, case_id: str, key: str) -> None:
        r = self.data.runs.get(case_id)
        if r is not None and r["wait_key"] == key:
            r["wait_open"] = False

    def run_rows(self, *, case_ids: Sequence[str] | None = None) -> list[RunRow]:
        rows = sorted(self.data.cases.values(), key=lambda r: r["registered_at"])
        if case_ids is not None:
            rows = [r for r in rows if r["id"] in set(case_ids)]
        else:
            rows = [r for r in rows if r["stage"] != "closed"]
        return [RunRow(r["id"], r["registration_no"] or r["id"], r["stage"],
                       self.run_of(r["id"]), self.wait_of(r["id"])) for r in rows]

    def without_run(self, limit: int = 1000) -> list[str]:
        rows = sorted((r for r in self.data.cases.values()
                       if r["stage"] != "closed" and r["id"] not in self.data.runs),
                      key=lambda r: r["registered_at"])
        return [r["id"] for r in rows[:limit]]


def _keeps_the_port(store: MemoryStore) -> UnitOfWork:
    """Never called: mypy checks here that the fake keeps ``ports.UnitOfWork``."""
    return store.uow()
