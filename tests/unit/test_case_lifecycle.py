"""A case through its stages: the one transition table, and illegal moves refused."""

from __future__ import annotations

import pytest

from domain.case import Case
from domain.deadlines import DeadlineState
from domain.errors import IllegalTransition, RuleViolation
from domain.events import EventType as E
from domain.outcomes import Outcome, Rating, Resolution
from domain.policy import DeadlineKind as K
from domain.stages import TRANSITIONS, Stage, allowed_actions
from tests.conftest import at, new_case, wage_petition


def _types(case: Case) -> list[E]:
    return [e.type for e in case.events]


def test_a_wage_complaint_goes_from_intake_to_strike_off(office, rules):
    case = new_case(office, rules)
    assert case.stage is Stage.ASSIGNED and case.unit == "hr"
    case.acknowledge(actor=case.responder, now=at("2026-03-02 10:00"))
    case.accept(actor="qian.hui", now=at("2026-03-03 09:00"), notice="已受理")
    assert case.stage is Stage.HANDLING
    case.report_completion(summary="已核实并补发工资", actor=case.responder,
                           now=at("2026-03-19 16:00"), rules=rules)
    case.decide(Outcome.SUPPORT, summary="补发工资3120元", actor="zheng.tao",
                now=at("2026-03-20 10:00"), resolution=Resolution.RESOLVED)
    case.rate(Rating.SATISFIED, actor="petitioner", now=at("2026-03-21 10:00"), rules=rules)
    case.strike_off(actor="li.ming", now=at("2026-03-22 10:00"), rules=rules)
    assert case.stage is Stage.CLOSED
    assert _types(case) == [E.CASE_REGISTERED, E.CASE_ASSIGNED, E.RESPONSE_ACKNOWLEDGED,
                            E.CASE_ACCEPTED, E.COMPLETION_REPORTED, E.DECISION_ISSUED,
                            E.CASE_RATED,
                            E.CASE_STRUCK_OFF]
    states = {v.kind: v.state for v in case.deadlines(rules, at("2026-03-22 10:00"))}
    assert states[K.ACCEPTANCE_NOTICE] is DeadlineState.MET
    assert states[K.HANDLING] is DeadlineState.MET
    assert states[K.REVIEW_REQUEST] is DeadlineState.CANCELLED


def test_every_event_carries_actor_time_and_stage(office, rules):
    case = new_case(office, rules)
    first = case.events[0]
    assert (first.actor, first.stage, first.case_id) == ("qian.hui", "registered", "c1")
    assert first.at == wage_petition().received_at
    assert first.as_record()["data"]["policy"] == "cn-2022"


def test_an_illegal_move_names_the_case_its_stage_and_the_move(office, rules):
    case = new_case(office, rules)
    with pytest.raises(IllegalTransition) as e:
        case.decide(Outcome.SUPPORT, summary="x", actor="a", now=at("2026-03-02 10:00"))
    assert "XF-c1" in str(e.value) and "'assigned'" in str(e.value) and "'decide'" in str(e.value)
    assert case.stage is Stage.ASSIGNED and len(case.events) == 2


def test_no_code_can_set_a_stage_directly(office, rules):
    case = new_case(office, rules)
    with pytest.raises(AttributeError):
        case.stage = Stage.CLOSED  # type: ignore[misc]


def test_only_the_first_responder_acknowledges(office, rules):
    case = new_case(office, rules)
    with pytest.raises(RuleViolation, match="only the first responder"):
        case.acknowledge(actor="someone.else", now=at("2026-03-02 10:00"))
    assert case.stage is Stage.ASSIGNED


def test_a_group_visit_needs_its_leader_to_accept_before_the_decision(office, rules):
    petition = wage_petition(headcount=32, representatives=5)
    case = new_case(office, rules, petition)
    assert case.leader == "zhao.gang" and "集体访（32人）" in case.leader_reasons
    case.acknowledge(actor=case.responder, now=at("2026-03-02 10:00"))
    case.accept(actor="qian.hui", now=at("2026-03-02 11:00"))
    assert case.stage is Stage.LEADER_PENDING
    with pytest.raises(IllegalTransition):
        case.decide(Outcome.EXPLAIN, summary="x", actor="a", now=at("2026-03-02 12:00"))
    with pytest.raises(RuleViolation, match="only the named leader"):
        case.leader_accept(actor="zhou.qiang", now=at("2026-03-02 12:00"))
    case.leader_accept(actor="zhao.gang", now=at("2026-03-02 15:00"))
    assert case.stage is Stage.HANDLING
    views = {v.kind: v for v in case.deadlines(rules, at("2026-03-02 15:00"))}
    assert views[K.LEADER_ACCEPTANCE].state is DeadlineState.MET


def test_a_leader_named_during_handling_must_accept(office, rules):
    case = new_case(office, rules)
    case.acknowledge(actor=case.responder, now=at("2026-03-02 10:00"))
    case.accept(actor="qian.hui", now=at("2026-03-02 11:00"))
    case.name_leader("zhao.gang", reason="矛盾升级", actor="li.ming", now=at("2026-03-10 09:00"),
                     rules=rules)
    assert case.stage is Stage.LEADER_PENDING
    assert case.clock(K.LEADER_ACCEPTANCE) is not None


def _decided(office, rules) -> Case:
    case = new_case(office, rules)
    case.acknowledge(actor=case.responder, now=at("2026-03-02 10:00"))
    case.accept(actor="qian.hui", now=at("2026-03-02 11:00"))
    case.report_completion(summary="调查完毕", actor=case.responder,
                           now=at("2026-03-19 10:00"), rules=rules)
    case.decide(Outcome.REJECT, summary="不予支持", actor="x", now=at("2026-03-20 10:00"),
                resolution=Resolution.EXPLAINED)
    return case


def test_review_and_re_review_end_the_matter(office, rules):
    case = _decided(office, rules)
    case.rate(Rating.NOT_SATISFIED, actor="p", now=at("2026-03-21 10:00"), rules=rules)
    with pytest.raises(RuleViolation, match="may still request a review until 2026-04-20"):
        case.strike_off(actor="li.ming", now=at("2026-03-22 10:00"), rules=rules)
    case.request_review(reason="不服处理意见", actor="p", now=at("2026-04-10 10:00"), rules=rules)
    with pytest.raises(RuleViolation, match="completion report"):
        case.decide_review(Outcome.REJECT, summary="维持", actor="x",
                           now=at("2026-05-05 10:00"))
    case.report_completion(summary="复查完毕", actor=case.responder,
                           now=at("2026-05-04 10:00"), rules=rules)
    case.decide_review(Outcome.REJECT, summary="维持", actor="x", now=at("2026-05-05 10:00"))
    case.request_re_review(reason="仍不服", actor="p", now=at("2026-05-20 10:00"), rules=rules)
    case.report_completion(summary="复核完毕", actor=case.responder,
                           now=at("2026-06-09 10:00"), rules=rules)
    case.decide_re_review(Outcome.REJECT, summary="维持", actor="x", now=at("2026-06-10 10:00"))
    case.strike_off(actor="li.ming", now=at("2026-06-11 10:00"), rules=rules)
    assert case.stage is Stage.CLOSED
    assert case.events[-2].data["final"] is True


def test_a_review_requested_after_30_days_is_refused_and_changes_nothing(office, rules):
    case = _decided(office, rules)
    before = (case.stage, len(case.events), dict(case.clocks))
    with pytest.raises(RuleViolation, match="ended on 2026-04-20"):
        case.request_review(reason="不服", actor="p", now=at("2026-04-21 09:00"), rules=rules)
    assert (case.stage, len(case.events), dict(case.clocks)) == before


def test_a_satisfied_petitioner_does_not_request_a_review(office, rules):
    case = _decided(office, rules)
    case.rate(Rating.BASICALLY_SATISFIED, actor="p", now=at("2026-03-21 10:00"), rules=rules)
    with pytest.raises(RuleViolation, match="basically"):
        case.request_review(reason="x", actor="p", now=at("2026-03-25 10:00"), rules=rules)


def test_an_unrated_case_whose_window_ends_is_expired_unrated_not_satisfied(office, rules):
    case = _decided(office, rules)
    now = at("2026-03-28 00:00")
    lapse = [d for d in case.due_rungs(rules, now) if d.kind is K.RATING]
    assert len(lapse) == 1
    case.fire_rung(lapse[0].clock, lapse[0].name, actor="sweeper", now=now, rules=rules)
    assert case.rating is Rating.EXPIRED_UNRATED and not case.rating.content
    assert case.stage is Stage.RATED and case.events[-1].type is E.RATING_EXPIRED
    with pytest.raises(IllegalTransition):
        case.rate(Rating.SATISFIED, actor="p", now=now, rules=rules)


def test_a_rating_after_the_window_is_refused(office, rules):
    case = _decided(office, rules)
    with pytest.raises(RuleViolation, match="rate the handling ended on 2026-03-27"):
        case.rate(Rating.SATISFIED, actor="p", now=at("2026-03-28 09:00"), rules=rules)


def test_a_declined_petition_is_closed_with_its_notice_met(office, rules):
    case = new_case(office, rules)
    case.decline(reason="不属于信访事项，已告知通过诉讼途径解决", actor="li.ming",
                 now=at("2026-03-04 09:00"))
    assert case.stage is Stage.CLOSED
    views = {v.kind: v.state for v in case.deadlines(rules, at("2026-03-04 09:00"))}
    assert views[K.ACCEPTANCE_NOTICE] is DeadlineState.MET
    assert views[K.FIRST_RESPONSE] is DeadlineState.CANCELLED


def test_a_wrongly_routed_case_is_objected_to_within_5_working_days(office, rules):
    from domain.routing import RoutingDecision

    case = new_case(office, rules)
    to_finance = RoutingDecision("finance", "yang.fan", "objection", None, (), ())
    case.object_to_routing(to_finance, reason="属财务报销问题", actor="wang.fang",
                           now=at("2026-03-04 09:00"), rules=rules)
    assert (case.unit, case.responder) == ("finance", "yang.fan")
    assert case.clock(K.FIRST_RESPONSE).key == "first_response@2"  # type: ignore[union-attr]
    late = new_case(office, rules, case_id="c2")
    with pytest.raises(RuleViolation, match="object to the routing ended on 2026-03-09"):
        late.object_to_routing(to_finance, reason="x", actor="wang.fang",
                               now=at("2026-03-10 09:00"), rules=rules)


def test_the_table_leaves_no_open_stage_without_a_way_forward():
    for stage in Stage:
        moves = [a for a in allowed_actions(stage)]
        assert bool(moves) is (stage is not Stage.CLOSED), stage
    reachable = {Stage.REGISTERED} | set(TRANSITIONS.values())
    assert reachable == set(Stage)


def test_a_recused_responder_is_replaced_by_a_colleague_of_the_same_unit(office, rules):
    case = new_case(office, rules)
    assert case.responder == "lin.na"
    before = (case.responder, len(case.events))
    with pytest.raises(RuleViolation, match="name a replacement"):
        case.recuse("lin.na", reason="与信访人系亲属", actor="wang.fang",
                    now=at("2026-03-02 10:00"), rules=rules)
    with pytest.raises(RuleViolation, match="cannot replace"):
        case.recuse("lin.na", reason="与信访人系亲属", actor="wang.fang",
                    now=at("2026-03-02 10:00"), rules=rules, replacement="yang.fan")
    assert (case.responder, len(case.events)) == before
    case.recuse("lin.na", reason="与信访人系亲属", actor="wang.fang", now=at("2026-03-02 10:00"),
                rules=rules, replacement="zheng.tao")
    assert case.responder == "zheng.tao" and case.recused == {"lin.na": "与信访人系亲属"}
    assert case.events[-1].type is E.PERSON_RECUSED
    with pytest.raises(RuleViolation, match="only the first responder"):
        case.acknowledge(actor="lin.na", now=at("2026-03-02 11:00"))
