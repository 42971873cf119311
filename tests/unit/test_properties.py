"""Properties that must hold for every date and every org chart."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendar import WorkingCalendar
from domain.errors import NoRecipient, RoutingError
from domain.escalation import Holders, resolve
from domain.org import OrgChart, Person, Unit
from domain.petition import Category, Channel, Petition, Petitioner
from domain.policy import Role
from domain.routing import LeaderRules, RoutingRules, barred_person, route

CAL = WorkingCalendar()
dates = st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2026, 12, 31))
lengths = st.integers(min_value=1, max_value=120)


@given(dates, lengths)
def test_a_due_date_is_never_a_rest_day(start, n):
    assert CAL.is_working_day(CAL.add_days(start, n))
    assert CAL.is_working_day(CAL.add_working_days(start, n))


@given(dates, dates, lengths)
def test_a_later_start_never_gives_an_earlier_due_date(a, b, n):
    early, late = min(a, b), max(a, b)
    assert CAL.add_days(early, n) <= CAL.add_days(late, n)
    assert CAL.add_working_days(early, n) <= CAL.add_working_days(late, n)


@given(dates, lengths)
def test_a_due_date_is_at_least_the_period_away(start, n):
    assert (CAL.add_days(start, n) - start).days >= n


@st.composite
def org_and_accusation(draw):
    n_units = draw(st.integers(min_value=1, max_value=6))
    unit_ids = [f"u{i}" for i in range(n_units)]
    people_ids = [f"p{i}" for i in range(draw(st.integers(min_value=2, max_value=14)))]
    people = {pid: Person(pid, pid, draw(st.sampled_from(unit_ids)),
                          responder=draw(st.booleans())) for pid in people_ids}
    units = {}
    for i, uid in enumerate(unit_ids):
        parent = draw(st.sampled_from([None, *unit_ids[:i]])) if i else None
        units[uid] = Unit(uid, uid, head=draw(st.sampled_from([None, *people_ids])),
                          leader=draw(st.sampled_from([None, *people_ids])), parent=parent)
    org = OrgChart(units, people, draw(st.sampled_from(people_ids)),
                   draw(st.sampled_from(people_ids)))
    accused_unit = draw(st.sampled_from([None, *unit_ids]))
    accused = tuple(draw(st.lists(st.sampled_from(people_ids), max_size=3)))
    if accused_unit is None and not accused:
        accused = (people_ids[0],)
    petition = Petition(Petitioner("举报人"), Channel.ONLINE, Category.ACCUSATION, "举报",
                        "材料", dt.datetime(2026, 3, 2, 1, tzinfo=dt.UTC),
                        concerns_unit=accused_unit, accused_persons=accused)
    rules = RoutingRules((), default_unit=draw(st.sampled_from(unit_ids)),
                         accusation_unit=draw(st.sampled_from([None, *unit_ids])),
                         leader=LeaderRules(categories=frozenset({Category.ACCUSATION})))
    workload = {pid: draw(st.integers(0, 5)) for pid in people_ids}
    return org, petition, rules, workload


@settings(max_examples=300)
@given(org_and_accusation())
def test_an_accusation_never_reaches_the_accused_in_any_org_chart(example):
    org, petition, rules, workload = example

    def is_accused(pid: str) -> bool:
        bar = barred_person(org, petition, pid)
        return bar is not None and bar.reason == "accused"

    try:
        decision = route(petition, rules, org, workload)
    except RoutingError:
        return  # nobody eligible is a clear error, never a leak
    assert not (petition.concerns_unit and org.is_within(decision.unit, petition.concerns_unit))
    assert not is_accused(decision.responder)
    assert decision.leader is None or not is_accused(decision.leader)
    holders = Holders(decision.unit, decision.responder, decision.leader)
    for role in Role:
        try:
            person, _, _ = resolve(role, holders, org,
                                   lambda p: "accused" if is_accused(p) else None)
        except NoRecipient:
            continue
        assert not is_accused(person)
        assert person not in petition.accused_persons
