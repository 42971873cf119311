"""Search and the petitioner's history in a real browser (Chromium through Selenium),
against the served workplace (issue 27's "done when"): the clerk registers a paper letter
with its scan, sees whether the
petitioner came before, finds the letter again by the petitioner's phone and by two words
of its content from the search box of any page, and opens the petitioner's history; the
accused, searching the same way for an accusation against him, finds nothing — the page a
query matching nothing shows."""

from __future__ import annotations

import json

import pytest

from services.config import load_office
from tests.conftest import SAMPLE_OFFICE
from tests.flows import test_workplace as wp
from tests.flows.conftest import Engine
from tests.readable import unreadable
from tests.samples import image

browser = wp.browser  # the module's Chromium (skipped without it, failed in CI)
PASSWORD = wp.PASSWORD


@pytest.fixture(scope="module")
def office(served: Engine) -> Engine:
    for who in ("wu.lei", "zhang.hua"):
        served.cli("user", "set-password", who, "--password-stdin", stdin=PASSWORD + "\n")
    return served


def search_box(d, site: Engine, text: str) -> str:  # type: ignore[no-untyped-def]
    """Search from the header's box (on whatever page is open); the results' text."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    page = d.find_element(By.TAG_NAME, "html")
    box = wp._by_id(d, "search-q")
    box.clear()
    box.send_keys(text)
    wp._by_id(d, "search-go").click()
    WebDriverWait(d, wp.WAIT).until(ec.staleness_of(page), message="the search page")
    found = wp._wait(d, "the search results", lambda d: d.find_elements(
        By.CSS_SELECTOR, "#search-results, #search-empty"))
    return str(found[0].text)


def readable(d, site: Engine) -> None:  # type: ignore[no-untyped-def]
    """The open page reads as Chinese prose: no event name, id or key=value detail."""
    text = str(d.execute_script("return document.title + '\\n' + document.body.innerText"))
    org = load_office(SAMPLE_OFFICE).org
    assert unreadable(text, [*org.people, *org.units]) == [], (d.current_url, text[:400])


def test_the_clerk_registers_a_letter_with_its_scan_finds_it_and_opens_the_history(
        office, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    d = browser
    scan = tmp_path / "来信第1页.png"
    scan.write_bytes(image("PNG", seed=27))
    wp.login(d, office, "wu.lei")
    d.get(f"{office.web}/intake")
    for field, value in (("name", "钱桂兰"), ("phone", "13955557777"),
                         ("subject", "退休职工采暖补贴未到账"),
                         ("content", "本人退休多年，今年冬季采暖补贴至今未到账，多次询问无果。")):
        wp._by_id(d, field).send_keys(value)
    Select(wp._by_id(d, "channel")).select_by_value("letter")
    Select(wp._by_id(d, "category")).select_by_value("complaint")
    wp._by_id(d, "check-visits").click()
    assert wp._by_id(d, "visits-count").text == "首次来访"
    assert wp._by_id(d, "phone").get_attribute("value") == "13955557777"
    readable(d, office)
    wp._by_id(d, "intake-file").send_keys(str(scan))  # the form's values survive the check
    wp._by_id(d, "register").click()
    ref = wp._by_id(d, "new-ref").text
    readable(d, office)
    wp.shot(d, "search-1-registered")
    d.get(f"{office.web}/cases/{ref}")  # the scan is on the case, drawn
    wp._wait(d, "the scan's preview", lambda d: d.find_elements(
        By.CSS_SELECTOR, 'img.file-preview[alt="来信第1页.png"]'))
    wp._wait(d, "the scan drawn", lambda d: d.execute_script(
        "const i = document.querySelector('img.file-preview');"
        " return i.complete && i.naturalWidth > 0"))
    readable(d, office)

    by_phone = search_box(d, office, "139 5555 7777")
    assert ref in by_phone and "139****7777" in by_phone and "13955557777" not in by_phone
    readable(d, office)
    wp.shot(d, "search-2-by-phone")
    by_words = search_box(d, office, "采暖 补贴")
    assert ref in by_words and "钱桂兰" in by_words
    d.find_element(By.CSS_SELECTOR, "#search-results a.hit-history").click()
    assert wp._by_id(d, "person-count").text == "来过 1 次"
    assert "来信 1 次" in wp._by_id(d, "person-channels").text
    assert ref in wp._by_id(d, "person-cases").text
    assert "13955557777" not in d.current_url
    readable(d, office)
    wp.shot(d, "search-3-history")

    d.get(f"{office.web}/intake")  # the same petitioner again, by phone and name
    wp._by_id(d, "name").send_keys("钱桂兰")
    wp._by_id(d, "phone").send_keys("139-5555-7777")
    wp._by_id(d, "check-visits").click()
    assert wp._by_id(d, "visits-count").text == "来过 1 次"
    wp.shot(d, "search-4-came-before")


def test_the_accused_searching_finds_nothing(office, browser, tmp_path):
    petition = json.loads((SAMPLE_OFFICE / "samples" / "accusation.json").read_text())
    del petition["received_at"]  # received now, by the engine's clock
    path = tmp_path / "accusation.json"
    path.write_text(json.dumps(petition, ensure_ascii=False))
    office.cli("intake", str(path), "--registration-no", "XF-S9", "--actor", "wu.lei")
    words = petition["content"][:4]
    d = browser
    wp.login(d, office, "wu.lei")
    assert "XF-S9" in search_box(d, office, "XF-S9")  # the clerk: by its number
    wp.login(d, office, "zhang.hua")
    nothing = search_box(d, office, "不存在的事项词语")
    assert nothing == "没有找到相符的信访件。"
    for text in ("XF-S9", words, petition["petitioner"]["name"]):
        assert search_box(d, office, text) == nothing, text
    assert "截留" not in d.page_source
    wp.shot(d, "search-5-accused-finds-nothing")
