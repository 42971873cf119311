"""The lifecycle run of each case in SQL (``lifecycle_runs``): which Prefect flow run walks
it, and the wait that run is suspended on. Mixed into ``storage.repository.SqlUnitOfWork``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, select, update

from storage.ports import RunRow, Wait
from storage.tables import cases, lifecycle_runs


class SqlRuns:
    conn: Connection

    def run_of(self, case_id: str) -> str | None:
        return self.conn.execute(select(lifecycle_runs.c.flow_run_id).where(
            lifecycle_runs.c.case_id == case_id)).scalar()

    def record_run(self, case_id: str, flow_run_id: str, at: dt.datetime) -> None:
        """The case's first run, unless one is recorded: an entrance and the reconciler may
        both start it (Prefect's idempotency key gives them the same run) and record it at
        once; the second insert does nothing rather than fail."""
        values = {"case_id": case_id, "flow_run_id": flow_run_id, "started_at": at}
        if self.conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            self.conn.execute(pg_insert(lifecycle_runs).values(**values)
                              .on_conflict_do_nothing(index_elements=["case_id"]))
            return
        from sqlalchemy.dialects.sqlite import insert as lite_insert

        self.conn.execute(lite_insert(lifecycle_runs).values(**values)
                          .on_conflict_do_nothing(index_elements=["case_id"]))

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
