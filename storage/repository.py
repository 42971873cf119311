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
    bindparam,
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
from domain.petition import Petitioner
from domain.routing import PriorCase
from storage import codec, search
from storage.access import SqlAccess
from storage.attachments import SqlAttachments
from storage.beats import SqlBeats
from storage.chain import GENESIS, chain_rows
from storage.keypersons import SqlKeyPersons
from storage.lookups import SqlLookups
from storage.ports import KEEP, STALE_CLAIM, ClaimedRung, OutboxRow, SeenCases
from storage.practices import SqlPractices
from storage.reads import SqlReads
from storage.reviews import SqlReviews
from storage.rollup import SqlMeasures
from storage.runs import SqlRuns
from storage.search import SqlSearch
from storage.tables import (
    applied_requests,
    audit_events,
    cases,
    outbox,
    rung_schedule,
)
from storage.tallies import FACTS, Tallies


class SqlCaseRepository(SeenCases):
    """Cases in SQL. ``get`` locks the row on PostgreSQL (``FOR UPDATE``)."""

    def __init__(self, conn: Connection) -> None:
        super().__init__()
        self.conn = conn
        self.tallies = Tallies(conn)  # the measures' counts, written at commit

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

    def get_many(self, ids: Sequence[str], *, lock: bool = True) -> list[Case]:
        """The cases of ``ids`` that exist (by id), in one statement, locked in id order on
        PostgreSQL; each loaded once per unit of work, as by ``get``."""
        wanted = sorted({i for i in ids if i not in self.seen})
        if wanted:
            query = select(cases).where(cases.c.id.in_(wanted)).order_by(cases.c.id)
            if lock and self.conn.dialect.name == "postgresql":
                query = query.with_for_update()
            for row in self.conn.execute(query):
                self._loaded(codec.from_row(row))
        return [self.seen[i] for i in ids if i in self.seen]

    def prior_cases(self, petitioner: Petitioner) -> list[PriorCase]:
        """Earlier cases of one petitioner, for repeat detection (``search.prior_cases``)."""
        return search.prior_cases(self.conn, petitioner)

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
    def _save_all(self, changed: Sequence[Case], schedules: Mapping[str, Sequence[DueRung]],
                  dues: dict[str, Any]) -> None:
        """Write the changed cases (each new one inserted, the others updated if their
        version is still the one loaded), their new audit rows and pending rungs, and note
        their facts for the tallies: a few statements for any number of cases (a sweep's,
        a reschedule's batch). A case's due instant is taken out of ``dues``."""
        heads = self._heads([c.id for c in changed if c.id not in self._new])
        updates: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        events: list[dict[str, Any]] = []
        for case in changed:
            head = heads.get(case.id)
            last_seq, last_hash = (head["audit_seq"], head["audit_head"]) if head else (
                0, GENESIS)
            rows = chain_rows(case.id, case.events, last_seq, last_hash)
            new_seq, new_head = (rows[-1]["seq"], rows[-1]["hash"]) if rows else (
                last_seq, last_hash)
            values = {**codec.to_row(case), "audit_seq": new_seq, "audit_head": new_head}
            due = dues.pop(case.id, KEEP)
            if due is not KEEP:
                values["next_due_at"] = due
            if case.id in self._new:
                self._insert(case, values)
            else:
                values = {**values, "version": case.version + 1}
                updates.setdefault(tuple(sorted(values)), []).append(
                    {**values, "b_id": case.id, "b_version": case.version})
            events += rows
            before = {k: head[k] for k in FACTS} if head else None
            self.tallies.saved(case.id, before, {
                **(before or {}), **{k: values[k] for k in FACTS if k in values}})
        for params in updates.values():
            result = self.conn.execute(update(cases).where(
                cases.c.id == bindparam("b_id"), cases.c.version == bindparam("b_version")),
                params)
            if result.rowcount != len(params):
                raise self._conflict(params)
        if events:
            self.conn.execute(insert(audit_events), events)
        search.index(self.conn, changed)
        self._reschedule({c.id: schedules[c.id] for c in changed})
        for case in changed:
            case.version += 1
            case.events.clear()
            self._new.discard(case.id)
            self._touched.discard(case.id)

    def _heads(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The stored audit-chain heads and facts of ``ids``, locked in id order (as
        ``get`` locks a case) before its facts are read for the tallies."""
        found: dict[str, dict[str, Any]] = {}
        for first in range(0, len(ids), 500):  # under every database's bound-value limit
            query = (select(cases.c.id, cases.c.audit_seq, cases.c.audit_head,
                            *(cases.c[k] for k in FACTS))
                     .where(cases.c.id.in_(sorted(ids)[first:first + 500]))
                     .order_by(cases.c.id))
            if self.conn.dialect.name == "postgresql":
                query = query.with_for_update()
            found.update((r.id, dict(r._mapping)) for r in self.conn.execute(query))
        return found

    def _conflict(self, params: list[dict[str, Any]]) -> ConcurrentUpdate:
        """The first case of ``params`` whose stored version moved on since it was loaded."""
        stored = {r.id: r.version for r in self.conn.execute(select(
            cases.c.id, cases.c.version).where(cases.c.id.in_([p["b_id"] for p in params])))}
        stale = next((p for p in params if stored.get(p["b_id"]) != p["b_version"]),
                     params[0])
        return ConcurrentUpdate(stale["registration_no"], stale["b_version"])

    def _insert(self, case: Case, values: dict[str, Any]) -> None:
        # The unique constraint decides, also between two clerks registering at once; the
        # savepoint keeps the outer transaction usable after the refusal.
        try:
            with self.conn.begin_nested():
                self.conn.execute(insert(cases).values(**values, version=case.version + 1))
        except IntegrityError:
            raise DuplicateRegistration(case.registration_no) from None

    def _reschedule(self, schedules: Mapping[str, Sequence[DueRung]]) -> None:
        """Each case's pending rungs made those of its schedule that were not claimed
        (fired) already: the rows read for all the cases at once, and only the rows that
        differ deleted or inserted (a schedule derived anew is mostly what is stored)."""
        t = rung_schedule.c
        ids = sorted(schedules)
        if not ids:
            return
        stored = {(r.case_id, r.clock, r.rung): (r.fire_at, r.claimed_at is not None)
                  for r in self.conn.execute(select(t.case_id, t.clock, t.rung, t.fire_at,
                                                    t.claimed_at).where(t.case_id.in_(ids)))}
        wanted = {(case_id, d.clock, d.name): d.fire_at
                  for case_id in ids for d in schedules[case_id]}
        gone = [{"c": c, "k": k, "r": r} for (c, k, r), (fire_at, claimed) in stored.items()
                if not claimed and wanted.get((c, k, r)) != fire_at]
        if gone:  # by the unique key, row by row (SQLite scans the table for a tuple IN)
            self.conn.execute(delete(rung_schedule).where(
                t.case_id == bindparam("c"), t.clock == bindparam("k"),
                t.rung == bindparam("r"), t.claimed_at.is_(None)), gone)
        fresh = [{"case_id": k[0], "clock": k[1], "rung": k[2], "fire_at": fire_at}
                 for k, fire_at in wanted.items()
                 if k not in stored or (not stored[k][1] and stored[k][0] != fire_at)]
        if fresh:
            self.conn.execute(insert(rung_schedule), fresh)


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


class SqlUnitOfWork(SqlReads, SqlMeasures, SqlRuns, SqlSearch):
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
        self.attachments = SqlAttachments(self.conn)
        self.keypersons = SqlKeyPersons(self.conn)
        self.reviews = SqlReviews(self.conn)
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
        changed = self.cases.changed()
        for case in changed:
            if schedules is None or case.id not in schedules:
                raise ValueError(f"case {case.ref} changed but no rung schedule was given")
        if changed:
            self.cases._save_all(changed, schedules or {}, dues)
        if dues:  # an index, not the case's state: no version; one statement, many rows
            due = bindparam("due", type_=cases.c.next_due_at.type)
            self.conn.execute(update(cases).where(cases.c.id == bindparam("case_id"))
                              .values(next_due_at=due),
                              [{"case_id": k, "due": v} for k, v in dues.items()])
        self.cases.tallies.flush()
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
        self.cases._reschedule({case_id: schedule})

    def reschedule_many(self, schedules: Mapping[str, Sequence[DueRung]]) -> None:
        self.cases._reschedule(schedules)

    def claim_messages(self, now: dt.datetime, limit: int, token: str,
                       stale: dt.timedelta = STALE_CLAIM, keys: Sequence[str] | None = None
                       ) -> list[OutboxRow]:
        """Claim queued messages whose time has come (and any a crashed sender left in
        ``sending`` for longer than ``stale``), oldest first. Each claim is a guarded UPDATE,
        so of two senders only one gets a message."""
        due = or_(and_(outbox.c.status == "queued", outbox.c.next_attempt_at <= now),
                  and_(outbox.c.status == "sending", outbox.c.claimed_at <= now - stale))
        if keys is not None:
            due = and_(due, outbox.c.key.in_(list(keys)))
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
