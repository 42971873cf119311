"""Verifying every stored audit chain (cases and journals) in SQL; the hashing is in
``chain.py``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, select

from storage.chain import Break, check_chain
from storage.tables import audit_events, cases, journals


def _by_case(conn: Connection) -> Iterator[tuple[str, list[Any]]]:
    # Ordered by physical insertion (id): a reordering of seq values shows up as a gap.
    query = select(audit_events).order_by(audit_events.c.case_id, audit_events.c.id)
    current: str | None = None
    rows: list[Any] = []
    for row in conn.execute(query).yield_per(5000):
        if row.case_id != current:
            if current is not None:
                yield current, rows
            current, rows = row.case_id, []
        rows.append(row)
    if current is not None:
        yield current, rows


def verify(conn: Connection) -> tuple[int, list[Break]]:
    """Check every case's and journal's chain: (chains checked, first break of each
    broken one)."""
    heads = {r.id: (r.audit_seq, r.audit_head)
             for r in conn.execute(select(cases.c.id, cases.c.audit_seq, cases.c.audit_head))}
    heads.update({r.subject: (r.audit_seq, r.audit_head) for r in conn.execute(
        select(journals.c.subject, journals.c.audit_seq, journals.c.audit_head))})
    checked, breaks = 0, []
    seen = set()
    for case_id, rows in _by_case(conn):
        checked += 1
        seen.add(case_id)
        broken = check_chain(case_id, rows, heads.get(case_id))
        if broken:
            breaks.append(broken)
    for case_id in sorted(set(heads) - seen):
        if heads[case_id][0]:
            checked += 1
            breaks.append(Break(case_id, 1, 0, "every audit row of the case was deleted"))
    return checked, breaks
