"""The built-in deadline policies, as data with the article behind each limit.

``cn-2022``: 《信访工作条例》 (2022, in force 2022-05-01), the default.
``cn-2005``: 《信访条例》 (2005, in force 2005-05-01), for cases registered before.
Limits the rules leave to the unit (first response, leader acceptance, rating window) carry
a practice default and say so in their basis; a unit's policy file overrides any of them.
"""

from __future__ import annotations

from typing import Any

from domain.policy import DeadlinePolicy, PolicyRegistry, policy_from_mapping

DEFAULT_POLICY_ID = "cn-2022"

_LADDER_DEFAULT: list[dict[str, Any]] = [
    {"name": "reminder", "level": "reminder", "at": "50%", "to": "responder"},
    {"name": "warning", "level": "warning", "at": "80%", "to": "unit_head"},
    {"name": "breach", "level": "breach", "at": "100%", "to": "unit_head"},
    {"name": "escalate-leader", "level": "escalation", "after_due": {"days": 3},
     "to": "owning_leader"},
    {"name": "escalate-mine-head", "level": "escalation", "after_due": {"days": 7},
     "to": "mine_head"},
    {"name": "escalate-secretary", "level": "escalation", "after_due": {"days": 14},
     "to": "party_secretary"},
]

_ESCALATION: dict[str, Any] = {
    "default": _LADDER_DEFAULT,
    "first_response": [
        {"name": "reminder", "level": "reminder", "at": "50%", "to": "responder"},
        {"name": "breach", "level": "breach", "at": "100%", "to": "unit_head"},
        {"name": "escalate-leader", "level": "escalation", "after_due": {"hours": 24},
         "to": "owning_leader"},
    ],
    "leader_acceptance": [
        {"name": "reminder", "level": "reminder", "at": "50%", "to": "owning_leader"},
        {"name": "breach", "level": "breach", "at": "100%", "to": "mine_head"},
        {"name": "escalate-secretary", "level": "escalation", "after_due": {"days": 3},
         "to": "party_secretary"},
    ],
}

CN_2022: dict[str, Any] = {
    "id": "cn-2022",
    "title": "《信访工作条例》（2022）",
    "effective_from": "2022-05-01",
    "limits": {
        "acceptance_notice": {"period": {"days": 15}, "basis": "第二十三条：收到之日起15日内书面告知"},
        "routing_objection": {"period": {"working_days": 5},
                              "basis": "第二十三条：交办有异议的，5个工作日内提出"},
        "first_response": {"period": {"working_hours": 4},
                           "basis": "首问负责制、四小时复命制（单位规定，可配置）"},
        "leader_acceptance": {"period": {"working_days": 1},
                              "basis": "第十八条 领导包案；接案时限由单位规定（可配置）"},
        "handling": {"period": {"days": 60}, "basis": "第三十四条：自受理之日起60日内办结"},
        "rating": {"period": {"days": 7}, "basis": "第二十一条 评价；评价期由单位规定（可配置）"},
        "review_request": {"period": {"days": 30},
                           "basis": "第三十五条：收到书面答复之日起30日内请求复查"},
        "review_decision": {"period": {"days": 30},
                            "basis": "第三十五条：收到复查请求之日起30日内提出复查意见"},
        "re_review_request": {"period": {"days": 30},
                              "basis": "第三十六条：收到复查意见之日起30日内请求复核"},
        "re_review_decision": {"period": {"days": 30},
                               "basis": "第三十六条：收到复核请求之日起30日内提出复核意见；听证时间不计入"},
    },
    "extension": {"applies_to": ["handling"], "max_count": 1, "max": {"days": 30},
                  "approver": "unit_head",
                  "basis": "第三十四条：情况复杂的，经本单位负责人批准可适当延长，延长期限不得超过30日，并告知信访人延期理由"},
    "escalation": _ESCALATION,
}

CN_2005: dict[str, Any] = {
    **CN_2022,
    "id": "cn-2005",
    "title": "《信访条例》（2005）",
    "effective_from": "2005-05-01",
    "limits": {
        **CN_2022["limits"],
        "acceptance_notice": {"period": {"days": 15}, "basis": "第二十二条：收到之日起15日内书面告知"},
        "routing_objection": {"period": {"working_days": 5},
                              "basis": "2005年条例未规定；沿用单位规定（可配置）"},
        "handling": {"period": {"days": 60}, "basis": "第三十三条：自受理之日起60日内办结"},
        "review_request": {"period": {"days": 30}, "basis": "第三十四条：收到书面答复之日起30日内请求复查"},
        "review_decision": {"period": {"days": 30}, "basis": "第三十四条：收到复查请求之日起30日内提出复查意见"},
        "re_review_request": {"period": {"days": 30}, "basis": "第三十五条：收到复查意见之日起30日内请求复核"},
        "re_review_decision": {"period": {"days": 30},
                               "basis": "第三十五条：收到复核请求之日起30日内提出复核意见；听证时间不计入"},
    },
    "extension": {**CN_2022["extension"],
                  "basis": "第三十三条：情况复杂的，经本行政机关负责人批准可适当延长，延长期限不得超过30日"},
}

BUILTIN: tuple[dict[str, Any], ...] = (CN_2022, CN_2005)


def builtin_policies() -> dict[str, DeadlinePolicy]:
    """The built-in policies by id."""
    return {data["id"]: policy_from_mapping(data) for data in BUILTIN}


def default_registry() -> PolicyRegistry:
    """Built-in policies with ``cn-2022`` as the default."""
    return PolicyRegistry(builtin_policies(), DEFAULT_POLICY_ID)
