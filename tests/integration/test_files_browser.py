"""The clerk attaches a letter's scan at intake in a real browser (Debian's Chromium through
Selenium) and sees its preview on the case page: the workplace served by uvicorn on a free
local port, over SQLite and the local file store (no engine: intake starts no run here)."""

from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pendulum
import pytest

from services import users
from services.bootstrap import sql_app
from services.clock import FixedClock
from services.settings import Settings
from storage.db import make_engine
from storage.migrate import upgrade
from tests.conftest import SAMPLE_OFFICE, wait_for
from tests.flows.test_workplace import SHOTS, _by_id, _wait, shot
from tests.integration.test_web import RecordingRuns
from tests.samples import image, pdf
from web.main import create_app

PASSWORD = "files-2026"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver_path):
        if os.environ.get("CI"):
            pytest.fail("Chromium and chromium-driver are required in CI")
        pytest.skip("chromium and chromium-driver are not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--window-size=1280,1400", "--lang=zh-CN"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    driver.set_page_load_timeout(60)
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def served(office, tmp_path: Path) -> Iterator[str]:
    import uvicorn

    engine = make_engine(f"sqlite:///{tmp_path / 'petitions.db'}")
    upgrade(engine)
    app = sql_app(Settings(home=tmp_path, config_dir=SAMPLE_OFFICE), office,
                  FixedClock(pendulum.datetime(2026, 11, 20, 3, 0)), engine)
    users.set_password(app, "qian.hui", PASSWORD, actor="test")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(app, RecordingRuns()), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 60, "the workplace to listen")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        engine.dispose()


def test_the_clerk_attaches_a_scan_at_intake_and_sees_its_preview(served, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    d = browser
    d.delete_all_cookies()
    d.get(f"{served}/login")
    _by_id(d, "person_id").send_keys("qian.hui")
    _by_id(d, "password").send_keys(PASSWORD)
    _by_id(d, "login").click()
    _by_id(d, "me")
    page_one, decision = tmp_path / "来信第1页.png", tmp_path / "来信全文.pdf"
    page_one.write_bytes(image(size=(400, 560)))
    decision.write_bytes(pdf())
    d.get(f"{served}/intake")
    for field, value in (("name", "赵大勇"), ("subject", "井下津贴三个月未发放"),
                         ("content", "2026年8月至10月的井下津贴未发放。")):
        _by_id(d, field).send_keys(value)
    Select(_by_id(d, "channel")).select_by_value("letter")
    Select(_by_id(d, "category")).select_by_value("complaint")
    _by_id(d, "intake-file").send_keys(f"{page_one}\n{decision}")
    _by_id(d, "register").click()
    assert "来信第1页.png（来信扫描件）" in _by_id(d, "attached").text
    _by_id(d, "new-ref").click()
    picture = _wait(d, "the scan's preview", lambda d: d.find_elements(
        By.CSS_SELECTOR, 'img.file-preview[alt="来信第1页.png"]'))[0]
    _wait(d, "the scan drawn", lambda d: d.execute_script(
        "return arguments[0].complete && arguments[0].naturalWidth", picture) == 400)
    frame = d.find_element(By.CSS_SELECTOR, 'iframe.file-preview[title="来信全文.pdf"]')
    assert frame.get_attribute("src").endswith("/preview")
    assert "来信扫描件" in _by_id(d, "files-table").text
    d.execute_script("arguments[0].scrollIntoView()", _by_id(d, "case-files"))
    shot(d, "6-clerk-scan-preview")
