"""The measures supervisors assess units on, for a period (the readings are in
``domain/measures.py``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from domain.case import Case
from domain.errors import ConfigError
from domain.instants import end_of_local_day, local_date, start_of_local_day
from domain.measures import COUNTS, Measure, Period, facts_of, from_counts, measures, tally
from domain.offices import sight_in
from domain.permissions import Sight
from services.bootstrap import App
from services.cases import commit  # the use cases' commit derives the facts
from services.reading import exposed_to
from storage.ports import UnitOfWork


def kpis(app: App, start: dt.date, end: dt.date, unit: str | None,
         viewer: str | None = None) -> list[Measure]:
    """The measures for petitions received from ``start`` to ``end`` (local dates), of the
    app's offices: sums over the facts stored with each case, in the database. With
    ``viewer``, over the cases they may see only (an accused supervisor does not count their
    accusation)."""
    return from_counts(counts(app, start, end, unit, viewer)[""])


def office_lines(app: App, start: dt.date, end: dt.date, viewer: str | None = None
                 ) -> list[tuple[str, list[Measure]]]:
    """Each office's measures (its line), of the app's office and those below it; none in
    a single-office installation."""
    if len(app.tree.nodes) == 1:
        return []
    by = counts(app, start, end, None, viewer, by_office=True)
    zero = dict.fromkeys(COUNTS, 0)
    return [(app.tree.node(o).name, from_counts(by.get(o, zero)))
            for o in app.tree.subtree(app.office.id)]


def counts(app: App, start: dt.date, end: dt.date, unit: str | None,
           viewer: str | None = None, *, by_office: bool = False
           ) -> dict[str, dict[str, int]]:
    """The measures' counts (``domain.measures.tally``), by office or in one (``""``),
    less the cases ``viewer`` may not see."""
    units = [u for o in app.tree.subtree(app.office.id) for u in app.tree.org(o).units]
    if unit is not None and unit not in units:
        raise ConfigError(f"unknown unit '{unit}'; units: {', '.join(units)}")
    if end < start:
        raise ConfigError(f"the period ends ({end}) before it starts ({start})", field="--to")
    derive_facts(app)
    with app.uow() as uow:
        total = uow.measure_counts(start, end, unit, app.scope, by_office=by_office)
        hidden = hidden_received(app, uow, start, end, unit, viewer)
        repeated = uow.repeated_among([c.id for c in hidden])
    if not total and not by_office:
        total[""] = dict.fromkeys(COUNTS, 0)
    for case in hidden:  # taken out of the sums, as they were added
        n = total[case.office if by_office else ""]
        for k, v in tally([(case.id, facts_of(case, app.rules_for(case)))], repeated).items():
            n[k] -= v
    return total


def hidden_received(app: App, uow: UnitOfWork, start: dt.date, end: dt.date,
                    unit: str | None, viewer: str | None) -> list[Case]:
    """The cases received in the period (of ``unit``) that ``viewer`` may not see: what
    every count over cases takes out again (None: the operator, who sees all)."""
    if viewer is None:
        return []
    person = app.person(viewer)
    # Only an accusation, or a case a declared interest bars, is hidden from a supervisor:
    # with interests declared, every case of the period is looked at.
    maybe = uow.find_cases(open_only=False, offices=app.scope,
                           registered_from=start_of_local_day(start)) \
        if person is not None and person.interests else \
        uow.accusations_received(start, end, app.scope, exposed_to(app, viewer))
    return [c for c in maybe if sight_in(app.tree, c, viewer) is Sight.NONE
            and (unit is None or c.unit == unit)
            and start <= local_date(c.petition.received_at) <= end]


def received_mix(app: App, start: dt.date, end: dt.date, unit: str | None,
                 viewer: str | None = None) -> dict[tuple[str, str, str], int]:
    """How many petitions were received by (month ``YYYY-MM``, channel, category), counted
    in the database, less those ``viewer`` may not see (not even as one in a bar)."""
    derive_facts(app)
    with app.uow() as uow:
        mix = {(m, ch, cat): n for m, ch, cat, n in
               uow.received_mix(start, end, unit, app.scope)}
        for c in hidden_received(app, uow, start, end, unit, viewer):
            key = (local_date(c.petition.received_at).isoformat()[:7],
                   c.petition.channel.value, c.petition.category.value)
            mix[key] -= 1
    return {k: n for k, n in mix.items() if n > 0}


def derive_facts(app: App, batch: int = 500) -> int:
    """Store the facts of the cases stored without them (before migration 0011), a batch a
    transaction; how many. A case changed meanwhile is left for the next call."""
    done = 0
    while True:
        with app.uow() as uow:
            ids = uow.without_facts(batch)
            if not ids:
                return done
            for case_id in ids:
                uow.cases.touch(uow.cases.get(case_id).id)
            commit(app, uow, app.clock.now())
        done += len(ids)


def measures_of(app: App, cases: list[Case], start: dt.date, end: dt.date,
                unit: str | None) -> list[Measure]:
    """The measures over the given cases (judged from the cases themselves, not the stored
    facts: the domain's reading, which the sums must equal)."""
    units = [u for o in app.tree.subtree(app.office.id) for u in app.tree.org(o).units]
    if unit is not None and unit not in units:
        raise ConfigError(f"unknown unit '{unit}'; units: {', '.join(units)}")
    judged = min(end_of_local_day(end), app.clock.now())
    return measures(cases, Period(start, end, unit), app.rules_for, judged)


def measure_rows(ms: list[Measure]) -> list[dict[str, Any]]:
    return [{"measure": m.key, "label": m.label, "formula": m.formula,
             "numerator": m.numerator, "denominator": m.denominator,
             "rate": round(m.rate, 4) if m.rate is not None else None} for m in ms]
