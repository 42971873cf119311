"""The mines' practices in the pure domain, on the real 2026 calendar: month ends, the
Spring Festival and National Day holidays, and the make-up working weekends (调休)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from fractions import Fraction

import pytest

from domain.errors import RuleViolation
from domain.escalation import pending_rungs
from domain.key_periods import KeyPeriod, KeyPeriods
from domain.outcomes import Outcome, Resolution
from domain.petition import Category, Channel
from domain.policy import DeadlineKind as K
from domain.policy import Role
from domain.reception import ReceptionRule, RestDayRule, at_reception, occurrences
from domain.routing import route
from domain.signals import DigestRules, Week
from domain.zero_report import Days, alerts_due, file_report
from tests.conftest import at, new_case, wage_petition

D = dt.date


def test_receptions_on_the_10th_and_20th_rotate_and_move_off_rest_days(office):
    rule = office.practices.reception.rules[0]  # 10th and 20th, five leaders in rotation
    days = occurrences(rule, office.calendar, D(2026, 1, 1), D(2026, 3, 31))
    assert [(d.nominal, d.day, d.leader) for d in days] == [
        (D(2026, 1, 10), D(2026, 1, 12), "gao.jian"),   # a Saturday: the Monday after
        (D(2026, 1, 20), D(2026, 1, 20), "ma.yun"),
        (D(2026, 2, 10), D(2026, 2, 10), "zhao.gang"),
        (D(2026, 2, 20), D(2026, 2, 24), "zhou.qiang"),  # Spring Festival: after the holiday
        (D(2026, 3, 10), D(2026, 3, 10), "sun.li"),
        (D(2026, 3, 20), D(2026, 3, 20), "gao.jian"),   # the rotation wraps around
    ]
    assert "2026-02-20 为休息日" in days[3].moved and "顺延至 2026-02-24" in days[3].moved
    # A make-up working Saturday (调休上班) is a working day: the reception stays.
    october = occurrences(rule, office.calendar, D(2026, 10, 1), D(2026, 10, 31))
    assert (october[0].day, october[0].moved) == (D(2026, 10, 10), "")


def test_the_first_monday_of_the_month_and_the_other_rest_day_rules(office):
    monthly = office.practices.reception.rules[1]
    october = occurrences(monthly, office.calendar, D(2026, 10, 1), D(2026, 10, 31))
    assert (october[0].nominal, october[0].day) == (D(2026, 10, 5), D(2026, 10, 8))
    back = dataclasses.replace(monthly, on_rest_day=RestDayRule.PREVIOUS_WORKING_DAY)
    assert occurrences(back, office.calendar, D(2026, 10, 1), D(2026, 10, 31))[0].day == \
        D(2026, 9, 30)
    skip = dataclasses.replace(monthly, on_rest_day=RestDayRule.SKIP)
    skipped = occurrences(skip, office.calendar, D(2026, 10, 1), D(2026, 10, 31))[0]
    assert skipped.day is None and "本次不接待" in skipped.moved
    last = ReceptionRule("月末接待", ("feng.bo",), D(2026, 1, 1), weekday=4, week=-1)
    assert [d.nominal for d in occurrences(last, office.calendar, D(2026, 1, 1),
                                           D(2026, 2, 28))] == [D(2026, 1, 30), D(2026, 2, 27)]


def test_staff_are_told_and_the_leader_reminded_in_working_days_across_a_month_end(office):
    schedule = office.practices.reception  # notice 3, remind 1 working days before
    # The 2026-03-02 reception: 3 working days before is 02-26 (across the month end); 1 day
    # before is Saturday 02-28, a make-up working day.
    assert ("notice", D(2026, 3, 2)) not in _due(schedule, office, D(2026, 2, 25))
    assert ("notice", D(2026, 3, 2)) in _due(schedule, office, D(2026, 2, 26))
    assert ("remind", D(2026, 3, 2)) not in _due(schedule, office, D(2026, 2, 27))
    assert ("remind", D(2026, 3, 2)) in _due(schedule, office, D(2026, 2, 28))
    # After the Spring Festival: the 02-24 reception's reminder is due on Saturday 02-14
    # (调休上班), the last working day before it.
    assert ("remind", D(2026, 2, 24)) in _due(schedule, office, D(2026, 2, 14))
    assert ("remind", D(2026, 2, 24)) not in _due(schedule, office, D(2026, 2, 13))


def _due(schedule, office, today):  # type: ignore[no-untyped-def]
    return [(what, d.day) for what, d in schedule.announcements(office.calendar, today)]


def test_a_reception_petition_goes_to_the_leader_on_duty(office, rules):
    day = office.practices.reception.require_held_on(D(2026, 11, 10), office.calendar)
    assert day.leader == "gao.jian"
    petition = wage_petition("2026-11-10 09:30", channel=Channel.RECEPTION)
    decision = at_reception(route(petition, office.routing, office.org, {}), day, petition,
                            office.org)
    assert (decision.responder, decision.leader) == ("gao.jian", "gao.jian")
    assert "领导接待日" in decision.leader_reasons and "2026-11-10" in decision.rule
    with pytest.raises(RuleViolation, match=r"no leader reception day .* on 2026-11-11: "
                       r"previous 2026-11-10 \(gao.jian\); next 2026-11-20 \(ma.yun\)"):
        office.practices.reception.require_held_on(D(2026, 11, 11), office.calendar)


def test_a_leader_on_duty_accused_by_the_petition_is_passed_over(office):
    day = office.practices.reception.require_held_on(D(2026, 11, 10), office.calendar)
    petition = wage_petition("2026-11-10 09:30", channel=Channel.RECEPTION,
                             category=Category.ACCUSATION, accused_persons=("gao.jian",))
    decision = at_reception(route(petition, office.routing, office.org, {}), day, petition,
                            office.org)
    assert "gao.jian" not in (decision.responder, decision.leader)
    assert any(b.who == "gao.jian" for b in decision.bars)


def test_a_zero_report_is_refused_for_another_unit_twice_or_in_the_future(office):
    rules, org, cal = office.practices.zero_report, office.org, office.calendar
    now = at("2026-11-30 09:00")
    ok = file_report(rules, org, cal, unit="mining1", day=D(2026, 11, 30), reporter="luo.jun",
                     items=0, summary="", now=now, existing=None)
    assert ok.nothing and not ok.late
    late = file_report(rules, org, cal, unit="mining1", day=D(2026, 11, 29),
                       reporter="luo.jun", items=1, summary="两名职工反映夜班津贴", now=now,
                       existing=None)
    assert late.late and late.items == 1
    for kwargs, why in (
            ({"reporter": "song.yu"}, "cannot report for 'mining1'"),
            ({"existing": ok}, "already reported for 2026-11-30"),
            ({"day": D(2026, 12, 1)}, "in the future"),
            ({"items": 2}, "a summary is required"),
            ({"unit": "leadership"}, "not on the daily zero report list")):
        args = {"unit": "mining1", "day": D(2026, 11, 30), "reporter": "luo.jun", "items": 0,
                "summary": "", "now": now, "existing": None, **kwargs}
        with pytest.raises(RuleViolation, match=why):
            file_report(rules, org, cal, **args)  # type: ignore[arg-type]


def test_working_day_zero_reports_follow_the_make_up_weekends(office):
    rules = dataclasses.replace(office.practices.zero_report, days=Days.WORKING_DAYS)
    cal = office.calendar
    with pytest.raises(RuleViolation, match="rest day"):
        file_report(rules, office.org, cal, unit="hr", day=D(2026, 10, 3), reporter="zheng.tao",
                    items=0, summary="", now=at("2026-10-03 09:00"), existing=None)
    # Saturday 2026-10-10 is a make-up working day: a report is due, and missed.
    alerts = alerts_due(rules, office.org, cal, at("2026-10-10 15:00"), {}, [])
    days = {a.day for a in alerts}
    assert D(2026, 10, 10) in days and not days & {D(2026, 10, d) for d in range(3, 8)}


def test_missing_reports_alert_the_head_then_the_office_once_across_a_month_end(office):
    rules = office.practices.zero_report
    reported = {D(2026, 11, 30): [u for u in rules.units if u != "mining1"],
                D(2026, 12, 1): [u for u in rules.units if u != "mining1"]}
    before = alerts_due(rules, office.org, office.calendar, at("2026-11-30 09:59"),
                        reported, [(u, D(2026, 11, d), lvl) for u in rules.units
                                   for d in range(22, 30) for lvl in ("head", "office")])
    assert before == []
    head = alerts_due(rules, office.org, office.calendar, at("2026-12-01 10:00"), reported,
                      [(u, D(2026, 11, d), lvl) for u in rules.units for d in range(23, 30)
                       for lvl in ("head", "office")])
    # The check did not run on the 30th: at 10:00 on 12-01 it catches up.
    assert [(a.unit, a.day, a.level, a.recipients) for a in head] == [
        ("mining1", D(2026, 11, 30), "head", ("zhang.hua",)),
        ("mining1", D(2026, 11, 30), "office", ("li.ming",)),
        ("mining1", D(2026, 12, 1), "head", ("zhang.hua",))]
    sent = [(a.unit, a.day, a.level) for a in head] + [
        (u, D(2026, 11, d), lvl) for u in rules.units for d in range(23, 30)
        for lvl in ("head", "office")]
    assert [(a.day, a.level) for a in alerts_due(rules, office.org, office.calendar,
                                                 at("2026-12-01 14:00"), reported, sent)] == [
        (D(2026, 12, 1), "office")]


def test_weekly_digests_are_numbered_by_iso_week_across_the_year_end():
    assert Week.of(D(2027, 1, 3)).issue == "2026-W53" == Week.of(D(2026, 12, 28)).issue
    assert Week.of(D(2027, 1, 4)).issue == "2027-W01"
    rules = DigestRules(("qian.hui",), ("gao.jian",), 0, dt.time(9, 0))
    assert rules.digest_due(at("2027-01-04 08:59")) is None
    assert rules.digest_due(at("2027-01-04 09:00")) == Week(D(2026, 12, 28))
    assert rules.digest_due(at("2027-01-06 12:00")) == Week(D(2026, 12, 28))


def test_in_a_key_period_reminders_come_more_often_and_escalation_starts_higher(office,
                                                                                 rules):
    case = new_case(office, rules, wage_petition("2026-09-20 09:00"))
    case.acknowledge(actor=str(case.responder), now=at("2026-09-20 10:00"))
    case.accept(actor=str(case.responder), now=at("2026-09-21 09:00"))
    views = case.deadlines(rules, at("2026-09-21 09:00"))
    plain = {d.name: d for d in pending_rungs(views, rules.policy, case.fired)
             if d.kind is K.HANDLING}
    period = KeyPeriods((KeyPeriod("国庆", D(2026, 9, 28), D(2026, 10, 10),
                                   (Fraction(1, 10), Fraction(1, 4))),))
    watched = {d.name: d for d in pending_rungs(views, rules.policy, case.fired, period)
               if d.kind is K.HANDLING}
    # The handling limit runs 2026-09-21 → 11-20: 10% falls on 09-27 (outside), 25% on
    # 10-06 (inside). Only the extra reminder inside the period exists.
    assert "key-25%" in watched and "key-10%" not in watched
    assert watched["key-25%"].key_period == "国庆" and watched["key-25%"].rung.role is \
        Role.RESPONDER
    assert set(watched) - {"key-25%"} == set(plain)
    for name, due in watched.items():  # the ladder's own rungs fire after the period
        if name != "key-25%":
            assert due.key_period is None and due.rung.role is plain[name].rung.role
    # Move the period over the limit's end: the breach goes one role higher.
    late = KeyPeriods((KeyPeriod("年底", D(2026, 11, 15), D(2026, 12, 31)),))
    raised = {d.name: d for d in pending_rungs(views, rules.policy, case.fired, late)
              if d.kind is K.HANDLING}
    for name, due in raised.items():
        if due.rung.level.value in ("breach", "escalation", "warning") and due.key_period:
            assert due.rung.role is (plain[name].rung.role.above() or plain[name].rung.role)
    assert any(d.key_period == "年底" and d.rung.role is not plain[n].rung.role
               for n, d in raised.items() if n in plain)


def test_three_in_place_fits_the_decision():
    assert not Resolution.RESOLVED.fits(Outcome.REJECT)
    assert not Resolution.EXPLAINED.fits(Outcome.SUPPORT)
    assert all(Resolution.ASSISTED.fits(o) for o in Outcome)


def test_a_case_is_not_closed_before_its_handler_reports_completion(office, rules):
    case = new_case(office, rules)
    case.acknowledge(actor=str(case.responder), now=at("2026-03-02 10:00"))
    case.accept(actor=str(case.responder), now=at("2026-03-02 11:00"))
    with pytest.raises(RuleViolation, match="completion report"):
        case.decide(Outcome.SUPPORT, summary="补发", actor="a", now=at("2026-03-10 10:00"),
                    resolution=Resolution.RESOLVED)
    with pytest.raises(RuleViolation, match="filed by the case's handler"):
        case.report_completion(summary="办完", actor="song.yu", now=at("2026-03-10 09:00"),
                               rules=rules)
    with pytest.raises(RuleViolation, match="cannot be classed 'resolved'"):
        case.decide(Outcome.REJECT, summary="不予支持", actor="a", now=at("2026-03-10 10:00"),
                    resolution=Resolution.RESOLVED)
    assert case.stage.value == "handling" and case.reports == []
    case.report_completion(summary="已核实补发", actor="wang.fang", now=at("2026-03-10 09:00"),
                           rules=rules)  # the unit's head may report for the unit
    case.decide(Outcome.SUPPORT, summary="补发", actor="a", now=at("2026-03-10 10:00"),
                resolution=Resolution.RESOLVED)
    assert case.events[-2].type.value == "CompletionReported"
    assert case.events[-1].data["resolution"] == "resolved"
