"""The measures, against a month worked out by hand.

March 2026, four petitions received (one more in February does not count):
- A: accepted the next day, decided on time, rated satisfied.
- B: accepted after 18 days (the 15-day notice missed), decided late, rated not satisfied,
  review requested; D repeats it.
- C: accepted, still being handled.
- D: repeats B; decided on time; the petitioner never rates (the window lapses).

By hand: closure 3/4 (A, B, D); on time 2/3 (A, D); timely acceptance 3/4 (all but B);
first-time resolution 1/2 (first petitions closed: A, B; only A had no review and no repeat);
satisfaction 1/2 (A of A, B); participation 2/3 (A, B rated; D expired); repeat rate 1/4.
"""

from __future__ import annotations

import pytest

from domain.case import Case
from domain.errors import ConfigError
from domain.measures import Period, measures
from domain.outcomes import Outcome, Rating, Resolution
from domain.petition import Petitioner
from domain.routing import route
from tests.conftest import at, new_case, wage_petition


def _fire_due(case: Case, rules, now) -> None:  # type: ignore[no-untyped-def]
    for r in case.due_rungs(rules, now):
        case.fire_rung(r.clock, r.name, actor="sweeper", now=now, rules=rules)


def _handled(case: Case, rules, accept: str, decide: str | None,  # type: ignore[no-untyped-def]
             resolution: Resolution = Resolution.RESOLVED) -> Case:
    case.acknowledge(actor=str(case.responder), now=case.registered_at.add(hours=1))
    case.accept(actor=str(case.responder), now=at(accept), notice="受理")
    if case.leader_required:
        case.leader_accept(actor=str(case.leader), now=at(accept).add(hours=2))
    if decide:
        case.report_completion(summary="办结", actor=str(case.responder),
                               now=at(decide).subtract(hours=1), rules=rules)
        case.decide(Outcome.SUPPORT, summary="处理", actor=str(case.responder), now=at(decide),
                    resolution=resolution)
    return case


def _month(office, rules) -> list[Case]:  # type: ignore[no-untyped-def]
    other = Petitioner("王五", phone="13900000000")
    a = _handled(new_case(office, rules, wage_petition("2026-03-02 09:00"), case_id="A"),
                 rules, "2026-03-03 10:00", "2026-03-20 10:00")
    a.rate(Rating.SATISFIED, actor="p", now=at("2026-03-22 10:00"), rules=rules)
    b = _handled(new_case(office, rules, wage_petition("2026-03-02 10:00", petitioner=other,
                                                       subject="加班费未发放"), case_id="B"),
                 rules, "2026-03-20 10:00", "2026-05-25 10:00", Resolution.ASSISTED)
    b.rate(Rating.NOT_SATISFIED, actor="p", now=at("2026-05-26 10:00"), rules=rules)
    b.request_review(reason="不服", actor="p", now=at("2026-05-27 10:00"), rules=rules)
    c = _handled(new_case(office, rules, wage_petition("2026-03-05 09:00", subject="绩效"),
                          case_id="C"), rules, "2026-03-06 10:00", None)
    petition = wage_petition("2026-03-25 09:00", petitioner=other, subject="再次反映加班费")
    d = Case.register(case_id="D", registration_no="XF-D", petition=petition,
                      policy=rules.policy, actor="qian.hui", now=petition.received_at,
                      repeat_of="B")
    d.assign(route(petition, office.routing, office.org, {}, is_repeat=True), actor="qian.hui",
             now=petition.received_at, rules=rules)
    _handled(d, rules, "2026-03-26 10:00", "2026-04-10 10:00")
    _fire_due(d, rules, at("2026-04-30 10:00"))  # the rating window lapses
    e = new_case(office, rules, wage_petition("2026-02-20 09:00", subject="二月"), case_id="E")
    return [a, b, c, d, e]


def test_the_seven_measures_match_the_hand_count(office, rules):
    period = Period(at("2026-03-01 00:00").date(), at("2026-03-31 12:00").date())
    got = {m.key: (m.numerator, m.denominator)
           for m in measures(_month(office, rules), period, lambda c: rules,
                             at("2026-06-30 12:00"))}
    assert got == {"closure": (3, 4), "on_time_closure": (2, 3),
                   "timely_acceptance": (3, 4), "first_time_resolution": (1, 2),
                   "satisfaction": (1, 2), "participation": (2, 3), "repeat_rate": (1, 4),
                   # three in place: A and D resolved, B given hardship assistance
                   "in_place_resolved": (2, 3), "in_place_explained": (0, 3),
                   "in_place_assisted": (1, 3)}


def test_a_unit_filter_and_an_empty_period(office, rules):
    cases = _month(office, rules)
    march = (at("2026-03-01 00:00").date(), at("2026-03-31 12:00").date())
    other_unit = measures(cases, Period(*march, unit="finance"), lambda c: rules,
                          at("2026-06-30 12:00"))
    assert all(m.denominator == 0 and m.rate is None and m.text == "—" for m in other_unit)
    empty = measures(cases, Period(at("2026-01-01 00:00").date(), at("2026-01-31 00:00").date()),
                     lambda c: rules, at("2026-06-30 12:00"))
    assert [m.denominator for m in empty] == [0] * 10


def test_a_reversed_period_is_refused():
    with pytest.raises(ConfigError, match=r"ends .* before it starts"):
        Period(at("2026-03-31 12:00").date(), at("2026-03-01 12:00").date())
