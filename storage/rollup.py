"""The measures as sums over the facts stored with each case (``domain.measures.Facts``,
the ``received_on`` and ``m_*`` columns of ``cases``; in SQL, over their tallies by day and
month, ``storage/tallies.py``): counts per period, unit and office without loading a case.
Mixed into both units of work (SQL and in-memory)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Select, and_, false, func, or_, select

from domain.accused import Exposure
from domain.case import Case
from domain.measures import COUNTS
from storage import codec, tallies
from storage.tables import cases

_SATISFIED = ("satisfied", "basically")


class SqlMeasures:
    conn: Connection

    def measure_counts(self, start: dt.date, end: dt.date, unit: str | None = None,
                       offices: Sequence[str] = (), *, by_office: bool = False
                       ) -> dict[str, dict[str, int]]:
        """``domain.measures.tally``'s counts over the petitions received from ``start``
        to ``end`` (local dates), of ``unit`` and ``offices`` if given; by office (else one
        entry, ``""``). Summed from the offices' tallies by day and month
        (``storage/tallies.py``); a unit's, from its cases."""
        if unit is None:
            return tallies.summed(self.conn, start, end, offices, by_office=by_office)
        return self.measure_counts_of_cases(start, end, unit, offices, by_office=by_office)

    def measure_counts_of_cases(self, start: dt.date, end: dt.date, unit: str | None = None,
                                offices: Sequence[str] = (), *, by_office: bool = False
                                ) -> dict[str, dict[str, int]]:
        """``measure_counts`` summed over the cases themselves (what the tallies equal)."""
        c = cases.c
        columns = tallies.count_columns()
        keys = [c.office] if by_office else []
        query = select(*keys, *(v.label(k) for k, v in columns.items())).where(and_(
            c.received_on >= start.isoformat(), c.received_on <= end.isoformat()))
        if unit is not None:
            query = query.where(c.unit == unit)
        if offices:
            query = query.where(c.office.in_(list(offices)))
        if by_office:
            query = query.group_by(c.office)
        out = {}
        for row in self.conn.execute(query):
            m = row._mapping
            out[str(m["office"]) if by_office else ""] = {k: int(m[k]) for k in COUNTS}
        return out

    def without_facts(self, limit: int = 1000) -> list[str]:
        """The ids of cases whose facts were never stored (stored before they were)."""
        return list(self.conn.execute(select(cases.c.id).where(
            cases.c.received_on.is_(None)).limit(limit)).scalars())

    def repeated_among(self, ids: Sequence[str]) -> set[str]:
        """Those of ``ids`` some petition repeats."""
        if not ids:
            return set()
        return set(self.conn.execute(select(cases.c.repeat_of).where(
            cases.c.repeat_of.in_(list(ids)))).scalars())

    def received_span(self, offices: Sequence[str] = ()) -> tuple[str | None, str | None]:
        """The first and last local day a petition (of ``offices``) was received on."""
        query = select(func.min(cases.c.received_on), func.max(cases.c.received_on))
        if offices:
            query = query.where(cases.c.office.in_(list(offices)))
        first, last = self.conn.execute(query).one()
        return first, last

    def overdue_groups(self, now: dt.datetime, offices: Sequence[str] = ()
                       ) -> list[tuple[str, str | None, str | None, int, dt.datetime]]:
        """The open cases past their stored next due, counted by (office, unit, leader),
        with the earliest such due of each."""
        c = cases.c
        # "(next_due_at IS NULL) = false" adds nothing to "next_due_at < now" but names the
        # first column of ix_cases_open_due (migration 0020), which SQLite, without
        # statistics, then searches from the index alone instead of scanning every case.
        query = (select(c.office, c.unit, c.leader, func.count(), func.min(c.next_due_at))
                 .where(c.stage != "closed", c.next_due_at < now,
                        c.next_due_at.is_(None) == false())
                 .group_by(c.office, c.unit, c.leader))
        if offices:
            query = query.where(c.office.in_(list(offices)))
        return [(r[0], r[1], r[2], int(r[3]), _utc(r[4])) for r in self.conn.execute(query)]

    def overdue_accusations(self, now: dt.datetime, offices: Sequence[str] = (),
                            exposed: Exposure | None = None) -> list[Case]:
        """The open accusations past their stored next due; with ``exposed``, only those
        that may bar its person (as ``accusations_received``)."""
        found = select(cases.c.id).where(cases.c.stage != "closed", cases.c.next_due_at < now,
                                         cases.c.category == "accusation")
        if offices:
            found = found.where(cases.c.office.in_(list(offices)))
        if exposed is not None:
            found = found.where(_may_bar(exposed))
        return self._cases_in(found)

    def received_mix(self, start: dt.date, end: dt.date, unit: str | None = None,
                     offices: Sequence[str] = ()) -> list[tuple[str, str, str, int]]:
        """How many petitions were received in the period by (month ``YYYY-MM``, channel,
        category)."""
        c = cases.c
        month = func.substr(c.received_on, 1, 7)
        channel = c.body[("petition", "channel")].as_string()
        query = select(month, channel, c.category, func.count()).where(
            c.received_on >= start.isoformat(), c.received_on <= end.isoformat())
        if unit is not None:
            query = query.where(c.unit == unit)
        if offices:
            query = query.where(c.office.in_(list(offices)))
        query = query.group_by(month, channel, c.category)
        return [(str(m), str(ch), str(cat), int(n))
                for m, ch, cat, n in self.conn.execute(query)]

    def overdue_dues(self, now: dt.datetime, offices: Sequence[str] = ()
                     ) -> list[tuple[str, dt.datetime]]:
        """The open cases past their stored next due: (id, that due)."""
        c = cases.c
        query = select(c.id, c.next_due_at).where(
            c.next_due_at.is_(None) == false(), c.next_due_at < now, c.stage != "closed")
        if offices:
            query = query.where(c.office.in_(list(offices)))
        return [(str(i), _utc(due)) for i, due in self.conn.execute(query)]

    def received_page(self, start: dt.date, end: dt.date, unit: str | None,
                      offices: Sequence[str], limit: int, offset: int
                      ) -> tuple[list[Case], int]:
        """A page of the cases received in the period, the latest first, and how many."""
        where = [cases.c.received_on >= start.isoformat(),
                 cases.c.received_on <= end.isoformat()]
        if unit is not None:
            where.append(cases.c.unit == unit)
        if offices:
            where.append(cases.c.office.in_(list(offices)))
        total = self.conn.execute(select(func.count()).select_from(cases)
                                  .where(*where)).scalar_one()
        rows = self.conn.execute(select(cases).where(*where).order_by(
            cases.c.received_on.desc(), cases.c.registered_at.desc(), cases.c.id)
            .limit(limit).offset(offset))
        return [codec.from_row(r) for r in rows], int(total)

    def received_counts(self, start: dt.date, end: dt.date, offices: Sequence[str]
                        ) -> dict[tuple[str, str | None], int]:
        """How many petitions were received in the period, by (category, unit)."""
        where = [cases.c.received_on >= start.isoformat(),
                 cases.c.received_on <= end.isoformat()]
        if offices:
            where.append(cases.c.office.in_(list(offices)))
        return {(r[0], r[1]): int(r[2]) for r in self.conn.execute(
            select(cases.c.category, cases.c.unit, func.count()).where(*where)
            .group_by(cases.c.category, cases.c.unit))}

    def group_visits(self, start: dt.date, end: dt.date, unit: str,
                     offices: Sequence[str], least: int) -> list[Case]:
        """The petitions about ``unit`` received in the period by ``least`` people or
        more (集体访), read by their headcount in the database: only those are loaded."""
        headcount = cases.c.body["petition"]["headcount"].as_integer()
        where = [cases.c.received_on >= start.isoformat(),
                 cases.c.received_on <= end.isoformat(), cases.c.unit == unit,
                 headcount >= least]
        if offices:
            where.append(cases.c.office.in_(list(offices)))
        return [codec.from_row(r) for r in self.conn.execute(select(cases).where(*where))]

    def accusations_received(self, start: dt.date, end: dt.date,
                             offices: Sequence[str] = (), exposed: Exposure | None = None
                             ) -> list[Case]:
        """The accusations received in the period: the cases a supervisor may be barred
        from (the measures leave out what their viewer may not see); with ``exposed``,
        only those that may bar its person (holding one of ``codec.marks_of``; and any
        stored before marks were)."""
        found = select(cases.c.id).where(
            cases.c.category == "accusation", cases.c.received_on >= start.isoformat(),
            cases.c.received_on <= end.isoformat())
        if offices:
            found = found.where(cases.c.office.in_(list(offices)))
        if exposed is not None:
            found = found.where(_may_bar(exposed))
        return self._cases_in(found)

    def _cases_in(self, found: Select[Any]) -> list[Case]:
        """The cases whose ids ``found`` selects: the ids found from an index alone (the
        accusations' marks are in ``ix_cases_accusations`` and ``ix_cases_open_accusations``,
        migration 0020), then only their rows read."""
        return [codec.from_row(r) for r in self.conn.execute(
            select(cases).where(cases.c.id.in_(found)).order_by(cases.c.id))]


def _may_bar(exposed: Exposure) -> Any:
    """The accusations that may bar ``exposed.person``: holding one of its marks
    (``codec.marks_of``), or stored before marks were."""
    return or_(cases.c.accused_marks.is_(None), *(
        cases.c.accused_marks.contains(m, autoescape=True) for m in codec.marks_of(exposed)))


def _utc(value: Any) -> dt.datetime:
    """An aggregate's instant (SQLite hands back the naive UTC text ``min`` found)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    instant: dt.datetime = value
    return instant if instant.tzinfo else instant.replace(tzinfo=dt.UTC)


class MemoryMeasures:
    """The same sums over the in-memory store's rows."""

    def _rows(self) -> Mapping[str, dict[str, Any]]:
        raise NotImplementedError

    def _in(self, start: dt.date, end: dt.date, offices: Sequence[str]
            ) -> list[dict[str, Any]]:
        return [r for r in self._rows().values() if r.get("received_on") is not None
                and start.isoformat() <= r["received_on"] <= end.isoformat()
                and (not offices or r.get("office", "main") in offices)]

    def measure_counts(self, start: dt.date, end: dt.date, unit: str | None = None,
                       offices: Sequence[str] = (), *, by_office: bool = False
                       ) -> dict[str, dict[str, int]]:
        repeated = {r.get("repeat_of") for r in self._rows().values()} - {None}
        out: dict[str, dict[str, int]] = {}
        for r in self._in(start, end, offices):
            if unit is not None and r["unit"] != unit:
                continue
            n = out.setdefault(r.get("office", "main") if by_office else "",
                               dict.fromkeys(COUNTS, 0))
            closed, first = bool(r["m_closed"]), r["repeat_of"] is None
            n["received"] += 1
            n["closed"] += closed
            n["on_time"] += closed and bool(r["m_on_time"])
            n["accepted_in_time"] += bool(r["m_accepted"])
            n["first_closed"] += first and closed
            n["first_resolved"] += first and closed and not r["m_reviewed"] \
                and r["id"] not in repeated
            n["satisfied"] += r["m_rating"] in _SATISFIED
            n["rated"] += r["m_rating"] not in (None, "expired_unrated")
            n["expired"] += r["m_rating"] == "expired_unrated"
            n["repeats"] += r["repeat_of"] is not None
            if closed and r["m_class"]:
                n[f"class_{r['m_class']}"] += 1
        return out

    def without_facts(self, limit: int = 1000) -> list[str]:
        return [r["id"] for r in self._rows().values() if r.get("received_on") is None][:limit]

    def repeated_among(self, ids: Sequence[str]) -> set[str]:
        return {str(r.get("repeat_of")) for r in self._rows().values()} & set(ids)

    def received_span(self, offices: Sequence[str] = ()) -> tuple[str | None, str | None]:
        days = [r["received_on"] for r in self._rows().values()
                if r.get("received_on") and (not offices or r.get("office") in offices)]
        return (min(days), max(days)) if days else (None, None)

    def _overdue(self, now: dt.datetime, offices: Sequence[str]) -> list[dict[str, Any]]:
        return [r for r in self._rows().values() if r["stage"] != "closed"
                and r.get("next_due_at") is not None and r["next_due_at"] < now
                and (not offices or r.get("office", "main") in offices)]

    def overdue_groups(self, now: dt.datetime, offices: Sequence[str] = ()
                       ) -> list[tuple[str, str | None, str | None, int, dt.datetime]]:
        groups: dict[tuple[str, str | None, str | None], list[dt.datetime]] = {}
        for r in self._overdue(now, offices):
            groups.setdefault((r.get("office", "main"), r["unit"], r["leader"]), []).append(
                r["next_due_at"])
        return [(*k, len(v), min(v)) for k, v in groups.items()]

    def overdue_accusations(self, now: dt.datetime, offices: Sequence[str] = (),
                            exposed: Exposure | None = None) -> list[Case]:
        return [codec.from_row(_Row(r)) for r in self._overdue(now, offices)
                if r["category"] == "accusation" and (
                    exposed is None or r.get("accused_marks") is None
                    or any(m in r["accused_marks"] for m in codec.marks_of(exposed)))]

    def received_mix(self, start: dt.date, end: dt.date, unit: str | None = None,
                     offices: Sequence[str] = ()) -> list[tuple[str, str, str, int]]:
        mix: dict[tuple[str, str, str], int] = {}
        for r in self._in(start, end, offices):
            if unit is None or r["unit"] == unit:
                k = (r["received_on"][:7], r["body"]["petition"]["channel"], r["category"])
                mix[k] = mix.get(k, 0) + 1
        return [(*k, n) for k, n in mix.items()]

    def overdue_dues(self, now: dt.datetime, offices: Sequence[str] = ()
                     ) -> list[tuple[str, dt.datetime]]:
        return [(r["id"], r["next_due_at"]) for r in self._overdue(now, offices)]
    def received_counts(self, start: dt.date, end: dt.date, offices: Sequence[str]
                        ) -> dict[tuple[str, str | None], int]:
        out: dict[tuple[str, str | None], int] = {}
        for r in self._in(start, end, offices):
            out[(r["category"], r["unit"])] = out.get((r["category"], r["unit"]), 0) + 1
        return out

    def group_visits(self, start: dt.date, end: dt.date, unit: str,
                     offices: Sequence[str], least: int) -> list[Case]:
        return [c for c in (codec.from_row(_Row(r)) for r in self._in(start, end, offices)
                            if r["unit"] == unit) if c.petition.headcount >= least]

    def received_page(self, start: dt.date, end: dt.date, unit: str | None,
                      offices: Sequence[str], limit: int, offset: int
                      ) -> tuple[list[Case], int]:
        found = sorted((r for r in self._in(start, end, offices)
                        if unit is None or r["unit"] == unit),
                       key=lambda r: (r["received_on"], r["registered_at"]), reverse=True)
        return ([codec.from_row(_Row(r)) for r in found[offset:offset + limit]],
                len(found))

    def accusations_received(self, start: dt.date, end: dt.date,
                             offices: Sequence[str] = (), exposed: Exposure | None = None
                             ) -> list[Case]:
        return [codec.from_row(_Row(r)) for r in self._in(start, end, offices)
                if r["category"] == "accusation" and (
                    exposed is None or r.get("accused_marks") is None
                    or any(m in r["accused_marks"] for m in codec.marks_of(exposed)))]


class _Row:
    """A stored dict as the attribute-style row ``codec.from_row`` reads."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.__dict__.update(data)
