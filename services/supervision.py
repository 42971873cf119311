"""督查: what a supervisor's page reads — the period that holds data, the measures, the
overdue deadlines grouped by unit and by owning leader, the audit chain check. Every list
holds only the cases the supervisor may see (``domain.permissions.sight``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from domain.errors import NotPermitted
from domain.instants import local_date
from domain.measures import Measure
from domain.permissions import Sight, sight, supervisors
from services.bootstrap import App
from services.measures import kpis
from services.reading import overdue_rows


def check_supervisor(app: App, person: str) -> None:
    """Supervision is the petition office's and the mine's top team's."""
    if person not in supervisors(app.office.org):
        raise NotPermitted("督查", f"{person} does not supervise: it is the petition "
                           "office's and the mine head's or party secretary's")


def data_period(app: App) -> tuple[dt.date, dt.date]:
    """From the first to the last local day a petition was received on; this month so far
    when there is none."""
    with app.uow() as uow:
        received = [c.petition.received_at for c in uow.all_cases()]
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


def _grouped(rows: list[dict[str, Any]], key: str, names: dict[str, str]
             ) -> list[tuple[str, list[dict[str, Any]]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(names.get(r[key], r[key]) or "（未指定）", []).append(r)
    return sorted(groups.items(), key=lambda g: (-len(g[1]), -g[1][0]["overdue_seconds"]))


def visible_overdue(app: App, person: str, unit: str | None = None) -> list[dict[str, Any]]:
    """The overdue deadlines of the cases ``person`` may see, worst first."""
    rows = [r for r in overdue_rows(app) if unit is None or r["unit"] == unit]
    if not rows:
        return rows
    with app.uow() as uow:
        cases = {c.id: c for c in uow.open_cases()}
    org = app.office.org
    return [r for r in rows if r["id"] in cases
            and sight(org, cases[r["id"]], person) is not Sight.NONE]


def overview(app: App, person: str, start: dt.date, end: dt.date,
             unit: str | None) -> Overview:
    check_supervisor(app, person)
    ms = kpis(app, start, end, unit, viewer=person)
    overdue = visible_overdue(app, person, unit)
    org = app.office.org
    units = {u.id: u.name for u in org.units.values()}
    people = {p.id: p.name for p in org.people.values()}
    with app.uow() as uow:
        checked, breaks = uow.audit_check()
        hidden = {c.id for c in uow.all_cases() if sight(org, c, person) is Sight.NONE}
    shown = [f"{b.case_id} #{b.seq}: {b.problem}" for b in breaks if b.case_id not in hidden]
    if len(shown) < len(breaks):
        shown.append(f"{len(breaks) - len(shown)} break(s) in cases you may not see")
    return Overview(start, end, unit, ms, overdue, _grouped(overdue, "unit", units),
                    _grouped(overdue, "leader", people), checked, shown)
