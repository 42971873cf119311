"""Repositories and the unit of work in SQL: a case's state, its new audit events and its
pending rungs are written in one transaction, or not at all (see ``ports.UnitOfWork``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any, Self

from sqlalchemy import (
    Connection,
    Engine,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError

from domain.case import Case
from domain.errors import CaseNotFound, ConcurrentUpdate, DuplicateRegistration
from domain.escalation import DueRung
from domain.petition import Category
from domain.routing import PriorCase
from storage import codec
from storage.access import SqlAccess
from storage.beats import SqlBeats
from storage.chain import GENESIS, chain_rows
from storage.lookups import SqlLookups
from storage.ports import KEEP, STALE_CLAIM, ClaimedRung, OutboxRow, RunRow, SeenCases, Wait
from storage.practices import SqlPractices
from storage.reads import SqlReads
from storage.rollup import SqlMeasures
from storage.tables import (
    applied_requests,
    audit_events,
    cases,
    lifecycle_runs,
    outbox,
    rung_schedule,
)


class SqlCaseRepository(SeenCases):
    """Cases in SQL. ``get`` locks the row on PostgreSQL (``FOR UPDATE``)."""

    def __init__(self, conn: Connection) -> None:
        super().__init__()
        self.conn = conn

    def get(self, ref: str, *, lock: bool = True) -> Case:
        """A case by id or registration number, loaded once per unit of work."""
        if (case := self._already(ref)) is not None:
            return case
        query = select(cases).where((cases.c.id == ref) | (cases.c.registration_no == ref))
        if lock and self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = self.conn.execute(query).first()
        if row is None:
            raise CaseNotFound(ref)
        return self._loaded(codec.from_row(row))

    def prior_cases(self, petitioner_identity: str) -> list[PriorCase]:
        """Earlier cases of one petitioner, for repeat detection."""
        rows = self.conn.execute(select(cases.c.id, cases.c.category, cases.c.body).where(
            cases.c.petitioner_identity == petitioner_identity))
        return [PriorCase(r.id, petitioner_identity, Category(r.category),
                          r.body["petition"]["concerns_unit"], r.body["petition"]["subject"],
                          r.body["petition"]["content"])
                for r in rows]

    def workload(self, people: Sequence[str] | None = None) -> dict[str, int]:
        """Open cases held per first responder (of ``people``, if given: by the responder
        index, not a scan of every case)."""
        query = (select(cases.c.responder, func.count())
                 .where(cases.c.stage != "closed", cases.c.responder.is_not(None))
                 .group_by(cases.c.responder))
        if people is not None:
            query = query.where(cases.c.responder.in_(list(people)))
        return {r[0]: int(r[1]) for r in self.conn.execute(query)}

    # --- writing ------------------------------------------------------------------------
    def _save(self, case: Case, schedule: Sequence[DueRung],
              due: dt.datetime | object | None = KEEP) -> None:
        head = self.conn.execute(select(cases.c.audit_seq, cases.c.audit_head).where(
            cases.c.id == case.id)).first() if case.id not in self._new else None
        last_seq, last_hash = (head.audit_seq, head.audit_head) if head else (0, GENESIS)
        rows = chain_rows(case.id, case.events, last_seq, last_hash)
        new_seq, new_head = (rows[-1]["seq"], rows[-1]["hash"]) if rows else (last_seq,
                                                                               last_hash)
        values = {**codec.to_row(case), "audit_seq": new_seq, "audit_head": new_head}
        if due is not KEEP:
            values["next_due_at"] = due
        if case.id in self._new:
            self._insert(case, values)
        else:
            result = self.conn.execute(
                update(cases).where(and_(cases.c.id == case.id, cases.c.version == case.version))
                .values(**{**values, "version": case.version + 1}))
            if result.rowcount != 1:
                raise ConcurrentUpdate(case.ref, case.version)
        if rows:
            self.conn.execute(insert(audit_events), rows)
        self._reschedule(case.id, schedule)
        case.version += 1
        case.events.clear()
        self._new.discard(case.id)
        self._touched.discard(case.id)

    def _insert(self, case: Case, values: dict[str, Any]) -> None:
        # The unique constraint decides, also between two clerks registering at once; the
        # savepoint keeps the outer transaction usable after the refusal.
        try:
            with self.conn.begin_nested():
                self.conn.execute(insert(cases).values(**values, version=case.version + 1))
        except IntegrityError:
            raise DuplicateRegistration(case.registration_no) from None

    def _reschedule(self, case_id: str, schedule: Sequence[DueRung]) -> None:
        self.conn.execute(delete(rung_schedule).where(and_(
            rung_schedule.c.case_id == case_id, rung_schedule.c.claimed_at.is_(None))))
        claimed = {(r.clock, r.rung) for r in self.conn.execute(
            select(rung_schedule.c.clock, rung_schedule.c.rung).where(
                rung_schedule.c.case_id == case_id))}
        pending = [{"case_id": case_id, "clock": d.clock, "rung": d.name, "fire_at": d.fire_at}
                   for d in schedule if (d.clock, d.name) not in claimed]
        if pending:
            self.conn.execute(insert(rung_schedule), pending)


def claim_due(conn: Connection, now: dt.datetime, sweeper: str, limit: int) -> list[ClaimedRung]:
    """Claim up to ``limit`` due rungs, oldest first; each rung can be claimed once.

    PostgreSQL: ``FOR UPDATE SKIP LOCKED`` lets sweepers claim disjoint rows at once; the
    ``claimed_at IS NULL`` guard is re-checked after a wait. SQLite: the write lock taken by
    ``BEGIN IMMEDIATE`` serialises sweepers. The claim commits with whatever the caller does
    with the rungs in the same transaction, or rolls back with it.
    """
    t = rung_schedule.c
    postgres = conn.dialect.name == "postgresql"
    # SQLite: the whole primary key, so each row is found in the clustered table next to the
    # others. PostgreSQL: the unique (case, clock, rung); with fire_at in the key its planner
    # looks rows up by fire_at alone, and many rungs share a firing time.
    key = ((t.case_id, t.clock, t.rung) if postgres
           else (t.fire_at, t.case_id, t.clock, t.rung))
    due = (select(*key).where(t.claimed_at.is_(None), t.fire_at <= now)
           .order_by(t.fire_at).limit(limit))
    if postgres:
        due = due.with_for_update(skip_locked=True)
    claim = update(rung_schedule).where(tuple_(*key).in_(due))
    if postgres:
        # Re-checked after any wait, so a row claimed meanwhile is not claimed twice. (On
        # SQLite the write lock serialises claims, and this outer test would make its planner
        # walk the whole partial index instead of the 1,000 keys.)
        claim = claim.where(t.claimed_at.is_(None))
    rows = conn.execute(
        claim
        .values(claimed_at=now, claimed_by=sweeper)
        .returning(t.case_id, t.clock, t.rung, t.fire_at)).all()
    return [ClaimedRung(r.case_id, r.clock, r.rung, r.fire_at) for r in rows]


class SqlUnitOfWork(SqlReads, SqlMeasures):
    """``with uow: ...; uow.commit()``. Leaving the block without commit rolls back."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __enter__(self) -> Self:
        self.conn = self.engine.connect()
        self.tx = self.conn.begin()
        self.cases = SqlCaseRepository(self.conn)
        self.practices = SqlPractices(self.conn)
        self.access = SqlAccess(self.conn)
        self.lookups = SqlLookups(self.conn)
        self.beats = SqlBeats(self.conn)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if self.tx.is_active:
                self.tx.rollback()
        finally:
            self.conn.close()

    def commit(self, schedules: Mapping[str, Sequence[DueRung]] | None = None,
               dues: Mapping[str, dt.datetime | None] | None = None) -> None:
        """Write every changed case with its events and the rungs ``schedules`` gives for
        it, and the next due instants ``dues`` gives, then commit."""
        dues = dict(dues or {})
        for case in self.cases.changed():
            if schedules is None or case.id not in schedules:
                raise ValueError(f"case {case.ref} changed but no rung schedule was given")
            self.cases._save(case, schedules[case.id], dues.pop(case.id, KEEP))
        for case_id, due in dues.items():  # an index, not the case's state: no version
            self.conn.execute(update(cases).where(cases.c.id == case_id)
                              .values(next_due_at=due))
        self.tx.commit()

    def one_sweep_at_a_time(self) -> None:
        """PostgreSQL: sweeps take turns (a transaction-scoped advisory lock). Two sweepers
        that each claimed some rungs of the same cases deadlocked otherwise: each saving a
        case reschedules rung rows the other has claimed. A sweep takes milliseconds, so
        turns cost nothing; SQLite serialises writers anyway."""
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('petitions.sweep'))"))

    def claim_due(self, now: dt.datetime, sweeper: str, limit: int) -> list[ClaimedRung]:
        return claim_due(self.conn, now, sweeper, limit)

    def savepoint(self) -> AbstractContextManager[object]:
        return self.conn.begin_nested()

    def unclaim(self, case_id: str, clock: str, rung: str) -> None:
        t = rung_schedule.c
        self.conn.execute(update(rung_schedule).where(and_(
            t.case_id == case_id, t.clock == clock, t.rung == rung))
            .values(claimed_at=None, claimed_by=None))

    def queue(self, messages: list[dict[str, Any]]) -> int:
        """Queue outbox rows in this transaction; a key already queued is skipped. Returns
        how many were new."""
        if not messages:
            return 0
        known = set(self.conn.execute(select(outbox.c.key).where(
            outbox.c.key.in_([m["key"] for m in messages]))).scalars())
        fresh = list({m["key"]: m for m in reversed(messages)
                      if m["key"] not in known}.values())[::-1]  # the first of each key
        if fresh:
            self.conn.execute(insert(outbox), [
                {"status": "queued", "attempts": 0, "next_attempt_at": m["queued_at"], **m}
                for m in fresh])
        return len(fresh)

    def reschedule(self, case_id: str, schedule: Sequence[DueRung]) -> None:
        self.cases._reschedule(case_id, schedule)

    def claim_messages(self, now: dt.datetime, limit: int, token: str,
                       stale: dt.timedelta = STALE_CLAIM) -> list[OutboxRow]:
        """Claim queued messages whose time has come (and any a crashed sender left in
        ``sending`` for longer than ``stale``), oldest first. Each claim is a guarded UPDATE,
        so of two senders only one gets a message."""
        due = or_(and_(outbox.c.status == "queued", outbox.c.next_attempt_at <= now),
                  and_(outbox.c.status == "sending", outbox.c.claimed_at <= now - stale))
        rows = list(self.conn.execute(select(outbox).where(due)
                                      .order_by(outbox.c.next_attempt_at, outbox.c.id)
                                      .limit(limit)))
        claimed = []
        for r in rows:
            done = self.conn.execute(update(outbox).where(and_(
                outbox.c.id == r.id, outbox.c.status == r.status,
                or_(outbox.c.claimed_at.is_(None), outbox.c.claimed_at == r.claimed_at)))
                .values(status="sending", claimed_at=now, claim_token=token))
            if done.rowcount == 1:
                claimed.append(OutboxRow(**{**r._mapping, "status": "sending",
                                            "claimed_at": now, "claim_token": token}))
        return claimed

    def renew_claim(self, message_id: int, token: str, now: dt.datetime) -> bool:
        done = self.conn.execute(update(outbox).where(and_(
            outbox.c.id == message_id, outbox.c.claim_token == token,
            outbox.c.status == "sending")).values(claimed_at=now))
        return bool(done.rowcount == 1)

    def settle_message(self, message_id: int, token: str | None = None,
                       **values: Any) -> bool:
        """Record what became of a claimed message (sent, retry, held, dead)."""
        query = update(outbox).where(outbox.c.id == message_id)
        if token is not None:
            query = query.where(outbox.c.claim_token == token)
        return bool(self.conn.execute(query.values(**values)).rowcount == 1)

    def messages(self, status: str | None = None, limit: int = 200) -> list[OutboxRow]:
        """Outbox rows, newest first."""
        query = select(outbox).order_by(outbox.c.id.desc()).limit(limit)
        if status:
            query = query.where(outbox.c.status == status)
        return [OutboxRow(**r._mapping) for r in self.conn.execute(query)]

    def has_message(self, key: str) -> bool:
        return self.conn.execute(select(outbox.c.id).where(outbox.c.key == key)).first() \
            is not None

    def sent_via(self, channel: str, since: dt.datetime) -> list[dt.datetime]:
        query = (select(outbox.c.sent_at).where(outbox.c.channel == channel,
                                                outbox.c.status == "sent",
                                                outbox.c.sent_at >= since)
                 .order_by(outbox.c.sent_at))
        return list(self.conn.execute(query).scalars())

    def outbox_counts(self) -> dict[str, int]:
        """How many messages the outbox holds, by status."""
        rows = self.conn.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status))
        return {str(r[0]): int(r[1]) for r in rows}

    # --- requests applied once ---------------------------------------------------------
    def applied(self, request_id: str) -> int | None:
        """The case version a request left behind, if it was applied already."""
        return self.conn.execute(select(applied_requests.c.version).where(
            applied_requests.c.request_id == request_id)).scalar()

    def record_request(self, request_id: str, case_id: str, act: str, version: int,
                       at: dt.datetime) -> None:
        """In the action's transaction: a second commit of the same request fails here."""
        self.conn.execute(insert(applied_requests).values(
            request_id=request_id, case_id=case_id, act=act, version=version, applied_at=at))

    # --- the lifecycle run of each case ---------------------------------------------------
    def run_of(self, case_id: str) -> str | None:
        return self.conn.execute(select(lifecycle_runs.c.flow_run_id).where(
            lifecycle_runs.c.case_id == case_id)).scalar()

    def record_run(self, case_id: str, flow_run_id: str, at: dt.datetime) -> None:
        if self.run_of(case_id) is None:
            self.conn.execute(insert(lifecycle_runs).values(
                case_id=case_id, flow_run_id=flow_run_id, started_at=at))

    def replace_run(self, case_id: str, flow_run_id: str, at: dt.datetime) -> None:
        self.conn.execute(update(lifecycle_runs).where(lifecycle_runs.c.case_id == case_id)
                          .values(flow_run_id=flow_run_id, started_at=at, waits=0,
                                  wait_key=None, wait_stage=None, wait_open=False))

    def runs(self) -> dict[str, str]:
        return {r.case_id: r.flow_run_id for r in self.conn.execute(
            select(lifecycle_runs.c.case_id, lifecycle_runs.c.flow_run_id))}

    def wait_of(self, case_id: str) -> Wait | None:
        """The wait the case's run was last suspended on (or about to be)."""
        row = self.conn.execute(select(
            lifecycle_runs.c.waits, lifecycle_runs.c.wait_key, lifecycle_runs.c.wait_stage,
            lifecycle_runs.c.wait_open).where(lifecycle_runs.c.case_id == case_id)).first()
        return Wait(int(row.waits), row.wait_key, row.wait_stage, bool(row.wait_open)) \
            if row is not None else None

    def open_wait(self, case_id: str, key: str, stage: str) -> None:
        """Record the run's next wait: the ``waits``-th, at ``key``, in ``stage``."""
        self.conn.execute(update(lifecycle_runs).where(lifecycle_runs.c.case_id == case_id)
                          .values(waits=lifecycle_runs.c.waits + 1, wait_key=key,
                                  wait_stage=stage, wait_open=True))

    def close_wait(self, case_id: str, key: str) -> None:
        """The answer given at ``key`` was dealt with (applied, duplicate, superseded or
        refused): the run's next wait gets a new key."""
        self.conn.execute(update(lifecycle_runs).where(and_(
            lifecycle_runs.c.case_id == case_id, lifecycle_runs.c.wait_key == key))
            .values(wait_open=False))

    def run_rows(self, *, case_ids: Sequence[str] | None = None) -> list[RunRow]:
        c, r = cases.c, lifecycle_runs.c
        query = select(c.id, c.registration_no, c.stage, r.flow_run_id, r.waits, r.wait_key,
                       r.wait_stage, r.wait_open).outerjoin(lifecycle_runs, r.case_id == c.id)
        if case_ids is None:
            return self._run_rows(query.where(c.stage != "closed").order_by(c.registered_at))
        found: list[RunRow] = []
        wanted = list(case_ids)
        for first in range(0, len(wanted), 500):  # under every database's bound-value limit
            found += self._run_rows(query.where(c.id.in_(wanted[first:first + 500])))
        return found

    def _run_rows(self, query: Any) -> list[RunRow]:
        return [RunRow(row.id, row.registration_no or row.id, row.stage, row.flow_run_id,
                       Wait(int(row.waits), row.wait_key, row.wait_stage, bool(row.wait_open))
                       if row.flow_run_id is not None else None)
                for row in self.conn.execute(query)]

    def without_run(self, limit: int = 1000) -> list[str]:
        """Open cases whose lifecycle run was never recorded (an intake cut short)."""
        query = (select(cases.c.id).outerjoin(lifecycle_runs,
                                              lifecycle_runs.c.case_id == cases.c.id)
                 .where(lifecycle_runs.c.case_id.is_(None), cases.c.stage != "closed")
                 .order_by(cases.c.registered_at).limit(limit))
        return list(self.conn.execute(query).scalars())
