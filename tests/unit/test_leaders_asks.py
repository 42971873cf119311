"""What a leader answers or asks from the phone (issue 28): a handler's extension request
(申请延期) waits for the unit's head or someone above, who approves it — for the period and
reason asked — or refuses it with a reason; a leader over the case asks its handlers for a
report (要求报告), and their next completion report goes back to that leader."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.acts import Act
from domain.case import Case
from domain.errors import CaseNotFound, ExtensionRefused, NotPermitted, RuleViolation
from domain.periods import Period, Unit
from domain.permissions import Relation, check
from domain.policy import DeadlineKind as K
from notifications.plan import plan
from tests.conftest import at

DAYS = Unit.DAYS


def _handling(office, rules) -> Case:
    from tests.conftest import new_case

    case = new_case(office, rules)
    case.acknowledge(actor=str(case.responder), now=at("2026-03-02 10:00"))
    case.accept(actor="qian.hui", now=at("2026-03-02 11:00"))
    return case


def _snapshot(case: Case) -> tuple:
    return (case.stage, len(case.events), list(case.ledger), {k: dict(v) for k, v in
                                                                  case.pending.items()})


def _to(case: Case, kind: str) -> list[str]:
    return sorted(m.recipient for m in plan(case.events[-1:]) if m.kind == kind)


def test_an_extension_asked_waits_for_the_approvers_and_one_tap_approves_it(office, rules):
    case = _handling(office, rules)
    who = str(case.responder)
    check(office.org, case, who, Act.REQUEST_EXTENSION)
    case.request_extension(Period(20, DAYS), reason="需调取三年考勤记录", actor=who,
                           now=at("2026-04-20 09:00"), rules=rules)
    asked = case.events[-1]
    assert asked.type.value == "ExtensionRequested"
    # the lowest approver is asked (the unit's head); those above may answer too
    assert asked.data["notify"] == ["wang.fang"]
    assert _to(case, "extension_request") == ["wang.fang"]
    assert case.extension_approvers(office.org) >= {"wang.fang", "gao.jian"}
    assert who not in case.extension_approvers(office.org)
    # nothing changed on the clock yet
    assert case.view(K.HANDLING, rules, at("2026-04-21 09:00")).due_date == dt.date(2026, 5, 6)
    # the approver now holds the relation that permits the answer; the asker does not
    assert check(office.org, case, "wang.fang", Act.APPROVE_EXTENSION).relation \
        is Relation.APPROVER
    with pytest.raises(NotPermitted):
        check(office.org, case, who, Act.APPROVE_EXTENSION)
    with pytest.raises(NotPermitted):
        check(office.org, case, "qian.hui", Act.APPROVE_EXTENSION)

    case.answer_extension(True, actor="wang.fang", now=at("2026-04-21 08:00"), rules=rules)
    done = case.events[-1]
    assert done.type.value == "DeadlineExtended"
    assert (done.data["by"], done.data["reason"], done.data["approver"],
            done.data["requested_by"]) == ("20日", "需调取三年考勤记录", "wang.fang", who)
    assert done.data["new_due"] == "2026-05-21"  # 03-02 + 80 days
    assert who in _to(case, "extension") and "wang.fang" in _to(case, "extension")
    assert not case.pending
    with pytest.raises(NotPermitted):  # nothing waits: nobody is offered the answer
        check(office.org, case, "wang.fang", Act.APPROVE_EXTENSION)


def test_a_refusal_needs_a_reason_and_tells_the_one_who_asked(office, rules):
    case = _handling(office, rules)
    who = str(case.responder)
    case.request_extension(Period(10, DAYS), reason="复杂", actor=who,
                           now=at("2026-04-20 09:00"), rules=rules)
    before = _snapshot(case)
    with pytest.raises(RuleViolation, match="reason for refusing"):
        case.answer_extension(False, actor="wang.fang", now=at("2026-04-20 10:00"),
                              rules=rules, reason="  ")
    with pytest.raises(RuleViolation, match="own extension request"):
        case.answer_extension(True, actor=who, now=at("2026-04-20 10:00"), rules=rules)
    assert _snapshot(case) == before
    case.answer_extension(False, actor="wang.fang", now=at("2026-04-20 10:00"), rules=rules,
                          reason="按期可办结")
    assert case.events[-1].type.value == "ExtensionRefused"
    assert _to(case, "extension_refused") == [who]
    assert not case.pending and not [e for e in case.ledger if e.extension]
    # refused, it may be asked again
    case.request_extension(Period(5, DAYS), reason="补充证据", actor=who,
                           now=at("2026-04-22 09:00"), rules=rules)
    assert case.pending["extension"]["amount"] == "5"


@pytest.mark.parametrize(("period", "reason", "message"), [
    (Period(31, DAYS), "复杂", "over the limit of 30日"),
    (Period(10, DAYS), " ", "needs a reason"),
])
def test_a_bad_request_is_refused_and_changes_nothing(office, rules, period, reason, message):
    case = _handling(office, rules)
    before = _snapshot(case)
    with pytest.raises(ExtensionRefused, match=message):
        case.request_extension(period, reason=reason, actor=str(case.responder),
                               now=at("2026-04-20 09:00"), rules=rules)
    assert _snapshot(case) == before


def test_a_second_request_while_one_waits_is_refused(office, rules):
    case = _handling(office, rules)
    case.request_extension(Period(10, DAYS), reason="复杂", actor=str(case.responder),
                           now=at("2026-04-20 09:00"), rules=rules)
    before = _snapshot(case)
    with pytest.raises(ExtensionRefused, match="waits for approval"):
        case.request_extension(Period(5, DAYS), reason="x", actor=str(case.responder),
                               now=at("2026-04-20 10:00"), rules=rules)
    assert _snapshot(case) == before


def test_a_leader_asks_for_a_report_and_the_report_goes_back_to_them(office, rules):
    case = _handling(office, rules)
    who = str(case.responder)
    with pytest.raises(NotPermitted):  # the handler is asked, does not ask
        check(office.org, case, who, Act.REQUEST_REPORT)
    assert check(office.org, case, "zhao.gang", Act.REQUEST_REPORT).relation \
        is Relation.UNIT_LEADER
    case.request_report(actor="zhao.gang", now=at("2026-04-01 09:00"), rules=rules,
                        note="月底前报进展")
    assert case.events[-1].data["to"] == [who]
    assert _to(case, "report_request") == [who]
    case.report_completion(summary="已核实考勤", actor=who, now=at("2026-04-02 09:00"),
                           rules=rules)
    assert case.events[-1].data["requested_by"] == "zhao.gang"
    assert _to(case, "report_filed") == ["zhao.gang"]
    assert not case.pending
    case.report_completion(summary="补充", actor=who, now=at("2026-04-03 09:00"), rules=rules)
    assert _to(case, "report_filed") == []  # answered once


def test_the_accused_are_not_offered_an_answer_and_learn_nothing(office, rules):
    from domain.petition import Category
    from tests.conftest import new_case, wage_petition

    petition = wage_petition(category=Category.ACCUSATION, accused_persons=("wang.fang",))
    case = new_case(office, rules, petition)
    case.acknowledge(actor=str(case.responder), now=at("2026-03-02 10:00"))
    case.accept(actor="qian.hui", now=at("2026-03-02 11:00"))
    case.request_extension(Period(10, DAYS), reason="取证", actor=str(case.responder),
                           now=at("2026-04-20 09:00"), rules=rules)
    assert "wang.fang" not in case.events[-1].data["notify"]
    assert "wang.fang" not in case.extension_approvers(office.org)
    for act in (Act.APPROVE_EXTENSION, Act.REQUEST_REPORT):
        with pytest.raises(CaseNotFound):
            check(office.org, case, "wang.fang", act)


def test_a_refused_asker_cannot_extend_it_themselves(office, rules):
    case = _handling(office, rules)
    who = str(case.responder)
    case.request_extension(Period(20, DAYS), reason="复杂", actor=who,
                           now=at("2026-04-20 09:00"), rules=rules)
    case.answer_extension(False, actor="wang.fang", now=at("2026-04-20 10:00"), rules=rules,
                          reason="按期可办结")
    with pytest.raises(NotPermitted):  # the extend act is the approvers'
        check(office.org, case, who, Act.EXTEND)
    with pytest.raises(ExtensionRefused, match="may not record an approval"):
        case.extend(Period(30, DAYS), reason="复杂", approver="wang.fang", actor=who,
                    now=at("2026-04-20 11:00"), rules=rules)


def test_the_approvers_are_who_holds_the_posts_today(office, rules):
    """A unit head replaced after the request: the new head answers, the old one may not."""
    import dataclasses

    case = _handling(office, rules)
    case.request_extension(Period(10, DAYS), reason="复杂", actor=str(case.responder),
                           now=at("2026-04-20 09:00"), rules=rules)
    units = dict(office.org.units)
    units["hr"] = dataclasses.replace(units["hr"], head="zheng.tao")
    org = dataclasses.replace(office.org, units=units)
    if case.responder == "zheng.tao":
        pytest.skip("the sample routed the case to the new head")
    assert "zheng.tao" in case.extension_approvers(org)
    assert "wang.fang" not in case.extension_approvers(org)
    with pytest.raises(NotPermitted):
        check(org, case, "wang.fang", Act.APPROVE_EXTENSION)


def test_what_waits_is_dropped_when_it_can_no_longer_be_answered(office, rules):
    from domain.outcomes import Outcome, Resolution

    case = _handling(office, rules)
    who = str(case.responder)
    case.request_extension(Period(10, DAYS), reason="复杂", actor=who,
                           now=at("2026-04-20 09:00"), rules=rules)
    case.request_report(actor="zhao.gang", now=at("2026-04-20 09:30"), rules=rules)
    assert set(case.pending) == {"extension", "report"}
    case.report_completion(summary="已办结", actor=who, now=at("2026-04-21 09:00"), rules=rules)
    case.decide(Outcome.SUPPORT, summary="补发", actor=who, now=at("2026-04-22 09:00"),
                resolution=Resolution.RESOLVED)
    assert case.pending == {}  # decided: nothing to extend, no task to report on
    with pytest.raises(NotPermitted):
        check(office.org, case, "wang.fang", Act.APPROVE_EXTENSION)


def test_a_request_left_waiting_past_the_limit_is_dropped_by_the_breach(office, rules):
    case = _handling(office, rules)
    case.request_extension(Period(10, DAYS), reason="复杂", actor=str(case.responder),
                           now=at("2026-05-01 09:00"), rules=rules)
    fired = [d for d in case.due_rungs(rules, at("2026-05-08 09:00"))
             if d.kind is K.HANDLING and d.name == "breach"]
    assert fired, "the handling limit's breach rung is due"
    for d in case.due_rungs(rules, at("2026-05-08 09:00")):
        case.fire_rung(d.clock, d.name, actor="sweeper", now=at("2026-05-08 09:00"),
                       rules=rules)
    assert "extension" not in case.pending


def test_a_recused_asker_takes_the_request_with_them(office, rules):
    case = _handling(office, rules)
    who = str(case.responder)
    other = "zheng.tao" if who == "lin.na" else "lin.na"
    case.request_extension(Period(10, DAYS), reason="复杂", actor=who,
                           now=at("2026-04-20 09:00"), rules=rules)
    case.recuse(who, reason="近亲属", actor="li.ming", now=at("2026-04-20 10:00"),
                rules=rules, replacement=other)
    assert "extension" not in case.pending
