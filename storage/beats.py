"""The engine's heartbeats (``services/health.py``): when each recurring job last completed,
in SQL (``SqlBeats``) and in the in-memory store's data (``MemoryBeats``), one contract."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from sqlalchemy import Connection, select

from storage.tables import engine_beats

Beat = tuple[dt.datetime, str | None]


class SqlBeats:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def beat(self, name: str, at: dt.datetime, detail: str | None = None) -> None:
        values = {"name": name, "at": at, "detail": (detail or None) and detail[:200]}
        # The dialect's upsert, imported here: a command reading an SQLite home does not
        # load PostgreSQL's dialect.
        if self.conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            pg = pg_insert(engine_beats).values(**values)
            self.conn.execute(pg.on_conflict_do_update(
                index_elements=["name"], set_={"at": pg.excluded.at,
                                               "detail": pg.excluded.detail}))
            return
        from sqlalchemy.dialects.sqlite import insert as lite_insert

        stmt = lite_insert(engine_beats).values(**values)
        self.conn.execute(stmt.on_conflict_do_update(
            index_elements=["name"], set_={"at": stmt.excluded.at,
                                           "detail": stmt.excluded.detail}))

    def beats(self) -> dict[str, Beat]:
        t = engine_beats.c
        return {name: (at, detail) for name, at, detail in
                self.conn.execute(select(t.name, t.at, t.detail))}


class BeatData(Protocol):
    beats: dict[str, Beat]


class MemoryBeats:
    def __init__(self, uow: object) -> None:
        self.uow = uow  # its ``data`` is replaced on rollback

    @property
    def data(self) -> BeatData:
        return self.uow.data  # type: ignore[attr-defined, no-any-return]

    def beat(self, name: str, at: dt.datetime, detail: str | None = None) -> None:
        self.data.beats[name] = (at, (detail or None) and detail[:200])

    def beats(self) -> dict[str, Beat]:
        return dict(self.data.beats)
