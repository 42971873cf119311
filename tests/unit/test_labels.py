"""One table of labels: every value a person may be shown has its Chinese label in
``domain/labels.py``, every audit event a sentence, and the sentences name people and units
by name, never by id, and never the secret part of how a change came in."""

from __future__ import annotations

import enum
import re
from typing import ClassVar

import pytest

from domain import labels as L
from domain.acts import Act
from domain.attachments import FileKind
from domain.deadlines import DeadlineState, PauseReason
from domain.events import EventType
from domain.narrative import actor, describe
from domain.outcomes import Outcome, Rating, Resolution
from domain.periods import Unit
from domain.permissions import Relation
from domain.petition import Category, Channel
from domain.policy import DeadlineKind, Role, RungLevel
from domain.signals import Risk
from domain.stages import Action, Stage
from notifications.settings import SMS_KINDS, STAFF_KINDS

CJK = re.compile(r"[\u4e00-\u9fff]")
TABLES: list[tuple[type[enum.Enum], dict[str, str] | object]] = [
    (Stage, L.STAGES), (Action, L.ACTIONS), (Act, L.ACTS), (EventType, L.EVENTS),
    (DeadlineKind, L.DEADLINE_KINDS), (DeadlineState, L.DEADLINE_STATES),
    (PauseReason, L.PAUSE_REASONS), (Outcome, L.OUTCOMES), (Rating, L.RATINGS),
    (Resolution, L.RESOLUTIONS), (Channel, L.CHANNELS), (Category, L.CATEGORIES),
    (Relation, L.RELATIONS), (Role, L.ROLES), (RungLevel, L.RUNG_LEVELS), (Risk, L.RISKS),
    (Unit, L.PERIOD_UNITS), (FileKind, L.FILE_KINDS)]


@pytest.mark.parametrize("kind,table", TABLES, ids=[k.__name__ for k, _ in TABLES])
def test_every_value_of_every_enum_has_a_chinese_label_and_the_table_nothing_else(kind, table):
    values = {m.value for m in kind}
    missing = values - set(table)  # type: ignore[arg-type]
    assert not missing, f"{kind.__name__} without a label: {sorted(missing)}"
    assert set(table) == values, f"labels of no {kind.__name__}: {set(table) - values}"  # type: ignore[arg-type]
    for member in kind:
        assert CJK.search(member.label), (member, member.label)  # type: ignore[attr-defined]


def test_every_message_kind_has_a_label_and_every_staff_kind_a_robot_title():
    assert set(STAFF_KINDS) | set(SMS_KINDS) <= set(L.MESSAGE_KINDS)
    assert set(STAFF_KINDS) <= set(L.MESSAGE_TITLES)


def test_every_event_type_is_told_as_a_sentence_of_its_own():
    from domain.narrative import SENTENCES
    assert {e.value for e in EventType} == set(SENTENCES)


class Org:
    people: ClassVar[dict[str, str]] = {"qian.hui": "钱慧", "lin.na": "林娜", "zhao.gang": "赵刚",
                                        "wang.fang": "王芳"}
    units: ClassVar[dict[str, str]] = {"hr": "人力资源部", "office": "信访办公室"}

    def person(self, pid: str) -> str:
        return self.people.get(pid, "（已不在册）")

    def unit(self, uid: str) -> str:
        return self.units.get(uid, "（已不在册）")

    def office(self, oid: str) -> str:
        return "示范煤矿信访办公室"

    def case(self, cid: str) -> str:
        return "XF-1"


def test_an_assignment_names_the_unit_and_people_and_how_it_came_in_without_its_secret():
    told = describe("CaseAssigned", {"unit": "hr", "responder": "lin.na", "leader": "zhao.gang",
                                     "rule": "wages", "via": "web:f738a9c1d2"}, Org())
    assert told == "交办至人力资源部，首问责任人林娜，包案领导赵刚（经网页）"
    assert "f738" not in told and "web" not in told


@pytest.mark.parametrize("via,said", [("web:f738", "经网页"), ("cli:qian", "经命令行"),
                                      ("api:bridge", "经接口"), ("prefect-ui", "经流程表单")])
def test_each_entrance_is_said_in_chinese(via, said):
    assert describe("ResponseAcknowledged", {"via": via}, Org()).endswith(f"（{said}）")


def test_a_breach_says_whose_deadline_to_whom_and_how_late_in_chinese():
    told = describe("DeadlineBreached", {
        "clock": "handling", "kind": "handling", "rung": "breach", "level": "breach",
        "role": "unit_head", "reached_as": "unit_head", "recipient": "wang.fang",
        "due_date": "2026-10-08", "overdue": "3d 9h", "holder": "lin.na"}, Org())
    assert told == ("限时办结超期告知，送责任单位负责人王芳，到期2026-10-08，已超期3天9小时，"
                    "承办人林娜")


def test_a_restricted_reader_is_told_the_decision_but_not_its_summary():
    data = {"outcome": "support", "resolution": "resolved", "summary": "给予队长警告处分"}
    told = "书面答复：支持，解决问题到位"
    assert describe("DecisionIssued", data, Org()) == f"{told}：给予队长警告处分"
    assert describe("DecisionIssued", data, Org(), restricted=True) == told


def test_the_petitioners_own_acts_say_they_were_entered_for_them():
    told = describe("CaseRated", {"rating": "not_satisfied", "on_behalf_of": "petitioner",
                                  "via": "cli:qian"}, Org())
    assert told == "信访人评价：不满意（代信访人录入，经命令行）"


def test_the_engine_is_named_for_what_it_does_and_an_unknown_person_never_by_id():
    assert actor(Org(), "sweeper") == "期限巡查"
    assert actor(Org(), "someone.gone") == "（已不在册）"


def test_durations_read_in_chinese():
    assert L.duration("3d 9h") == "3天9小时" and L.duration("45m") == "45分钟"
    assert L.duration("") == "" and L.duration("30日") == "30日"


def test_a_printed_notice_is_named_by_its_title():
    told = describe("NoticePrinted", {"kind": "acceptance", "number": "〔2026〕受字 XF-1 号"},
                    Org())
    assert told == "打印信访事项受理告知书，编号〔2026〕受字 XF-1 号"


def test_the_sweeper_on_any_host_is_named_as_the_engine_not_as_someone_gone():
    """Rungs are fired by ``sweeper@<host>``: the timeline says 期限巡查, not （已不在册）."""
    from domain.narrative import actor

    class Nobody:
        def person(self, pid: str) -> str:
            return "（已不在册）"

    assert actor(Nobody(), "sweeper@vm") == "期限巡查"  # type: ignore[arg-type]
    assert actor(Nobody(), "sweeper") == "期限巡查"  # type: ignore[arg-type]
    assert actor(Nobody(), "lin.na@x") == "（已不在册）"  # type: ignore[arg-type]
