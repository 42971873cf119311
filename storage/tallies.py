"""Each office's measure counts by day and by month of receipt (``measure_tallies``,
migration 0020), kept at every commit that changes a case's stored facts (``received_on``,
``repeat_of``, ``m_*``): a period's measures are the sum of its whole months and its odd
days, a few hundred rows whatever the number of cases (``SqlMeasures.measure_counts``).

What a case adds to its day and its month is ``domain.measures.tally`` of its stored facts.
"First petitions resolved" also depends on whether a later petition repeats it: a commit
that stores a repeat's facts moves the original's count too, reading the original under its
row lock (``FOR UPDATE``) and counting its repeats after, as a commit of the original counts
them under its own; what it counted before is what it counts now less the repeats this
commit added. A unit of work sums its changes and writes them at its commit, in the order
of their keys, so that two commits never wait for each other's rows crosswise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.sql.elements import ColumnElement

from domain.measures import COUNTS, Facts, tally
from domain.outcomes import Rating, Resolution
from storage.tables import cases, measure_tallies

# What a case adds to the tallies is read from these columns of its row.
FACTS = ("office", "received_on", "repeat_of", "m_closed", "m_on_time", "m_accepted",
         "m_reviewed", "m_class", "m_rating")
_SATISFIED = ("satisfied", "basically")

Key = tuple[str, str, str]  # (grain, period, office): ("d", "2026-11-25", o), ("m", "2026-11", o)


def _flag(cond: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


def count_columns() -> dict[str, Any]:
    """``domain.measures.tally``'s counts as SQL sums over ``cases`` rows."""
    c = cases.c
    later = cases.alias("later")
    first = c.repeat_of.is_(None) & c.m_closed.is_(True)
    columns = {
        "received": func.count(),
        "closed": _flag(c.m_closed.is_(True)),
        "on_time": _flag(c.m_closed.is_(True) & c.m_on_time.is_(True)),
        "accepted_in_time": _flag(c.m_accepted.is_(True)),
        "first_closed": _flag(first),
        "first_resolved": _flag(first & c.m_reviewed.is_not(True) & ~exists(
            select(later.c.id).where(later.c.repeat_of == c.id))),
        "satisfied": _flag(c.m_rating.in_(_SATISFIED)),
        "rated": _flag(c.m_rating.is_not(None) & (c.m_rating != "expired_unrated")),
        "expired": _flag(c.m_rating == "expired_unrated"),
        "repeats": _flag(c.repeat_of.is_not(None)),
        **{f"class_{r.value}": _flag(c.m_closed.is_(True) & (c.m_class == r.value))
           for r in Resolution},
    }
    assert set(columns) == set(COUNTS)
    return columns


def counted(case_id: str, row: Mapping[str, Any], repeated: bool) -> dict[str, int]:
    """What one stored case adds to its day's and month's counts (nothing before its facts
    are derived); ``repeated``: whether a later petition repeats it."""
    if row.get("received_on") is None:
        return {}
    facts = Facts(dt.date.fromisoformat(row["received_on"]), None, bool(row["m_closed"]),
                  bool(row["m_on_time"]), bool(row["m_accepted"]), bool(row["m_reviewed"]),
                  Resolution(row["m_class"]) if row["m_class"] else None,
                  Rating(row["m_rating"]) if row["m_rating"] else None, row["repeat_of"])
    return {k: v for k, v in tally([(case_id, facts)], {case_id} if repeated else set())
            .items() if v}


def _first_closed(row: Mapping[str, Any] | None) -> bool:
    """Whether ``row``'s count of first petitions resolved depends on its being repeated."""
    return bool(row and row.get("received_on") is not None and row["repeat_of"] is None
                and row["m_closed"])


class Tallies:
    """The changes one unit of work makes to the tallies, written at its commit: each
    written case's facts as they were stored and as they are now; at ``flush`` (the rows
    written and locked) what each case, and each original whose repeats changed, added
    before and adds now, by the number of repeats before and after, in a few statements."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.written: dict[str, tuple[Mapping[str, Any] | None, Mapping[str, Any]]] = {}

    def saved(self, case_id: str, before: Mapping[str, Any] | None,
              after: Mapping[str, Any]) -> None:
        """A case's row was written: ``before`` its facts as they were stored (None: a new
        row), ``after`` as they are now."""
        first = self.written.get(case_id, (before, after))[0]
        self.written[case_id] = (first, after)

    def flush(self) -> None:
        """Add what the cases written since the last flush changed to their days' and
        months' tallies (in the order of their keys)."""
        written, self.written = self.written, {}
        moved: dict[str, int] = {}  # original -> repeats it gained (lost: negative)
        for before, after in written.values():
            was, now = (before or {}).get("repeat_of"), after.get("repeat_of")
            if was != now:
                for original, n in ((was, -1), (now, +1)):
                    if original is not None:
                        moved[original] = moved.get(original, 0) + n
        changed = {k: v for k, v in written.items()
                   if moved.get(k) or v[0] is None or dict(v[0]) != dict(v[1])}
        originals = self._facts([o for o in moved if moved[o] and o not in written])
        for case_id, row in originals.items():
            changed[case_id] = (row, row)
        repeats = self._repeats([k for k, (b, a) in changed.items()
                                 if _first_closed(b) or _first_closed(a)])
        deltas: dict[Key, dict[str, int]] = {}
        for case_id, (before, after) in changed.items():
            n = repeats.get(case_id, 0)
            if before is not None:
                _add(deltas, counted(case_id, before, n - moved.get(case_id, 0) > 0), before, -1)
            _add(deltas, counted(case_id, after, n > 0), after, +1)
        rows = [{"grain": g, "period": p, "office": o, **dict.fromkeys(COUNTS, 0), **d}
                for (g, p, o), d in sorted(deltas.items()) if any(d.values())]
        if rows:
            self.conn.execute(_UPSERT, rows)

    def _facts(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The stored facts of cases not written here (originals a repeat of which was),
        under their row locks: a commit of one of them waits, or is waited for."""
        if not ids:
            return {}
        query = select(cases.c.id, *(cases.c[k] for k in FACTS)).where(
            cases.c.id.in_(sorted(ids))).order_by(cases.c.id)
        if self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        return {r.id: {k: r._mapping[k] for k in FACTS} for r in self.conn.execute(query)}

    def _repeats(self, ids: Sequence[str]) -> dict[str, int]:
        """How many petitions repeat each of ``ids`` now."""
        found: dict[str, int] = {}
        for first in range(0, len(ids), 500):  # under every database's bound-value limit
            found.update((r[0], int(r[1])) for r in self.conn.execute(
                select(cases.c.repeat_of, func.count()).where(
                    cases.c.repeat_of.in_(ids[first:first + 500]))
                .group_by(cases.c.repeat_of)))
        return found


def _add(deltas: dict[Key, dict[str, int]], counts: Mapping[str, int],
         row: Mapping[str, Any], sign: int) -> None:
    if not counts:
        return
    day, office = str(row["received_on"]), str(row["office"])
    for key in (("d", day, office), ("m", day[:7], office)):
        d = deltas.setdefault(key, {})
        for k, v in counts.items():
            d[k] = d.get(k, 0) + sign * v


# The same statement on PostgreSQL and SQLite (3.24+): add to the row, or create it.
_UPSERT = text(
    f"INSERT INTO measure_tallies (grain, period, office, {', '.join(COUNTS)}) "
    f"VALUES (:grain, :period, :office, {', '.join(':' + k for k in COUNTS)}) "
    "ON CONFLICT (grain, period, office) DO UPDATE SET "
    + ", ".join(f"{k} = measure_tallies.{k} + excluded.{k}" for k in COUNTS))


def rebuild(conn: Connection) -> None:
    """Every tally summed anew from the cases (after rows were written in bulk, not by the
    repository)."""
    conn.execute(delete(measure_tallies))
    columns = count_columns()
    c = cases.c
    for grain, period in (("d", c.received_on), ("m", func.substr(c.received_on, 1, 7))):
        conn.execute(insert(measure_tallies).from_select(
            ["grain", "period", "office", *columns],
            select(literal_column(f"'{grain}'"), period, c.office, *columns.values())
            .where(c.received_on.is_not(None)).group_by(c.office, period)))


def spans(start: dt.date, end: dt.date) -> tuple[tuple[str, str] | None,
                                                 list[tuple[str, str]]]:
    """The period from ``start`` to ``end`` as its whole months (first and last, YYYY-MM;
    None if none) and the days outside them (ranges of YYYY-MM-DD)."""
    first = start if start.day == 1 else _next_month(start)
    after = end + dt.timedelta(days=1)
    last = after.replace(day=1) - dt.timedelta(days=1)  # the last month's end within
    if first > last:
        return None, [(start.isoformat(), end.isoformat())]
    days = [(a.isoformat(), b.isoformat()) for a, b in
            ((start, first - dt.timedelta(days=1)), (last + dt.timedelta(days=1), end))
            if a <= b]
    return (first.isoformat()[:7], last.isoformat()[:7]), days


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def summed(conn: Connection, start: dt.date, end: dt.date, offices: Sequence[str] = (),
           *, by_office: bool = False) -> dict[str, dict[str, int]]:
    """``SqlMeasures.measure_counts`` without a unit, from the tallies."""
    t = measure_tallies.c
    months, days = spans(start, end)
    within = [and_(t.grain == "d", t.period.between(a, b)) for a, b in days]
    if months is not None:
        within.append(and_(t.grain == "m", t.period.between(*months)))
    keys = [t.office] if by_office else []
    query = select(*keys, *(func.coalesce(func.sum(t[k]), 0).label(k) for k in COUNTS)
                   ).where(or_(*within))
    if offices:
        query = query.where(t.office.in_(list(offices)))
    if by_office:
        query = query.group_by(t.office).having(func.sum(t.received) > 0)
    out = {}
    for row in conn.execute(query):
        m = row._mapping
        out[str(m["office"]) if by_office else ""] = {k: int(m[k]) for k in COUNTS}
    return out
