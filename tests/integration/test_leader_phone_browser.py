"""Issue 28's leader on a phone (Chromium emulating a 390x844 phone, through Selenium): the
owning leader's request comes through the 企业微信 group robot's stand-in (a local HTTP
server) with a link to the case; the leader opens it, logs in, and accepts ownership with
two taps — the case page's button and the confirmation's. No page scrolls sideways.
Screenshots: ``artifacts/screenshots/leader-phone-*.png``."""

from __future__ import annotations

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
ROBOT = RobotSettings("hr-leaders", "wecom", "env:TEST_WECOM_URL", ("zhao.gang",))


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
    app = _with_robot(app, ROBOT, kinds=("leader_request",),
                      mobiles={"zhao.gang": "13900000003"})
    users.set_password(app, "zhao.gang", PASSWORD, actor="test")
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


def test_the_leader_opens_the_robots_link_and_accepts_in_two_taps(served, phone, httpserver):
    from selenium.webdriver.common.by import By

    app, address = served
    httpserver.expect_request("/cgi-bin/webhook/send").respond_with_json({"errcode": 0})
    leader_pending(app)
    deliver(app, EmlTransport(Path(app.settings.home) / "eml"))
    posted = [r.get_json()["text"]["content"] for r, _ in httpserver.log]
    to_leader = [c for c in posted if "赵刚" in c]
    assert len(to_leader) == 1, posted
    link = re.search(r"http://\S+/cases/\S+", to_leader[0])
    assert link and link.group(0) == f"{address}/cases/XF-1"

    d = phone
    d.delete_all_cookies()
    d.get(link.group(0))  # the tap on the link in the group chat
    _by_id(d, "person_id").send_keys("zhao.gang")
    _by_id(d, "password").send_keys(PASSWORD)
    no_sideways_scroll(d)
    phone_shot(d, "1-login")
    _by_id(d, "login").click()
    button = _by_id(d, "quick-leader_accept")
    assert d.current_url == f"{address}/cases/XF-1"
    top = d.execute_script("return arguments[0].getBoundingClientRect()", button)
    assert top["bottom"] <= PHONE["height"] and top["height"] >= 44  # in sight, thumb-sized
    no_sideways_scroll(d)
    phone_shot(d, "2-case")
    button.click()  # tap 1
    confirm = _by_id(d, "confirm-leader_accept")
    no_sideways_scroll(d)
    phone_shot(d, "3-confirm")
    confirm.click()  # tap 2
    flash = _wait(d, "the act done", lambda d: (d.find_elements(By.ID, "flash") or [None])[0])
    assert "领导接案已办理" in flash.text
    assert not d.find_elements(By.ID, "quick-leader_accept")
    no_sideways_scroll(d)
    phone_shot(d, "4-accepted")
    for page in ("/", "/leader", "/search?q=XF-1", "/reception", "/signals"):
        d.get(f"{address}{page}")
        _by_id(d, "me")
        no_sideways_scroll(d)
    phone_shot(d, "5-signals")
    with app.uow() as uow:
        last = uow.events_of(uow.cases.get("XF-1", lock=False).id)[-1]
    assert (last.type, last.actor) == ("LeaderAccepted", "zhao.gang")
    assert str(last.data.get("via", "")).startswith("web:")
