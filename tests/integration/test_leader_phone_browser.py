"""Issue 28's leaders on a phone (Chromium emulating a 390x844 phone, through Selenium). The
owning leader lets the acceptance limit pass; the sweep fires its rungs, and the 企业微信
group robot's stand-in (a local HTTP server) carries the breach to the mine head and the
reminder to the leader, each with a link to the case. The mine head opens the escalation's
link, logs in and asks for a report in two taps — the case page's button and the
confirmation's; the leader opens theirs and accepts ownership in two taps; asked for an
extension, the unit's head approves it in two taps from the robot's next message. No page
scrolls sideways. Screenshots: ``artifacts/screenshots/leader-phone-*.png``."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pendulum
import pytest

from notifications.settings import RobotSettings
from notifications.transports import EmlTransport
from services import users
from services.bootstrap import sql_app
from services.clock import FixedClock
from services.outbox import deliver
from services.settings import Settings
from storage.db import make_engine
from storage.migrate import upgrade
from tests.browser import chromium, free_port, serving
from tests.conftest import SAMPLE_OFFICE
from tests.flows.test_workplace import SHOTS, _by_id, _wait
from tests.integration.test_leader_phone import leader_pending
from tests.integration.test_robots import _with_robot

PASSWORD = "leader-2026-phone"
PHONE = {"width": 390, "height": 844, "pixelRatio": 3}
ROBOT = RobotSettings("hr-leaders", "wecom", "env:TEST_WECOM_URL",
                      ("zhao.gang", "gao.jian", "wang.fang"))
KINDS = ("leader_request", "reminder", "breach", "escalation", "extension_request",
         "report_request")


@pytest.fixture(scope="module")
def phone() -> Iterator[Any]:
    with chromium(mobile={
            "deviceMetrics": PHONE, "userAgent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) "
            "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36 wxwork"}
            ) as driver:
        SHOTS.mkdir(parents=True, exist_ok=True)
        yield driver


@pytest.fixture
def served(office, tmp_path: Path, httpserver, monkeypatch) -> Iterator[tuple[Any, str]]:
    monkeypatch.setenv("TEST_WECOM_URL", httpserver.url_for("/cgi-bin/webhook/send?key=k"))
    port = free_port()
    address = f"http://127.0.0.1:{port}"
    engine = make_engine(f"sqlite:///{tmp_path / 'petitions.db'}")
    upgrade(engine)
    app = sql_app(Settings(home=tmp_path, config_dir=SAMPLE_OFFICE, web_base_url=address),
                  office, FixedClock(pendulum.datetime(2026, 11, 20, 3, 0)), engine)
    app = _with_robot(app, ROBOT, kinds=KINDS,
                      mobiles={"zhao.gang": "13900000003", "gao.jian": "13900000001",
                               "wang.fang": "13900000009"})
    people = dict(app.office.org.people)  # the mine head's own channel (a robot of the
    people["gao.jian"] = dataclasses.replace(people["gao.jian"], channels=())  # sample's)
    app = dataclasses.replace(app, office=dataclasses.replace(
        app.office, org=dataclasses.replace(app.office.org, people=people)),
        installation=None, _rules={})
    for who in ROBOT.members:
        users.set_password(app, who, PASSWORD, actor="test")
    try:
        with serving(app, port):
            yield app, address
    finally:
        engine.dispose()


def no_sideways_scroll(d: Any) -> None:
    width = d.execute_script("return document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{d.current_url} is {width}px wide on a 390px phone"


def phone_shot(d: Any, name: str) -> None:
    d.save_screenshot(str(SHOTS / f"leader-phone-{name}.png"))


def _posted(app: Any, httpserver: Any) -> list[str]:
    """What the robot stand-in has received so far, after delivering what is queued."""
    deliver(app, EmlTransport(Path(app.settings.home) / "eml"))
    return [r.get_json()["text"]["content"] for r, _ in httpserver.log]


def _link(posted: list[str], title: str, to: str) -> str:
    """The one case link in the robot's post titled ``title`` to ``to`` (a name)."""
    found = [c for c in posted if c.startswith(f"【{title}】{to}\n")]
    assert len(found) == 1, posted
    link = re.search(r"http://\S+/cases/\S+", found[0])
    assert link, found[0]
    return link.group(0)


def _login_at(d: Any, link: str, who: str, shot: str) -> None:
    d.delete_all_cookies()
    d.get(link)  # the tap on the link in the group chat
    _by_id(d, "person_id").send_keys(who)
    _by_id(d, "password").send_keys(PASSWORD)
    no_sideways_scroll(d)
    phone_shot(d, shot)
    _by_id(d, "login").click()


def _two_taps(d: Any, address: str, act: str, label: str, shot: str) -> None:
    from selenium.webdriver.common.by import By

    button = _by_id(d, f"quick-{act}")
    assert d.current_url == f"{address}/cases/XF-1"
    top = d.execute_script("return arguments[0].getBoundingClientRect()", button)
    assert top["bottom"] <= PHONE["height"] and top["height"] >= 44  # in sight, thumb-sized
    no_sideways_scroll(d)
    phone_shot(d, f"{shot}-case")
    button.click()  # tap 1
    confirm = _by_id(d, f"confirm-{act}")
    no_sideways_scroll(d)
    phone_shot(d, f"{shot}-confirm")
    confirm.click()  # tap 2
    flash = _wait(d, "the act done", lambda d: (d.find_elements(By.ID, "flash") or [None])[0])
    assert f"{label}已办理" in flash.text
    assert not d.find_elements(By.ID, f"quick-{act}")
    no_sideways_scroll(d)
    phone_shot(d, f"{shot}-done")


def _last(app: Any) -> Any:
    with app.uow() as uow:
        return uow.events_of(uow.cases.get("XF-1", lock=False).id)[-1]


def test_leaders_follow_the_robots_links_and_act_in_two_taps(served, phone, httpserver):
    from services import cases
    from services.cases import Act, ActRequest
    from services.sweep import sweep

    app, address = served
    httpserver.expect_request("/cgi-bin/webhook/send").respond_with_json({"errcode": 0})
    case_id = leader_pending(app)
    app.clock.advance(days=5)  # the leader's acceptance limit (one working day) passes
    assert sweep(app, sweeper="test").fired
    posted = _posted(app, httpserver)
    escalation = _link(posted, "信访期限已超期", "高建")
    assert escalation == f"{address}/cases/XF-1"

    d = phone
    _login_at(d, escalation, "gao.jian", "1-login")
    _two_taps(d, address, "request_report", "要求报告办理情况", "2-report")
    last = _last(app)
    assert (last.type, last.actor) == ("ReportRequested", "gao.jian")
    assert str(last.data.get("via", "")).startswith("web:")

    posted = _posted(app, httpserver)
    _login_at(d, _link(posted, "信访期限提醒", "赵刚"), "zhao.gang", "3-login")
    _two_taps(d, address, "leader_accept", "领导接案", "4-accept")
    assert (_last(app).type, _last(app).actor) == ("LeaderAccepted", "zhao.gang")
    assert _link(_posted(app, httpserver), "领导要求报告办理情况", "赵刚")  # asked too

    cases.act(app, case_id, ActRequest(Act.REQUEST_EXTENSION, "lin.na", days=20,
                                       reason="需调取三年考勤记录"))
    _login_at(d, _link(_posted(app, httpserver), "延期申请待审批", "王芳"), "wang.fang",
              "5-login")  # the unit's head: the lowest approver the policy names
    _two_taps(d, address, "approve_extension", "批准延期", "6-extension")
    last = _last(app)
    assert (last.type, last.actor, last.data["requested_by"]) == (
        "DeadlineExtended", "wang.fang", "lin.na")
    for page in ("/", "/leader", "/search?q=XF-1", "/reception", "/signals"):
        d.get(f"{address}{page}")
        _by_id(d, "me")
        no_sideways_scroll(d)
    phone_shot(d, "7-signals")
