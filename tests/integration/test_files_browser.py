"""The clerk attaches a letter's scan at intake in a real browser (Debian's Chromium through
Selenium) and sees its preview on the case page: the workplace served by uvicorn on a free
local port, over SQLite and the local file store (no engine: intake starts no run here)."""

from __future__ import annotations

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
from tests.browser import chromium, serving
from tests.conftest import SAMPLE_OFFICE
from tests.flows.test_workplace import SHOTS, _by_id, _wait, shot
from tests.samples import image, pdf

PASSWORD = "files-2026"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium("--window-size=1280,1400") as driver:
        SHOTS.mkdir(parents=True, exist_ok=True)
        yield driver


@pytest.fixture
def served(office, tmp_path: Path) -> Iterator[str]:
    engine = make_engine(f"sqlite:///{tmp_path / 'petitions.db'}")
    upgrade(engine)
    app = sql_app(Settings(home=tmp_path, config_dir=SAMPLE_OFFICE), office,
                  FixedClock(pendulum.datetime(2026, 11, 20, 3, 0)), engine)
    users.set_password(app, "qian.hui", PASSWORD, actor="test")
    try:
        with serving(app) as address:
            yield address
    finally:
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
