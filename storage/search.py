"""Search in SQL (``case_search``, migration 0022): the row kept for each case at every commit
that changes what is searched, and the look-ups — a query's hits and a petitioner's cases —
pre-filtered by the viewer's scope in the database; the domain judges each one found
(``services/search.py``).

The text is indexed by trigrams: on SQLite the FTS5 table ``case_search_fts``
(``tokenize='trigram'``, external content kept by triggers), on PostgreSQL pg_trgm GIN
indexes on ``words`` and ``grams``. Hits come the latest indexed first (``seq``, descending),
so a page of a common word stops after its first rows; SQLite's FTS5 hands them over in
that order itself.

The coarse filter (``Scope``): the viewer's offices; an accusation's words, phone and name
only for who may be in its handling chain (its responder, owning leader or one it was
escalated to, the handling unit's head or leader in charge, the office's mine head and party
secretary); otherwise its number only, and to supervisors only. A superset of what the
domain lets through, never less.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    bindparam,
    column,
    false,
    func,
    insert,
    or_,
    select,
    table,
    text,
    true,
    update,
)

from domain.case import Case
from domain.persons import PersonKeys, keys_of
from domain.petition import Category, Petitioner
from domain.routing import PriorCase
from domain.search_terms import Query, Scope, searchable
from storage import codec
from storage.tables import case_search, cases

_TOP = "\U0010ffff"  # above every character: [v, v + _TOP) holds what starts with v
fts = table("case_search_fts", column("rowid"), column("case_search_fts"))
_S = case_search.c
_FIELDS = ("office", "category", "unit", "holders", "reg", "name", "phone", "id_number",
           "words", "grams")


def row_of(case: Case) -> dict[str, Any]:
    """The ``case_search`` row of ``case`` (without ``seq``)."""
    p = case.petition
    s = searchable(case.registration_no, p.petitioner.name, p.petitioner.phone,
                   p.petitioner.id_number, p.subject, p.content)
    held = [case.responder, case.leader, *sorted(case.escalated_to)]
    row: dict[str, Any] = {
        "case_id": case.id, "office": case.office, "category": p.category.value,
        "unit": case.unit, "holders": "|" + "|".join(h for h in held if h) + "|",
        "reg": s.reg, "name": s.name, "phone": s.phone, "id_number": s.id_number,
        "words": s.words, "grams": s.grams}
    row["digest"] = hashlib.sha1("\x00".join(str(row[k] or "") for k in _FIELDS).encode(),
                                 usedforsecurity=False).hexdigest()
    return row


def index(conn: Connection, changed: Sequence[Case]) -> None:
    """Keep the search rows of ``changed`` (in the commit's transaction): a new case's
    inserted, a changed one's updated; one whose searched fields did not change (most of a
    sweep's) is left alone."""
    rows = {c.id: row_of(c) for c in changed}
    stored: dict[str, str] = {}
    ids = sorted(rows)
    for first in range(0, len(ids), 500):
        stored.update((r.case_id, r.digest) for r in conn.execute(select(
            _S.case_id, _S.digest).where(_S.case_id.in_(ids[first:first + 500]))))
    fresh = [r for i, r in rows.items() if i not in stored]
    moved = [{**r, "b_id": i} for i, r in rows.items()
             if i in stored and stored[i] != r["digest"]]
    if fresh:
        conn.execute(insert(case_search), sorted(fresh, key=lambda r: str(r["case_id"])))
    if moved:
        conn.execute(update(case_search).where(_S.case_id == bindparam("b_id")).values(
            {k: bindparam(k) for k in (*_FIELDS, "digest")}), moved)


def _like(value: str) -> str:
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _contains(col: Any, value: str) -> ColumnElement[bool]:
    return col.like(_like(value), escape="\\")  # type: ignore[no-any-return]


def _prefix(col: Any, value: str) -> ColumnElement[bool]:
    """``col`` starts with ``value``: a range on its index (binary / "C" collation)."""
    return and_(col >= value, col < value + _TOP)


def _fts_phrase(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _material_ok(scope: Scope) -> ColumnElement[bool]:
    """Rows whose material ``scope``'s viewer may see: an ordinary petition of an office
    they supervise; anything of their own office they may be in the handling chain of."""
    chain = and_(_S.office == scope.home, or_(
        true() if scope.top else false(), _S.holders.contains(f"|{scope.viewer}|",
                                                            autoescape=True),
        _S.unit.in_(list(scope.units)) if scope.units else false()))
    return and_(_offices(scope), or_(
        and_(_S.category != "accusation", true() if scope.supervisor else false()), chain))


def _offices(scope: Scope) -> ColumnElement[bool]:
    """Rows of ``scope``'s offices (no condition for all of them: SQLite would otherwise
    read a common word's rows by office, every one, instead of the latest first)."""
    return true() if scope.everywhere else _S.office.in_(list(scope.offices))


def _outline_ok(scope: Scope) -> ColumnElement[bool]:
    """Rows ``scope``'s viewer may see the outline of: the accusations of the offices they
    supervise."""
    if not scope.supervisor:
        return false()
    return and_(_offices(scope), _S.category == "accusation")


def same_person(keys: PersonKeys) -> ColumnElement[bool] | None:
    """The search rows that may be the petitioner ``keys`` finds: the same ID number, or
    the same name and phone (with neither known: the same name, without either); the
    domain's ``same_person`` judges each. None: nothing to find them by."""
    same = []
    if keys.id_number:
        same.append(_S.id_number == keys.id_number.casefold())
    if keys.name and keys.phone:
        same.append(and_(_S.name == keys.name.casefold(), _S.phone == keys.phone))
    if keys.name and not keys.phone and not keys.id_number:
        same.append(and_(_S.name == keys.name.casefold(), _S.phone == "",
                         _S.id_number == ""))
    return or_(*same) if same else None


def prior_cases(conn: Connection, petitioner: Petitioner) -> list[PriorCase]:
    """The cases that may be ``petitioner``'s (``same_person``: the same ID number, else
    name and phone), for repeat detection; the domain's ``find_repeat`` judges each."""
    same = same_person(keys_of(petitioner))
    if same is None:
        return []
    rows = conn.execute(select(cases.c.id, cases.c.category, cases.c.body).where(
        cases.c.id.in_(select(_S.case_id).where(same))))
    out = []
    for r in rows:
        p = r.body["petition"]
        who = Petitioner(**p["petitioner"])
        out.append(PriorCase(r.id, who.identity(), Category(r.category),
                             p["concerns_unit"], p["subject"], p["content"], who))
    return out


DENSE = 1000  # a query matching this many rows is searched latest first, not by its index
PROBE = 2000  # PostgreSQL: the latest rows a query's density is judged on


class SqlSearch:
    conn: Connection

    def search_cases(self, q: Query, scope: Scope, after: str | None, limit: int
                     ) -> list[Case]:
        """Up to ``limit`` cases ``q`` may find for ``scope``'s viewer (coarsely: the
        domain judges them), the latest indexed first, after the case ``after``.

        A query whose index finds many rows (``DENSE``: "职工", a common word) reads the
        rows latest first and stops at the page (SQLite's FTS5 does that itself); one that
        finds few reads them from its index and sorts them: either way a page costs about
        the same at any size (except where the viewer's scope is sparse in a dense query:
        then the rows are read until the page fills)."""
        if not q or not scope.offices:
            return []
        sqlite = self.conn.dialect.name == "sqlite"
        # single characters alone ("王 五 六"): no pair or trigram to look up
        fts_first = sqlite and not q.short and any(len(t) >= 2 for t in q.terms)
        order = fts.c.rowid if fts_first else _S.seq
        dense = False
        if fts_first:
            found = self._long_fts(q)
            query = select(_S.case_id).select_from(
                fts.join(case_search, _S.seq == fts.c.rowid)).where(found)
        else:
            indexed = self._matched(q, sqlite, scan=False)
            # Reading latest first fills a page soon only for who may find most rows (a
            # supervisor, the top): for another viewer it would read the table through.
            dense = (scope.supervisor or scope.top) and self._dense(
                q, and_(indexed, self._scoped(q, scope)), sqlite, limit, scope)
            query = select(_S.case_id).where(
                self._matched(q, sqlite, scan=True) if dense else indexed)
        query = query.where(self._scoped(q, scope))
        if after is not None:
            seq = self.conn.execute(select(_S.seq).where(_S.case_id == after)).scalar()
            if seq is None:
                return []
            query = query.where(order < seq)
        query = query.order_by(order.desc()).limit(limit)
        if dense and not sqlite:
            # Read latest first along the key, stopping at the page: with its estimates
            # for the unindexed filter PostgreSQL would rather read every row and sort,
            # or start workers (20 ms) for the few rows it reads.
            self.conn.execute(text("SET LOCAL enable_sort = off"))
            self.conn.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
        ids = list(self.conn.execute(query).scalars())
        if dense and not sqlite:
            self.conn.execute(text("RESET enable_sort"))
            self.conn.execute(text("RESET max_parallel_workers_per_gather"))
        return self._cases(ids)

    def _dense(self, q: Query, indexed: ColumnElement[bool], sqlite: bool, limit: int,
               scope: Scope) -> bool:
        """Whether reading rows latest first fills a page soon. SQLite: whether the
        indexes find ``DENSE`` rows (it stops counting there). PostgreSQL: whether
        ``limit`` (``DENSE`` if fewer) of the latest ``PROBE`` rows match: its GIN
        bitmap would be built whole before any count stopped."""
        if sqlite:
            return bool(self.conn.execute(select(func.count()).select_from(
                select(_S.seq).where(indexed).limit(DENSE).subquery())).scalar_one()
                >= DENSE)
        edge = self.conn.execute(select(_S.seq).order_by(_S.seq.desc()).offset(PROBE - 1)
                                 .limit(1)).scalar()
        found = select(func.count()).select_from(case_search).where(
            self._matched(q, sqlite, scan=True), self._scoped(q, scope))
        if edge is not None:
            found = found.where(_S.seq >= edge)
        return bool(self.conn.execute(found).scalar_one() >= min(limit, DENSE))

    @staticmethod
    def _long_fts(q: Query) -> ColumnElement[bool]:
        """SQLite: the FTS5 match of a query's terms of two characters or more (pairs in
        ``grams``), and the single characters' containment."""
        match = " AND ".join(f"words : {_fts_phrase(t)}" if len(t) > 2
                             else f"grams : {_fts_phrase(f' {t} ')}"
                             for t in q.terms if len(t) >= 2)
        return and_(fts.c.case_search_fts.op("MATCH")(match),
                    *(_contains(_S.words, t) for t in q.terms if len(t) == 1))

    @staticmethod
    def _matched(q: Query, sqlite: bool, *, scan: bool) -> ColumnElement[bool]:
        """What ``q`` finds, by the indexes, or (``scan``) as a filter on rows read latest
        first (the same rows; no index chosen)."""
        def plain(col: Any) -> Any:
            return col.concat("") if scan else col  # ``col || ''``: no index on it

        def prefix(col: Any, v: str) -> ColumnElement[bool]:
            if scan:
                return func.substr(col, 1, len(v)) == v
            return _prefix(col, v)

        if not q.short:  # PostgreSQL: pg_trgm's GIN indexes answer LIKE
            return and_(*(_contains(plain(_S.words), t) if len(t) != 2
                          else _contains(plain(_S.grams), f" {t} ") for t in q.terms))
        v = q.joined
        found = [prefix(c, v) for c in (_S.name, _S.phone, _S.id_number, _S.reg)]
        if len(v) == 2:
            if sqlite and not scan:
                found.append(_S.seq.in_(select(fts.c.rowid).where(
                    fts.c.case_search_fts.op("MATCH")(f"grams : {_fts_phrase(f' {v} ')}"))))
            else:
                found.append(_contains(plain(_S.grams), f" {v} "))
        return or_(*found)

    @staticmethod
    def _scoped(q: Query, scope: Scope) -> ColumnElement[bool]:
        """Of what ``q`` finds, what ``scope``'s viewer may find: through any field with
        the material in their sight, through the number alone with the outline."""
        if q.short:
            by_number = _prefix(_S.reg, q.joined)
        else:
            by_number = and_(*(_contains(_S.reg, t) for t in q.terms))
        return or_(_material_ok(scope), and_(_outline_ok(scope), by_number))

    def person_cases(self, keys: PersonKeys, scope: Scope | None, limit: int = 500
                     ) -> list[Case]:
        """The cases of the petitioner ``keys`` finds (``domain.persons``: the same ID
        number, else the same name and phone), the latest first; with ``scope``, only
        those its viewer may see the material of (coarsely)."""
        same = same_person(keys)
        if same is None:
            return []
        query = select(_S.case_id).where(same)
        if scope is not None:
            query = query.where(_material_ok(scope))
        ids = list(self.conn.execute(query.order_by(_S.seq.desc()).limit(limit)).scalars())
        return self._cases(ids)

    def phone_cases(self, phone: str, limit: int = 200) -> list[Case]:
        """The cases whose petitioner gave the mobile number ``phone`` (normalised), the
        latest first: the public door's "my cases" (``domain.door`` judges each)."""
        if not phone:
            return []
        ids = list(self.conn.execute(select(_S.case_id).where(_S.phone == phone).order_by(
            _S.seq.desc()).limit(limit)).scalars())
        return self._cases(ids)

    def _cases(self, ids: list[str]) -> list[Case]:
        if not ids:
            return []
        found = {r.id: codec.from_row(r) for r in self.conn.execute(
            select(cases).where(cases.c.id.in_(ids)))}
        return [found[i] for i in ids if i in found]
