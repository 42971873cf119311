"""The units' yearly responsibility letters (年度信访稳定工作责任书, office.yaml
``responsibility``) assessed against what happened: per quarter or for the year, over the
cases the viewer may see (``services.measures.kpis``). Rows for 督查, the report, the
quarterly review pack and the chart another page draws: target, actual, met, gap."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from domain.events import EventType as E
from domain.instants import local_date
from domain.offices import sight_in
from domain.permissions import Sight
from domain.quarters import Quarter
from domain.targets import Verdict, assess
from notifications.compose import unit_name
from services import keypersons
from services.bootstrap import App
from services.measures import kpis


def _period(year: int, quarter: Quarter | None) -> tuple[dt.date, dt.date, str]:
    if quarter is not None:
        return quarter.start, quarter.end, quarter.label
    return dt.date(year, 1, 1), dt.date(year, 12, 31), f"{year}年"


def group_visits(app: App, start: dt.date, end: dt.date, unit: str,
                 viewer: str | None) -> int:
    """Group visits (集体访: ``routing.leader.group_min_headcount`` or more people) about
    ``unit`` received from ``start`` to ``end``, of the cases ``viewer`` may see."""
    least = app.office.routing.leader.group_min_headcount
    with app.uow() as uow:  # only the group visits are loaded: the 督查 page shows these
        found = uow.group_visits(start, end, unit, app.scope, least)
    return sum(1 for c in found
               if viewer is None or sight_in(app.tree, c, viewer) is not Sight.NONE)


def over_the_head(app: App, start: dt.date, end: dt.date, viewer: str | None
                  ) -> Counter[str]:
    """越级上访 reported from ``start`` to ``end`` (the day it happened), by the 四包一 unit
    head holding the key person, of those ``viewer`` may see (all without one): read once
    for every letter."""
    with app.uow() as uow:
        if viewer is None:  # the server's operator: every key person of the scope
            held = uow.keypersons.of_offices(list(app.scope or app.tree.nodes))
        else:
            held = [kp for kp, _ in keypersons.visible(app, viewer, uow)]
        return Counter(kp.holders.unit_head for kp in held
                       for r in uow.practices.events(keypersons.subject_of(kp.id))
                       if r.type == E.OVER_THE_HEAD.value
                       and start <= dt.date.fromisoformat(str(r.data.get("on"))) <= end)


def target_rows(app: App, year: int, quarter: Quarter | None = None,
                viewer: str | None = None) -> list[dict[str, Any]]:
    """Each letter's targets of ``year`` against the year (or ``quarter``) so far: one row
    per unit and target, with the actual, met or not and the gap, in Chinese."""
    start, end, label = _period(year, quarter)
    end = min(end, max(start, local_date(app.clock.now())))
    rows = []
    letters = app.office.practices.responsibility.of(year)
    above = over_the_head(app, start, end, viewer) if any(
        t.key == "over_the_head" for x in letters for t in x.targets) else Counter()
    for letter in letters:
        rates = {m.key: m.rate for m in kpis(app, start, end, letter.unit, viewer)}
        counts = {"group_visits": group_visits(app, start, end, letter.unit, viewer),
                  "over_the_head": above[app.office.org.units[letter.unit].head or ""]}
        for a in assess(letter, rates, counts):
            rows.append({"unit": a.unit, "unit_name": unit_name(app.office.org, a.unit),
                         "period": label, "target": a.target.key,
                         "label": a.target.label, "target_text": a.target.text,
                         "target_value": float(a.target.value), "actual": a.actual,
                         "actual_text": a.actual_text,
                         "met": None if a.verdict is Verdict.NO_DATA
                         else a.verdict is Verdict.MET,
                         "verdict": a.verdict.label, "gap": a.gap, "gap_text": a.gap_text})
    return rows
