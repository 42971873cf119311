"""Key persons (重点人员, 四包一), listed cases (挂牌督办) and 越级上访 through the use cases, on
SQLite and PostgreSQL: a listed case's clock fires its reminder through the sweeper once,
and a report to the listing body sets the next report due; a key person's contacts and
settling keep the signed undertaking; the accused of an accusation among the person's
matters see nothing of the key person."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pendulum
import pytest

from domain.errors import CaseNotFound, KeyPersonNotFound, NotPermitted, RuleViolation
from domain.keypersons import ContactKind, Holders, Stability
from domain.petition import Petitioner
from services import cases, keypersons
from services import keyperson_views as views
from services.attachments import verify_files
from services.bootstrap import sql_app
from services.cases import Act, ActRequest
from services.clock import FixedClock
from services.listed import listed_cases
from services.settings import Settings
from services.sweep import sweep
from storage.db import make_engine
from tests import samples
from tests.conftest import SAMPLE_OFFICE, WAGE, events_of
from tests.integration.test_web import ACCUSATION

AGAINST_ZHANG = {**ACCUSATION, "petitioner": {"name": "周某", "phone": "13700002222"}}

HOLDERS = Holders("zhao.gang", "wang.fang", "lin.na", "刘妻 王秀英", "139 0000 1111")


@pytest.fixture
def app(db_url: str, office: Any, tmp_path: Path) -> Any:  # Friday 2026-11-20 11:00 local
    engine = make_engine(db_url)
    yield sql_app(Settings(home=tmp_path, config_dir=SAMPLE_OFFICE), office,
                  FixedClock(pendulum.datetime(2026, 11, 20, 3, 0)), engine)
    engine.dispose()


def _accepted(app: Any, number: str = "XF-1", data: Any = WAGE) -> str:
    case = cases.register(app, data, registration_no=number, actor="qian.hui")
    cid = cases.route_and_assign(app, case.id, actor="intake").id
    with app.uow() as uow:
        responder = str(uow.cases.get(cid, lock=False).responder)
    cases.act(app, cid, ActRequest(Act.ACK, responder))
    cases.act(app, cid, ActRequest(Act.ACCEPT, responder, reason="受理"))
    return cid


def _fired(app: Any, cid: str, clock: str) -> list[str]:
    return [r.data["rung"] for r in events_of(app, cid)
            if r.type in ("DeadlineReminder", "DeadlineWarning", "DeadlineBreached",
                          "Escalated") and r.data.get("clock") == clock]


def test_a_listed_case_fires_its_reminders_once_and_a_report_sets_the_next(app):
    cid = _accepted(app)
    with pytest.raises(NotPermitted):  # the handler does not list it: the office does
        cases.act(app, cid, ActRequest(Act.LIST_CASE, "lin.na", body="省信访局",
                                       reference="鲁信督〔2026〕12号", required="2026-12-20",
                                       days=7))
    with pytest.raises(RuleViolation, match="not a date"):
        cases.act(app, cid, ActRequest(Act.LIST_CASE, "qian.hui", body="省信访局",
                                       reference="12号", required="12/20", days=7))
    assert not [r for r in events_of(app, cid) if r.type == "CaseListed"]
    cases.act(app, cid, ActRequest(Act.LIST_CASE, "qian.hui", body="省信访局",
                                   reference="鲁信督〔2026〕12号", required="2026-12-20", days=7))

    app.clock.advance(days=6, hours=2)  # 11-26 13:00: the first report's reminder (80%)
    first = sweep(app, sweeper="test")
    assert [(f.clock, f.rung) for f in first.fired] == [("listing_report", "report-remind")]
    assert sweep(app, sweeper="test").fired == []  # once
    cases.act(app, cid, ActRequest(Act.REPORT_TO_LISTER, "lin.na", summary="已约谈，正在核查"))
    [row] = listed_cases(app, "li.ming")
    assert (row.body, row.reference, row.required, row.days_left) == (
        "省信访局", "鲁信督〔2026〕12号", "2026-12-20", 24)
    assert (row.next_report, row.last_report_by) == ("2026-12-03", "林娜")

    app.clock.advance(days=10)  # 12-06: half the time to the required date is gone
    sweep(app, sweeper="test")
    sweep(app, sweeper="test")
    assert _fired(app, cid, "listed") == ["listed-remind"]
    assert _fired(app, cid, "listing_report@2") == ["report-remind", "report-breach"]
    [row] = listed_cases(app, "li.ming")
    assert row.report_overdue and row.days_left == 14
    assert listed_cases(app, "zhang.hua") == []  # who may not see the case


def _kp(app: Any, number: str = "XF-1") -> str:
    return keypersons.add(app, "qian.hui", holders=HOLDERS, reason="多次到矿上访",
                          from_case=number).id


def test_a_key_persons_contacts_over_the_head_and_settling_with_the_undertaking(app):
    _accepted(app)
    kp = _kp(app)
    with pytest.raises(RuleViolation, match="key person already"):
        _kp(app)
    with pytest.raises(NotPermitted):  # a handler does not name key persons
        keypersons.add(app, "lin.na", holders=HOLDERS, reason="x", from_case="XF-1")
    keypersons.contact(app, "zhao.gang", kp, kind=ContactKind.INVITED, place="矿信访接待室",
                       agreed="一周内答复工资核查结果", on="2026-11-19")
    with pytest.raises(KeyPersonNotFound):  # neither office nor holder: not even there
        keypersons.contact(app, "luo.jun", kp, kind=ContactKind.VISITED, place="x",
                           agreed="y")
    with pytest.raises(NotPermitted):  # a holder records contacts, the office the state
        keypersons.change_state(app, "lin.na", kp, Stability.UNSTABLE, "扬言进京")
    keypersons.change_state(app, "qian.hui", kp, Stability.UNSTABLE, "扬言进京")
    with pytest.raises(RuleViolation, match="no over-the-head"):
        keypersons.brought_back(app, "zhao.gang", kp)
    keypersons.over_the_head(app, "qian.hui", kp, reported_by="省信访局", place="济南",
                             on="2026-11-20")
    keypersons.brought_back(app, "zhao.gang", kp, note="当日接回")

    with pytest.raises(RuleViolation, match="file refused"):  # text is no undertaking
        keypersons.settle(app, "qian.hui", kp, undertaking=io.BytesIO(b"I promise"),
                          name="承诺.txt")
    page = views.page(app, "qian.hui", kp)
    assert page.row.state == "unstable" and not page.undertaking
    pdf = samples.pdf()
    keypersons.settle(app, "qian.hui", kp, undertaking=io.BytesIO(pdf), name="息访承诺书.pdf",
                      on="2026-11-20", note="签字确认")
    with pytest.raises(RuleViolation, match="settled already"):
        keypersons.settle(app, "qian.hui", kp, undertaking=io.BytesIO(pdf), name="again.pdf")

    page = views.page(app, "lin.na", kp)  # a holder sees the person they hold
    assert (page.row.state_label, page.row.settled_on, page.undertaking) == (
        "息访", "2026-11-20", "息访承诺书.pdf")
    assert (page.row.contacts, page.row.last_contact, page.row.over_the_head,
            page.row.brought_back, page.row.open_matters) == (1, "2026-11-19", 1, 1, 1)
    assert [m["ref"] for m in page.matters] == ["XF-1"]
    texts = [j.text for j in page.journal]
    assert any("约访" in t and "矿信访接待室" in t and "一周内答复" in t for t in texts)
    assert any("省信访局通报越级上访" in t and "济南" in t for t in texts)
    assert any("劝返" in t for t in texts) and any("息访" in t for t in texts)
    _, file, data = keypersons.undertaking(app, "zhao.gang", kp)
    assert data == pdf and file.media_type == "application/pdf"
    with app.uow() as uow:
        assert verify_files(uow, app.files).problems == []
    assert [r.name for r in views.key_person_states(app, "li.ming")] == ["刘建军"]
    assert views.key_person_states(app, "luo.jun") == []


def _alerts(app: Any) -> list[Any]:
    with app.uow() as uow:
        return [m for m in uow.messages() if m.payload.get("alert", {}).get("code")
                == "KeyPersonHolderBarred"]


def test_a_holder_the_person_accuses_later_is_reported_to_the_office_on_loading(app):
    _accepted(app)
    kp = keypersons.add(app, "qian.hui", reason="多次到矿上访", from_case="XF-1",
                        holders=Holders("zhao.gang", "wang.fang", "luo.jun", "王秀英",
                                        "13900001111")).id
    assert _alerts(app) == [] and views.key_person_states(app, "luo.jun") != []
    cases.register(app, {**ACCUSATION, "petitioner": WAGE["petitioner"]},
                   registration_no="XF-2", actor="dong.xin")
    assert views.key_person_states(app, "luo.jun") == []  # the accused sees nothing
    assert _alerts(app) == []
    views.key_person_states(app, "li.ming")  # the office loads the register: told
    [alert] = _alerts(app)
    assert alert.recipient == "gao.jian" and "罗军" in alert.payload["alert"]["reason"]
    assert kp in alert.case_id
    keypersons.reassign(app, "qian.hui", kp, Holders("zhao.gang", "wang.fang", "zheng.tao",
                                                     "王秀英", "13900001111"), "罗军回避")
    views.key_person_states(app, "li.ming")
    assert len(_alerts(app)) == 1  # reassigned: nothing more to tell
    page = views.page(app, "zheng.tao", kp)  # the new holder sees them
    assert page.row.responder == "郑涛" and any("罗军回避" in j.text for j in page.journal)
    with pytest.raises(RuleViolation, match="already"):
        keypersons.reassign(app, "qian.hui", kp, Holders(
            "zhao.gang", "wang.fang", "zheng.tao", "王秀英", "13900001111"), "x")


def test_the_accused_see_nothing_of_a_key_person_whose_matters_accuse_them(app):
    cid = cases.register(app, AGAINST_ZHANG, registration_no="XF-9", actor="dong.xin").id
    cases.route_and_assign(app, cid, actor="intake")
    with pytest.raises(CaseNotFound):  # the office reads an accusation's outline only
        keypersons.add(app, "qian.hui", reason="x", from_case="XF-9", holders=HOLDERS)
    who = Petitioner("周某", phone="137 0000 2222")  # so it names the accuser by hand
    # the office reads the accusation's outline only: naming its accused a holder is
    # answered as any other choice (a refusal would say whom 周某 accused), the holder
    # sees nothing, and who may read the accusation is told to reassign the holders
    kp = keypersons.add(app, "qian.hui", reason="检举人多次来访", petitioner=who,
                        holders=Holders("zhao.gang", "wang.fang", "luo.jun", "社区 张主任",
                                        "13900002222")).id
    assert views.page(app, "qian.hui", kp).row.responder == "罗军"
    [alert] = _alerts(app)
    assert alert.recipient == "gao.jian" and "罗军" in alert.payload["alert"]["reason"]
    views.key_person_states(app, "qian.hui")  # not told twice
    assert len(_alerts(app)) == 1
    for accused in ("zhang.hua", "luo.jun"):  # the accused, and a member of his team
        assert views.key_person_states(app, accused) == []
        with pytest.raises(KeyPersonNotFound):
            views.page(app, accused, kp)
        with pytest.raises(KeyPersonNotFound):
            keypersons.contact(app, accused, kp, kind=ContactKind.VISITED, place="x",
                               agreed="y")
    # the office head manages the key person; of the accusation, reads the outline only
    page = views.page(app, "li.ming", kp)
    assert page.matters == [] and page.row.open_matters == 0
    assert "张华" not in " ".join(j.text for j in page.journal)
    # the mine head, in its chain (复核), sees the accusation among the matters
    assert [m["ref"] for m in views.page(app, "gao.jian", kp).matters] == ["XF-9"]


def test_the_quarterly_review_pack_lists_the_key_persons_and_the_listed_cases(app):
    """The review pack's 重点人员动态 and 挂牌督办案件, as the supervisor may see them."""
    from domain.quarters import Quarter
    from services.review_pack import build_pack

    cid = _accepted(app)
    cases.act(app, cid, ActRequest(Act.LIST_CASE, "qian.hui", body="省信访局",
                                   reference="鲁信督〔2026〕12号", required="2026-12-20",
                                   days=7))
    keypersons.add(app, "qian.hui", holders=HOLDERS, reason="多次来访", from_case=cid)
    pack = build_pack(app, Quarter(2026, 4), "li.ming")
    sections = {s.title: s.rows for s in pack.extra}
    assert sections["挂牌督办案件"] == [["XF-1", "省信访局（鲁信督〔2026〕12号）", "2026-12-20",
                                    "剩余30天；尚未报告"]]
    (person,) = sections["重点人员动态"]
    assert person[0] == WAGE["petitioner"]["name"] and person[2] == "关注"
    assert "赵刚" in person[1] and "在办1件" in person[3]
    # at a glance: the pack's charts beside their numbers, as images of their own
    assert [c.key for c, _ in pack.charts] == ["by_category", "on_time_by_unit", "targets"]
    assert all(uri.startswith("data:image/svg+xml;base64,") for _, uri in pack.charts)
    target_rows = {c.key: c for c, _ in pack.charts}["targets"].rows  # label, actual, target
    assert target_rows and all(r[0].startswith(("人力资源部·", "财务部·", "综采一队·"))
                               and r[2].endswith("%") for r in target_rows), target_rows


def test_an_over_the_head_petition_counts_against_the_holding_units_letter(app):
    """越级上访 of a key person held by the hr unit's head: hr's letter (none allowed) is
    not met, by one; as seen by whoever may see the key person."""
    from services.targets import target_rows

    cid = _accepted(app)
    kp = keypersons.add(app, "qian.hui", holders=HOLDERS, reason="多次来访", from_case=cid)
    keypersons.over_the_head(app, "qian.hui", kp.id, reported_by="省信访局",
                             place="省信访局接待大厅", on="2026-11-18")

    def hr(viewer: str | None) -> dict[str, Any]:
        return next(r for r in target_rows(app, 2026, None, viewer)
                    if r["unit"] == "hr" and r["target"] == "over_the_head")

    row = hr("li.ming")
    assert (row["actual"], row["met"], row["gap_text"]) == (1.0, False, "超出 1 起")
    assert hr(None)["actual"] == 1.0
    finance = [r for r in target_rows(app, 2026, None, "li.ming") if r["unit"] == "finance"]
    assert all(r["target"] != "over_the_head" for r in finance)  # not in its letter
