"""What the workplace, the reports and the sweeps read from the SQL store: cases by who
holds them (ordered by their next due instant and paged), their audit rows, the chain
check. Mixed into ``storage.repository.SqlUnitOfWork``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Select, func, or_, select

from domain.case import Case
from storage import codec
from storage.audit import check, last, verify
from storage.chain import AuditCheck, AuditRow, Break
from storage.ports import OutboxRow
from storage.practices import SqlPractices
from storage.tables import audit_events, cases, outbox


class SqlReads:
    conn: Connection
    practices: SqlPractices

    def open_cases(self) -> list[Case]:
        """Every case not closed (read only: nothing is locked)."""
        rows = self.conn.execute(select(cases).where(cases.c.stage != "closed")
                                 .order_by(cases.c.registered_at))
        return [codec.from_row(r) for r in rows]

    def open_case_ids(self) -> list[str]:
        """The ids of every case not closed, oldest registration first (none loaded)."""
        return list(self.conn.execute(select(cases.c.id).where(cases.c.stage != "closed")
                                      .order_by(cases.c.registered_at, cases.c.id)).scalars())

    def find_cases(self, *, people: Sequence[str] = (), units: Sequence[str] = (),
                   stage: str | None = None, open_only: bool = True, by_due: bool = False,
                   limit: int | None = None, due_before: dt.datetime | None = None,
                   offset: int = 0, offices: Sequence[str] = (),
                   registered_from: dt.datetime | None = None) -> list[Case]:
        order = (cases.c.next_due_at.is_(None), cases.c.next_due_at, cases.c.registered_at,
                 cases.c.id) if by_due else (cases.c.registered_at, cases.c.id)
        query = _found(select(cases), people, units, stage, open_only, offices
                       ).order_by(*order)
        if due_before is not None:
            query = query.where(cases.c.next_due_at < due_before)
        if registered_from is not None:
            query = query.where(cases.c.registered_at >= registered_from)
        if limit is not None:
            query = query.limit(limit)
        if offset:
            query = query.offset(offset)
        return [codec.from_row(r) for r in self.conn.execute(query)]

    def count_cases(self, *, people: Sequence[str] = (), units: Sequence[str] = (),
                    stage: str | None = None, open_only: bool = True,
                    offices: Sequence[str] = ()) -> int:
        query = _found(select(func.count()).select_from(cases), people, units, stage,
                       open_only, offices)
        return int(self.conn.execute(query).scalar_one())

    def messages_to(self, recipient: str, kinds: Sequence[str], limit: int = 50
                    ) -> list[OutboxRow]:
        return [OutboxRow(**r._mapping) for r in self.conn.execute(
            select(outbox).where(outbox.c.recipient == recipient,
                                 outbox.c.kind.in_(list(kinds)))
            .order_by(outbox.c.id.desc()).limit(limit))]

    def all_cases(self) -> list[Case]:
        rows = self.conn.execute(select(cases).order_by(cases.c.registered_at))
        return [codec.from_row(r) for r in rows]

    def history_of(self, case: Case) -> list[AuditRow]:
        """The case's audit rows, after those of the signal it was promoted from (the
        information officer's report and the digest it was in)."""
        before = self.practices.events(f"signal:{case.signal}") if case.signal else []
        return [*before, *self.events_of(case.id)]

    def events_of(self, case_id: str) -> list[AuditRow]:
        """The case's audit rows, in order."""
        return [AuditRow(**r._mapping) for r in self.conn.execute(select(audit_events).where(
            audit_events.c.case_id == case_id).order_by(audit_events.c.seq))]

    def audit_check(self, key: bytes | None = None) -> tuple[int, list[Break]]:
        """Every chain checked: every row read, or, given the installation's audit key,
        only those since the newest checkpoint it signed (every row if none verifies).
        Writes nothing."""
        if key is None:
            return verify(self.conn)
        found = check(self.conn, key)
        return found.checked, found.breaks

    def audit_verify(self, key: bytes, at: dt.datetime, *, full: bool = False) -> AuditCheck:
        """Check the chains (from the newest checkpoint ``key`` signed, unless ``full``)
        and write what was found as a new checkpoint signed with ``key``, made ``at``;
        committed with the unit of work."""
        return check(self.conn, key, at, full=full)

    def audit_last(self, key: bytes) -> AuditCheck | None:
        """What the newest checkpoint's check found (when, how many chains, the breaks), if
        ``key`` signed it; None otherwise. Reads no audit row."""
        return last(self.conn, key)


def _found(query: Select[Any], people: Sequence[str], units: Sequence[str],
           stage: str | None, open_only: bool, offices: Sequence[str] = ()) -> Select[Any]:
    who = [c.in_(list(people)) for c in (cases.c.responder, cases.c.leader) if people]
    if units:
        who.append(cases.c.unit.in_(list(units)))
    if who:
        query = query.where(or_(*who))
    if stage is not None:
        query = query.where(cases.c.stage == stage)
    if open_only:
        query = query.where(cases.c.stage != "closed")
    if offices:
        query = query.where(cases.c.office.in_(list(offices)))
    return query
