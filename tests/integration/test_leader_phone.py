"""The leader's two taps over HTTP: the case page offers 领导接案 as a button at its top, the
button opens a confirmation page, and its one button takes the act (the same use case as the
case page's form); a person who may not take it, or may not see the case, gets a 404."""

from __future__ import annotations

import re
from typing import Any

from services import cases
from services.cases import Act, ActRequest
from tests.integration.test_web import (  # noqa: F401
    PASSWORD,
    client,
    csrf_of,
    login,
    site,
    stage_of,
    wage_case,
)


def leader_pending(app: Any, leader: str = "zhao.gang") -> str:
    """XF-1, accepted, its owning leader ``leader`` named and yet to accept."""
    case_id = wage_case(app)
    for req in (ActRequest(Act.ACK, "lin.na"),
                ActRequest(Act.ASSIGN_LEADER, "wang.fang", leader=leader, reason="群体诉求"),
                ActRequest(Act.ACCEPT, "lin.na")):
        cases.act(app, case_id, req)
    return case_id


def test_the_leader_accepts_from_the_case_page_in_two_taps(site):  # noqa: F811
    app, _, web = site
    from services import users

    users.set_password(app, "zhao.gang", PASSWORD, actor="test")
    leader_pending(app)
    c = client(web)
    to_login = c.get("/cases/XF-1")  # the message's link, before logging in
    assert to_login.status_code == 303
    assert to_login.headers["location"] == "/login?next=/cases/XF-1"
    done = c.post("/login", data={"person_id": "zhao.gang", "password": PASSWORD,
                                  "next": "/cases/XF-1",
                                  "csrf": csrf_of(c.get("/login?next=/cases/XF-1").text)})
    assert done.headers["location"] == "/cases/XF-1"
    page = c.get("/cases/XF-1").text
    quick = re.search(r'<nav class="quick" id="quick-acts">(.*?)</nav>', page, re.S)
    assert quick and 'href="/cases/XF-1/confirm/leader_accept"' in quick.group(1)  # tap 1
    assert page.index('id="quick-acts"') < page.index('id="deadlines"')  # before the rest
    confirm = c.get("/cases/XF-1/confirm/leader_accept")
    assert confirm.status_code == 200 and "确认领导接案" in confirm.text
    assert stage_of(app, "XF-1") == "leader_pending"  # a look changes nothing
    taken = c.post("/cases/XF-1/act", data={"act": "leader_accept",  # tap 2
                                            "csrf": csrf_of(confirm.text)})
    assert taken.status_code == 303 and taken.headers["location"] == "/cases/XF-1"
    assert stage_of(app, "XF-1") != "leader_pending"
    assert "领导接案已办理" in c.get("/cases/XF-1").text


def test_no_confirmation_page_for_an_act_one_may_not_take_or_a_case_one_may_not_see(
        site):  # noqa: F811
    app, _, web = site
    leader_pending(app)
    responder = login(web, "lin.na")
    assert responder.get("/cases/XF-1/confirm/leader_accept").status_code == 404
    assert responder.get("/cases/XF-1/confirm/no-such-act").status_code == 404
    assert responder.get("/cases/XF-1/confirm/extend").status_code == 404  # typed fields
    accused = login(web, "zhang.hua")
    nothing = accused.get("/cases/XF-404/confirm/ack")
    assert nothing.status_code == 404 and "XF-404" in nothing.text


def test_an_approver_approves_an_extension_asked_in_two_taps(site):  # noqa: F811
    """The handler asks (申请延期); the unit's head opens the case, sees what is asked and
    why, and approves in two taps; the extension is the one asked, approved by them."""
    app, _, web = site
    from services import users

    users.set_password(app, "wang.fang", PASSWORD, actor="test")
    case_id = leader_pending(app)
    cases.act(app, case_id, ActRequest(Act.LEADER_ACCEPT, "zhao.gang"))
    cases.act(app, case_id, ActRequest(Act.REQUEST_EXTENSION, "lin.na", days=15,
                                       reason="需调取三年考勤记录"))
    handler = login(web, "lin.na")  # the asker is not offered the answer
    assert handler.get("/cases/XF-1/confirm/approve_extension").status_code == 404
    head = login(web, "wang.fang")
    page = head.get("/cases/XF-1").text
    assert 'href="/cases/XF-1/confirm/approve_extension"' in page
    assert "申请延期15日（理由：需调取三年考勤记录）" in page  # what the two taps approve
    confirm = head.get("/cases/XF-1/confirm/approve_extension")
    assert confirm.status_code == 200 and "需调取三年考勤记录" in confirm.text
    taken = head.post("/cases/XF-1/act", data={"act": "approve_extension",
                                               "csrf": csrf_of(confirm.text)})
    assert taken.status_code == 303
    with app.uow() as uow:
        last = uow.events_of(case_id)[-1]
    assert (last.type, last.actor, last.data["by"], last.data["requested_by"]) == (
        "DeadlineExtended", "wang.fang", "15日", "lin.na")
    assert str(last.data.get("via", "")).startswith("web:")
    assert "confirm/approve_extension" not in head.get("/cases/XF-1").text
    again = head.post("/cases/XF-1/act", data={"act": "approve_extension",  # a second tap
                                               "csrf": csrf_of(confirm.text)})
    assert again.status_code in (303, 403, 404)
    with app.uow() as uow:
        assert [e.type for e in uow.events_of(case_id)].count("DeadlineExtended") == 1


def test_a_leader_asks_for_a_report_in_two_taps_and_it_reaches_the_handler(site):  # noqa: F811
    app, _, web = site
    from services import users

    users.set_password(app, "zhao.gang", PASSWORD, actor="test")
    case_id = leader_pending(app)
    leader = login(web, "zhao.gang")
    confirm = leader.get("/cases/XF-1/confirm/request_report")
    assert confirm.status_code == 200
    leader.post("/cases/XF-1/act", data={"act": "request_report",
                                         "csrf": csrf_of(confirm.text)})
    with app.uow() as uow:
        last = uow.events_of(case_id)[-1]
        queued = {(m.kind, m.recipient) for m in uow.messages(limit=100)}
    assert (last.type, last.actor, last.data["to"]) == ("ReportRequested", "zhao.gang",
                                                         ["lin.na"])
    assert ("report_request", "lin.na") in queued
    handler = login(web, "lin.na")
    assert "要求报告办理情况，待承办人提交完成任务报告" in handler.get("/cases/XF-1").text
    assert handler.get("/cases/XF-1/confirm/request_report").status_code == 404
