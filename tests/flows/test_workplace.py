"""The office workplace in a real browser (Debian's Chromium through Selenium), served by
``petitions serve`` beside the engine: the clerk registers a petition and sees its
routing; the responder finds it in the queue, acknowledges and accepts it, and the case's
Prefect run follows; a person in an accusation's accused set cannot find it; a supervisor
sees the measures. Screenshots go to ``PETITIONS_TEST_ARTIFACTS`` (default
``artifacts/screenshots``)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.stages import Stage
from tests.browser import chromium
from tests.conftest import ROOT, SAMPLE_OFFICE
from tests.flows.conftest import Engine

PASSWORD = "workplace-2026"
SHOTS = Path(os.environ.get("PETITIONS_TEST_ARTIFACTS", ROOT / "artifacts")) / "screenshots"
WAIT = 60  # seconds: a page on a loaded two-core machine


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium("--window-size=1280,1000") as driver:
        SHOTS.mkdir(parents=True, exist_ok=True)
        yield driver


@pytest.fixture(scope="module")
def office(served: Engine) -> Engine:
    served.cli("clock", "set", "2026-11-25T09:00+08:00")
    for who in ("wu.lei", "lin.na", "zheng.tao", "zhang.hua", "luo.jun", "li.ming"):
        served.cli("user", "set-password", who, "--password-stdin", stdin=PASSWORD + "\n")
    return served


def _wait(driver, what, probe):  # type: ignore[no-untyped-def]
    from selenium.common.exceptions import (
        NoSuchElementException,
        StaleElementReferenceException,
        WebDriverException,
    )
    from selenium.webdriver.support.ui import WebDriverWait

    def read(d):  # type: ignore[no-untyped-def]
        # An element read while the page after a form post replaces it goes stale — or,
        # caught mid-swap, Chromium says its node "does not belong to the document"
        # (seen in CI): read again. Any other error of the driver is raised.
        try:
            return probe(d)
        except WebDriverException as e:
            if "does not belong to the document" in str(e):
                return None
            raise

    return WebDriverWait(driver, WAIT, poll_frequency=0.2, ignored_exceptions=(
        NoSuchElementException, StaleElementReferenceException)).until(
        read, message=f"waiting for {what}")


def _by_id(driver, element_id):  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    return _wait(driver, f"#{element_id}", lambda d: (d.find_elements(By.ID, element_id)
                                                      or [None])[0])


def login(driver, site: Engine, who: str) -> None:  # type: ignore[no-untyped-def]
    driver.delete_all_cookies()
    driver.get(f"{site.web}/login")
    _by_id(driver, "person_id").send_keys(who)
    _by_id(driver, "password").send_keys(PASSWORD)
    _by_id(driver, "login").click()
    assert _by_id(driver, "me").get_attribute("data-person") == who


def shot(driver, name: str) -> None:  # type: ignore[no-untyped-def]
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def test_the_clerk_registers_and_the_responder_acknowledges_and_accepts(office, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    d = browser
    login(d, office, "wu.lei")
    d.get(f"{office.web}/intake")
    for field, value in (("name", "赵大勇"), ("phone", "13900001111"),
                         ("subject", "井下津贴三个月未发放"),
                         ("content", "本人在综采一队工作，2026年8月至10月的井下津贴未发放。")):
        _by_id(d, field).send_keys(value)
    Select(_by_id(d, "channel")).select_by_value("visit")
    Select(_by_id(d, "category")).select_by_value("complaint")
    _by_id(d, "register").click()
    unit = _by_id(d, "routed-unit").text
    responder = _by_id(d, "routed-responder").text
    ref = _by_id(d, "new-ref").text
    assert unit and unit != "待分办" and responder
    assert "分办规则" in _by_id(d, "reasons").text
    assert "首问复命" in _by_id(d, "deadlines").text
    shot(d, "1-clerk-registered")

    case = office.case(ref)
    assert case["stage"] == "assigned" and office.case(ref)["petition"]["phone"] == "13900001111"
    office.paused_at(case["id"], "assigned-")  # its lifecycle run started right after
    office.cli("user", "set-password", case["responder"], "--password-stdin",
               stdin=PASSWORD + "\n")

    login(d, office, case["responder"])
    row = _wait(d, "the case in my queue", lambda d: d.find_elements(
        By.CSS_SELECTOR, f'#my-queue tr[data-ref="{ref}"]'))[0]
    assert "井下津贴" in row.text
    shot(d, "2-responder-queue")
    row.find_element(By.LINK_TEXT, ref).click()
    _by_id(d, "do-ack").click()
    _wait(d, "acknowledged", lambda d: _by_id(d, "case-stage").text
          == Stage.ACKNOWLEDGED.label)
    office.paused_at(case["id"], "acknowledged-")
    details = _by_id(d, "act-accept").find_element(By.XPATH, "..")
    if details.get_attribute("open") is None:  # the first act's form is open already
        details.find_element(By.TAG_NAME, "summary").click()
    _by_id(d, "do-accept").click()
    _wait(d, "accepted", lambda d: _by_id(d, "case-stage").text == Stage.HANDLING.label)
    assert ref in _by_id(d, "flash").text
    shot(d, "3-responder-accepted")
    office.paused_at(case["id"], "handling-")  # the run followed both actions
    after = office.case(ref)
    assert after["stage"] == "handling"
    assert [e["event"] for e in after["events"]].count("CaseAccepted") == 1


def test_the_accused_cannot_find_the_accusation(office, browser, tmp_path):
    from selenium.webdriver.common.by import By

    petition = json.loads((SAMPLE_OFFICE / "samples" / "accusation.json").read_text())
    petition["received_at"] = "2026-11-25T08:30:00+08:00"
    path = tmp_path / "accusation.json"
    path.write_text(json.dumps(petition, ensure_ascii=False))
    office.cli("intake", str(path), "--registration-no", "XF-W2", "--actor", "wu.lei")
    d = browser
    for who in ("zhang.hua", "luo.jun"):  # the accused unit head and his team
        login(d, office, who)
        for page in ("/", "/leader", "/cases/XF-W2"):
            d.get(f"{office.web}{page}")
            _by_id(d, "me")
            assert "XF-W2" not in d.find_element(By.TAG_NAME, "main").text.replace(
                "没有信访件 XF-W2", "")
            assert "截留" not in d.page_source
        assert "没有信访件" in _by_id(d, "error").text
    shot(d, "4-accused-sees-nothing")


def test_the_supervisor_sees_the_measures(office, browser):
    from selenium.webdriver.common.by import By

    d = browser
    login(d, office, "li.ming")
    d.find_element(By.LINK_TEXT, "督查").click()
    rows = _wait(d, "the measures", lambda d: d.find_elements(By.CSS_SELECTOR,
                                                              "#measures tbody tr"))
    assert len(rows) >= 7
    assert "审计链完整" in _by_id(d, "audit").text
    shot(d, "5-supervisor-measures")
    d.get(f"{office.web}/cases/XF-W2")
    assert "检举控告件（内容仅承办人可见）" in _by_id(d, "case-subject").text
    assert "截留" not in d.page_source
