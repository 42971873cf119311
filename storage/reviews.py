"""The quarterly reviews' tables and rows (``domain.review.Meeting`` and its measures): in SQL
(``SqlReviews``) and in the in-memory store's data (``MemoryReviews``), one contract. Their
journal (``review:<quarter>``) is the practices' (``storage/practices.py``)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import Column, Connection, String, Table, insert, select, update

from domain.review import MeasureKind, Meeting, ReviewMeasure
from storage.tables import JSONB, UTCDateTime, metadata

# 每季不稳定因素分析排查例会: one record per journal subject (``review:2026Q4``, an office
# of a tree ``mine-a/review:2026Q4``), and its measures (措施/预案), each a tracked duty.
review_meetings = Table(
    "review_meetings", metadata,
    Column("subject", String(64), primary_key=True),
    Column("quarter", String(8), nullable=False),
    Column("chair", String(64), nullable=False),
    Column("attendees", JSONB, nullable=False),
    Column("held_on", String(10), nullable=False),  # local date, YYYY-MM-DD
    Column("issues", JSONB, nullable=False),
    Column("recorded_by", String(64), nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
)

review_measures = Table(
    "review_measures", metadata,
    Column("id", String(64), primary_key=True),
    Column("subject", String(64), nullable=False, index=True),
    Column("quarter", String(8), nullable=False),
    Column("text", String(1000), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("owner", String(64), nullable=False),
    Column("due", String(10), nullable=False),  # local date
    Column("done_at", UTCDateTime()),
    Column("done_by", String(64)),
    Column("note", String(2000), nullable=False),
)


class ReviewStore(Protocol):
    """The quarterly reviews and their measures (``storage/reviews.py``)."""

    def add(self, subject: str, m: Meeting) -> None: ...
    def meeting(self, subject: str) -> Meeting | None: ...
    def measure(self, measure_id: str, *, lock: bool = False
                ) -> tuple[str, ReviewMeasure] | None: ...

    def open_measures(self, subjects: Sequence[str] = ()
                      ) -> list[tuple[str, ReviewMeasure]]:
        """Measures not done (of the journal ``subjects``, or all), by due date."""

    def done(self, m: ReviewMeasure) -> None: ...


def _measure(r: Any) -> ReviewMeasure:
    return ReviewMeasure(r.id, r.quarter, r.text, r.owner, dt.date.fromisoformat(r.due),
                         MeasureKind(r.kind), r.done_at, r.done_by, r.note)


class SqlReviews:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, subject: str, m: Meeting) -> None:
        self.conn.execute(insert(review_meetings).values(
            subject=subject, quarter=m.quarter, chair=m.chair, attendees=list(m.attendees),
            held_on=m.held_on.isoformat(), issues=list(m.issues), recorded_by=m.recorded_by,
            recorded_at=m.recorded_at))
        if m.measures:
            self.conn.execute(insert(review_measures), [
                {"id": x.id, "subject": subject, "quarter": x.quarter, "text": x.text,
                 "kind": x.kind.value, "owner": x.owner, "due": x.due.isoformat(),
                 "done_at": None, "done_by": None, "note": ""} for x in m.measures])

    def meeting(self, subject: str) -> Meeting | None:
        row = self.conn.execute(select(review_meetings).where(
            review_meetings.c.subject == subject)).first()
        if row is None:
            return None
        found = self.conn.execute(select(review_measures).where(
            review_measures.c.subject == subject).order_by(review_measures.c.id))
        return Meeting(row.quarter, row.chair, tuple(row.attendees),
                       dt.date.fromisoformat(row.held_on), tuple(row.issues),
                       row.recorded_by, row.recorded_at, tuple(_measure(r) for r in found))

    def measure(self, measure_id: str, *, lock: bool = False) -> tuple[str, ReviewMeasure] | None:
        query = select(review_measures).where(review_measures.c.id == measure_id)
        if lock and self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = self.conn.execute(query).first()
        return (row.subject, _measure(row)) if row is not None else None

    def open_measures(self, subjects: Sequence[str] = ()) -> list[tuple[str, ReviewMeasure]]:
        """Measures not done (of ``subjects``, or all), by due date."""
        query = select(review_measures).where(review_measures.c.done_at.is_(None))
        if subjects:
            query = query.where(review_measures.c.subject.in_(list(subjects)))
        return [(r.subject, _measure(r)) for r in self.conn.execute(
            query.order_by(review_measures.c.due, review_measures.c.id))]

    def done(self, m: ReviewMeasure) -> None:
        self.conn.execute(update(review_measures).where(review_measures.c.id == m.id).values(
            done_at=m.done_at, done_by=m.done_by, note=m.note))


class ReviewData(Protocol):
    reviews: dict[str, Meeting]
    review_measures: dict[str, tuple[str, ReviewMeasure]]


class MemoryReviews:
    def __init__(self, uow: object) -> None:
        self.uow = uow  # its ``data`` is replaced on rollback

    @property
    def data(self) -> ReviewData:
        return self.uow.data  # type: ignore[attr-defined, no-any-return]

    def add(self, subject: str, m: Meeting) -> None:
        if subject in self.data.reviews:
            raise ValueError(f"{subject} is recorded already")
        self.data.reviews[subject] = dataclasses.replace(m, measures=())
        for x in m.measures:
            self.data.review_measures[x.id] = (subject, x)

    def meeting(self, subject: str) -> Meeting | None:
        m = self.data.reviews.get(subject)
        if m is None:
            return None
        found = sorted((x for s, x in self.data.review_measures.values() if s == subject),
                       key=lambda x: x.id)
        return dataclasses.replace(m, measures=tuple(found))

    def measure(self, measure_id: str, *, lock: bool = False) -> tuple[str, ReviewMeasure] | None:
        return self.data.review_measures.get(measure_id)

    def open_measures(self, subjects: Sequence[str] = ()) -> list[tuple[str, ReviewMeasure]]:
        return sorted(((s, x) for s, x in self.data.review_measures.values()
                       if x.done_at is None and (not subjects or s in subjects)),
                      key=lambda p: (p[1].due, p[1].id))

    def done(self, m: ReviewMeasure) -> None:
        subject, _ = self.data.review_measures[m.id]
        self.data.review_measures[m.id] = (subject, m)
