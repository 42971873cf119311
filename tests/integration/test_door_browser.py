"""The petitioner's own door in a real browser with a phone's viewport (Debian's Chromium
through Selenium, 360 px wide, touch, no sideways scrolling on any page): a petitioner
submits a petition with a scan, reads the SMS code from the provider's stand-in, gets the
registration number; signs in again later, rates the written answer and asks for a review.
The workplace served by uvicorn on a free local port, over SQLite; screenshots kept under
``artifacts/screenshots`` (door-*.png)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pendulum
import pytest

from services.bootstrap import App, sql_app
from services.clock import FixedClock
from services.settings import Settings
from storage.db import make_engine
from storage.migrate import upgrade
from tests.browser import chromium, serving
from tests.conftest import SAMPLE_OFFICE
from tests.door_standin import KEY_ID, KEY_SECRET, Phones, door_open
from tests.flows.test_workplace import SHOTS, _by_id, _wait, shot
from tests.integration.test_door import MOBILE, _decided
from tests.samples import image

PHONE_WIDTH = 360


@pytest.fixture(scope="module")
def phone() -> Iterator[Any]:
    with chromium(mobile={
            "deviceMetrics": {"width": PHONE_WIDTH, "height": 780, "pixelRatio": 2,
                              "touch": True},
            "userAgent": "Mozilla/5.0 (Linux; Android 13; Pixel 7) Mobile"}) as driver:
        SHOTS.mkdir(parents=True, exist_ok=True)
        yield driver


@pytest.fixture
def served(office, tmp_path: Path, httpserver, monkeypatch) -> Iterator[tuple[str, App, Phones]]:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TEST_DOOR_SMS_ID", KEY_ID)
    monkeypatch.setenv("TEST_DOOR_SMS_SECRET", KEY_SECRET)
    phones = Phones()
    httpserver.expect_request("/").respond_with_handler(lambda r: phones(r))
    engine = make_engine(f"sqlite:///{tmp_path / 'petitions.db'}")
    upgrade(engine)
    app = door_open(sql_app(Settings(home=tmp_path, config_dir=SAMPLE_OFFICE), office,
                            FixedClock(pendulum.datetime(2026, 11, 20, 3, 0)), engine),
                    httpserver.url_for("").rstrip("/"))
    try:
        with serving(app, what="the door") as address:
            yield address, app, phones
    finally:
        engine.dispose()


def fits(driver: Any, name: str) -> None:
    """The page needs no sideways scrolling on the phone; its screenshot kept."""
    wide, view = driver.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]")
    assert view == PHONE_WIDTH and wide <= view, f"{name}: {wide} px wide on a {view} px phone"
    shot(driver, f"door-{name}")


def sign_in(driver: Any, site: str, phones: Phones) -> None:
    driver.get(f"{site}/submit")
    _by_id(driver, "door-phone").send_keys(MOBILE)
    _by_id(driver, "door-agree").click()
    fits(driver, "home")
    _by_id(driver, "door-send").click()
    code = _wait(driver, "the code at the provider", lambda d: phones.sent.get(MOBILE))
    assert code
    _by_id(driver, "door-code").send_keys(phones.last_code(MOBILE))
    fits(driver, "code")
    _by_id(driver, "door-signin").click()
    _by_id(driver, "door-mine")


def test_a_petitioner_submits_signs_in_later_rates_and_asks_for_a_review_on_a_phone(
        served, phone, tmp_path):
    from selenium.webdriver.support.ui import Select

    site, app, phones = served
    sign_in(phone, site, phones)
    _by_id(phone, "door-new").click()
    _by_id(phone, "door-name").send_keys("王建国")
    Select(_by_id(phone, "door-category")).select_by_visible_text("申诉求决类")
    _by_id(phone, "door-subject").send_keys("九月绩效工资未足额发放")
    _by_id(phone, "door-content").send_keys("本人系综采一队职工，九月绩效工资少发1280元。")
    scan = tmp_path / "来信扫描.png"
    scan.write_bytes(image("PNG", seed=7, size=(600, 800)))
    _by_id(phone, "door-files").send_keys(str(scan))
    fits(phone, "form")
    _by_id(phone, "door-submit").click()
    ref = _by_id(phone, "door-ref").text
    assert ref.startswith("XF-20261120-W") and len(_by_id(phone, "door-query-code").text) == 8
    assert "已收到附件 1 个" in _by_id(phone, "door-done").text
    fits(phone, "done")

    phone.delete_all_cookies()  # later, the office has answered
    _decided(app, ref)
    sign_in(phone, site, phones)
    card = _by_id(phone, f"case-{ref}")
    assert "已书面答复" in card.text
    fits(phone, "mine-decided")
    rate = _by_id(phone, f"rate-{ref}")
    rate.find_element("css selector", "input[value=not_satisfied]").click()
    rate.find_element("css selector", "button").click()
    _by_id(phone, "door-ok")
    review = _by_id(phone, f"request_review-{ref}")
    review.find_element("css selector", "textarea").send_keys("补发金额未含夜班津贴")
    fits(phone, "mine-rated")
    review.find_element("css selector", "button").click()
    # The page before also said 已提交: wait for the new one's stage, read afresh.
    _wait(phone, "the review asked for", lambda d: "复查中" in d.find_element(
        "id", f"case-{ref}").text or None)
    fits(phone, "mine-review")
