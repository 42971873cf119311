"""A leader reads a message on a phone and opens the case from it: with
``PETITIONS_WEB_BASE_URL`` set, every staff message — e-mail (a link in its HTML too) and
group robot — links to its case's page; a petitioner's never does (the page is staff's)."""

from __future__ import annotations

import dataclasses
import email
from email.message import Message
from pathlib import Path

from notifications.compose import context
from notifications.plan import PETITIONER
from notifications.transports import EmlTransport
from services.bootstrap import App
from services.outbox import deliver
from tests.integration.test_robots import ROBOT_KEY, WECOM, _assigned, _with_robot

WEB = "https://xf.example.cn/"
LINK = "https://xf.example.cn/cases/XF-1"


def with_web(app: App, web: str | None = WEB) -> App:
    return dataclasses.replace(app, settings=dataclasses.replace(app.settings,
                                                                 web_base_url=web))


def mails(folder: Path) -> dict[str, Message]:
    found = {}
    for f in sorted(folder.rglob("*.eml")):
        m = email.message_from_bytes(f.read_bytes())
        found[str(m["To"])] = m
    return found


def parts(m: Message) -> tuple[str, str]:
    text = html = ""
    for part in m.walk():
        body = part.get_payload(decode=True)
        if isinstance(body, bytes):
            if part.get_content_type() == "text/plain":
                text = body.decode("utf-8")
            elif part.get_content_type() == "text/html":
                html = body.decode("utf-8")
    return text, html


def test_a_staff_e_mail_links_to_its_case_page_and_a_petitioners_does_not(app, tmp_path):
    linked = with_web(app)
    case_id = _assigned(linked)
    assert deliver(linked, EmlTransport(tmp_path / "eml")).counts["sent"] == 1
    (to, mail), = mails(tmp_path / "eml").items()
    assert "lin.na@" in to
    text, html = parts(mail)
    assert LINK in text
    assert f'<a href="{LINK}">{LINK}</a>' in html  # a tap on a phone's mail app
    with linked.uow() as uow:
        case = uow.cases.get(case_id, lock=False)
    office = linked.office
    for who, link in (("lin.na", LINK), (PETITIONER, "")):
        ctx = context("acceptance_notice", who, {}, case, office.org, office=office.name,
                      language="zh", to_name="", web=WEB)
        assert ctx["link"] == link


def test_without_the_address_messages_carry_no_link(app, tmp_path):
    _assigned(with_web(app, None))
    deliver(app, EmlTransport(tmp_path / "eml"))
    for m in mails(tmp_path / "eml").values():
        assert "/cases/" not in parts(m)[0]


def test_the_robots_notice_links_to_the_case_page(app, httpserver, monkeypatch, tmp_path):
    monkeypatch.setenv("TEST_WECOM_URL",
                       httpserver.url_for(f"/cgi-bin/webhook/send?key={ROBOT_KEY}"))
    robot = with_web(_with_robot(app, WECOM, mobiles={"lin.na": "13900001111"}))
    _assigned(robot)
    httpserver.expect_oneshot_request("/cgi-bin/webhook/send").respond_with_json(
        {"errcode": 0, "errmsg": "ok"})
    assert deliver(robot, EmlTransport(tmp_path / "eml")).counts["sent"] >= 1
    (request, _), = httpserver.log
    content = request.get_json()["text"]["content"]
    assert content.endswith(f"\n{LINK}") and "信访件 XF-1" in content
