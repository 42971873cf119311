"""The quarterly review pack and the yearly targets in the workplace (TestClient, SQLite,
the fixed clock of ``test_web``): supervisors see the pack and the 督查 page's targets;
anyone else is refused; the accused supervisor's pack holds nothing of the accusation."""

from __future__ import annotations

import datetime as dt

from domain.quarters import Quarter
from domain.review import MeasureInput
from services import review, users
from tests.integration.test_web import (  # noqa: F401
    ACCUSATION,
    PASSWORD,
    cases,
    login,
    site,
    wage_case,
)


def test_the_review_pack_page_is_the_supervisors_and_scoped_to_what_they_see(site):  # noqa: F811
    app, _, web = site
    wage_case(app, "XF-1")
    case = cases.register(app, ACCUSATION, registration_no="XF-2", actor="qian.hui")
    cases.route_and_assign(app, case.id, actor="intake")
    against = cases.register(app, {**ACCUSATION, "accused_persons": ["li.ming"],
                                   "subject": "信访办主任压案不办"},
                             registration_no="XF-3", actor="xu.jing")  # 纪委 registers it
    cases.route_and_assign(app, against.id, actor="intake")
    review.record_review(app, quarter=Quarter(2026, 3), actor="li.ming", chair="zhao.gang",
                         attendees=["li.ming"], issues=["工资发放"], held_on=dt.date(2026, 9, 25),
                         measures=[MeasureInput("约谈职工", "zheng.tao", dt.date(2026, 10, 9))])
    users.set_password(app, "gao.jian", PASSWORD, actor="test")  # the mine head sees XF-3
    assert "共 3 件" in login(web, "gao.jian").get("/supervise/review?quarter=2026Q4").text
    office = login(web, "li.ming")  # accused in XF-3: it is not in their pack, not a count
    page = office.get("/supervise/review?quarter=2026Q4")
    assert page.status_code == 200
    text = page.text
    assert "2026年第四季度不稳定因素分析排查例会材料" in text
    assert "共 2 件" in text and "检举控告类</td><td>1<" in text
    assert "约谈职工" in text and "逾期未完成" in text  # last quarter's, never marked done
    assert "重点人员动态" in text and "挂牌督办案件" in text
    assert office.get("/supervise/review?quarter=2026Q5").status_code == 422
    assert login(web, "zheng.tao").get("/supervise/review?quarter=2026Q4").status_code == 403
    supervise = office.get("/supervise").text
    assert 'id="targets"' in supervise and "年度信访稳定工作责任书" in supervise
    assert "集体访" in supervise and 'href="/supervise/review?quarter=2026Q4"' in supervise



def test_a_supervisor_records_the_meeting_and_the_owner_marks_a_measure_done(site):  # noqa: F811
    from tests.integration.test_web import csrf_of

    app, _, web = site
    office = login(web, "li.ming")
    form = office.get("/supervise/meeting?quarter=2026Q4")
    assert form.status_code == 200 and 'id="meeting-form"' in form.text
    bad = office.post("/supervise/meeting", data={
        "csrf": csrf_of(form.text), "quarter": "2026Q4", "chair": "li.ming",
        "measures": "排查工资发放|lin.na|十二月底"}, follow_redirects=True)
    assert "措施第1行应为" in bad.text and review.meeting_of(app, Quarter(2026, 4)) is None
    done = office.post("/supervise/meeting", data={
        "csrf": csrf_of(form.text), "quarter": "2026Q4", "chair": "li.ming",
        "attendees": ["qian.hui", "lin.na"], "held_on": "2026-11-19",
        "issues": "工资发放重复信访\n家属区房屋开裂",
        "measures": "排查各队工资发放|lin.na|2026-12-15",
        "plans": "群体访应急处置预案|qian.hui|2026-12-31"}, follow_redirects=True)
    assert "2026年第四季度排查例会已记录" in done.text
    meeting = review.meeting_of(app, Quarter(2026, 4))
    assert meeting is not None and len(meeting.measures) == 2
    assert login(web, "zheng.tao").get("/supervise/meeting?quarter=2026Q4").status_code == 403
    owner = login(web, "lin.na")
    page = owner.get("/supervise/meeting?quarter=2026Q4")
    assert page.status_code == 200 and "排查各队工资发放" in page.text
    assert page.text.count("标记完成") == 1  # hers, not the plan qian.hui owns
    measure = next(m for m in meeting.measures if m.owner == "lin.na")
    owner.post("/supervise/meeting/done", data={"csrf": csrf_of(page.text),
                                                "measure": measure.id, "quarter": "2026Q4",
                                                "note": "已排查完毕"})
    rows = {r["owner"]: r for r in review.measure_rows(app, review.meeting_of(
        app, Quarter(2026, 4)))}
    assert rows["lin.na"]["done_at"] and rows["lin.na"]["note"] == "已排查完毕"
    assert not rows["qian.hui"]["done_at"]
