"""The quarterly review's pure parts: quarters and their neighbours, the matters rising, a
measure's reminder and breach and whom they go to, and the yearly targets assessed."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest

from domain.errors import ConfigError, RuleViolation
from domain.quarters import Quarter
from domain.review import (
    MeasureInput,
    MeasureState,
    ReviewMeasure,
    due_alerts,
    hold_meeting,
    mark_done,
    superior_of,
    trends,
)
from domain.targets import Letter, Target, Verdict, assess, letters_from_list
from services import cases, review
from services.targets import target_rows
from tests.conftest import WAGE, at


def test_quarters_parse_and_step_across_years():
    q = Quarter.parse("2026Q1")
    assert (q.start, q.end) == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    assert q.previous() == Quarter(2025, 4) and q.year_before() == Quarter(2025, 1)
    assert Quarter(2026, 4).next() == Quarter(2027, 1)
    assert Quarter(2024, 1).end == dt.date(2024, 3, 31) and Quarter(2026, 4).end.day == 31
    assert Quarter.of(dt.date(2026, 9, 30)) == Quarter(2026, 3)
    assert Quarter(2026, 4).label == "2026年第四季度" and Quarter.parse(" 2026q2 ").key == "2026Q2"
    for bad in ("2026Q5", "2026-Q4", "Q4", ""):
        with pytest.raises(ConfigError, match="2026Q4"):
            Quarter.parse(bad)


def test_rising_matters_are_counted_against_last_quarter_and_a_year_before():
    rows = trends({"wages": 5, "housing": 1}, {"wages": 2, "housing": 3, "safety": 1},
                  {"wages": 4}, {"wages": "工资", "housing": "住房"})
    by = {t.key: t for t in rows}
    assert rows[0].key == "wages"  # the most risen first
    assert (by["wages"].change, by["wages"].change_year, by["wages"].rising) == (3, 1, True)
    assert (by["housing"].change, by["housing"].change_year) == (-2, 1)
    assert by["housing"].rising  # up on the year, down on the quarter: still rising
    assert by["safety"].now == 0 and not by["safety"].rising and by["safety"].label == "safety"


def _measure(owner: str = "zheng.tao", due: dt.date = dt.date(2026, 11, 30)) -> ReviewMeasure:
    return ReviewMeasure("m1", "2026Q4", "约谈职工", owner, due)


def test_a_measure_is_reminded_three_days_ahead_and_breached_at_five_on_its_due_date(office):
    m = _measure()
    org = office.org
    assert due_alerts(org, [m], at("2026-11-27 08:59"), []) == []
    assert [(d.what, d.to) for d in due_alerts(org, [m], at("2026-11-27 09:00"), [])] == [
        ("remind", "zheng.tao")]
    assert due_alerts(org, [m], at("2026-11-28 09:00"), [("m1", "remind")]) == []
    # A check that did not run until after the due date sends the breach, not a late reminder.
    assert [(d.what, d.to) for d in due_alerts(org, [m], at("2026-12-01 09:00"), [])] == [
        ("breach", "wang.fang")]
    assert due_alerts(org, [m], at("2026-12-01 09:00"), [("m1", "breach")]) == []
    assert m.state(at("2026-11-30 16:59")) is MeasureState.OPEN
    assert m.state(at("2026-11-30 17:00")) is MeasureState.OVERDUE


def test_a_breach_with_nobody_above_its_owner_is_left_to_the_chair(office):
    """A measure whose owner left the org chart: its breach still goes (to "", which the use
    case gives the meeting's chair), and the other measures are not held back."""
    org = office.org
    gone = ReviewMeasure("m2", "2026Q4", "走访", "gone.person", dt.date(2026, 11, 30))
    due = due_alerts(org, [gone, _measure()], at("2026-12-01 09:00"), [])
    assert [(d.measure.id, d.to) for d in due] == [("m2", ""), ("m1", "wang.fang")]


def test_a_breach_goes_up_the_chain_never_back_to_its_owner(office):
    org = office.org
    assert superior_of(org, "zheng.tao")[0] == "wang.fang"   # hr's head
    assert superior_of(org, "wang.fang")[0] == "zhao.gang"   # the leader in charge of hr
    assert superior_of(org, "zhao.gang")[0] == "gao.jian"    # a leader: the mine head


def test_done_on_or_before_the_due_date_is_on_time_after_it_late_and_only_owner_or_chair(office):
    meeting = hold_meeting(office.org, quarter=Quarter(2026, 4), chair="zhao.gang",
                           attendees=["li.ming"], held_on=dt.date(2026, 11, 20),
                           issues=["工资"], measures=[MeasureInput("约谈职工", "zheng.tao",
                                                                   dt.date(2026, 11, 30))],
                           recorded_by="li.ming", now=at("2026-11-20 10:00"), ids=["m1"],
                           existing=None)
    m = meeting.measures[0]
    assert mark_done(m, meeting, by="zheng.tao", note="", now=at("2026-11-30 23:00")
                     ).state(at("2027-01-01 00:00")) is MeasureState.ON_TIME
    assert mark_done(m, meeting, by="zhao.gang", note="", now=at("2026-12-01 08:00")
                     ).state(at("2027-01-01 00:00")) is MeasureState.LATE
    with pytest.raises(RuleViolation, match="neither the owner"):
        mark_done(m, meeting, by="wang.fang", note="", now=at("2026-11-25 10:00"))


@pytest.mark.parametrize(("change", "why"), [
    ({"issues": []}, "at least one issue"),
    ({"chair": "nobody"}, "unknown person 'nobody'"),
    ({"held_on": dt.date(2026, 11, 21)}, "in the future"),
    ({"measures": [MeasureInput("x", "zheng.tao", dt.date(2026, 11, 1))]}, "before the meeting"),
    ({"measures": [MeasureInput(" ", "zheng.tao", dt.date(2026, 12, 1))]}, "needs its text"),
])
def test_a_meeting_record_is_refused_with_one_clear_reason(office, change, why):
    args = dict(quarter=Quarter(2026, 4), chair="zhao.gang", attendees=["li.ming"],
                held_on=dt.date(2026, 11, 20), issues=["工资"], measures=[],
                recorded_by="li.ming", now=at("2026-11-20 10:00"), ids=["m1"], existing=None)
    with pytest.raises(RuleViolation, match=why):
        hold_meeting(office.org, **{**args, **change})  # type: ignore[arg-type]


def test_targets_are_met_missed_by_a_gap_or_have_no_data():
    letter = Letter(2026, "hr", (Target("on_time_closure", Fraction(95, 100)),
                                 Target("satisfaction", Fraction(9, 10)),
                                 Target("repeat_rate", Fraction(1, 10)),
                                 Target("group_visits", Fraction(0))))
    got = {a.target.key: a for a in assess(letter, {"on_time_closure": 0.9,
                                                    "satisfaction": None,
                                                    "repeat_rate": 0.1},
                                           {"group_visits": 2})}
    assert got["on_time_closure"].verdict is Verdict.NOT_MET
    assert got["on_time_closure"].gap_text == "差 5.0 个百分点"
    assert got["satisfaction"].verdict is Verdict.NO_DATA and got["satisfaction"].gap == 0
    assert got["repeat_rate"].verdict is Verdict.MET  # at most 10 %: 10 % is met
    assert (got["group_visits"].verdict, got["group_visits"].gap_text) == (
        Verdict.NOT_MET, "超出 2 起")
    assert [t.text for t in letter.targets] == ["≥ 95%", "≥ 90%", "≤ 10%", "无"]


def test_letters_are_read_from_office_yaml_and_bad_ones_named(office):
    letters = letters_from_list([{"year": 2026, "unit": "hr", "satisfaction": "90%",
                                  "group_visits": 0}], office.org)
    assert letters.of(2026)[0].targets == (Target("satisfaction", Fraction(9, 10)),
                                           Target("group_visits", Fraction(0)))
    assert letters.of(2027) == []
    for item, why in (({"year": 2026, "unit": "nowhere", "satisfaction": "90%"}, "unknown unit"),
                      ({"year": 2026, "unit": "hr"}, "at least one target"),
                      ({"year": 2026, "unit": "hr", "satisfaction": "190%"}, "0%..100%"),
                      ({"year": 2026, "unit": "hr", "speed": "90%"}, "speed")):
        with pytest.raises(ConfigError, match=why):
            letters_from_list([item], office.org)


def test_the_sample_office_configures_its_letters(office):
    assert {x.unit for x in office.practices.responsibility.of(2026)} == {
        "hr", "finance", "mining1"}


def test_the_in_memory_store_keeps_the_same_contract_and_rolls_back_a_refusal(memory_app):
    app = memory_app
    meeting = review.record_review(app, quarter=Quarter(2026, 4), actor="li.ming",
                                   chair="zhao.gang", attendees=["li.ming"], issues=["工资"],
                                   measures=[MeasureInput("约谈职工", "zheng.tao",
                                                          dt.date(2026, 11, 22))])
    (mid,) = [m.id for m in meeting.measures]
    with pytest.raises(RuleViolation, match="neither the owner"):
        review.measure_done(app, mid, by="lin.na")
    app.clock.at = at("2026-11-22 17:00")
    assert [(d.what, d.to) for d in review.check_measures(app)] == [("breach", "wang.fang")]
    assert review.check_measures(app) == []
    review.measure_done(app, mid, by="zheng.tao")
    rows = review.measure_rows(app, review.meeting_of(app, Quarter(2026, 4)))
    assert [(r["id"], r["state_label"]) for r in rows] == [(mid, "按期完成")]
    case = cases.register(app, {**WAGE, "headcount": 6, "representatives": 2},
                          registration_no="XF-G1", actor="qian.hui")
    cases.route_and_assign(app, case.id, actor="intake")
    got = {r["target"]: r for r in target_rows(app, 2026, Quarter(2026, 4)) if r["unit"] == "hr"}
    assert (got["group_visits"]["actual"], got["group_visits"]["verdict"]) == (1.0, "未达标")
