"""Routing: unit and first responder, leader ownership, confidentiality, recusal, repeats."""

from __future__ import annotations

import pytest

from domain.errors import ConfigError, RoutingError, UnknownName
from domain.petition import Category, Channel, Petitioner, petition_from_mapping
from domain.routing import PriorCase, find_repeat, route, rules_from_mapping
from tests.conftest import wage_petition


def test_a_wage_complaint_goes_to_hr_and_its_least_loaded_responder(office):
    decision = route(wage_petition(), office.routing, office.org,
                     {"lin.na": 7, "zheng.tao": 2})
    assert (decision.unit, decision.responder, decision.rule) == ("hr", "zheng.tao", "wages")
    assert decision.leader is None and decision.leader_reasons == ()


def test_a_petition_no_rule_matches_goes_to_the_petition_office(office):
    p = wage_petition(subject="建议增设职工书屋", content="", category=Category.SUGGESTION,
                      concerns_unit=None)
    decision = route(p, office.routing, office.org, {})
    assert (decision.unit, decision.rule) == ("office", "default")


def test_an_accusation_never_reaches_the_accused_unit_or_its_head(office):
    p = wage_petition(category=Category.ACCUSATION, subject="综采一队截留绩效奖金",
                      accused_persons=("zhang.hua",))
    decision = route(p, office.routing, office.org, {})
    assert decision.unit == "discipline"
    assert decision.responder in {"dong.xin", "cao.yan"}
    assert decision.leader == "feng.bo"


def test_an_accusation_against_the_receiving_unit_falls_back_to_the_default_unit(office):
    p = wage_petition(category=Category.ACCUSATION, subject="纪委办公室不作为",
                      concerns_unit="discipline")
    decision = route(p, office.routing, office.org, {})
    assert decision.unit == "office"
    assert "accusation fallback" in decision.rule
    assert decision.leader == "zhao.gang"  # office's leader, not discipline's


def test_a_production_accusation_does_not_go_to_a_leader_who_is_accused(office):
    p = wage_petition(category=Category.ACCUSATION, subject="违规指挥",
                      concerns_unit="mining1", accused_persons=("feng.bo",))
    decision = route(p, office.routing, office.org, {})
    assert decision.leader not in {"feng.bo", "zhang.hua"}
    # feng.bo is in charge of the discipline office, which takes accusations: his
    # subordinates there may not handle it, so it goes to the petition office.
    assert (decision.unit, decision.leader) == ("office", "zhao.gang")


def test_a_person_with_a_declared_interest_is_recused(office):
    p = wage_petition(petitioner=Petitioner("张国庆", phone="13000000000"))
    decision = route(p, office.routing, office.org, {"zheng.tao": 9})
    assert decision.responder == "zheng.tao"
    assert [(b.who, b.reason) for b in decision.bars] == [("lin.na", "recused: 张国庆")]


def test_a_group_visit_needs_a_leader(office):
    p = wage_petition(headcount=32, representatives=5)
    decision = route(p, office.routing, office.org, {})
    assert decision.leader == "zhao.gang" and decision.leader_reasons == ("集体访（32人）",)


def test_a_group_visit_sends_at_most_five_representatives():
    with pytest.raises(ConfigError, match="第二十条"):
        wage_petition(headcount=30, representatives=6)


def test_a_repeat_petition_is_linked_to_its_earlier_case():
    p = wage_petition(subject="9、10月工资仍未足额发放")
    earlier = [
        PriorCase("c-other", "id:999", Category.COMPLAINT, "mining1", "9月、10月工资未足额发放"),
        PriorCase("c-1", p.petitioner.identity(), Category.COMPLAINT, None,
                  "9月、10月工资未足额发放"),
        PriorCase("c-2", p.petitioner.identity(), Category.SUGGESTION, "mining1", "建议"),
    ]
    assert find_repeat(p, earlier, 0.6) == "c-1"
    assert find_repeat(wage_petition(subject="宿舍漏水", concerns_unit=None), earlier, 0.6) is None


def test_unknown_category_channel_and_unit_are_named(office):
    base = {"petitioner": {"name": "甲"}, "channel": "letter", "category": "complaint",
            "subject": "x", "received_at": "2026-03-02T09:00:00+08:00"}
    with pytest.raises(UnknownName, match="unknown category 'gossip'"):
        petition_from_mapping({**base, "category": "gossip"})
    with pytest.raises(UnknownName, match="unknown channel 'fax'"):
        petition_from_mapping({**base, "channel": "fax"})
    with pytest.raises(UnknownName, match="unknown unit 'mars'"):
        route(petition_from_mapping({**base, "concerns_unit": "mars"}), office.routing,
              office.org, {})
    assert petition_from_mapping(base).channel is Channel.LETTER


def test_a_unit_with_nobody_eligible_is_a_routing_error(office):
    rules = rules_from_mapping({"default_unit": "leadership"}, office.org)
    with pytest.raises(RoutingError, match="no eligible first responder"):
        route(wage_petition(concerns_unit=None), rules, office.org, {})


def test_routing_rules_name_the_bad_field(office):
    with pytest.raises(ConfigError) as e:
        rules_from_mapping({"default_unit": "office",
                            "rules": [{"id": "a", "unit": "hr"}, {"id": "b", "unit": "mars"}]},
                           office.org)
    assert e.value.field == "rules[1].unit" and "unknown unit 'mars'" in str(e.value)
    with pytest.raises(ConfigError) as e:
        rules_from_mapping({"default_unit": "office",
                            "rules": [{"id": "a", "unit": "hr", "category": ["gossip"]}]},
                           office.org)
    assert e.value.field == "rules[0].category"


def test_the_same_team_is_not_the_same_matter():
    """A wage complaint, then a gas-safety complaint about the same team by the same man:
    not a repeat (and so no leader for it); the same wage matter again is one."""
    wage = PriorCase("c-wage", wage_petition().petitioner.identity(), Category.COMPLAINT,
                     "mining1", "2026年6月、7月工资未按时足额发放",
                     "6月、7月工资比往月少发约三千元")
    gas = wage_petition(subject="井下瓦斯监测探头长期失灵", content="综采一队工作面瓦斯探头失灵",
                        concerns_unit="mining1")
    again = wage_petition(subject="再次反映6月、7月工资未足额发放",
                          content="上次来信已十天，仍未见补发", concerns_unit="mining1")
    assert find_repeat(gas, [wage], 0.6) is None
    assert find_repeat(again, [wage], 0.6) == "c-wage"
