"""The clock ledger: pauses and the one extension are entries; due dates are derived."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.case import Case, CaseRules
from domain.deadlines import DeadlineState, PauseReason
from domain.errors import ClockError, ExtensionRefused, IllegalTransition
from domain.periods import Period, Unit
from domain.policies import default_registry
from domain.policy import DeadlineKind as K
from tests.conftest import at, new_case

DAYS = Unit.DAYS


def _handling(office, rules, accepted: str = "2026-03-02 11:00") -> Case:
    case = new_case(office, rules)
    case.acknowledge(actor=case.responder, now=at("2026-03-02 10:00"))
    case.accept(actor="qian.hui", now=at(accepted))
    return case


def _view(case: Case, rules: CaseRules, now: str, kind: K = K.HANDLING):
    view = case.view(kind, rules, at(now))
    assert view is not None
    return view


def _snapshot(case: Case) -> tuple:
    return (case.stage, len(case.events), list(case.ledger), dict(case.clocks))


def test_handling_is_due_60_days_after_acceptance(office, rules):
    case = _handling(office, rules)
    view = _view(case, rules, "2026-03-10 09:00")
    # 2026-03-02 + 60 days = 2026-05-01, Labour Day; 05-02..05-05 rest; 05-06 is Wednesday.
    assert view.due_date == dt.date(2026, 5, 6)
    assert view.state is DeadlineState.PENDING
    assert view.due_at.timezone_name == "UTC"


def test_a_hearing_stops_the_clock_for_the_days_it_lasts(office, rules):
    case = _handling(office, rules, accepted="2026-06-01 09:00")
    assert _view(case, rules, "2026-06-02 09:00").due_date == dt.date(2026, 7, 31)
    case.pause_clock(reason=PauseReason.HEARING, basis="听证通知书〔2026〕3号", actor="wang.fang",
                     now=at("2026-06-10 09:00"))
    paused = _view(case, rules, "2026-06-15 09:00")
    assert paused.state is DeadlineState.PAUSED and paused.paused_since == at("2026-06-10 09:00")
    assert case.due_rungs(rules, at("2026-09-30 09:00")) == [
        d for d in case.due_rungs(rules, at("2026-09-30 09:00")) if d.kind is not K.HANDLING]
    case.resume_clock(actor="wang.fang", now=at("2026-06-20 09:00"))
    resumed = _view(case, rules, "2026-06-21 09:00")
    assert resumed.due_date == dt.date(2026, 8, 10)  # 07-31 + 10 stopped days
    assert resumed.pauses == ((at("2026-06-10 09:00"), at("2026-06-20 09:00")),)
    assert case.events[-1].data["paused_for"] == "10d"


def test_a_pause_with_no_reason_is_refused_and_changes_nothing(office, rules):
    case = _handling(office, rules)
    before = _snapshot(case)
    with pytest.raises(ClockError, match="needs a reason"):
        case.pause_clock(reason=None, basis="x", actor="a", now=at("2026-03-05 09:00"))
    with pytest.raises(ClockError, match="needs its basis"):
        case.pause_clock(reason=PauseReason.HEARING, basis="  ", actor="a",
                         now=at("2026-03-05 09:00"))
    with pytest.raises(ClockError, match="not paused"):
        case.resume_clock(actor="a", now=at("2026-03-05 09:00"))
    assert _snapshot(case) == before


def test_a_paused_clock_cannot_be_decided_on_until_resumed(office, rules):
    from domain.outcomes import Outcome, Resolution

    case = _handling(office, rules)
    case.pause_clock(reason=PauseReason.AWAITING_MATERIALS, basis="补充材料通知", actor="a",
                     now=at("2026-03-05 09:00"))
    case.report_completion(summary="已办结", actor=str(case.responder),
                           now=at("2026-03-05 10:00"), rules=rules)
    with pytest.raises(ClockError, match="paused; resume it first"):
        case.decide(Outcome.SUPPORT, summary="x", actor="a", now=at("2026-03-06 09:00"),
                    resolution=Resolution.RESOLVED)


def test_one_extension_of_up_to_30_days_approved_by_the_unit_head(office, rules):
    case = _handling(office, rules)
    case.extend(Period(30, DAYS), reason="需调取三年考勤记录", approver="wang.fang",
                actor="wang.fang", now=at("2026-04-20 09:00"), rules=rules)
    view = _view(case, rules, "2026-04-21 09:00")
    assert view.due_date == dt.date(2026, 6, 1)  # 05-31 is a Sunday
    assert view.period == Period(90, DAYS)
    assert view.extensions[0].approver == "wang.fang"
    assert case.events[-1].data["old_due"] == "2026-05-06"
    assert case.events[-1].data["new_due"] == "2026-06-01"


@pytest.mark.parametrize(("period", "approver", "reason", "message"), [
    (Period(31, DAYS), "wang.fang", "复杂", "over the limit of 30日"),
    (Period(3, Unit.WORKING_DAYS), "wang.fang", "复杂", "over the limit"),
    (Period(10, DAYS), "zheng.tao", "复杂", "'zheng.tao' may not approve"),
    (Period(10, DAYS), "wang.fang", " ", "needs a reason"),
])
def test_a_bad_extension_is_refused_and_changes_nothing(office, rules, period, approver,
                                                        reason, message):
    case = _handling(office, rules)
    before = _snapshot(case)
    with pytest.raises(ExtensionRefused, match=message):
        case.extend(period, reason=reason, approver=approver, actor=approver,
                    now=at("2026-04-20 09:00"), rules=rules)
    assert _snapshot(case) == before


def test_only_the_approver_records_an_approval(office, rules):
    """An approval typed in by someone else is refused: they ask (申请延期) instead."""
    case = _handling(office, rules)
    before = _snapshot(case)
    with pytest.raises(ExtensionRefused, match=r"may not record an approval by 'wang\.fang'"):
        case.extend(Period(10, DAYS), reason="复杂", approver="wang.fang",
                    actor=str(case.responder), now=at("2026-04-20 09:00"), rules=rules)
    assert _snapshot(case) == before


def test_a_second_extension_is_refused(office, rules):
    case = _handling(office, rules)
    case.extend(Period(10, DAYS), reason="复杂", approver="wang.fang", actor="wang.fang",
                now=at("2026-04-20 09:00"), rules=rules)
    before = _snapshot(case)
    with pytest.raises(ExtensionRefused, match="already extended on 2026-04-20"):
        case.extend(Period(10, DAYS), reason="还需要", approver="gao.jian", actor="gao.jian",
                    now=at("2026-05-10 09:00"), rules=rules)
    assert _snapshot(case) == before


def test_an_extension_after_the_limit_passed_is_refused(office, rules):
    case = _handling(office, rules)
    with pytest.raises(ExtensionRefused, match="passed on 2026-05-06"):
        case.extend(Period(10, DAYS), reason="复杂", approver="wang.fang", actor="wang.fang",
                    now=at("2026-05-07 09:00"), rules=rules)


def test_an_extension_outside_handling_is_an_illegal_move(office, rules):
    case = new_case(office, rules)
    with pytest.raises(IllegalTransition):
        case.extend(Period(10, DAYS), reason="x", approver="wang.fang", actor="wang.fang",
                    now=at("2026-03-03 09:00"), rules=rules)


def test_all_deadlines_are_listed_with_their_states(office, rules):
    case = new_case(office, rules)  # received and assigned 2026-03-02 09:00
    case.acknowledge(actor=case.responder, now=at("2026-03-03 09:00"))  # 4 working hours late
    views = {v.kind: v for v in case.deadlines(rules, at("2026-03-20 12:00"))}
    assert views[K.FIRST_RESPONSE].state is DeadlineState.BREACHED
    assert views[K.FIRST_RESPONSE].overdue == dt.timedelta(hours=18)  # due 15:00, done 09:00
    assert views[K.ROUTING_OBJECTION].state is DeadlineState.LAPSED
    ack = views[K.ACCEPTANCE_NOTICE]
    assert ack.state is DeadlineState.BREACHED and ack.due_date == dt.date(2026, 3, 17)
    assert ack.overdue == dt.timedelta(days=2, hours=12)


def test_a_case_keeps_the_policy_it_was_registered_under(office):
    registry = default_registry()
    assert registry.in_force(dt.date(2021, 6, 1)).id == "cn-2005"
    assert registry.in_force(dt.date(2022, 5, 1)).id == "cn-2022"
    zj = registry.with_policy({"id": "zj-2023", "extends": "cn-2022",
                               "effective_from": "2023-01-01",
                               "limits": {"handling": {"period": {"days": 30}}},
                               "extension": {"max": {"days": 60}}}).select_default("zj-2023")
    zj_rules = CaseRules(zj.get("zj-2023"), office.calendar, office.org)
    case = _handling(office, zj_rules)
    assert case.policy_id == "zj-2023"
    assert _view(case, zj_rules, "2026-03-03 09:00").due_date == dt.date(2026, 4, 1)
    case.extend(Period(60, DAYS), reason="复杂", approver="wang.fang", actor="wang.fang",
                now=at("2026-03-20 09:00"), rules=zj_rules)
    cn_rules = CaseRules(registry.get("cn-2022"), office.calendar, office.org)
    with pytest.raises(Exception, match="under policy 'zj-2023'"):
        case.deadlines(cn_rules, at("2026-03-20 09:00"))
