"""Deadline policies as versioned data."""

from __future__ import annotations

import pytest

from domain.errors import ConfigError, UnknownName
from domain.periods import Period, Unit
from domain.policies import CN_2022, default_registry
from domain.policy import DeadlineKind as K
from domain.policy import Role, policy_from_mapping


def test_the_2022_rules_carry_the_statutory_limits_with_their_articles():
    policy = default_registry().get("cn-2022")
    assert policy.limit(K.ACCEPTANCE_NOTICE).period == Period(15, Unit.DAYS)
    assert "第二十三条" in policy.limit(K.ACCEPTANCE_NOTICE).basis
    assert policy.limit(K.HANDLING).period == Period(60, Unit.DAYS)
    assert "第三十四条" in policy.limit(K.HANDLING).basis
    assert policy.limit(K.FIRST_RESPONSE).period == Period(4, Unit.WORKING_HOURS)
    assert policy.limit(K.ROUTING_OBJECTION).period == Period(5, Unit.WORKING_DAYS)
    for kind in (K.REVIEW_REQUEST, K.REVIEW_DECISION, K.RE_REVIEW_REQUEST,
                 K.RE_REVIEW_DECISION):
        assert policy.limit(kind).period == Period(30, Unit.DAYS)
    ext = policy.extension
    assert (ext.max_count, ext.max_period, ext.approver_role) == (
        1, Period(30, Unit.DAYS), Role.UNIT_HEAD)


def test_the_2005_rules_cite_their_own_articles():
    policy = default_registry().get("cn-2005")
    assert "第三十三条" in policy.limit(K.HANDLING).basis


def test_a_unit_policy_extends_the_2022_rules_and_changes_only_what_it_names():
    registry = default_registry().with_policy({
        "id": "zj-2023", "extends": "cn-2022", "effective_from": "2023-01-01",
        "limits": {"handling": {"period": {"days": 30}}}, "extension": {"max": {"days": 60}}})
    zj = registry.get("zj-2023")
    assert zj.limit(K.HANDLING).period == Period(30, Unit.DAYS)
    assert zj.extension.max_period == Period(60, Unit.DAYS)
    assert zj.limit(K.REVIEW_REQUEST) == registry.get("cn-2022").limit(K.REVIEW_REQUEST)
    assert registry.get("cn-2022").limit(K.HANDLING).period == Period(60, Unit.DAYS)


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"limits": {"handling": {"period": {"weeks": 2}}}}, "limits.handling.period.weeks",
     "unknown unit 'weeks'"),
    ({"limits": {"handling": {"period": {"days": -3}}}}, "limits.handling.period.days",
     "positive whole number"),
    ({"limits": {"handlin": {"period": {"days": 3}}}}, "limits.handlin", "unknown field"),
    ({"extension": {**CN_2022["extension"], "max": {"working_days": 10}}}, "extension.max",
     "the extension is in working_days"),
    ({"escalation": {"handling": [{"name": "x", "level": "shout", "at": "50%",
                                   "to": "responder"}]}}, "escalation.handling[0]",
     "unknown value 'shout'"),
    ({"escalation": {"handling": [{"name": "x", "level": "warning", "at": "150%",
                                   "to": "responder"}]}}, "escalation.handling[0]", "within"),
    ({"colour": "red"}, "colour", "unknown field"),
])
def test_a_malformed_policy_names_the_field(change, field, message):
    with pytest.raises(ConfigError, match=message) as e:
        policy_from_mapping({**CN_2022, "id": "bad", **change})
    assert e.value.field == field


def test_an_unknown_policy_is_named():
    with pytest.raises(UnknownName, match="unknown policy 'cn-1995'"):
        default_registry().get("cn-1995")
    with pytest.raises(ConfigError, match="unknown policy 'cn-1995'"):
        default_registry().with_policy({"id": "x", "extends": "cn-1995"})
