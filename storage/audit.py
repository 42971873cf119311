"""The tamper-evident audit trail: events hash-chained per case.

Each row stores the hash of the previous row of its case and the SHA-256 of its own content
(case, sequence number, type, actor, time, stage, data) chained to that previous hash. A
changed, deleted or reordered row breaks the chain from that row on; ``verify`` names the
first broken row of each case.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from domain.events import DomainEvent
from domain.instants import as_utc
from storage.tables import audit_events, cases, journals

GENESIS = "0" * 64


def content_hash(prev_hash: str, case_id: str, seq: int, type_: str, actor: str,
                 at: dt.datetime, stage: str, data: Mapping[str, Any]) -> str:
    body = json.dumps([prev_hash, case_id, seq, type_, actor, as_utc(at).isoformat(), stage,
                       data], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def chain_rows(case_id: str, events: Iterable[DomainEvent], last_seq: int,
               last_hash: str) -> list[dict[str, Any]]:
    """Rows for new events of one case, chained after (last_seq, last_hash)."""
    rows = []
    seq, prev = last_seq, last_hash
    for e in events:
        seq += 1
        record = e.as_record()
        digest = content_hash(prev, case_id, seq, record["type"], e.actor, e.at, e.stage,
                              record["data"])
        rows.append({"case_id": case_id, "seq": seq, "type": record["type"], "actor": e.actor,
                     "at": as_utc(e.at), "stage": e.stage, "data": record["data"],
                     "prev_hash": prev, "hash": digest})
        prev = digest
    return rows


@dataclass(frozen=True)
class Break:
    """The first broken row of a case's chain."""

    case_id: str
    seq: int
    row_id: int
    problem: str


def _check(case_id: str, rows: list[Any], head: tuple[int, str] | None) -> Break | None:
    prev = GENESIS
    for expected_seq, row in enumerate(rows, start=1):
        if row.seq != expected_seq:
            return Break(case_id, row.seq, row.id,
                         f"expected row {expected_seq}, found {row.seq} (a row is missing "
                         "or out of order)")
        if row.prev_hash != prev:
            return Break(case_id, row.seq, row.id, "does not follow the row before it")
        digest = content_hash(prev, case_id, row.seq, row.type, row.actor, row.at, row.stage,
                              row.data)
        if digest != row.hash:
            return Break(case_id, row.seq, row.id, "its content was changed")
        prev = row.hash
    if head is not None and (len(rows), prev) != head:
        last = rows[-1]
        return Break(case_id, last.seq, last.id,
                     f"the chain ends at row {len(rows)} but the case records {head[0]} rows "
                     "(rows at the end were deleted)")
    return None


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
        broken = _check(case_id, rows, heads.get(case_id))
        if broken:
            breaks.append(broken)
    for case_id in sorted(set(heads) - seen):
        if heads[case_id][0]:
            checked += 1
            breaks.append(Break(case_id, 1, 0, "every audit row of the case was deleted"))
    return checked, breaks
