"""The measures as sums in the database equal the domain's reading of the cases themselves,
on a group's two years of petitions (``bench/scale_data.py``: repeats, reviews decided by
the group's office, extensions, late decisions, ratings), on SQLite and PostgreSQL: for a
year, a month, a unit, each office; and cases stored before the facts existed get theirs
when the measures are next asked for."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pendulum
import pytest
from sqlalchemy import update

from bench.scale_data import generate, write, write_group
from domain.errors import NotPermitted
from domain.offices import sight_in
from domain.permissions import Sight, supervisors
from services import cases
from services.bootstrap import App, sql_app
from services.clock import FixedClock
from services.config import load_installation
from services.measures import kpis, measures_of, office_lines
from services.settings import Settings
from storage.tables import cases as case_rows
from tests.conftest import WAGE

NOW = pendulum.datetime(2026, 11, 25, 2, 0)


@pytest.fixture
def group(engine: Any, tmp_path: Path) -> App:
    write_group(tmp_path / "config", 3)
    installation = load_installation(tmp_path / "config")
    app = sql_app(Settings(home=tmp_path, config_dir=tmp_path / "config"), installation,
                  FixedClock(NOW), engine)
    write(engine, list(generate(app, 700, NOW, seed=11)))
    return app


def _by_hand(app: App, start: dt.date, end: dt.date, unit: str | None = None,
             office: str | None = None) -> list[tuple[str, int, int]]:
    with app.uow() as uow:
        everything = uow.all_cases()
    if office is not None:
        everything = [c for c in everything if c.office == office]
    return [(m.key, m.numerator, m.denominator)
            for m in measures_of(app, everything, start, end, unit)]


def _summed(ms: Any) -> list[tuple[str, int, int]]:
    return [(m.key, m.numerator, m.denominator) for m in ms]


@pytest.mark.parametrize("start,end,unit", [
    (dt.date(2025, 11, 25), dt.date(2026, 11, 24), None),
    (dt.date(2024, 11, 25), dt.date(2026, 11, 25), None),
    (dt.date(2026, 3, 1), dt.date(2026, 3, 31), None),
    (dt.date(2025, 1, 1), dt.date(2025, 12, 31), "m02-hr"),
])
def test_the_sums_equal_the_domains_reading(group: App, start: dt.date, end: dt.date,
                                            unit: str | None) -> None:
    summed = _summed(kpis(group, start, end, unit))
    assert summed == _by_hand(group, start, end, unit)
    assert dict((k, d) for k, _, d in summed)["closure"] > 0  # something was measured
    if unit is None:
        lines = dict(office_lines(group, start, end))
        assert _summed(lines["2号煤矿信访办公室"]) == _by_hand(group, start, end, None, "mine-02")


def test_cases_stored_before_the_facts_get_them_when_next_measured(group: App) -> None:
    year = (dt.date(2025, 11, 25), dt.date(2026, 11, 24))
    before = _summed(kpis(group, *year, None))
    assert group.engine is not None
    with group.engine.begin() as conn:  # as migration 0011 leaves older rows
        conn.execute(update(case_rows).values(received_on=None, m_closed=None, repeat_of=None))
    assert _summed(kpis(group, *year, None)) == before
    with group.uow() as uow:
        assert uow.without_facts() == []


def test_an_accused_supervisor_does_not_count_the_accusation(app: App) -> None:
    accusation = {**WAGE, "category": "accusation", "subject": "检举矿长",
                  "accused_persons": ["gao.jian"], "concerns_unit": None}
    cases.register(app, WAGE, registration_no="XF-R-1", actor="qian.hui")
    cases.register(app, accusation, registration_no="XF-R-2", actor="qian.hui")
    day = dt.date(2026, 11, 20)

    def received(viewer: str | None) -> int:
        return next(m.denominator for m in kpis(app, day, day, None, viewer)
                    if m.key == "closure")
    assert (received(None), received("li.ming"), received("gao.jian")) == (2, 2, 1)


def test_the_overdue_counts_equal_the_overdue_list(group: App) -> None:
    from services.reading import overdue_rows, overdue_summary

    rows = overdue_rows(group)
    total, groups = overdue_summary(group)
    by_unit: dict[str, int] = {}
    for _case_id, unit in {(r["id"], r["unit_name"]) for r in rows}:
        by_unit[unit] = by_unit.get(unit, 0) + 1
    assert total == len({r["id"] for r in rows}) > 0
    assert {g.name: g.cases for g in groups["unit"]} == by_unit
    assert sum(g.cases for g in groups["office"]) == total
    worst = overdue_rows(group, limit=5)
    assert len({r["id"] for r in worst}) == 5
    assert max(r["overdue_seconds"] for r in worst) == max(r["overdue_seconds"] for r in rows)


def test_each_supervisor_counts_exactly_the_cases_they_may_see(group: App) -> None:
    """The measures read only the accusations that may bar their viewer (by the stored
    marks); what they give each supervisor of a mine and of the group equals the domain's
    reading of every case the supervisor may see."""
    mine = group.at("mine-01")
    org = mine.office.org
    head, secretary = org.people[org.mine_head], org.people[org.party_secretary]
    clerk = sorted(p for p in org.office_staff if org.people[p].responder)[0]
    member = next(p for p in org.people.values()
                  if p.unit == org.office and p.id != org.units[str(org.office)].head)
    for n, (accused, unit) in enumerate([([head.name], None), ([secretary.id], None),
                                         ([], str(org.office)), ([member.id], None)]):
        petition = {**WAGE, "category": "accusation", "subject": "检举",
                    "accused_persons": accused, "concerns_unit": unit}
        for who in [clerk, *sorted(org.people)]:  # whoever may register it (not the accused)
            try:
                cases.register(mine, petition, registration_no=f"XF-S-{n}", actor=who)
                break
            except NotPermitted:
                continue
    year = (dt.date(2025, 11, 25), dt.date(2026, 11, 25))
    viewers = sorted(supervisors(org) | supervisors(group.tree.org("group")))
    hidden_from = set()
    for viewer in viewers:
        at = group.for_person(viewer)
        with at.uow() as uow:
            seen = [c for c in at.in_scope(uow.all_cases())
                    if sight_in(at.tree, c, viewer) is not Sight.NONE]
            every = at.in_scope(uow.all_cases())
        if len(seen) < len(every):
            hidden_from.add(viewer)
        expected = [(m.key, m.numerator, m.denominator)
                    for m in measures_of(at, seen, *year, None)]
        assert _summed(kpis(at, *year, None, viewer)) == expected, viewer
    assert {head.id, secretary.id, member.id} <= hidden_from  # the test hides something
