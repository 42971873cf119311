"""The read models behind the list, the overdue list and the outbox listing (the measures:
``measures.py``):
rows of plain values, for the CLI's tables and JSON, the report and the web. Nothing here
writes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.accused import Exposure, exposure
from domain.case import Case
from domain.deadlines import estimate_note, standing
from domain.errors import CaseNotFound
from domain.instants import format_duration, format_local
from domain.labels import duration
from domain.offices import sight_in
from domain.permissions import Sight
from services.bootstrap import App
from services.naming import OfficeNames
from services.records import case_record
from storage.chain import AuditRow, Break
from storage.ports import UnitOfWork


def case_and_history(app: App, ref: str) -> tuple[Case, list[AuditRow]]:
    """A case and its audit rows (after those of the signal it was promoted from)."""
    with app.uow() as uow:
        case = uow.cases.get(ref, lock=False)
        return case, uow.history_of(case)


LIST_PAGE = 100  # open cases listed at once, the soonest due first


def open_cases(app: App, *, overdue_only: bool = False, limit: int = LIST_PAGE,
               offset: int = 0) -> tuple[list[Case], int]:
    """A page of the open cases (of the app's offices), the soonest stored next due first
    (with ``overdue_only``: only those past it, the longest overdue first), and how many
    there are in all."""
    now = app.clock.now()
    with app.uow() as uow:
        found = uow.find_cases(by_due=True, limit=limit, offset=offset, offices=app.scope,
                               due_before=now if overdue_only else None)
        total = uow.count_cases(offices=app.scope) if not overdue_only else None
    return found, total if total is not None else offset + len(found) + (
        1 if len(found) == limit else 0)


def open_case_rows(app: App, *, overdue_only: bool = False, limit: int = LIST_PAGE,
                   offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """A page of open cases with their next deadline (the worst overdue one if any); with
    ``overdue_only`` only cases past a deadline; and how many open cases there are (with
    ``overdue_only``: a lower bound, more than shown when the page is full)."""
    now = app.clock.now()
    found, total = open_cases(app, overdue_only=overdue_only, limit=limit, offset=offset)
    names = OfficeNames(app)
    rows: list[dict[str, Any]] = []
    for case in found:
        s = standing(case.deadlines(app.rules_for(case), now))
        if overdue_only and not s.overdue:
            continue
        nxt = s.next
        rows.append({"ref": case.ref, "id": case.id, "stage": case.stage.value,
                     "stage_label": case.stage.label,
                     "unit": case.unit, "responder": case.responder, "leader": case.leader,
                     "unit_name": names.unit(case.unit) if case.unit else "待分办",
                     "responder_name": names.person(case.responder) if case.responder else "",
                     "leader_name": names.person(case.leader) if case.leader else "",
                     "deadline": nxt.kind.value if nxt else None,
                     "deadline_label": nxt.kind.label if nxt else "",
                     "due": format_local(nxt.due_at) if nxt else None,
                     "warning": estimate_note(nxt) if nxt else "",
                     "overdue": format_duration(s.overdue_by) if s.overdue else None,
                     "overdue_label": duration(format_duration(s.overdue_by))
                     if s.overdue else "",
                     "overdue_seconds": s.overdue_by.total_seconds() if s.overdue else 0})
    if overdue_only:
        rows.sort(key=lambda r: -float(r["overdue_seconds"]))
    return rows, total


def open_case_records(app: App, *, overdue_only: bool = False, limit: int = LIST_PAGE,
                      offset: int = 0) -> list[dict[str, Any]]:
    """A page of the open cases as structured records (``list --json``), the soonest due
    first, or with ``overdue_only`` only those past a deadline, worst first."""
    now = app.clock.now()
    found, _ = open_cases(app, overdue_only=overdue_only, limit=limit, offset=offset)
    records = [case_record(app, c, Sight.FULL, now) for c in found]
    if overdue_only:
        records = sorted((r for r in records if r["overdue_seconds"]),
                         key=lambda r: -int(r["overdue_seconds"]))
    return records


@dataclass(frozen=True)
class OverdueGroup:
    name: str
    cases: int
    worst: str  # how long the longest overdue of them is past due


def exposed_to(app: App, viewer: str) -> Exposure:
    """What an accusation that may be hidden from ``viewer`` names (``exposure`` in their
    own office's chart; in another office only being named hides one, which it covers)."""
    home = app.tree.home(viewer)
    return exposure(app.tree.org(home), viewer) if home is not None else \
        Exposure(viewer, frozenset({viewer}), frozenset())


def overdue_summary(app: App, seen_by: str | None = None
                    ) -> tuple[int, dict[str, list[OverdueGroup]]]:
    """How many open cases are past due, and their count by ``unit``, ``leader`` and
    ``office`` with the longest overdue of each: counted in the database, less the cases
    ``seen_by`` may not see (only accusations are hidden from a supervisor: of those, the
    few that may bar them are read, every one if they declared an interest)."""
    now = app.clock.now()
    hidden: list[Case] = []
    with app.uow() as uow:
        groups = uow.overdue_groups(now, app.scope)
        if seen_by is not None:
            person = app.person(seen_by)
            exposed = None if person is not None and person.interests else \
                exposed_to(app, seen_by)
            hidden = [c for c in uow.overdue_accusations(now, app.scope, exposed)
                      if sight_in(app.tree, c, seen_by) is Sight.NONE]
    counts: dict[tuple[str, str | None, str | None], list[Any]] = {
        (o, u, le): [n, due] for o, u, le, n, due in groups}
    for c in hidden:
        counts[(c.office, c.unit, c.leader)][0] -= 1
    names = {"office": {n.id: n.name for n in app.tree.nodes.values()},
             "unit": {u.id: u.name for n in app.tree.nodes.values()
                      for u in n.org.units.values()},
             "leader": {p.id: p.name for n in app.tree.nodes.values()
                        for p in n.org.people.values()}}
    out: dict[str, list[OverdueGroup]] = {}
    for i, key in enumerate(("office", "unit", "leader")):
        by: dict[str, list[Any]] = {}
        for k, (n, due) in counts.items():
            if n <= 0:
                continue
            g = by.setdefault(names[key].get(k[i] or "", k[i] or "") or "（未指定）", [0, due])
            g[0] += n
            g[1] = min(g[1], due)
        out[key] = sorted((OverdueGroup(name, n, duration(format_duration(now - due)))
                           for name, (n, due) in by.items()),
                          key=lambda g: (-g.cases, g.worst))
    return sum(g.cases for g in out["office"]), out


def audit_state(app: App, uow: UnitOfWork) -> tuple[int, list[Break], str]:
    """The audit chains as the pages show them: what the newest signed checkpoint's check
    found (daily-checks, ``petitions audit verify``) and when, reading no audit row; with
    none yet, checked now (every row; no checkpoint is written by a page)."""
    last = uow.audit_last(app.audit_key)
    if last is None or last.at is None:
        checked, breaks = uow.audit_check(app.audit_key)
        return checked, breaks, format_local(app.clock.now())
    return last.checked, last.breaks, format_local(last.at)


def visible_breaks(app: App, uow: UnitOfWork, breaks: list[Break], person: str | None
                   ) -> list[Break]:
    """The broken audit chains that may be named to ``person`` (None: the operator, all):
    of a case they may see, or of a journal of an office they supervise (of a single
    office: any journal). The others are only counted."""
    if person is None:
        return breaks
    out = []
    for b in breaks:
        try:
            case = uow.cases.get(b.case_id, lock=False)
        except CaseNotFound:
            office = b.case_id.split("/", 1)[0] if "/" in b.case_id else None
            if len(app.tree.nodes) == 1 or office in app.tree.offices_seen_by(person):
                out.append(b)
            continue
        if sight_in(app.tree, case, person) is not Sight.NONE:
            out.append(b)
    return out


OVERDUE_PAGE = 200  # overdue cases a page lists, the longest overdue first


def overdue_rows(app: App, seen_by: str | None = None, limit: int | None = None
                 ) -> list[dict[str, Any]]:
    """Every open deadline past due, worst first, of the ``limit`` cases longest past
    their next due (None: all); with ``seen_by``, of the cases that person may see only."""
    now = app.clock.now()
    with app.uow() as uow:  # past their stored next due, the earliest first
        cases = uow.find_cases(due_before=now, offices=app.scope, by_due=True, limit=limit)
    if seen_by is not None:
        cases = [c for c in cases if sight_in(app.tree, c, seen_by) is not Sight.NONE]
    rows = []
    names = OfficeNames(app)
    for case in cases:
        unit = app.office_of(case).org.units.get(case.unit or "")
        for v in standing(case.deadlines(app.rules_for(case), now)).overdue:
            assert v.overdue is not None
            rows.append({"case": case.ref, "id": case.id, "office": case.office,
                         "unit": case.unit or "",
                         "unit_name": unit.name if unit else "",
                         "leader": case.leader or "", "responder": case.responder or "",
                         "leader_name": names.person(case.leader) if case.leader else "",
                         "responder_name": names.person(case.responder)
                         if case.responder else "",
                         "stage": case.stage.value, "stage_label": case.stage.label,
                         "deadline": v.kind.value, "deadline_label": v.kind.label,
                         "due": v.due_date.isoformat(), "warning": estimate_note(v),
                         "overdue": format_duration(v.overdue),
                         "overdue_label": duration(format_duration(v.overdue)),
                         "overdue_seconds": int(v.overdue.total_seconds())})
    rows.sort(key=lambda r: -int(r["overdue_seconds"]))
    return rows


def outbox_items(app: App, status: str | None, limit: int
                 ) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The messages, newest first, with the case's registration number; and the counts
    by status."""
    with app.uow() as uow:
        rows = uow.messages(status, limit)
        counts = uow.outbox_counts()
        refs = {c.id: c.ref for c in uow.all_cases()}
    items = [{"id": r.id, "status": r.status, "kind": r.kind, "recipient": r.recipient,
              "case": refs.get(r.case_id, r.case_id), "queued": format_local(r.queued_at),
              "next_attempt": format_local(r.next_attempt_at) if r.next_attempt_at else "",
              "attempts": r.attempts, "sent": format_local(r.sent_at) if r.sent_at else "",
              "ref": r.ref or "", "note": r.note or "", "error": r.error or ""}
             for r in rows]
    return items, counts
