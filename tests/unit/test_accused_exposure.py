"""``exposure`` reads ``accused_set`` backwards: every accusation that puts a person in its
accused set names one of the person's exposure names or units. The measures count on it to
look only at the accusations that may be hidden from their viewer (an accused supervisor
must not see their accusation counted); a miss here would count one."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.accused import accused_set, exposure
from domain.org import OrgChart
from domain.petition import Category, Petition
from tests.conftest import wage_petition
from tests.unit.test_security_properties import offices


def _accusation(accused: list[str], unit: str | None) -> Petition:
    return wage_petition(category=Category.ACCUSATION, concerns_unit=unit,
                         accused_persons=tuple(accused))


def _missed(org: OrgChart, petition: Petition) -> list[str]:
    """The people in ``petition``'s accused set whose exposure does not find it."""
    barred = accused_set(org, petition)
    return [p for p in org.people if p in barred and not (
        set(petition.accused_persons) & exposure(org, p).names
        or petition.concerns_unit in exposure(org, p).units)]


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_every_accusation_barring_a_person_names_their_exposure(data):  # type: ignore[no-untyped-def]
    org = data.draw(offices()).org
    people = sorted(org.people)
    accused = data.draw(st.lists(st.sampled_from(people), max_size=3, unique=True))
    unit = data.draw(st.sampled_from([None, *org.units]))
    if accused or unit:
        assert _missed(org, _accusation(accused, unit)) == []


def test_the_sample_mine_each_person_and_unit_accused_alone_by_id_and_by_name(office):
    org = office.org
    for who in org.people.values():
        for given_as in (who.id, who.name):
            assert _missed(org, _accusation([given_as], None)) == [], given_as
    for unit in org.units:
        assert _missed(org, _accusation([], unit)) == [], unit


def test_exposure_is_narrow_a_stranger_to_the_unit_is_not_exposed(office):
    org = office.org
    clerk = next(p for p in org.office_staff if p != org.units[str(org.office)].head)
    far = [u for u in org.units if not any(org.is_within(x, u) or org.is_within(u, x)
                                           for x in [org.people[clerk].unit])]
    assert far and not set(far) & exposure(org, clerk).units
    assert len(exposure(org, clerk).names) < len(org.people)
