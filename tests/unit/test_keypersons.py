"""重点人员 in the domain and on the in-memory store: who may name and see a key person,
四包一's holders checked, the stability states and the settling refused when wrong."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.errors import KeyPersonNotFound, NotPermitted, RuleViolation
from domain.keypersons import (
    ContactKind,
    Holders,
    KeyPerson,
    Stability,
    barred_holders,
    check_holders,
    check_settle,
    check_state,
    may_see,
    new_key_person,
    parse_choice,
)
from domain.petition import Category, Petitioner
from services import keyperson_views as views
from services import keypersons
from tests.conftest import at, new_case, wage_petition

HOLDERS = Holders("zhao.gang", "wang.fang", "lin.na", "王秀英", "139-0000-1111")
LIU = Petitioner("刘建军", phone="13812341234")


def _kp(office, **changes) -> KeyPerson:
    fields = dict(id="k1", office="main", petitioner=LIU, holders=HOLDERS,
                  state=Stability.WATCH, reason="多次上访", actor="qian.hui",
                  now=at("2026-03-02 09:00"), matters=[])
    fields.update(changes)
    return new_key_person(office.org, **fields)  # type: ignore[arg-type]


def test_the_office_names_a_key_person_held_by_four(office):
    kp = _kp(office)
    assert kp.holders.contact_phone == "13900001111" and kp.state.label == "关注"
    assert may_see(office.org, kp, [], "lin.na") and may_see(office.org, kp, [], "gao.jian")
    assert not may_see(office.org, kp, [], "luo.jun")
    with pytest.raises(NotPermitted):
        _kp(office, actor="lin.na")


@pytest.mark.parametrize(("changes", "says"), [
    ({"holders": Holders("nobody", "wang.fang", "lin.na", "王", "13900001111")}, "nobody"),
    ({"holders": Holders("zhao.gang", "wang.fang", "lin.na", "", "13900001111")}, "name"),
    ({"holders": Holders("zhao.gang", "wang.fang", "lin.na", "王", "12")}, "phone"),
    ({"reason": "  "}, "reason"),
    ({"petitioner": Petitioner("刘建军")}, "ID number or a phone"),
    ({"state": Stability.SETTLED}, "undertaking"),
])
def test_bad_input_names_the_problem(office, changes, says):
    with pytest.raises(RuleViolation, match=says):
        _kp(office, **changes)


def test_the_accused_of_a_matter_neither_hold_nor_see_the_key_person(office, rules):
    accusation = new_case(office, rules, wage_petition(
        category=Category.ACCUSATION, accused_persons=("zhang.hua",),
        concerns_unit="mining1"), case_id="c9")
    with pytest.raises(RuleViolation, match="may not hold"):
        check_holders(office.org, Holders("zhao.gang", "zhang.hua", "lin.na", "王",
                                          "13900001111"), [accusation], "keyperson:k1")
    assert barred_holders(office.org, Holders("zhao.gang", "zhang.hua", "luo.jun", "王",
                                              "13900001111"), [accusation]) == {
        "zhang.hua": [accusation], "luo.jun": [accusation]}
    assert barred_holders(office.org, HOLDERS, [accusation]) == {}
    kp = _kp(office, matters=[accusation])
    assert not may_see(office.org, kp, [accusation], "zhang.hua")
    assert not may_see(office.org, kp, [accusation], "luo.jun")  # his team
    assert may_see(office.org, kp, [accusation], "qian.hui")


def test_states_and_settling_refused_when_wrong(office):
    kp = _kp(office)
    with pytest.raises(RuleViolation, match="already"):
        check_state(kp, Stability.WATCH)
    with pytest.raises(RuleViolation, match="settle"):
        check_state(kp, Stability.SETTLED)
    with pytest.raises(RuleViolation, match="after today"):
        check_settle(kp, dt.date(2026, 3, 3), dt.date(2026, 3, 2))
    assert parse_choice(Stability, "不稳定", "k1", "the state") is Stability.UNSTABLE
    with pytest.raises(RuleViolation, match="one of"):
        parse_choice(ContactKind, "phone", "k1", "the kind")


def test_the_register_on_the_memory_store(memory_app):
    kp = keypersons.add(memory_app, "qian.hui", holders=HOLDERS, reason="多次上访",
                        petitioner=LIU)
    keypersons.contact(memory_app, "lin.na", kp.id, kind=ContactKind.VISITED,
                       place="职工家中", agreed="补发工资")
    with pytest.raises(RuleViolation, match="after today"):
        keypersons.contact(memory_app, "lin.na", kp.id, kind=ContactKind.VISITED,
                           place="x", agreed="y", on="2030-01-01")
    [row] = views.key_person_states(memory_app, "zhao.gang")
    assert (row.name, row.contacts, row.leader) == ("刘建军", 1, "赵刚")
    with pytest.raises(KeyPersonNotFound):
        views.page(memory_app, "luo.jun", kp.id)


def test_every_state_and_contact_reads_in_chinese():
    assert [s.label for s in Stability] == ["稳定", "关注", "不稳定", "息访"]
    assert [k.label for k in ContactKind] == ["约访", "下访"]
