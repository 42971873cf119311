"""督查: what a supervisor's page reads — the period that holds data, the measures, the
overdue deadlines grouped by unit and by owning leader, the audit chain check. Every list
holds only the cases the supervisor may see (``domain.permissions.sight``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from domain.errors import ConfigError, NotPermitted
from domain.instants import local_date
from domain.measures import Measure
from domain.offices import sight_in
from domain.permissions import Sight, supervisors
from services.bootstrap import App
from services.listed import ListedRow, listed_cases
from services.measures import kpis, office_lines
from services.reading import (
    OVERDUE_PAGE,
    OverdueGroup,
    audit_state,
    exposed_to,
    overdue_rows,
    overdue_summary,
    visible_breaks,
)


def check_supervisor(app: App, person: str) -> None:
    """Supervision is the petition office's and the mine's top team's."""
    home = app.tree.home(person)
    if home is None or person not in supervisors(app.tree.org(home)):
        raise NotPermitted("督查", f"{person} does not supervise: it is the petition "
                           "office's and the mine head's or party secretary's")


def data_period(app: App) -> tuple[dt.date, dt.date]:
    """The period that holds data: from the first of the month the first petition (of the
    app's offices) was received in, to today; this month so far when there is none. Whole
    months and today, not the first and last receipt days: those could tell someone of a
    petition they may not see."""
    today = local_date(app.clock.now())
    with app.uow() as uow:
        first, _ = uow.received_span(app.scope)
    if first is None:
        return today.replace(day=1), today
    return min(dt.date.fromisoformat(first).replace(day=1), today), today


@dataclass(frozen=True)
class Overview:
    start: dt.date
    end: dt.date
    unit: str | None
    measures: list[Measure]
    overdue: list[dict[str, Any]]
    by_unit: list[OverdueGroup]
    by_leader: list[OverdueGroup]
    audit_checked: int
    audit_breaks: list[str]
    audited: str  # when the check shown was made (local time)
    # A group's office: overdue by office, and each office's measures (its line).
    by_office: list[OverdueGroup] = field(default_factory=list)
    office_measures: list[tuple[str, list[Measure]]] = field(default_factory=list)
    overdue_cases: int = 0  # open cases past due in all (``overdue`` lists the worst)
    # 挂牌督办: the cases higher bodies listed, shown first (``services.listed``)
    listed: list[ListedRow] = field(default_factory=list)


def visible_overdue(app: App, person: str, unit: str | None = None,
                    limit: int | None = None) -> list[dict[str, Any]]:
    """The overdue deadlines of the cases ``person`` may see, worst first (of the ``limit``
    cases longest overdue)."""
    return [r for r in overdue_rows(app, seen_by=person, limit=limit)
            if unit is None or r["unit"] == unit]


AGES = (("under_7", 0), ("7_30", 7), ("30_90", 30), ("over_90", 90))  # from so many days


def overdue_ages(app: App, person: str | None) -> dict[str, int]:
    """The open cases past their stored next due that ``person`` may see, by how long
    (``AGES``: under 7 days, 7–30, 30–90, over 90), counted in the database less the
    accusations hidden from them (as ``overdue_summary``; None: the operator, all)."""
    now = app.clock.now()
    hidden: set[str] = set()
    with app.uow() as uow:
        dues = uow.overdue_dues(now, app.scope)
        if person is not None:
            check_supervisor(app, person)
            who = app.person(person)
            exposed = None if who is not None and who.interests else exposed_to(app, person)
            hidden = {c.id for c in uow.overdue_accusations(now, app.scope, exposed)
                      if sight_in(app.tree, c, person) is Sight.NONE}
    out = dict.fromkeys((k for k, _ in AGES), 0)
    for case_id, due in dues:
        if case_id not in hidden:
            days = (now.timestamp() - due.timestamp()) / 86400
            out[next(k for k, start in reversed(AGES) if days >= start)] += 1
    return out


def overview(app: App, person: str, start: dt.date | None, end: dt.date | None,
             unit: str | None) -> Overview:
    """督查 for ``person``: the measures for petitions received from ``start`` to ``end``
    (default: the period that holds data), the overdue deadlines grouped, the audit
    chain check; over the cases ``person`` may see."""
    check_supervisor(app, person)
    with app.uow() as uow:
        checked, breaks, audited = audit_state(app, uow)
        shown = [f"{b.case_id} #{b.seq}: {b.problem}"
                 for b in visible_breaks(app, uow, breaks, person)]
    if start is None or end is None:
        first, last = data_period(app)
        start, end = start or first, end or last
    if start > end:
        raise ConfigError(f"the period starts ({start}) after it ends ({end})", field="from")
    ms = kpis(app, start, end, unit, person)  # sums of the stored facts, less the hidden
    overdue = visible_overdue(app, person, unit, OVERDUE_PAGE)  # the worst; all counted:
    total, groups = overdue_summary(app, person)
    if len(shown) < len(breaks):
        shown.append(f"{len(breaks) - len(shown)} break(s) in cases you may not see")
    by_office = office_lines(app, start, end, person)
    return Overview(start, end, unit, ms, overdue, groups["unit"], groups["leader"],
                    checked, shown, audited, groups["office"], by_office, total,
                    listed_cases(app, person))
