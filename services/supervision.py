"""督查: what a supervisor's page reads — the period that holds data, the measures, the
overdue deadlines grouped by unit and by owning leader, the audit chain check. Every list
holds only the cases the supervisor may see (``domain.permissions.sight``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from domain.case import Case
from domain.errors import ConfigError, NotPermitted
from domain.instants import local_date, start_of_local_day
from domain.measures import Measure
from domain.offices import sight_in
from domain.permissions import Sight, supervisors
from services.bootstrap import App
from services.measures import measures_of
from services.reading import overdue_rows, visible_breaks


def check_supervisor(app: App, person: str) -> None:
    """Supervision is the petition office's and the mine's top team's."""
    home = app.tree.home(person)
    if home is None or person not in supervisors(app.tree.org(home)):
        raise NotPermitted("督查", f"{person} does not supervise: it is the petition "
                           "office's and the mine head's or party secretary's")


def data_period(app: App) -> tuple[dt.date, dt.date]:
    """From the first to the last local day a petition was received on; this month so far
    when there is none."""
    with app.uow() as uow:
        return _span(app, uow.all_cases())


def _span(app: App, cases: list[Case]) -> tuple[dt.date, dt.date]:
    received = [c.petition.received_at for c in cases]
    if not received:
        today = local_date(app.clock.now())
        return today.replace(day=1), today
    return local_date(min(received)), local_date(max(received))


@dataclass(frozen=True)
class Overview:
    start: dt.date
    end: dt.date
    unit: str | None
    measures: list[Measure]
    overdue: list[dict[str, Any]]
    by_unit: list[tuple[str, list[dict[str, Any]]]]
    by_leader: list[tuple[str, list[dict[str, Any]]]]
    audit_checked: int
    audit_breaks: list[str]
    # A group's office: overdue by office, and each office's measures (its line).
    by_office: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)
    office_measures: list[tuple[str, list[Measure]]] = field(default_factory=list)


def _grouped(rows: list[dict[str, Any]], key: str, names: dict[str, str]
             ) -> list[tuple[str, list[dict[str, Any]]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(names.get(r[key], r[key]) or "（未指定）", []).append(r)
    return sorted(groups.items(), key=lambda g: (-len(g[1]), -g[1][0]["overdue_seconds"]))


def visible_overdue(app: App, person: str, unit: str | None = None) -> list[dict[str, Any]]:
    """The overdue deadlines of the cases ``person`` may see, worst first."""
    return [r for r in overdue_rows(app, seen_by=person) if unit is None or r["unit"] == unit]


def overview(app: App, person: str, start: dt.date | None, end: dt.date | None,
             unit: str | None) -> Overview:
    """督查 for ``person``: the measures for petitions received from ``start`` to ``end``
    (default: the period that holds data), the overdue deadlines grouped, the audit
    chain check; over the cases ``person`` may see."""
    check_supervisor(app, person)
    with app.uow() as uow:  # of a period asked for: none registered before its start
        everything = uow.find_cases(open_only=False, offices=app.scope, registered_from=(
            start_of_local_day(start) if start is not None else None))
        checked, breaks = uow.audit_check()
        shown = [f"{b.case_id} #{b.seq}: {b.problem}"
                 for b in visible_breaks(app, uow, breaks, person)]
    visible = [c for c in everything if sight_in(app.tree, c, person) is not Sight.NONE]
    first, last = _span(app, visible)
    start, end = start or first, end or last
    if start > end:
        raise ConfigError(f"the period starts ({start}) after it ends ({end})", field="from")
    ms = measures_of(app, visible, start, end, unit)
    overdue = visible_overdue(app, person, unit)
    if len(shown) < len(breaks):
        shown.append(f"{len(breaks) - len(shown)} break(s) in cases you may not see")
    orgs = [app.tree.org(o) for o in app.tree.subtree(app.office.id)]
    units = {u.id: u.name for org in orgs for u in org.units.values()}
    people = {p.id: p.name for org in orgs for p in org.people.values()}
    offices = {n.id: n.name for n in app.tree.nodes.values()}
    by_office = [(offices.get(o, o), measures_of(app, [c for c in visible if c.office == o],
                                                 start, end, None))
                 for o in app.tree.subtree(app.office.id)] if len(offices) > 1 else []
    return Overview(start, end, unit, ms, overdue, _grouped(overdue, "unit", units),
                    _grouped(overdue, "leader", people), checked, shown,
                    _grouped(overdue, "office", offices), by_office)
