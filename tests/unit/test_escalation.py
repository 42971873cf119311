"""Escalation ladders: each rung fires once, to the role it names, or one level up."""

from __future__ import annotations

import dataclasses

import pytest

from domain.case import Case, CaseRules
from domain.errors import NoRecipient, RuleViolation
from domain.events import EventType as E
from domain.policy import DeadlineKind as K
from tests.conftest import at, new_case, wage_petition


def _handling(office, rules) -> Case:
    case = new_case(office, rules)
    case.acknowledge(actor=case.responder, now=at("2026-03-02 10:00"))
    case.accept(actor="qian.hui", now=at("2026-03-02 11:00"))
    return case


def _fire_due(case: Case, rules: CaseRules, now: str, kind: K = K.HANDLING) -> list[str]:
    fired = []
    for due in case.due_rungs(rules, at(now)):
        if due.kind is kind:
            case.fire_rung(due.clock, due.name, actor="sweeper", now=at(now), rules=rules)
            fired.append(due.name)
    return fired


def test_the_handling_ladder_reminds_warns_breaches_and_escalates_in_order(office, rules):
    case = _handling(office, rules)  # handling due 2026-05-06 24:00 local
    assert _fire_due(case, rules, "2026-04-01 09:00") == []
    assert _fire_due(case, rules, "2026-04-05 12:00") == ["reminder"]
    assert case.events[-1].type is E.DEADLINE_REMINDER
    assert case.events[-1].data["recipient"] == case.responder
    assert _fire_due(case, rules, "2026-04-25 00:00") == ["warning"]
    assert case.events[-1].data["recipient"] == "wang.fang"
    assert _fire_due(case, rules, "2026-05-07 08:00") == ["breach"]
    assert case.events[-1].type is E.DEADLINE_BREACHED
    assert case.events[-1].data["overdue"] == "8h"


def test_a_rung_fires_at_most_once(office, rules):
    case = _handling(office, rules)
    _fire_due(case, rules, "2026-04-05 12:00")
    before = len(case.events)
    assert _fire_due(case, rules, "2026-04-06 12:00") == []
    with pytest.raises(RuleViolation, match="already fired"):
        case.fire_rung("handling", "reminder", actor="sweeper", now=at("2026-04-06 12:00"),
                       rules=rules)
    assert len(case.events) == before


def test_a_rung_not_yet_due_is_refused(office, rules):
    case = _handling(office, rules)
    with pytest.raises(RuleViolation, match="not due until"):
        case.fire_rung("handling", "breach", actor="sweeper", now=at("2026-04-06 12:00"),
                       rules=rules)


def test_a_case_with_no_leader_escalates_past_the_leader_and_says_so(office, rules):
    case = _handling(office, rules)
    _fire_due(case, rules, "2026-05-07 08:00")
    assert _fire_due(case, rules, "2026-05-10 01:00") == ["escalate-leader"]
    unresolved, escalated = case.events[-2:]
    assert unresolved.type is E.ESCALATION_ROLE_UNRESOLVED
    assert unresolved.data["role"] == "owning_leader"
    assert escalated.type is E.ESCALATED and escalated.data["recipient"] == "gao.jian"
    assert escalated.data["reached_as"] == "mine_head"


def test_a_unit_without_a_head_escalates_one_level_up(office, rules):
    units = dict(office.org.units)
    units["hr"] = dataclasses.replace(units["hr"], head=None)
    headless = CaseRules(rules.policy, rules.calendar, dataclasses.replace(office.org,
                                                                           units=units))
    case = _handling(office, headless)
    assert _fire_due(case, headless, "2026-04-25 00:00") == ["reminder", "warning"]
    assert case.events[-1].data["recipient"] == "gao.jian"  # no leader either
    assert [e.data["role"] for e in case.events
            if e.type is E.ESCALATION_ROLE_UNRESOLVED] == ["unit_head", "owning_leader"]


def test_the_next_firing_time_is_the_earliest_pending_rung(office, rules):
    case = _handling(office, rules)
    now = at("2026-03-02 11:00")
    # Accepted 03-02 11:00, due 05-07 00:00: half of that span ends 04-04 05:30.
    assert case.next_firing_at(rules, now) == at("2026-04-04 05:30")
    _fire_due(case, rules, "2026-04-04 05:30")
    assert case.next_firing_at(rules, now) == at("2026-04-23 21:24")


def test_nobody_left_up_the_chain_is_an_error_not_a_silence(office, rules):
    from domain.escalation import Holders, resolve
    from domain.policy import Role

    barred = {"wang.fang", "gao.jian", "ma.yun"}
    person, reached, skips = resolve(Role.UNIT_HEAD, Holders("hr", "zheng.tao", None),
                                     office.org, lambda p: "accused" if p in barred else None)
    assert (person, reached) == ("xu.jing", Role.BEYOND_TOP)  # beyond the top, not dropped
    assert [s.role for s in skips][-1] is Role.PARTY_SECRETARY
    barred |= {"xu.jing", "group.xinfang"}
    with pytest.raises(NoRecipient, match="party_secretary: accused"):
        resolve(Role.UNIT_HEAD, Holders("hr", "zheng.tao", None), office.org,
                lambda p: "accused" if p in barred else None)


def test_an_accusation_against_a_unit_head_is_handled_outside_her_unit(office, rules):
    """xu.jing heads the discipline office, which takes accusations: an accusation against
    her goes elsewhere, and nobody of her unit is told anything of it, ever."""
    from domain.petition import Category

    accusation = wage_petition(category=Category.ACCUSATION, accused_persons=("xu.jing",),
                               concerns_unit=None, subject="纪委办公室负责人收受礼金")
    case = new_case(office, rules, accusation)
    assert case.unit == "office" and case.leader == "zhao.gang"
    assert case.responder not in {"xu.jing", "dong.xin", "cao.yan"}
    case.acknowledge(actor=case.responder, now=at("2026-03-02 10:00"))
    case.accept(actor=case.responder, now=at("2026-03-02 11:00"))
    case.leader_accept(actor="zhao.gang", now=at("2026-03-02 12:00"))
    _fire_due(case, rules, "2026-06-25 00:00")
    told = {e.data.get("recipient") for e in case.events} - {None}
    assert told and not told & {"xu.jing", "dong.xin", "cao.yan"}
