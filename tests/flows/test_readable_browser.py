"""Every page of the demo's office, as each of its people sees it in a real browser
(Debian's Chromium through Selenium), reads as Chinese prose: the demo's hundred days
played on a SQLite home (``tests/story.py``, the use cases without Prefect), the workplace
served by uvicorn, then each person logs in and opens every page they can reach. The
visible text (``document.body.innerText`` and the title) shows no internal event name, no
snake_case id, no ``key=value`` detail, no person's or unit's id."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cli.demo_script import START
from services import users
from services.bootstrap import App, sql_app
from services.settings import Settings
from storage.db import make_engine
from storage.migrate import upgrade
from tests.browser import chromium, serving
from tests.conftest import SAMPLE_OFFICE
from tests.readable import unreadable
from tests.story import SettableClock, play

PASSWORD = "readable-2026"
WAIT = 60  # seconds: a page on a loaded two-core machine
PAGES = ("/", "/intake", "/leader", "/zero-report", "/reception", "/signals", "/supervise",
         "/supervise/report.html")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium("--window-size=1280,1000") as driver:
        yield driver


@pytest.fixture(scope="module")
def site(office, tmp_path_factory) -> Iterator[tuple[App, str, list[str]]]:  # type: ignore[no-untyped-def]
    """Day 74 of the demo (cases open, one escalated to the mine head, others closed),
    served over HTTP on a free port."""
    tmp = tmp_path_factory.mktemp("readable")
    engine = make_engine(f"sqlite:///{tmp / 'petitions.db'}")
    upgrade(engine)
    clock = SettableClock(START)
    app = sql_app(Settings(home=tmp, config_dir=SAMPLE_OFFICE), office, clock, engine)
    refs = play(app, clock, until_day=74)
    for person in office.org.people:
        users.set_password(app, person, PASSWORD, actor="test")
    with app.uow() as uow:
        numbers = [uow.cases.get(i, lock=False).ref for i in refs.values()]
    try:
        with serving(app) as address:
            yield app, address, numbers
    finally:
        engine.dispose()


def _visible(driver: Any) -> str:
    return str(driver.execute_script("return document.title + '\\n' + document.body.innerText"))


def _walk(driver: Any, base: str, who: str, refs: list[str]) -> dict[str, str]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.delete_all_cookies()
    driver.get(f"{base}/login")
    driver.find_element(By.ID, "person_id").send_keys(who)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login").click()
    WebDriverWait(driver, WAIT).until(lambda d: d.find_elements(By.ID, "me"),
                                      message=f"{who} logged in")
    seen: dict[str, str] = {}
    todo = [*PAGES, *(f"/cases/{r}" for r in refs)]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        driver.get(base + path)
        seen[path] = _visible(driver)
        links = driver.execute_script(
            "return [...document.querySelectorAll('a[href^=\"/cases/\"]')]"
            ".map(a => a.getAttribute('href'))")
        todo += [p for p in links if p not in seen]
    return seen


def test_every_page_reads_as_chinese_for_every_person_of_the_demo_office(site, browser):
    app, base, refs = site
    org = app.office.org
    ids = [*org.people, *org.units]
    bad: dict[str, list[str]] = {}
    pages = 0
    for person in org.people:
        for path, text in _walk(browser, base, person, refs).items():
            pages += 1
            found = unreadable(text, ids)
            if found:
                bad[f"{person} {path}"] = found
    assert pages >= len(org.people) * len(PAGES)
    assert not bad, "\n".join(f"{k}: {v}" for k, v in sorted(bad.items()))


def test_the_supervise_page_is_titled_with_the_offices_name(site, browser):
    app, base, _ = site
    text = _walk(browser, base, "li.ming", [])["/supervise"]
    assert text.splitlines()[0] == f"督查 · {app.office.name} · 信访工作台"
    assert "main" not in text.split()
