"""The petitioner at the public door, in the domain: a case is theirs by the mobile number
alone, however it was typed; the permission table gives them their own acts and nothing
else; the door's system actor may register and nothing else."""

from __future__ import annotations

import pytest

from domain.acts import Act, FileAct
from domain.door import check_petitioner, is_theirs, mobile
from domain.errors import CaseNotFound, NotPermitted
from domain.permissions import (
    ONLINE_REGISTRAR,
    PERMITTED,
    Relation,
    check,
    check_registrar,
    sight,
)
from domain.petition import Category, Petitioner
from tests.conftest import new_case, wage_petition


@pytest.mark.parametrize("typed", ["13812341234", "138 1234 1234", "+86 138-1234-1234",
                                   "８６１３８１２３４１２３４", "0086-13812341234"[2:]])
def test_a_mobile_number_is_its_eleven_digits_however_typed(typed):
    assert mobile(typed) == "13812341234"


@pytest.mark.parametrize("typed", ["", "1381234123", "23812341234", "010-12345678", "abc"])
def test_anything_else_is_no_mobile_number(typed):
    assert mobile(typed) == ""


def test_a_case_is_the_petitioners_by_the_verified_number_alone(office, rules):
    case = new_case(office, rules)  # its petitioner gave 13812341234
    assert is_theirs(case, "13812341234")
    assert not is_theirs(case, "13812341235") and not is_theirs(case, "")
    named = new_case(office, rules, wage_petition(
        petitioner=Petitioner("刘建军", id_number="142601198001011234", phone=None)))
    assert not is_theirs(named, "13812341234")  # the same name and ID number: not enough


def test_the_table_gives_the_petitioner_their_own_acts_only(office, rules):
    case = new_case(office, rules)
    own = {a for a, who in PERMITTED.items() if Relation.PETITIONER in who}
    assert own == {Act.RATE, Act.REQUEST_REVIEW, Act.REQUEST_RE_REVIEW, FileAct.ATTACH}
    assert check_petitioner(case, "13812341234", Act.RATE).relation is Relation.PETITIONER
    with pytest.raises(NotPermitted):
        check_petitioner(case, "13812341234", Act.ACCEPT)
    with pytest.raises(CaseNotFound):
        check_petitioner(case, "13900000000", Act.RATE)  # not theirs: no such case


def test_an_accusation_is_acted_on_at_the_office_not_online(office, rules):
    case = new_case(office, rules, wage_petition(category=Category.ACCUSATION,
                                                 accused_persons=("zhang.hua",)))
    with pytest.raises(NotPermitted, match="at the petition office"):
        check_petitioner(case, "13812341234", Act.RATE)


def test_the_doors_system_actor_registers_and_does_nothing_else(office, rules):
    case = new_case(office, rules)
    accusation = wage_petition(category=Category.ACCUSATION, accused_persons=("zhang.hua",))
    check_registrar(office.org, ONLINE_REGISTRAR, accusation)  # no refusal
    for act in (Act.ACK, Act.RATE, FileAct.ATTACH):
        with pytest.raises(NotPermitted):
            check(office.org, case, ONLINE_REGISTRAR, act)
    assert sight(office.org, case, ONLINE_REGISTRAR).name == "NONE"
