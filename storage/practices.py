"""Storage of the office's practices: journals (hash-chained like a case's audit trail),
the daily zero reports and the information officers' signals. Used inside a unit of work,
so a practice's row, its audit events and its queued messages commit together."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, Protocol

from sqlalchemy import Connection, and_, insert, select, update
from sqlalchemy.exc import IntegrityError

from domain.errors import RuleViolation
from domain.events import DomainEvent
from domain.signals import Risk, Signal
from domain.zero_report import ZeroReport
from storage.chain import GENESIS, AuditRow, chain_rows
from storage.tables import audit_events, journals, signals, zero_reports


class SqlPractices:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # --- journals ------------------------------------------------------------------------
    def append(self, subject: str, kind: str, events: Iterable[DomainEvent]) -> None:
        """Chain ``events`` onto the journal ``subject`` (created on first use). The head row
        is locked first (PostgreSQL), so two writers never fork a chain."""
        new = list(events)
        if not new:
            return
        self.conn.execute(_insert_or_skip(self.conn).values(
            subject=subject, kind=kind, audit_seq=0, audit_head=GENESIS)
            .on_conflict_do_nothing(index_elements=["subject"]))
        query = select(journals.c.audit_seq, journals.c.audit_head).where(
            journals.c.subject == subject)
        if self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        head = self.conn.execute(query).one()
        rows = chain_rows(subject, new, head.audit_seq, head.audit_head)
        self.conn.execute(insert(audit_events), rows)
        self.conn.execute(update(journals).where(journals.c.subject == subject).values(
            audit_seq=rows[-1]["seq"], audit_head=rows[-1]["hash"]))

    def events(self, subject: str) -> list[AuditRow]:
        return [AuditRow(**r._mapping) for r in self.conn.execute(select(audit_events).where(
            audit_events.c.case_id == subject).order_by(audit_events.c.seq))]

    def events_between(self, first: str, last: str, types: Iterable[str]) -> list[AuditRow]:
        """Audit rows of ``types`` of the journals whose subjects sort in [first, last]
        (``zero-report:2026-11-23`` … ``zero-report:2026-11-30``: ISO dates sort)."""
        return [AuditRow(**r._mapping) for r in self.conn.execute(select(audit_events).where(
            and_(audit_events.c.case_id.between(first, last),
                 audit_events.c.type.in_(list(types)))).order_by(audit_events.c.id))]

    def has_event(self, subject: str, type_: str, **data: str) -> bool:
        """Whether the journal holds an event of ``type_`` whose data has these values."""
        for row in self.conn.execute(select(audit_events.c.data).where(and_(
                audit_events.c.case_id == subject, audit_events.c.type == type_))):
            if all(row.data.get(k) == v for k, v in data.items()):
                return True
        return False

    # --- zero reports --------------------------------------------------------------------
    def zero_report(self, unit: str, day: dt.date) -> ZeroReport | None:
        row = self.conn.execute(select(zero_reports).where(and_(
            zero_reports.c.unit == unit, zero_reports.c.day == day.isoformat()))).first()
        return _report(row) if row is not None else None

    def add_zero_report(self, r: ZeroReport) -> None:
        try:
            with self.conn.begin_nested():  # two reporters at once: the key decides
                self.conn.execute(insert(zero_reports).values(
                    unit=r.unit, day=r.day.isoformat(), reporter=r.reporter, at=r.at,
                    items=r.items, summary=r.summary, late=r.late))
        except IntegrityError:
            raise RuleViolation(f"zero-report:{r.unit}",
                                f"'{r.unit}' already reported for {r.day}") from None

    def zero_reports(self, first: dt.date, last: dt.date) -> list[ZeroReport]:
        rows = self.conn.execute(select(zero_reports).where(
            zero_reports.c.day.between(first.isoformat(), last.isoformat()))
            .order_by(zero_reports.c.day, zero_reports.c.unit))
        return [_report(r) for r in rows]

    # --- signals -------------------------------------------------------------------------
    def add_signal(self, s: Signal) -> None:
        self.conn.execute(insert(signals).values(
            id=s.id, officer=s.officer, unit=s.unit, at=s.at, summary=s.summary,
            detail=s.detail, risk=s.risk.value, case_id=s.case_id))

    def signal(self, signal_id: str, *, lock: bool = False) -> Signal | None:
        query = select(signals).where(signals.c.id == signal_id)
        if lock and self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = self.conn.execute(query).first()
        return _signal(row) if row is not None else None

    def signals(self, first: dt.datetime | None = None, last: dt.datetime | None = None
                ) -> list[Signal]:
        """Signals recorded in [first, last), oldest first."""
        query = select(signals).order_by(signals.c.at, signals.c.id)
        if first is not None:
            query = query.where(signals.c.at >= first)
        if last is not None:
            query = query.where(signals.c.at < last)
        return [_signal(r) for r in self.conn.execute(query)]

    def promote(self, signal_id: str, case_id: str) -> None:
        self.conn.execute(update(signals).where(signals.c.id == signal_id)
                          .values(case_id=case_id))


def _insert_or_skip(conn: Connection) -> Any:
    """The dialect's INSERT, which can skip a conflicting row (both dialects spell it
    ``on_conflict_do_nothing``). Imported here, not at the top: the PostgreSQL dialect is
    loaded already when the connection is PostgreSQL's, and never on SQLite."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(journals)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(journals)


def _report(row: Any) -> ZeroReport:
    return ZeroReport(row.unit, dt.date.fromisoformat(row.day), row.reporter, row.at,
                      int(row.items), row.summary, bool(row.late))


def _signal(row: Any) -> Signal:
    return Signal(row.id, row.officer, row.unit, row.at, row.summary, row.detail,
                  Risk(row.risk), row.case_id)


class PracticeData(Protocol):
    audit: list[AuditRow]
    heads: dict[str, tuple[int, str]]
    zero_reports: dict[tuple[str, dt.date], ZeroReport]
    signals: dict[str, Signal]

    def next_id(self) -> int: ...


class MemoryPractices:
    """The same contract on the in-memory store's data (the use-case tests)."""

    def __init__(self, data: PracticeData) -> None:
        self.data = data

    def append(self, subject: str, kind: str, events: Iterable[DomainEvent]) -> None:
        seq, head = self.data.heads.get(subject, (0, GENESIS))
        rows = chain_rows(subject, list(events), seq, head)
        for r in rows:
            self.data.audit.append(AuditRow(id=self.data.next_id(), **r))
        if rows:
            self.data.heads[subject] = (rows[-1]["seq"], rows[-1]["hash"])

    def events(self, subject: str) -> list[AuditRow]:
        return sorted((r for r in self.data.audit if r.case_id == subject), key=lambda r: r.seq)

    def events_between(self, first: str, last: str, types: Iterable[str]) -> list[AuditRow]:
        wanted = set(types)
        return [r for r in self.data.audit if first <= r.case_id <= last and r.type in wanted]

    def has_event(self, subject: str, type_: str, **data: str) -> bool:
        return any(r.case_id == subject and r.type == type_
                   and all(r.data.get(k) == v for k, v in data.items())
                   for r in self.data.audit)

    def zero_report(self, unit: str, day: dt.date) -> ZeroReport | None:
        return self.data.zero_reports.get((unit, day))

    def add_zero_report(self, r: ZeroReport) -> None:
        if (r.unit, r.day) in self.data.zero_reports:
            raise RuleViolation(f"zero-report:{r.unit}", f"'{r.unit}' already reported for {r.day}")
        self.data.zero_reports[(r.unit, r.day)] = r

    def zero_reports(self, first: dt.date, last: dt.date) -> list[ZeroReport]:
        return sorted((r for (_, day), r in self.data.zero_reports.items()
                       if first <= day <= last), key=lambda r: (r.day, r.unit))

    def add_signal(self, s: Signal) -> None:
        self.data.signals[s.id] = s

    def signal(self, signal_id: str, *, lock: bool = False) -> Signal | None:
        return self.data.signals.get(signal_id)

    def signals(self, first: dt.datetime | None = None,
                last: dt.datetime | None = None) -> list[Signal]:
        return sorted((s for s in self.data.signals.values()
                       if (first is None or s.at >= first) and (last is None or s.at < last)),
                      key=lambda s: (s.at, s.id))

    def promote(self, signal_id: str, case_id: str) -> None:
        s = self.data.signals[signal_id]
        self.data.signals[signal_id] = Signal(s.id, s.officer, s.unit, s.at, s.summary,
                                              s.detail, s.risk, case_id)
