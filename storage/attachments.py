"""The attachments' rows (``domain.attachments.Attachment``): in SQL (``SqlAttachments``)
and in the in-memory store's data (``MemoryAttachments``), keeping one contract. The bytes
are the file store's (``storage/files.py``); these rows say which case holds which."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import Connection, func, insert, select, update

from domain.attachments import Attachment, FileKind
from domain.events import EventType
from storage.chain import AuditRow
from storage.tables import audit_events, case_files

FILE_EVENTS = (EventType.FILE_ATTACHED.value, EventType.FILE_WITHDRAWN.value)


def _row(a: Attachment) -> dict[str, Any]:
    return {"id": a.id, "case_id": a.case_id, "n": a.n, "sha256": a.sha256, "size": a.size,
            "media_type": a.media_type, "name": a.name, "kind": a.kind.value,
            "added_by": a.by, "added_at": a.at, "withdrawn_by": a.withdrawn_by,
            "withdrawn_at": a.withdrawn_at, "withdraw_reason": a.withdraw_reason}


def _attachment(r: Any) -> Attachment:
    return Attachment(r.id, r.case_id, r.sha256, int(r.size), r.media_type, r.name,
                      FileKind(r.kind), r.added_by, r.added_at, int(r.n), r.withdrawn_by,
                      r.withdrawn_at, r.withdraw_reason)


class SqlAttachments:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, a: Attachment) -> None:
        self.conn.execute(insert(case_files).values(**_row(a)))

    def of_case(self, case_id: str) -> list[Attachment]:
        t = case_files.c
        return [_attachment(r) for r in self.conn.execute(
            select(case_files).where(t.case_id == case_id).order_by(t.n))]

    def counts(self, case_ids: Sequence[str]) -> dict[str, int]:
        t = case_files.c
        rows = self.conn.execute(select(t.case_id, func.count()).where(
            t.case_id.in_(list(case_ids)), t.withdrawn_at.is_(None)).group_by(t.case_id))
        return {cid: int(n) for cid, n in rows}

    def withdraw(self, file_id: str, by: str, at: dt.datetime, reason: str) -> None:
        self.conn.execute(update(case_files).where(case_files.c.id == file_id).values(
            withdrawn_by=by, withdrawn_at=at, withdraw_reason=reason))

    def every(self) -> list[Attachment]:
        return [_attachment(r) for r in self.conn.execute(
            select(case_files).order_by(case_files.c.case_id, case_files.c.n))]

    def events(self) -> list[AuditRow]:
        return [AuditRow(**r._mapping) for r in self.conn.execute(select(audit_events).where(
            audit_events.c.type.in_(FILE_EVENTS)).order_by(audit_events.c.id))]


class AttachmentData(Protocol):
    attachments: dict[str, Attachment]
    audit: list[AuditRow]


class MemoryAttachments:
    def __init__(self, uow: object) -> None:
        self.uow = uow  # its ``data`` is replaced on rollback

    @property
    def data(self) -> AttachmentData:
        return self.uow.data  # type: ignore[attr-defined, no-any-return]

    def add(self, a: Attachment) -> None:
        if any(x.case_id == a.case_id and x.sha256 == a.sha256
               for x in self.data.attachments.values()):
            raise ValueError(f"case {a.case_id} holds {a.sha256} already")
        self.data.attachments[a.id] = a

    def of_case(self, case_id: str) -> list[Attachment]:
        return sorted((a for a in self.data.attachments.values() if a.case_id == case_id),
                      key=lambda a: a.n)

    def counts(self, case_ids: Sequence[str]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for a in self.data.attachments.values():
            if a.case_id in case_ids and not a.withdrawn:
                counts[a.case_id] = counts.get(a.case_id, 0) + 1
        return counts

    def withdraw(self, file_id: str, by: str, at: dt.datetime, reason: str) -> None:
        a = self.data.attachments[file_id]
        self.data.attachments[file_id] = dataclasses.replace(
            a, withdrawn_by=by, withdrawn_at=at, withdraw_reason=reason)

    def every(self) -> list[Attachment]:
        return sorted(self.data.attachments.values(), key=lambda a: (a.case_id, a.n))

    def events(self) -> list[AuditRow]:
        return [r for r in self.data.audit if r.type in FILE_EVENTS]
