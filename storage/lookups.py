"""The public progress page's look-ups (``services/progress.py``): in SQL (``SqlLookups``)
and in the in-memory store's data (``MemoryLookups``), keeping one contract.

Each look-up is one row per key it counts under (the number asked for, the client's address,
``all``). ``gate`` makes a look-up's count and its record one step: on PostgreSQL a
transaction-scoped advisory lock (look-ups are rare and take milliseconds), on SQLite the
``BEGIN IMMEDIATE`` every unit of work starts with, in memory the store's lock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import Connection, delete, func, insert, select, text

from storage.tables import cases, lookup_attempts

KEPT = dt.timedelta(days=1)


class SqlLookups:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def gate(self) -> None:
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(text(
                "SELECT pg_advisory_xact_lock(hashtext('petitions.lookup'))"))

    def case_id(self, registration_no: str) -> str | None:
        return self.conn.execute(select(cases.c.id).where(
            cases.c.registration_no == registration_no)).scalar()

    def failures(self, keys: Sequence[str], since: dt.datetime) -> dict[str, int]:
        t = lookup_attempts.c
        rows = self.conn.execute(select(t.key, func.count()).where(
            t.key.in_(list(keys)), t.at >= since, t.ok.is_(False)).group_by(t.key))
        return {key: int(n) for key, n in rows}

    def times(self, key: str, since: dt.datetime) -> list[dt.datetime]:
        t = lookup_attempts.c
        return list(self.conn.execute(select(t.at).where(
            t.key == key, t.at >= since, t.ok.is_(False)).order_by(t.at)).scalars())

    def record(self, keys: Sequence[str], at: dt.datetime, ok: bool) -> None:
        self.conn.execute(delete(lookup_attempts).where(lookup_attempts.c.at < at - KEPT))
        self.conn.execute(insert(lookup_attempts), [{"key": k, "at": at, "ok": ok}
                                                    for k in keys])


class LookupData(Protocol):
    cases: dict[str, dict]  # type: ignore[type-arg]
    lookups: list[tuple[str, dt.datetime, bool]]


class MemoryLookups:
    def __init__(self, uow: object) -> None:
        self.uow = uow  # its ``data`` is replaced on rollback

    @property
    def data(self) -> LookupData:
        return self.uow.data  # type: ignore[attr-defined, no-any-return]

    def gate(self) -> None:
        """The store's lock is held for the whole unit of work."""

    def case_id(self, registration_no: str) -> str | None:
        return next((cid for cid, row in self.data.cases.items()
                     if row.get("registration_no") == registration_no), None)

    def failures(self, keys: Sequence[str], since: dt.datetime) -> dict[str, int]:
        counts: dict[str, int] = {}
        for k, at, ok in self.data.lookups:
            if k in keys and at >= since and not ok:
                counts[k] = counts.get(k, 0) + 1
        return counts

    def times(self, key: str, since: dt.datetime) -> list[dt.datetime]:
        return sorted(at for k, at, ok in self.data.lookups
                      if k == key and at >= since and not ok)

    def record(self, keys: Sequence[str], at: dt.datetime, ok: bool) -> None:
        self.data.lookups = [x for x in self.data.lookups if x[1] >= at - KEPT]
        self.data.lookups += [(k, at, ok) for k in keys]
