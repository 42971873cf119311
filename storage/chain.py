"""The tamper-evident audit trail's arithmetic: events hash-chained per case or journal.

Each row stores the hash of the previous row of its chain and the SHA-256 of its own content
(subject, sequence number, type, actor, time, stage, data) chained to that previous hash. A
changed, deleted or reordered row breaks the chain from that row on; ``check_chain`` names
the first broken row. Pure: the SQL store and the in-memory one both use it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from domain.events import DomainEvent
from domain.instants import as_utc

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditRow:
    """One stored audit event (a row of ``audit_events``). ``case_id`` is the subject: a
    case id, or a journal's (``signal:…``, ``zero-report:…``)."""

    id: int
    case_id: str
    seq: int
    type: str
    actor: str
    at: dt.datetime
    stage: str
    data: Mapping[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Break:
    """The first broken row of a chain."""

    case_id: str
    seq: int
    row_id: int
    problem: str


def content_hash(prev_hash: str, case_id: str, seq: int, type_: str, actor: str,
                 at: dt.datetime, stage: str, data: Mapping[str, Any]) -> str:
    body = json.dumps([prev_hash, case_id, seq, type_, actor, as_utc(at).isoformat(), stage,
                       data], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def chain_rows(case_id: str, events: Iterable[DomainEvent], last_seq: int,
               last_hash: str) -> list[dict[str, Any]]:
    """Rows (without ``id``) for new events of one chain, after (last_seq, last_hash)."""
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


def check_chain(case_id: str, rows: Sequence[Any], head: tuple[int, str] | None,
                start: tuple[int, str] = (0, GENESIS)) -> Break | None:
    """The first broken row of one chain's ``rows`` (in insertion order), given the head
    its owner records (``audit_seq``, ``audit_head``), or None when it is whole. ``start``:
    the (seq, hash) the rows continue from (a checkpoint's head; default: the chain's
    beginning)."""
    prev = start[1]
    for expected_seq, row in enumerate(rows, start=start[0] + 1):
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
    end = start[0] + len(rows)
    if head is not None and (end, prev) != head:
        if not rows and not start[0]:
            return Break(case_id, 1, 0, "every audit row of the case was deleted")
        if not rows:
            return Break(case_id, end, 0,
                         f"the case records {head[0]} rows (head {head[1][:12]}…) but its "
                         f"chain was checked to end at row {end} (rows at the end were "
                         "deleted, or the case's head was changed)")
        last = rows[-1]
        return Break(case_id, last.seq, last.id,
                     f"the chain ends at row {end} but the case records {head[0]} rows "
                     "(rows at the end were deleted)")
    return None


def chain_end(rows: Sequence[Any], start: tuple[int, str] = (0, GENESIS)) -> tuple[int, str]:
    """The (seq, hash) a whole chain's ``rows`` end at, continuing from ``start``."""
    return (start[0] + len(rows), rows[-1].hash) if rows else start


@dataclass(frozen=True)
class AuditCheck:
    """What one check of the audit chains found and how: ``checked`` chains and the first
    break of each broken one (as ``audit_check`` gives them); ``full``: every row read,
    else only those after checkpoint ``since``; ``rows_read``; ``checkpoint``: the signed
    checkpoint written from it (None: none written); ``note``: why a check asked to
    continue from a checkpoint read every row (none yet, or not trusted); ``at``: when a
    checkpoint's check was made (``audit_last``)."""

    checked: int
    breaks: list[Break]
    full: bool
    rows_read: int
    since: int | None = None
    checkpoint: int | None = None
    note: str | None = None
    at: dt.datetime | None = None
