"""Storage of the key persons' register (``key_persons``, ``domain.keypersons``) inside a
unit of work: their journals are the practices' (``uow.practices``), their undertakings
rows of ``case_files`` (``uow.attachments``), so a change, its events and its file commit
together. Also the ids of the cases ever listed for supervision (挂牌督办), read from
their ``CaseListed`` events."""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from sqlalchemy import Connection, insert, select, update

from domain.errors import ConcurrentUpdate, KeyPersonNotFound
from domain.events import EventType
from domain.keypersons import Holders, KeyPerson, Stability
from domain.petition import Petitioner
from storage.chain import AuditRow
from storage.tables import audit_events, key_persons

LISTED = EventType.CASE_LISTED.value


def to_body(kp: KeyPerson) -> dict[str, Any]:
    p, h = kp.petitioner, kp.holders
    return {"name": p.name, "id_number": p.id_number, "phone": p.phone,
            "address": p.address,
            "holders": {"leader": h.leader, "unit_head": h.unit_head,
                        "responder": h.responder, "contact_name": h.contact_name,
                        "contact_phone": h.contact_phone},
            "reason": kp.reason, "added_by": kp.added_by,
            "settled_on": kp.settled_on.isoformat() if kp.settled_on else None,
            "undertaking": kp.undertaking}


def from_row(id: str, office: str, state: str, added_at: dt.datetime, version: int,
             b: dict[str, Any]) -> KeyPerson:
    return KeyPerson(
        id=id, office=office,
        petitioner=Petitioner(b["name"], id_number=b.get("id_number"), phone=b.get("phone"),
                              address=b.get("address")),
        holders=Holders(**b["holders"]), state=Stability(state), reason=b["reason"],
        added_by=b["added_by"], added_at=added_at,
        settled_on=dt.date.fromisoformat(b["settled_on"]) if b.get("settled_on") else None,
        undertaking=b.get("undertaking"), version=version)


class SqlKeyPersons:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, kp: KeyPerson) -> None:
        self.conn.execute(insert(key_persons).values(
            id=kp.id, office=kp.office, state=kp.state.value, added_at=kp.added_at,
            version=1, body=to_body(kp)))

    def save(self, kp: KeyPerson) -> None:
        """Write ``kp`` over the version it was read at; a change made meanwhile is a
        conflict (tried again by the person), never overwritten."""
        done = self.conn.execute(update(key_persons).where(
            key_persons.c.id == kp.id, key_persons.c.version == kp.version).values(
            state=kp.state.value, version=kp.version + 1, body=to_body(kp)))
        if done.rowcount != 1:
            raise ConcurrentUpdate(f"keyperson:{kp.id}", kp.version)

    def get(self, kp_id: str) -> KeyPerson:
        row = self.conn.execute(select(key_persons).where(key_persons.c.id == kp_id)).first()
        if row is None:
            raise KeyPersonNotFound(kp_id)
        return from_row(row.id, row.office, row.state, row.added_at, row.version, row.body)

    def of_offices(self, offices: list[str]) -> list[KeyPerson]:
        rows = self.conn.execute(select(key_persons).where(key_persons.c.office.in_(offices))
                                 .order_by(key_persons.c.added_at, key_persons.c.id))
        return [from_row(r.id, r.office, r.state, r.added_at, r.version, r.body) for r in rows]

    def listed_case_ids(self) -> list[str]:
        """The cases ever listed for supervision, the latest listed first."""
        # Sorted here: an ORDER BY would have SQLite walk the whole table in id order
        # rather than the partial index ``ix_audit_case_listed``.
        rows = self.conn.execute(select(audit_events.c.id, audit_events.c.case_id).where(
            audit_events.c.type == LISTED))
        return list(dict.fromkeys(r.case_id for r in sorted(rows, key=lambda r: -r.id)))


class KeyPersonData(Protocol):
    keypersons: dict[str, tuple[KeyPerson, int]]
    audit: list[AuditRow]


class MemoryKeyPersons:
    """The same contract on the in-memory store (the use-case tests)."""

    def __init__(self, data: KeyPersonData) -> None:
        self.data = data

    def add(self, kp: KeyPerson) -> None:
        self.data.keypersons[kp.id] = (kp, 1)

    def save(self, kp: KeyPerson) -> None:
        held = self.data.keypersons.get(kp.id)
        if held is None or held[1] != kp.version:
            raise ConcurrentUpdate(f"keyperson:{kp.id}", kp.version)
        self.data.keypersons[kp.id] = (kp, kp.version + 1)

    def get(self, kp_id: str) -> KeyPerson:
        held = self.data.keypersons.get(kp_id)
        if held is None:
            raise KeyPersonNotFound(kp_id)
        kp, version = held
        return KeyPerson(**{**kp.__dict__, "version": version})

    def of_offices(self, offices: list[str]) -> list[KeyPerson]:
        return sorted((self.get(k) for k, (kp, _) in self.data.keypersons.items()
                       if kp.office in offices), key=lambda k: (k.added_at, k.id))

    def listed_case_ids(self) -> list[str]:
        return list(dict.fromkeys(r.case_id for r in reversed(self.data.audit)
                                  if r.type == LISTED))
