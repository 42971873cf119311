"""The measures as sums in the database equal the domain's reading of the cases themselves,
on a group's two years of petitions (``bench/scale_data.py``: repeats, reviews decided by
the group's office, extensions, late decisions, ratings), on SQLite and PostgreSQL: for a
year, a month, a unit, each office; and cases stored before the facts existed get theirs
when the measures are next asked for. The tallies by day and month the sums are read from
equal the sums over the cases, as kept by every commit and as the upgrade writes them."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pendulum
import pytest
from sqlalchemy import Engine, func, select, update

from bench.scale_data import generate, write, write_group
from domain.errors import NotPermitted
from domain.instants import local_date
from domain.offices import sight_in
from domain.permissions import Sight, supervisors
from services import cases
from services.bootstrap import App, sql_app
from services.clock import FixedClock
from services.config import load_installation
from services.measures import kpis, measures_of, office_lines
from services.settings import Settings
from services.sweep import sweep
from storage import tallies
from storage.migrate import alembic_config, upgrade
from storage.tables import cases as case_rows
from storage.tables import measure_tallies
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
    with group.engine.begin() as conn:  # as migration 0011 leaves older rows, and 0020
        conn.execute(update(case_rows).values(received_on=None, m_closed=None, repeat_of=None))
        tallies.rebuild(conn)  # their tallies (none: no facts yet)
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


def _accusations_against_supervisors(group: App) -> Any:
    """Accusations at mine 01 against its mine head (by name), its party secretary, its
    petition office (the unit), and a member of that office; the mine's org chart."""
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
                case = cases.register(mine, petition, registration_no=f"XF-S-{n}", actor=who)
                cases.route_and_assign(mine, case.id, actor="intake")
                break
            except NotPermitted:
                continue
    return org


def test_each_supervisor_counts_exactly_the_overdue_cases_they_may_see(group: App) -> None:
    """The overdue counts read only the overdue accusations that may bar their viewer (by
    the stored marks): what they give each supervisor equals the overdue cases listed for
    them, each judged by the domain."""
    from services.reading import overdue_rows, overdue_summary

    org = _accusations_against_supervisors(group)
    later = dataclasses.replace(group, clock=FixedClock(NOW.add(days=40)))
    viewers = sorted(supervisors(org) | supervisors(group.tree.org("group")))
    hidden_from = set()
    for viewer in viewers:
        at = later.for_person(viewer)
        total, groups = overdue_summary(at, seen_by=viewer)
        seen = {r["id"] for r in overdue_rows(at, seen_by=viewer)}
        assert total == len(seen) == sum(g.cases for g in groups["unit"]), viewer
        if total < overdue_summary(at)[0]:  # all in their offices, seen or not
            hidden_from.add(viewer)
    assert {org.mine_head, org.party_secretary} <= hidden_from  # the test hides something


def test_each_supervisor_counts_exactly_the_cases_they_may_see(group: App) -> None:
    """The measures read only the accusations that may bar their viewer (by the stored
    marks); what they give each supervisor of a mine and of the group equals the domain's
    reading of every case the supervisor may see."""
    org = _accusations_against_supervisors(group)
    head, secretary = org.people[org.mine_head], org.people[org.party_secretary]
    member = next(p for p in org.people.values()
                  if p.unit == org.office and p.id != org.units[str(org.office)].head)
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


def _tallied(engine: Engine) -> list[tuple[Any, ...]]:
    """Every tally that counts something."""
    with engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(select(measure_tallies)) if any(r[3:]))


def _summed_anew(engine: Engine) -> list[tuple[Any, ...]]:
    """The tallies summed from the cases as they are now (rolled back)."""
    with engine.connect() as conn, conn.begin() as tx:
        tallies.rebuild(conn)
        rows = sorted(tuple(r) for r in conn.execute(select(measure_tallies)) if any(r[3:]))
        tx.rollback()
    return rows


PERIODS = [(dt.date(2025, 11, 25), dt.date(2026, 11, 25)), (dt.date(2024, 1, 1),
           dt.date(2026, 12, 31)), (dt.date(2026, 3, 1), dt.date(2026, 3, 31)),
           (dt.date(2026, 3, 5), dt.date(2026, 3, 20)), (dt.date(2026, 2, 1),
           dt.date(2026, 4, 17)), (dt.date(2025, 12, 31), dt.date(2026, 1, 1)),
           (dt.date(2026, 11, 25), dt.date(2026, 11, 25))]


def _counts_agree(app: App) -> None:
    with app.uow() as uow:
        for start, end in PERIODS:
            for offices in ([], ["mine-01", "group"]):
                for by_office in (False, True):
                    assert uow.measure_counts(start, end, None, offices, by_office=by_office) \
                        == uow.measure_counts_of_cases(start, end, None, offices,
                                                       by_office=by_office), (start, end)


def _first_resolved(app: App, day: dt.date) -> int:
    with app.uow() as uow:
        return uow.measure_counts(day, day)[""]["first_resolved"]


def test_the_tallies_kept_by_each_commit_equal_the_sums_over_the_cases(group: App) -> None:
    """A repeat registered (its original no longer counts as resolved at the first time),
    a sweep firing the backlog of two years (ratings lapsed, reviews' windows closed),
    facts derived for cases stored without them: after each, every tally equals the
    tallies summed anew from the cases, and the measures read from them equal the sums
    over the cases for periods of whole months, odd days, and both."""
    assert group.engine is not None
    assert _tallied(group.engine) == _summed_anew(group.engine) != []
    _counts_agree(group)
    with group.engine.connect() as conn:  # a first petition resolved, of one petitioner
        only = select(case_rows.c.petitioner_identity).group_by(
            case_rows.c.petitioner_identity).having(func.count() == 1)
        original = conn.execute(select(case_rows).where(
            case_rows.c.m_closed.is_(True), case_rows.c.repeat_of.is_(None),
            case_rows.c.m_reviewed.is_not(True), case_rows.c.office != "group",
            case_rows.c.category != "accusation",
            case_rows.c.petitioner_identity.in_(only)).order_by(case_rows.c.id)).first()
    assert original is not None
    day = dt.date.fromisoformat(original.received_on)
    before = _first_resolved(group, day)
    petition = original.body["petition"]
    mine = group.at(original.office)
    clerk = sorted(p for p in mine.office.org.office_staff
                   if mine.office.org.people[p].responder)[0]
    repeat = cases.register(mine, {k: v for k, v in petition.items() if k != "received_at"},
                            registration_no="XF-AGAIN-1", actor=clerk)
    assert repeat.repeat_of == original.id
    assert _first_resolved(group, day) == before - 1
    assert _tallied(group.engine) == _summed_anew(group.engine)
    assert sweep(group, sweeper="test", limit=2000).fired
    assert _tallied(group.engine) == _summed_anew(group.engine)
    _counts_agree(group)
    with group.engine.begin() as conn:  # some rows as migration 0011 left them
        conn.execute(update(case_rows).where(case_rows.c.id < "s-0000300").values(
            received_on=None, m_closed=None, repeat_of=None))
        tallies.rebuild(conn)
    kpis(group, *PERIODS[1], None)  # derives their facts, a commit a batch
    assert _tallied(group.engine) == _summed_anew(group.engine)
    _counts_agree(group)


def test_the_upgrade_sums_the_tallies_of_the_cases_stored_before(group: App) -> None:
    """Migration 0020 fills the tallies from the facts already stored."""
    from alembic import command

    assert group.engine is not None
    kept = _tallied(group.engine)
    cfg = alembic_config()
    with group.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0019")
    upgrade(group.engine)
    assert _tallied(group.engine) == kept != []


def test_clerks_registering_at_once_are_all_counted(app: App) -> None:
    """Commits adding to the same day's and month's tallies at once (PostgreSQL: each waits
    for the other's row, none is lost)."""
    import threading

    errors: list[BaseException] = []

    def clerk(n: int) -> None:
        try:
            for i in range(15):
                petitioner = {**WAGE["petitioner"], "id_number": f"14260119800{n}{i:05d}"}
                cases.register(app, {**WAGE, "petitioner": petitioner},
                               registration_no=f"XF-C{n}-{i}", actor="qian.hui")
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=clerk, args=(n,)) for n in (1, 2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert app.engine is not None
    assert _tallied(app.engine) == _summed_anew(app.engine)
    today = local_date(app.clock.now())
    with app.uow() as uow:
        assert uow.measure_counts(today, today)[""]["received"] == 45
