"""Who may do what, through the use case every entrance calls (on the in-memory store): an
unknown person, someone without the relation, the accused and the recused are refused and
nothing changes; the petitioner's own acts are entered by the office for them; the audit
trail says who and through what. And what each person may see."""

from __future__ import annotations

import email
import email.policy

import pytest

from domain.errors import CaseNotFound, ConfigError, NotPermitted
from domain.permissions import Relation, Sight, check, check_registrar, reviewers, sight
from services import cases as s
from services.bootstrap import App
from services.outbox import deliver
from services.sweep import sweep
from tests.conftest import WAGE, events_of, in_handling

ACCUSATION = {**WAGE, "category": "accusation", "subject": "纪委办公室负责人收受礼金",
              "content": "徐某收受他人礼金。", "concerns_unit": None,
              "accused_persons": ["xu.jing"]}


@pytest.fixture
def app(memory_app: App) -> App:
    return memory_app


def _case(app: App, ref: str):  # type: ignore[no-untyped-def]
    with app.uow() as uow:
        return uow.cases.get(ref, lock=False)


def _unchanged(app: App, case_id: str, before: int) -> None:
    assert len(events_of(app, case_id)) == before


def test_an_unknown_person_is_refused_and_nothing_changes(app):
    case_id = in_handling(app)
    before = len(events_of(app, case_id))
    s.act(app, case_id, s.ActRequest(s.Act.REPORT, "lin.na", summary="已核实"))
    with pytest.raises(NotPermitted, match=r"'nobody\.x' is nobody in the org chart"):
        s.act(app, case_id, s.ActRequest(s.Act.CLOSE, "nobody.x", outcome="reject",
                                         summary="不予支持", resolution="explained"))
    _unchanged(app, case_id, before + 1)


def test_only_the_relations_in_the_table_may_act(app):
    case_id = in_handling(app)
    report = s.ActRequest(s.Act.REPORT, "zheng.tao", summary="已核实")  # a colleague
    with pytest.raises(NotPermitted, match="only its responder, unit head or owning leader"):
        s.act(app, case_id, report)
    close = s.ActRequest(s.Act.CLOSE, "qian.hui", outcome="support", summary="补发",
                         resolution="resolved")  # office staff: not the merits
    s.act(app, case_id, s.ActRequest(s.Act.REPORT, "wang.fang", summary="已核实"))  # head
    with pytest.raises(NotPermitted):
        s.act(app, case_id, close)
    s.act(app, case_id, s.ActRequest(s.Act.CLOSE, "wang.fang", outcome="support",
                                     summary="补发", resolution="resolved"))
    with pytest.raises(NotPermitted, match="only its office staff or petitioner may"):
        s.act(app, case_id, s.ActRequest(s.Act.RATE, "lin.na", rating="satisfied"))


def test_the_petitioners_own_acts_are_entered_by_the_office_and_say_so(app):
    case_id = in_handling(app)
    s.act(app, case_id, s.ActRequest(s.Act.REPORT, "lin.na", summary="已核实"))
    s.act(app, case_id, s.ActRequest(s.Act.CLOSE, "lin.na", outcome="support", summary="补发",
                                     resolution="resolved", via="cli:operator"))
    s.act(app, case_id, s.ActRequest(s.Act.RATE, "qian.hui", rating="not_satisfied",
                                     via="web:session-1"))
    rated = events_of(app, case_id)[-1]
    assert (rated.type, rated.actor) == ("CaseRated", "qian.hui")
    assert rated.data["on_behalf_of"] == "petitioner" and rated.data["via"] == "web:session-1"
    assert events_of(app, case_id)[-2].data["via"] == "cli:operator"


def test_nobody_reviews_their_own_decision(app):
    case_id = in_handling(app)
    s.act(app, case_id, s.ActRequest(s.Act.REPORT, "lin.na", summary="已核实"))
    s.act(app, case_id, s.ActRequest(s.Act.CLOSE, "lin.na", outcome="support", summary="补发",
                                     resolution="resolved"))
    s.act(app, case_id, s.ActRequest(s.Act.REQUEST_REVIEW, "qian.hui", reason="金额不对"))
    s.act(app, case_id, s.ActRequest(s.Act.REPORT, "lin.na", summary="已复核"))
    case = _case(app, case_id)
    assert reviewers(app.office.org, case) == {"zhao.gang"}  # hr's leader in charge
    decide = s.ActRequest(s.Act.DECIDE_REVIEW, "lin.na", outcome="support", summary="维持")
    with pytest.raises(NotPermitted, match="only its reviewer may"):
        s.act(app, case_id, decide)
    s.act(app, case_id, s.ActRequest(s.Act.DECIDE_REVIEW, "zhao.gang", outcome="support",
                                     summary="维持"))
    case = _case(app, case_id)
    case.deciders["decision"] = "zhao.gang"  # had he decided it, the mine's top would review
    assert reviewers(app.office.org, case) == {"gao.jian", "ma.yun"}


def test_only_the_petition_office_registers(app):
    with pytest.raises(NotPermitted, match="may not register this petition"):
        s.register(app, WAGE, registration_no="XF-9", actor="lin.na")
    with pytest.raises(NotPermitted, match="nobody in the org chart"):
        check_registrar(app.office.org, "clerk")


def test_an_accusation_against_a_unit_head_never_reaches_her_unit(app, tmp_path):
    case = s.register(app, ACCUSATION, registration_no="XF-A1", actor="qian.hui")
    case = s.route_and_assign(app, case.id, actor="intake")
    discipline = {"xu.jing", "dong.xin", "cao.yan"}
    assert case.unit != "discipline" and case.responder not in discipline
    s.act(app, case.id, s.ActRequest(s.Act.ACK, case.responder))
    s.act(app, case.id, s.ActRequest(s.Act.ACCEPT, case.responder, reason="受理"))
    app.clock.advance(days=80)  # type: ignore[attr-defined]
    sweep(app, sweeper="sweeper-test")
    deliver(app, from_eml(tmp_path))
    with app.uow() as uow:
        told = {m.recipient for m in uow.messages(limit=1000)}
    assert told and not told & discipline


def from_eml(tmp_path):  # type: ignore[no-untyped-def]
    from notifications.transports import EmlTransport

    return EmlTransport(tmp_path / "outbox")


def test_the_accused_may_not_act_and_are_told_there_is_no_such_case(app):
    case = s.register(app, ACCUSATION, registration_no="XF-A2", actor="qian.hui")
    case = s.route_and_assign(app, case.id, actor="intake")
    before = len(events_of(app, case.id))
    for who in ("xu.jing", "dong.xin"):  # the accused, and her subordinate
        with pytest.raises(CaseNotFound, match="no case 'XF-A2'"):
            s.act(app, "XF-A2", s.ActRequest(s.Act.DECLINE, who, reason="查无实据，不予受理"))
    _unchanged(app, case.id, before)
    org = app.office.org
    assert sight(org, _case(app, case.id), "xu.jing") is Sight.NONE
    assert sight(org, _case(app, case.id), case.responder) is Sight.FULL
    assert sight(org, _case(app, case.id), "wu.lei") in (Sight.FULL, Sight.OUTLINE)
    assert sight(org, _case(app, case.id), "guo.peng") is Sight.NONE  # unrelated
    with pytest.raises(CaseNotFound):
        check(org, _case(app, case.id), "cao.yan", s.Act.ACK)


def test_the_letters_desk_of_an_accusation_is_never_the_accused(app, tmp_path):
    """li.ming keeps the letters desk, and heads the office; an accusation against him and
    the office: the petitioner's notices go to the confidential desk instead."""
    against = {**ACCUSATION, "subject": "信访办主任泄露举报人信息", "concerns_unit": "office",
               "accused_persons": ["li.ming"]}
    case = s.register(app, against, registration_no="XF-A3", actor="dong.xin")
    case = s.route_and_assign(app, case.id, actor="intake")
    s.act(app, case.id, s.ActRequest(s.Act.ACK, case.responder))
    s.act(app, case.id, s.ActRequest(s.Act.ACCEPT, case.responder, reason="受理"))
    app.clock.advance(hours=1)  # type: ignore[attr-defined]
    deliver(app, from_eml(tmp_path))
    sent = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
            for p in (tmp_path / "outbox").glob("*.eml")]
    letters = [m for m in sent if "[待寄送]" in str(m["Subject"])]
    assert letters, [str(m["Subject"]) for m in sent]
    # addressed to the petitioner, at the confidential desk (the discipline office's head)
    assert {m["To"].addresses[0].addr_spec for m in letters} == {"xu.jing@mine.example"}
    assert not any("li.ming" in str(m["To"]) for m in sent)


def test_text_that_is_not_text_or_too_long_is_refused_before_anything_changes(app):
    case_id = in_handling(app)
    before = len(events_of(app, case_id))
    for bad in ("补发\x00", "补发\u202e反转", "x" * 2001):
        with pytest.raises(ConfigError, match="field 'reason'"):
            s.act(app, case_id, s.ActRequest(s.Act.PAUSE, "lin.na", pause_reason="hearing",
                                             reason=bad))
    _unchanged(app, case_id, before)
    with pytest.raises(ConfigError, match="field 'subject'"):
        s.register(app, {**WAGE, "subject": "工资\x1b[31m"}, registration_no="XF-T1",
                   actor="qian.hui")


def test_the_table_permits_each_act_to_someone():
    from domain.acts import Act, FileAct
    from domain.permissions import PERMITTED

    assert set(PERMITTED) == set(Act) | set(FileAct)
    assert all(PERMITTED[a] for a in PERMITTED)
    assert Relation.OFFICE_STAFF in PERMITTED[Act.STRIKE_OFF]
